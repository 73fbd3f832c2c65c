package cases

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/grid"
)

// ownedDistrict is a district (120.35–120.37, 36.07–36.09) with no default
// unit: its west street's community sends E01 to JW, and nothing else names
// a unit, so owners elsewhere come from the fallback.
func ownedDistrict(t testing.TB, fallback string) *grid.Locator {
	t.Helper()
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
	}
	grids := []*grid.Grid{
		{Code: "D", Level: grid.LevelDistrict, Geometry: rect(120.35, 36.07, 120.37, 36.09)},
		{Code: "S1", Level: grid.LevelStreet, Parent: "D", Geometry: rect(120.35, 36.07, 120.36, 36.09)},
		{Code: "S2", Level: grid.LevelStreet, Parent: "D", Unit: "JD2", Geometry: rect(120.36, 36.07, 120.37, 36.09)},
		{Code: "C1", Level: grid.LevelCommunity, Parent: "S1", UnitsByCategory: map[string]string{"E01": "JW"}, Geometry: rect(120.35, 36.07, 120.36, 36.08)},
	}
	l, err := grid.NewLocator(grids, nil, grid.LocatorOptions{FallbackUnit: fallback})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var prepareNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

func TestPrepareOwnsEveryCase(t *testing.T) {
	cats, err := NewCategories(DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		fallback  string
		lng, lat  float64
		category  string
		wantGrid  string
		wantUnit  string
		wantRule  string
		wantError string // substring, for a refusal (CodeUnprocessable)
	}{
		{"a grid's category rule", "", 120.355, 36.075, "E0101", "C1", "JW", grid.RuleCategory, ""},
		{"a grid's default", "", 120.365, 36.075, "E0501", "S2", "JD2", grid.RuleDefault, ""},
		{"no unit on the path: the fallback", "FB", 120.355, 36.075, "E0501", "C1", "FB", grid.RuleFallback, ""},
		{"no unit on the path and no fallback", "", 120.355, 36.085, "E0501", "", "", "", "no unit is responsible"},
		{"(0, 0)", "FB", 0, 0, "E0101", "", "", "", "outside the service area"},
		{"just outside the district", "FB", 120.3499, 36.08, "E0101", "", "", "", "outside the service area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := []float64{tt.lng, tt.lat}
			in := Input{Source: "s", ExternalID: "e", Category: tt.category, Location: &loc}
			c, err := in.Prepare(cats, DefaultCalendar(), ownedDistrict(t, tt.fallback), prepareNow)
			if tt.wantError != "" {
				fe, ok := err.(*FieldError)
				if !ok || fe.Field != "location" || fe.Code != citygrid.CodeUnprocessable || !strings.Contains(fe.Message, tt.wantError) {
					t.Fatalf("Prepare error = %#v, want an unprocessable location saying %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Grid != tt.wantGrid || c.Unit != tt.wantUnit || c.UnitRule != tt.wantRule {
				t.Errorf("case in %s, unit %s by %s; want %s, %s by %s", c.Grid, c.Unit, c.UnitRule, tt.wantGrid, tt.wantUnit, tt.wantRule)
			}
		})
	}
}

func TestIngestRejectsCasesNobodyOwns(t *testing.T) {
	store := &memStore{}
	ing := fuzzIngester(t, store) // a district with a default unit
	body := `{"source":"s","external_id":"1","category":"E0101","location":[120.36,36.08]}` + "\n" +
		`{"source":"s","external_id":"2","category":"E0101","location":[0,0]}` + "\n" +
		`{"source":"s","external_id":"3","category":"E0101","location":[120.38,36.08]}` + "\n"
	res, err := ing.Ingest(context.Background(), strings.NewReader(body), BulkNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || len(res.Rejected) != 2 || res.Rejected[0].Line != 2 || res.Rejected[1].Line != 3 ||
		!strings.Contains(res.Rejected[0].Error, "location: [0, 0] (WGS84) is outside the service area") {
		t.Errorf("ingest = %+v, want line 1 accepted, lines 2 and 3 outside the service area", res)
	}
}
