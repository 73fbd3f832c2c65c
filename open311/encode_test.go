package open311_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/internal/open311check"
	"citygrid/open311"
)

func testCategories(t *testing.T) *cases.Categories {
	t.Helper()
	hidden := false
	list := cases.DefaultCategories()
	for i := range list {
		switch list[i].Code {
		case "E0101":
			list[i].Public = true
			list[i].Attributes = []cases.Attribute{
				{Code: "size", Datatype: "singlevaluelist", Required: true, Description: "How much?", Values: []cases.AttributeValue{{Key: "s", Name: "a bag"}, {Key: "l", Name: "a heap"}}},
				{Code: "smell", Datatype: "multivaluelist", Description: "What smells?", Values: []cases.AttributeValue{{Key: "rot", Name: "rot"}, {Key: "oil", Name: "oil"}}},
				{Code: "count", Datatype: "number", Description: "How many bags?"},
				{Code: "seen", Datatype: "datetime", Description: "When did you see it?"},
				{Code: "note", Datatype: "text", Description: "Anything else?"},
			}
		case "E0102":
			list[i].Open311 = &hidden
		}
	}
	cats, err := cases.NewCategories(list)
	if err != nil {
		t.Fatal(err)
	}
	return cats
}

// TestDocumentsInBothFormats encodes every document in XML and JSON: the
// XML holds only the spec's element names, in its order, and the JSON the
// same data in the same order.
func TestDocumentsInBothFormats(t *testing.T) {
	cats := testCategories(t)
	cat, _ := cats.Find("E0101")
	into := int64(5)
	at := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	c := &cases.Case{ID: 12, Category: "E0101", Description: "bags <by> the & gate", Status: cases.StatusClosed, MergedInto: &into,
		Unit: "U1", Location: orb.Point{120.36, 36.07}, ReportedAt: at, UpdatedAt: at.Add(time.Hour), DueAt: at.Add(4 * time.Hour),
		Properties: json.RawMessage(`{"open311":{"media_url":"https://example.org/a.jpg"}}`)}
	ev := cases.CaseEvent{Event: cases.Event{ID: 99, At: at.Add(time.Hour), Kind: "merge", From: "reported", To: "closed", Data: json.RawMessage(`{"into":5}`)}, Case: c, Status: cases.StatusClosed, Merged: true}
	view := open311.View{FreeText: true, Extensions: true}
	docs := []struct {
		name, root string
		doc        any
	}{
		{"discovery", "discovery", open311.Discovery{Changeset: "2026-11-28T00:00:00Z", Contact: "c", KeyService: "k",
			Endpoints: []open311.Endpoint{{Specification: open311.Specification, URL: "http://x/open311/v2", Changeset: "2026-11-28T00:00:00Z", Type: "production", Formats: []string{"text/xml", "application/json"}}}}},
		{"services", "services", open311.NewServices(cats, false)},
		{"no services", "services", open311.Services{}},
		{"definition", "service_definition", open311.NewDefinition(cat)},
		{"requests", "service_requests", open311.Requests{view.NewRequest(c, cats, "", []cases.CaseEvent{ev}), open311.View{}.NewRequest(c, cats, "", nil)}},
		{"no requests", "service_requests", open311.Requests{}},
		{"created", "service_requests", open311.CreatedList{{ServiceRequestID: "12"}}},
		{"updates", "service_request_updates", open311.Updates{view.NewUpdate(ev)}},
		{"errors", "errors", open311.Errors{{Code: 400, Description: "service_code is missing"}, {Code: 422, Description: "<b>"}}},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			xb, err := open311.Marshal(open311.XML, d.doc)
			if err != nil {
				t.Fatal(err)
			}
			jb, err := open311.Marshal(open311.JSON, d.doc)
			if err != nil {
				t.Fatal(err)
			}
			x, err := open311check.ParseXML(xb)
			if err != nil {
				t.Fatalf("XML does not parse: %v\n%s", err, xb)
			}
			if err := open311check.CheckXML(x, d.root); err != nil {
				t.Fatalf("%v\n%s", err, xb)
			}
			if err := open311check.SameData(x, jb); err != nil {
				t.Fatalf("%v\nXML %s\nJSON %s", err, xb, jb)
			}
		})
	}
}

func TestServicesAreLeavesNotHidden(t *testing.T) {
	cats := testCategories(t)
	got := map[string]open311.Service{}
	for _, s := range open311.NewServices(cats, false) {
		got[s.ServiceCode] = s
	}
	if _, ok := got["E0102"]; ok {
		t.Error("E0102 (open311: false) is listed")
	}
	for _, code := range []string{"E", "E01", "C"} {
		if _, ok := got[code]; ok {
			t.Errorf("%s, not a leaf, is listed", code)
		}
	}
	s, ok := got["E0101"]
	if !ok || !s.Metadata || s.Type != "realtime" || s.Group != "市容环境" {
		t.Errorf("E0101 = %+v, want metadata true, realtime, group 市容环境", s)
	}
	if s := got["E0103"]; s.Metadata {
		t.Error("E0103 has no attributes but metadata true")
	}
	if _, err := open311.FindService(cats, "E0102"); err == nil {
		t.Error("FindService(E0102): a hidden category found")
	}
	if _, err := open311.FindService(cats, "E01"); err == nil {
		t.Error("FindService(E01): a branch found")
	}
	d := open311.NewDefinition(mustFind(t, cats, "E0101"))
	for i, a := range d.Attributes {
		if a.Order != i+1 || !a.Variable {
			t.Errorf("attribute %s order %d variable %t, want %d true", a.Code, a.Order, a.Variable, i+1)
		}
	}
	if pub := open311.PublicPrefixes(cats); strings.Join(pub, ",") != "E0101" {
		t.Errorf("PublicPrefixes = %v", pub)
	}
}

func mustFind(t *testing.T, cats *cases.Categories, code string) cases.Category {
	t.Helper()
	c, ok := cats.Find(code)
	if !ok {
		t.Fatalf("no category %s", code)
	}
	return c
}

func TestDescriptionFallsBackToTitle(t *testing.T) {
	cats := testCategories(t)
	c := &cases.Case{ID: 1, Category: "E0101", Title: "井盖缺失"}
	if got := (open311.View{FreeText: true}).NewRequest(c, cats, "", nil).Description; got != "井盖缺失" {
		t.Errorf("description %q, want the title", got)
	}
	if got := (open311.View{}).NewRequest(c, cats, "", nil).Description; got != "" {
		t.Errorf("without free text: description %q", got)
	}
}
