package postgres_test

import (
	"context"
	"testing"

	"citygrid/cases"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
	"reflect"
)

// TestCategoryOpen311RoundTrip: what a category says about itself as an
// Open311 service (migration 014) is stored and read back as given.
func TestCategoryOpen311RoundTrip(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewCaseStore(dbtest.Tx(t))
	no := false
	want := cases.Category{Code: "E0101", NameZH: "暴露垃圾", NameEN: "Exposed garbage", TimeLimit: cases.TimeLimit{Value: 4, Unit: cases.WorkingHours},
		Public: true, Attributes: []cases.Attribute{
			{Code: "size", Datatype: "singlevaluelist", Required: true, Description: "How much?", Values: []cases.AttributeValue{{Key: "s", Name: "a bag"}}},
			{Code: "n", Datatype: "number", Description: "How many?", DatatypeDescription: "bags"},
		}}
	hidden := cases.Category{Code: "E0102", NameZH: "积存垃圾渣土", NameEN: "x", TimeLimit: cases.TimeLimit{Value: 8, Unit: cases.WorkingHours}, Open311: &no}
	for _, c := range []cases.Category{want, hidden} {
		if _, err := store.PutCategory(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cats, err := store.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.Parent, hidden.Parent = "E01", "E01"
	for _, w := range []cases.Category{want, hidden} {
		got, _ := cats.Find(w.Code)
		if !reflect.DeepEqual(w, got) {
			t.Errorf("%s read back as %+v, want %+v", w.Code, got, w)
		}
	}
	if c, _ := cats.Find("E0103"); !c.InOpen311() || c.Public || c.Attributes != nil {
		t.Errorf("E0103 %+v: want the defaults", c)
	}
}
