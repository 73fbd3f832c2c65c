package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestImportRefreshesIndex checks that /v1/locate answers from the grids
// as they are right after each import.
func TestImportRefreshesIndex(t *testing.T) {
	a := newAPI(t, nil)
	a.mustOK(a.post("/v1/units", unitsJSON))
	at := locateQuery(x0+0.002, y0+0.002, "")
	var loc location
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid != nil || loc.Nearest != nil {
		t.Errorf("before any import: %+v, want no grid and no nearest", loc)
	}

	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Code != "G1" || loc.Grid.Name != "网格1" || loc.Unit == nil || loc.Unit.Code != "U1" {
		t.Fatalf("after the import: %+v, want G1 of U1", loc)
	}

	// Renaming G1 and giving it its own unit shows at once.
	fs := district()
	props(fs[5])["name"] = "网格一（新）"
	props(fs[5])["unit"] = "U2"
	var res struct{ Inserted, Updated int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs[5:6]))).decode(t, &res)
	if res.Inserted != 0 || res.Updated != 1 {
		t.Errorf("import of one grid = %+v, want 1 updated", res)
	}
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Name != "网格一（新）" || loc.Unit == nil || loc.Unit.Code != "U2" || loc.Rule == nil || loc.Rule.Level != "grid" {
		t.Errorf("after the update: %+v, want G1 renamed, owned by U2 at grid level", loc)
	}

	// Renaming a unit shows at once too.
	a.mustOK(a.post("/v1/units", `{"code":"U2","name":"新居委会"}`))
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Unit == nil || loc.Unit.Name != "新居委会" {
		t.Errorf("after renaming the unit: %+v", loc.Unit)
	}

	// A second district elsewhere.
	far := []any{feat("D2", "另一个区", "district", "", polygon(rectCoords(121, 37, 121.01, 37.01)))}
	a.mustOK(a.post("/v1/grids/import", fcJSON(far)))
	loc = location{}
	a.mustOK(a.get(locateQuery(121.005, 37.005, ""))).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Code != "D2" || loc.Unit != nil {
		t.Errorf("in the new district: %+v, want D2 with no unit", loc)
	}

	// A rejected import changes nothing.
	bad := district()
	props(bad[5])["name"] = "not stored"
	props(bad[6])["parent"] = "NOPE"
	checkProblem(t, a.post("/v1/grids/import", fcJSON(bad)), http.StatusUnprocessableEntity)
	loc = location{}
	a.mustOK(a.get(at)).decode(t, &loc)
	if loc.Grid == nil || loc.Grid.Name != "网格一（新）" {
		t.Errorf("after a rejected import: %+v, want G1 unchanged", loc.Grid)
	}
}

func TestPartialImport(t *testing.T) {
	a := newAPI(t, nil)
	a.mustOK(a.post("/v1/units", unitsJSON))
	fs := district()
	props(fs[2])["parent"] = "MISSING"                                            // S2, and with it C2, G3, 网格 4
	fs[5].(map[string]any)["geometry"] = polygon(rectCoords(x0, y0, x0+0.01, 91)) // G1
	body := fcJSON(fs)

	before := a.snapshot()
	p := checkProblem(t, a.post("/v1/grids/import?partial=false", body), http.StatusUnprocessableEntity, "5 of 9 features rejected", "partial=true")
	if len(p.Rejected) != 5 {
		t.Errorf("rejected = %+v, want 5", p.Rejected)
	}
	if after := a.snapshot(); after != before {
		t.Errorf("a rejected import changed the database:\n%s", after)
	}

	r := a.mustOK(a.post("/v1/grids/import?partial=true", body))
	var res struct {
		Committed bool
		Inserted  int
		Updated   int
		Rejected  []rejection
	}
	r.decode(t, &res)
	var got []string
	for _, rej := range res.Rejected {
		got = append(got, fmt.Sprintf("%d %s", rej.Index, rej.Code))
	}
	want := []string{"2 S2", "4 C2", "5 G1", "7 G3", "8 " + g4}
	if !res.Committed || res.Inserted != 4 || res.Updated != 0 || !slices.Equal(got, want) {
		t.Errorf("partial import = %s, want 4 inserted and %v rejected", r.body, want)
	}
	reasons := map[int]string{2: "parent MISSING does not exist", 4: "parent S2 was rejected", 5: "latitude 91 out of range", 7: "parent C2 was rejected", 8: "parent C2 was rejected"}
	for _, rej := range res.Rejected {
		if !strings.Contains(rej.Reason, reasons[rej.Index]) {
			t.Errorf("feature %d rejected for %q, want %q", rej.Index, rej.Reason, reasons[rej.Index])
		}
	}
	var fc struct {
		Features []struct{ Properties struct{ Code string } }
	}
	a.mustOK(a.get("/v1/grids")).decode(t, &fc)
	var codes []string
	for _, f := range fc.Features {
		codes = append(codes, f.Properties.Code)
	}
	if want := []string{"D", "S1", "C1", "G2"}; !slices.Equal(codes, want) {
		t.Errorf("stored %v, want %v", codes, want)
	}
	// The index has the stored grids: G1's place falls to C1, the east half to D.
	for _, tt := range []struct {
		lng, lat float64
		want     string
	}{{x0 + 0.002, y0 + 0.002, "C1"}, {x0 + 0.002, y0 + 0.015, "G2"}, {x0 + 0.015, y0 + 0.005, "D"}} {
		var loc location
		a.mustOK(a.get(locateQuery(tt.lng, tt.lat, ""))).decode(t, &loc)
		if loc.Grid == nil || loc.Grid.Code != tt.want {
			t.Errorf("locate(%v, %v) = %+v, want %s", tt.lng, tt.lat, loc.Grid, tt.want)
		}
	}
}
