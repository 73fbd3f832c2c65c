package cases_test

import (
	"strings"
	"testing"

	"citygrid/cases"
)

func TestCategoryOpen311Fields(t *testing.T) {
	yes, no := true, false
	base := func(mod func(*cases.Category)) []cases.Category {
		list := cases.DefaultCategories()
		for i := range list {
			if list[i].Code == "E0101" {
				mod(&list[i])
			}
		}
		return list
	}
	list := func(a ...cases.Attribute) func(*cases.Category) {
		return func(c *cases.Category) { c.Attributes = a }
	}
	for _, tt := range []struct {
		name    string
		mod     func(*cases.Category)
		wantErr string
	}{
		{"hidden and public", func(c *cases.Category) { c.Open311, c.Public = &no, true }, ""},
		{"open311 true is the default", func(c *cases.Category) { c.Open311 = &yes }, ""},
		{"attributes", list(cases.Attribute{Code: "size", Datatype: "singlevaluelist", Description: "How much?", Values: []cases.AttributeValue{{Key: "s", Name: "small"}}},
			cases.Attribute{Code: "n", Datatype: "number", Description: "How many?", Required: true}), ""},
		{"bad datatype", list(cases.Attribute{Code: "x", Datatype: "colour", Description: "?"}), "datatype"},
		{"twice", list(cases.Attribute{Code: "x", Datatype: "text", Description: "?"}, cases.Attribute{Code: "x", Datatype: "text", Description: "?"}), "twice"},
		{"list without values", list(cases.Attribute{Code: "x", Datatype: "multivaluelist", Description: "?"}), "needs values"},
		{"values on a number", list(cases.Attribute{Code: "x", Datatype: "number", Description: "?", Values: []cases.AttributeValue{{Key: "a", Name: "a"}}}), "takes none"},
		{"no description", list(cases.Attribute{Code: "x", Datatype: "text"}), "description"},
		{"bad code", list(cases.Attribute{Code: "a b", Datatype: "text", Description: "?"}), "code"},
		{"duplicate key", list(cases.Attribute{Code: "x", Datatype: "singlevaluelist", Description: "?", Values: []cases.AttributeValue{{Key: "a", Name: "a"}, {Key: "a", Name: "b"}}}), "unique"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := cases.NewCategories(base(tt.mod))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, _ := cs.Find("E0101")
			if tt.name == "open311 true is the default" && (c.Open311 != nil || !c.InOpen311()) {
				t.Errorf("open311 true kept as %v", c.Open311)
			}
			if tt.name == "hidden and public" && (c.InOpen311() || !c.Public) {
				t.Errorf("got %+v", c)
			}
		})
	}
	cs, _ := cases.NewCategories(cases.DefaultCategories())
	for code, want := range map[string]bool{"E0101": true, "E01": false, "E": false, "C0104": true, "NOPE": false} {
		if got := cs.IsLeaf(code); got != want {
			t.Errorf("IsLeaf(%s) = %t, want %t", code, got, want)
		}
	}
}
