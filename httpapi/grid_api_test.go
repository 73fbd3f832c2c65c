package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"citygrid/grid"
)

func TestImportAndReadGrids(t *testing.T) {
	a := newAPI(t, nil)

	var units map[string]int
	a.mustOK(a.post("/v1/units", unitsJSON)).decode(t, &units)
	if units["inserted"] != 2 || units["updated"] != 0 {
		t.Errorf("POST /v1/units = %v, want 2 inserted", units)
	}
	a.mustOK(a.post("/v1/units", `{"code":"U1","name":"城管局","kind":"城市管理局"}`)).decode(t, &units)
	if units["inserted"] != 0 || units["updated"] != 1 {
		t.Errorf("POST /v1/units one object = %v, want 1 updated", units)
	}

	type importReply struct {
		Committed bool        `json:"committed"`
		Inserted  int         `json:"inserted"`
		Updated   int         `json:"updated"`
		Rejected  []rejection `json:"rejected"`
		Topology  *struct {
			Overlaps  []any   `json:"overlaps"`
			Gaps      []any   `json:"gaps"`
			MinAreaM2 float64 `json:"min_area_m2"`
		} `json:"topology"`
	}
	var res importReply
	r := a.mustOK(a.do(http.MethodPost, "/v1/grids/import", "application/geo+json", strings.NewReader(fcJSON(district()))))
	r.decode(t, &res)
	if !res.Committed || res.Inserted != 9 || res.Updated != 0 || res.Rejected == nil || len(res.Rejected) != 0 {
		t.Errorf("first import = %s, want 9 inserted, rejected []", r.body)
	}
	if res.Topology == nil || len(res.Topology.Overlaps) != 0 || len(res.Topology.Gaps) != 0 {
		t.Errorf("topology of a clean tiling = %s, want no overlaps or gaps", r.body)
	}
	r = a.mustOK(a.post("/v1/grids/import?partial=false", fcJSON(district())))
	res = importReply{}
	r.decode(t, &res)
	if !res.Committed || res.Inserted != 0 || res.Updated != 9 {
		t.Errorf("second import = %s, want 9 updated", r.body)
	}

	t.Run("get one grid", func(t *testing.T) {
		tests := []struct {
			code, name, level, parent string
			path                      []string
		}{
			{"D", "区", "district", "", []string{"D"}},
			{"S2", "东街道", "street", "D", []string{"S2", "D"}},
			{"C2", "社区二", "community", "S2", []string{"C2", "S2", "D"}},
			{"G1", "网格1", "grid", "C1", []string{"G1", "C1", "S1", "D"}},
			{g4, "网格4", "grid", "C2", []string{g4, "C2", "S2", "D"}},
		}
		for _, tt := range tests {
			t.Run(tt.code, func(t *testing.T) {
				r := a.get("/v1/grids/" + url.PathEscape(tt.code))
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				if ct := r.contentType(); !strings.HasPrefix(ct, "application/geo+json") {
					t.Errorf("Content-Type %q, want application/geo+json", ct)
				}
				var f struct {
					Type       string `json:"type"`
					ID         string `json:"id"`
					Properties struct {
						Code            string            `json:"code"`
						Name            string            `json:"name"`
						Level           string            `json:"level"`
						Parent          *string           `json:"parent"`
						Unit            *string           `json:"unit"`
						UnitsByCategory map[string]string `json:"units_by_category"`
						AreaM2          float64           `json:"area_m2"`
						Path            []struct {
							Code, Name, Level string
						} `json:"path"`
					} `json:"properties"`
					Geometry struct {
						Type        string         `json:"type"`
						Coordinates [][][2]float64 `json:"coordinates"`
					} `json:"geometry"`
				}
				r.decode(t, &f)
				p := f.Properties
				if f.Type != "Feature" || f.ID != tt.code || p.Code != tt.code || p.Name != tt.name || p.Level != tt.level {
					t.Errorf("feature = %s", r.body)
				}
				if parent := ""; p.Parent != nil {
					parent = *p.Parent
					if parent != tt.parent {
						t.Errorf("parent = %q, want %q", parent, tt.parent)
					}
				} else if tt.parent != "" {
					t.Errorf("parent = null, want %q", tt.parent)
				}
				var path []string
				for _, g := range p.Path {
					path = append(path, g.Code)
				}
				if !slices.Equal(path, tt.path) {
					t.Errorf("path = %v, want %v", path, tt.path)
				}
				if len(p.Path) > 0 && (p.Path[0].Name != tt.name || p.Path[len(p.Path)-1].Name != "区" || p.Path[len(p.Path)-1].Level != "district") {
					t.Errorf("path = %+v, want names and levels", p.Path)
				}
				if f.Geometry.Type != "Polygon" || len(f.Geometry.Coordinates) != 1 || len(f.Geometry.Coordinates[0]) != 5 {
					t.Errorf("geometry = %+v, want the imported rectangle", f.Geometry)
				}
				if p.AreaM2 <= 0 {
					t.Errorf("area_m2 = %g", p.AreaM2)
				}
				if tt.code == "C2" && (p.UnitsByCategory["E01"] != "U2" || p.Unit != nil || p.AreaM2 < 1.5e6 || p.AreaM2 > 2.1e6) {
					t.Errorf("C2 = %s, want units_by_category E01 U2, no unit, about 2 km²", r.body)
				}
				if tt.code == "D" && (p.Unit == nil || *p.Unit != "U1") {
					t.Errorf("D unit = %v, want U1", p.Unit)
				}
			})
		}
	})

	t.Run("list grids", func(t *testing.T) {
		tests := []struct {
			name, query string
			want        []string
		}{
			{"all", "", []string{"D", "S1", "S2", "C1", "C2", "G1", "G2", "G3", g4}},
			{"level", "level=grid", []string{"G1", "G2", "G3", g4}},
			{"level any case", "level=STREET", []string{"S1", "S2"}},
			{"parent", "parent=C2", []string{"G3", g4}},
			{"parent with no children", "parent=G1", nil},
			{"parent unknown", "parent=NOPE", nil},
			{"bbox", "bbox=120.351,36.071,120.352,36.072&level=grid", []string{"G1"}},
			{"bbox with spaces", "bbox=" + url.QueryEscape("120.351, 36.071, 120.352, 36.072") + "&level=grid", []string{"G1"}},
			{"bbox over an edge", "bbox=120.359,36.071,120.361,36.072&level=grid", []string{"G1", "G3"}},
			{"bbox elsewhere", "bbox=0,0,1,1", nil},
			{"bbox a point", "bbox=120.355,36.075,120.355,36.075&level=grid", []string{"G1"}},
			{"limit", "limit=2", []string{"D", "S1"}},
			{"all filters", "level=grid&parent=C1&bbox=120.35,36.07,120.37,36.09&limit=1", []string{"G1"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.get("/v1/grids?" + tt.query)
				if r.status != http.StatusOK {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				var fc struct {
					Type     string `json:"type"`
					Features []struct {
						Properties struct{ Code string } `json:"properties"`
					} `json:"features"`
				}
				r.decode(t, &fc)
				var got []string
				for _, f := range fc.Features {
					got = append(got, f.Properties.Code)
				}
				if fc.Type != "FeatureCollection" || fc.Features == nil || !slices.Equal(got, tt.want) {
					t.Errorf("GET /v1/grids?%s = %s %v, want FeatureCollection %v", tt.query, fc.Type, got, tt.want)
				}
			})
		}
	})

	t.Run("list units", func(t *testing.T) {
		var got struct{ Units []grid.Unit }
		a.mustOK(a.get("/v1/units")).decode(t, &got)
		want := []grid.Unit{{Code: "U1", Name: "城管局", Kind: "城市管理局"}, {Code: "U2", Name: "居委会", Kind: "committee"}}
		if !slices.Equal(got.Units, want) {
			t.Errorf("GET /v1/units = %+v, want %+v", got.Units, want)
		}
	})

	t.Run("topology", func(t *testing.T) {
		var got struct{ Overlaps, Gaps []any }
		a.mustOK(a.get("/v1/grids/topology")).decode(t, &got)
		if len(got.Overlaps)+len(got.Gaps) != 0 {
			t.Errorf("topology = %+v, want nothing", got)
		}
	})
}

// TestGridCodesInURLs stores grids whose codes need percent-encoding and
// reads each back by its code.
func TestGridCodesInURLs(t *testing.T) {
	a := newDistrictAPI(t)
	codes := []string{
		"G 5", "网格六", "网格/7", "a+b?c#d", "x'; DROP TABLE grids; --", `C:\dir`, "é", "G%41", "100%",
	}
	var fs []any
	for i, code := range codes {
		x := x0 + 0.001*float64(i)
		fs = append(fs, feat(code, "名 "+code, "grid", "C1", polygon(rectCoords(x, y0+0.001, x+0.0005, y0+0.0015))))
	}
	var res struct{ Inserted int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs))).decode(t, &res)
	if res.Inserted != len(codes) {
		t.Fatalf("inserted %d, want %d", res.Inserted, len(codes))
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			r := a.get("/v1/grids/" + url.PathEscape(code))
			var f struct {
				Properties struct{ Code, Name string }
			}
			if r.status != http.StatusOK {
				t.Fatalf("GET /v1/grids/%s: status %d: %s", url.PathEscape(code), r.status, r.body)
			}
			r.decode(t, &f)
			if f.Properties.Code != code || f.Properties.Name != "名 "+code {
				t.Errorf("GET /v1/grids/%s = %+v, want code %q", url.PathEscape(code), f.Properties, code)
			}
			// As a parent filter, in the query string.
			r = a.mustOK(a.get("/v1/grids?parent=" + url.QueryEscape(code)))
			if !bytes.Contains(r.body, []byte(`"type":"FeatureCollection"`)) {
				t.Errorf("GET /v1/grids?parent=%s = %s", url.QueryEscape(code), r.body)
			}
		})
	}
}

// TestSQLLookingStringsAreData stores codes and names that would be harmful
// if spliced into SQL, and reads them back unchanged.
func TestSQLLookingStringsAreData(t *testing.T) {
	a := newAPI(t, nil)
	const (
		unitCode = `u'; DROP TABLE units; --`
		unitName = `Robert'); DROP TABLE grids;--`
		code     = `x'; DROP TABLE grids; --`
		name     = `'); DELETE FROM units; --`
		street   = `s" OR 1=1; --`
	)
	a.mustOK(a.post("/v1/units", fmt.Sprintf(`{"code":%q,"name":%q,"kind":"' OR ''='"}`, unitCode, unitName)))
	fs := []any{
		feat(code, name, "district", "", polygon(rectCoords(x0, y0, x0+0.02, y0+0.02))),
		feat(street, "街道", "street", code, polygon(rectCoords(x0, y0, x0+0.02, y0+0.02))),
	}
	props(fs[0])["unit"] = unitCode
	props(fs[1])["units_by_category"] = map[string]string{"E'; --": unitCode}
	var res struct{ Inserted int }
	a.mustOK(a.post("/v1/grids/import", fcJSON(fs))).decode(t, &res)
	if res.Inserted != 2 {
		t.Errorf("inserted %d, want 2", res.Inserted)
	}
	var f struct {
		Properties struct {
			Code, Name string
			Unit       string `json:"unit"`
		}
	}
	a.mustOK(a.get("/v1/grids/"+url.PathEscape(code))).decode(t, &f)
	if f.Properties.Code != code || f.Properties.Name != name || f.Properties.Unit != unitCode {
		t.Errorf("GET = %+v", f.Properties)
	}
	r := a.mustOK(a.get("/v1/grids?parent=" + url.QueryEscape(code)))
	if !strings.Contains(string(r.body), `"code":"s\" OR 1=1; --"`) {
		t.Errorf("GET /v1/grids?parent= = %s, want the street", r.body)
	}
	var loc struct {
		Grid struct{ Code string }
		Unit struct{ Code, Name, Kind string }
		Rule struct{ Kind, Prefix string }
	}
	a.mustOK(a.get("/v1/locate?lng=120.355&lat=36.075&category="+url.QueryEscape("E'; -- 1"))).decode(t, &loc)
	if loc.Grid.Code != street || loc.Unit.Code != unitCode || loc.Unit.Name != unitName || loc.Unit.Kind != "' OR ''='" || loc.Rule.Prefix != "E'; --" {
		t.Errorf("locate = %+v", loc)
	}
	if s := a.snapshot(); !strings.HasPrefix(s, "2 grids:") || !strings.Contains(s, "\n1 units:\n") {
		t.Errorf("database = %s, want 2 grids and 1 unit", s)
	}
}

// TestGridsPages: the grids list pages with an opaque cursor, as the cases
// list does: following next from page to page gives every grid once, in
// the unpaged order (level, then code), filters included.
func TestGridsPages(t *testing.T) {
	a := newDistrictAPI(t)
	type page struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
		Next *string `json:"next"`
	}
	list := func(query string) ([]string, int) {
		var all []string
		pages := 0
		for next := ""; ; pages++ {
			q := query
			if next != "" {
				q += "&cursor=" + url.QueryEscape(next)
			}
			var p page
			a.mustOK(a.get("/v1/grids?"+q)).decode(t, &p)
			for _, f := range p.Features {
				all = append(all, f.ID)
			}
			if p.Next == nil {
				return all, pages + 1
			}
			if pages > 20 {
				t.Fatalf("%s: no end after %d pages", query, pages)
			}
			next = *p.Next
		}
	}
	for _, tt := range []struct {
		query     string
		wantPages int
	}{
		{"limit=2", 5},
		{"limit=9", 1}, // exactly all: no next
		{"limit=8", 2},
		{"level=grid&limit=3", 2},
		{"parent=C2&limit=1", 2},
	} {
		t.Run(tt.query, func(t *testing.T) {
			filter, _, _ := strings.Cut(tt.query, "limit=")
			want, _ := list(strings.TrimSuffix(filter, "&"))
			got, pages := list(tt.query)
			if !slices.Equal(got, want) || pages != tt.wantPages {
				t.Errorf("paged %v in %d pages, want %v in %d", got, pages, want, tt.wantPages)
			}
		})
	}
}
