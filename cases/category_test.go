package cases

import (
	"strings"
	"testing"

	"citygrid"
)

func TestParentCode(t *testing.T) {
	tests := []struct{ code, want string }{
		{"E0101", "E01"},
		{"E01", "E"},
		{"E", ""},
		{"0101", "01"},
		{"01", ""},
		{"ABC12", "ABC"},
		{"E01A", ""}, // does not end in two digits
		{"E0", ""},
		{"X99", "X"},
	}
	for _, tt := range tests {
		if got := ParentCode(tt.code); got != tt.want {
			t.Errorf("ParentCode(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func cat(code string) Category {
	return Category{Code: code, NameZH: "类", NameEN: "c", TimeLimit: TimeLimit{Value: 1, Unit: WorkingDays}}
}

func TestCategoriesHierarchy(t *testing.T) {
	tests := []struct {
		name  string
		codes []string
		want  string // substring of the error; "" for none
	}{
		{"default table", nil, ""},
		{"whole tree", []string{"E", "E01", "E0101", "E0102", "C", "C01"}, ""},
		{"numeric codes", []string{"01", "0101", "02"}, ""},
		{"one category alone", []string{"E0101"}, `"E0101" has no parent: add "E01" first`},
		{"a middle level missing", []string{"E", "E0101"}, `"E0101" has no parent: add "E01" first`},
		{"a prefix that is not the parent", []string{"E", "E0", "E01"}, `"E0" starts with the code "E" but does not lie under it`},
		{"a top-level code under another", []string{"A", "AB"}, `"AB" starts with the code "A"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := DefaultCategories()
			if tt.codes != nil {
				list = nil
				for _, c := range tt.codes {
					list = append(list, cat(c))
				}
			}
			cs, err := NewCategories(list)
			if err != nil {
				t.Fatal(err) // the hierarchy is not NewCategories' concern: stored tables must load
			}
			err = cs.CheckHierarchy()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckHierarchy() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCategoriesParent(t *testing.T) {
	cs, err := NewCategories([]Category{cat("E"), cat("E01")})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := cs.Find("E01"); c.Parent != "E" {
		t.Errorf("E01 parent = %q, want E", c.Parent)
	}
	if c, _ := cs.Find("E"); c.Parent != "" {
		t.Errorf("E parent = %q, want none", c.Parent)
	}
	wrong := cat("E01")
	wrong.Parent = "C"
	if _, err := NewCategories([]Category{cat("E"), wrong}); err == nil || !strings.Contains(err.Error(), `its parent is "E"`) {
		t.Errorf("a wrong parent: error %v, want one naming E", err)
	}
	// What GET returns can be sent back as it is.
	if _, err := NewCategories(cs.List()); err != nil {
		t.Errorf("the table as read: %v", err)
	}
}

func TestCategoriesWith(t *testing.T) {
	base, err := NewCategories([]Category{cat("E"), cat("E01"), cat("E0101")})
	if err != nil {
		t.Fatal(err)
	}
	broken, err := NewCategories([]Category{cat("E"), cat("C0101")}) // stored before parents were required
	if err != nil {
		t.Fatal(err)
	}
	changed := cat("E0101")
	changed.NameZH = "暴露垃圾"
	noName := cat("E0102")
	noName.NameZH, noName.NameEN = "", ""
	tests := []struct {
		name      string
		table     *Categories
		c         Category
		wantAdded bool
		wantCode  citygrid.Code // of the error; "" for none
		wantLen   int
	}{
		{"add under its parent", base, cat("E0102"), true, "", 4},
		{"add a top-level code", base, cat("C"), true, "", 4},
		{"change one", base, changed, false, "", 3},
		{"parent missing", base, cat("E0201"), false, citygrid.CodeUnprocessable, 0},
		{"a stray prefix", base, cat("E010"), false, citygrid.CodeUnprocessable, 0},
		{"invalid on its own", base, noName, false, citygrid.CodeInvalid, 0},
		{"a bad code", base, cat("E-1"), false, citygrid.CodeInvalid, 0},
		{"a broken table takes a fitting code", broken, cat("E01"), true, "", 3},
		{"a broken table takes a missing ancestor", broken, cat("C"), true, "", 3},
		{"a broken table still wants a parent", broken, cat("E0101"), false, citygrid.CodeUnprocessable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, added, err := tt.table.With(tt.c)
			if tt.wantCode != "" {
				if citygrid.ErrorCode(err) != tt.wantCode {
					t.Fatalf("With(%s) error = %v, want %s", tt.c.Code, err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("With(%s): %v", tt.c.Code, err)
			}
			if added != tt.wantAdded || len(next.List()) != tt.wantLen {
				t.Errorf("With(%s) = %d entries, added %v; want %d, %v", tt.c.Code, len(next.List()), added, tt.wantLen, tt.wantAdded)
			}
			if got, _ := next.Find(tt.c.Code); got.NameZH != tt.c.NameZH || got.Parent != ParentCode(tt.c.Code) {
				t.Errorf("stored %+v, want %+v", got, tt.c)
			}
		})
	}
	if c, _ := base.Find("E0101"); c.NameZH != "类" {
		t.Error("With changed the table it was called on")
	}
}
