package httpapi_test

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// location is the answer of /v1/locate.
type location struct {
	Point [2]float64 `json:"point"`
	Input *struct {
		CRS   string     `json:"crs"`
		Point [2]float64 `json:"point"`
	} `json:"input"`
	H3    string `json:"h3"`
	H3Res int    `json:"h3_res"`
	Grid  *struct {
		Code, Name, Level string
	} `json:"grid"`
	Path []struct{ Code string } `json:"path"`
	Unit *struct {
		Code, Name, Kind string
	} `json:"unit"`
	Rule *struct {
		Kind, Level, Grid, Prefix string
	} `json:"rule"`
	BoundaryDistanceM *float64 `json:"boundary_distance_m"`
	Alternatives      []nearby `json:"alternatives"`
	Nearest           *nearby  `json:"nearest"`
}

type nearby struct {
	Code      string  `json:"code"`
	Level     string  `json:"level"`
	DistanceM float64 `json:"distance_m"`
}

func locateQuery(lng, lat float64, extra string) string {
	q := "/v1/locate?lng=" + strconv.FormatFloat(lng, 'g', -1, 64) + "&lat=" + strconv.FormatFloat(lat, 'g', -1, 64)
	if extra != "" {
		q += "&" + extra
	}
	return q
}

func codesOf(path []struct{ Code string }) []string {
	out := []string{}
	for _, p := range path {
		out = append(out, p.Code)
	}
	return out
}

func TestLocate(t *testing.T) {
	a := newDistrictAPI(t)
	type want struct {
		grid         string // "" = null
		path         []string
		unit         string // "" = null
		rule         string // kind/level/grid/prefix
		alternatives []string
		nearest      string
		minDist      float64 // bounds of boundary_distance_m, or of nearest's distance
		maxDist      float64
	}
	tests := []struct {
		name     string
		lng, lat float64
		category string
		want     want
	}{
		{"inside a unit grid", x0 + 0.002, y0 + 0.002, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 150, maxDist: 200}},
		{"category rule of the community", x0 + 0.015, y0 + 0.005, "E0101",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U2", rule: "category/community/C2/E01", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"category without a rule falls back to the default", x0 + 0.015, y0 + 0.005, "X99",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"Chinese code", x0 + 0.015, y0 + 0.015, "",
			want{grid: g4, path: []string{g4, "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 400, maxDist: 600}},
		{"shared edge goes to the smaller code", x0 + 0.01, y0 + 0.005, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G3"}, minDist: 0, maxDist: 0}},
		{"shared vertex of four grids", x0 + 0.01, y0 + 0.01, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G2", "G3", g4}, minDist: 0, maxDist: 0}},
		{"two metres from an edge", x0 + 0.01 + 0.00002, y0 + 0.005, "",
			want{grid: "G3", path: []string{"G3", "C2", "S2", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{"G1"}, minDist: 1.5, maxDist: 2}},
		{"district corner", x0, y0, "",
			want{grid: "G1", path: []string{"G1", "C1", "S1", "D"}, unit: "U1", rule: "default/district/D/", alternatives: []string{}, minDist: 0, maxDist: 0}},
		{"outside the district", x0 + 0.05, y0 + 0.005, "",
			want{nearest: "G3", path: []string{}, alternatives: []string{}, minDist: 2500, maxDist: 2800}},
		{"the other side of the world", -70, -30, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 1e7, maxDist: 2e7}},
		{"north pole, antimeridian", 180, 90, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 5e6, maxDist: 2e7}},
		{"south pole", -180, -90, "",
			want{nearest: "", path: []string{}, alternatives: []string{}, minDist: 5e6, maxDist: 2e7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := ""
			if tt.category != "" {
				extra = "category=" + url.QueryEscape(tt.category)
			}
			r := a.get(locateQuery(tt.lng, tt.lat, extra))
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ct := r.contentType(); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var loc location
			r.decode(t, &loc)
			w := tt.want
			if loc.Point != [2]float64{tt.lng, tt.lat} || loc.Input != nil {
				t.Errorf("point %v input %v, want the WGS84 point echoed, no input", loc.Point, loc.Input)
			}
			cell, err := geo.CellAt(orb.Point{tt.lng, tt.lat}, 9)
			if err != nil {
				t.Fatal(err)
			}
			if loc.H3 != cell.String() || len(loc.H3) != 15 || loc.H3Res != 9 {
				t.Errorf("h3 %q res %d, want %q res 9", loc.H3, loc.H3Res, cell)
			}
			if got := codesOf(loc.Path); !slices.Equal(got, w.path) {
				t.Errorf("path %v, want %v", got, w.path)
			}
			var alts []string
			for _, n := range loc.Alternatives {
				alts = append(alts, n.Code)
				if n.DistanceM < 0 || n.DistanceM > 5 {
					t.Errorf("alternative %+v farther than the tolerance", n)
				}
			}
			if loc.Alternatives == nil || !slices.Equal(append([]string{}, alts...), w.alternatives) {
				t.Errorf("alternatives %+v, want %v", loc.Alternatives, w.alternatives)
			}
			if w.grid == "" {
				if loc.Grid != nil || loc.Unit != nil || loc.Rule != nil || loc.BoundaryDistanceM != nil {
					t.Errorf("uncovered point: %s, want grid, unit, rule and boundary_distance_m null", r.body)
				}
				for _, k := range []string{`"grid":null`, `"unit":null`, `"rule":null`, `"boundary_distance_m":null`, `"path":[]`} {
					if !bytes.Contains(r.body, []byte(k)) {
						t.Errorf("reply %s lacks %s", r.body, k)
					}
				}
				if w.nearest != "" {
					if loc.Nearest == nil || loc.Nearest.Code != w.nearest || loc.Nearest.Level != "grid" ||
						loc.Nearest.DistanceM < w.minDist || loc.Nearest.DistanceM > w.maxDist {
						t.Errorf("nearest %+v, want %s at %g to %g m", loc.Nearest, w.nearest, w.minDist, w.maxDist)
					}
				} else if loc.Nearest == nil || loc.Nearest.DistanceM < w.minDist || loc.Nearest.DistanceM > w.maxDist {
					t.Errorf("nearest %+v, want a grid %g to %g m away", loc.Nearest, w.minDist, w.maxDist)
				}
				return
			}
			if loc.Grid == nil || loc.Grid.Code != w.grid || loc.Grid.Level != "grid" {
				t.Fatalf("grid %+v, want %s: %s", loc.Grid, w.grid, r.body)
			}
			if loc.Nearest != nil {
				t.Errorf("nearest %+v on a covered point", loc.Nearest)
			}
			if loc.Unit == nil || loc.Unit.Code != w.unit {
				t.Errorf("unit %+v, want %s", loc.Unit, w.unit)
			} else if names := map[string]string{"U1": "城管局", "U2": "居委会"}; loc.Unit.Name != names[w.unit] {
				t.Errorf("unit name %q, want %q", loc.Unit.Name, names[w.unit])
			}
			if loc.Rule == nil {
				t.Errorf("rule null, want %s", w.rule)
			} else if got := loc.Rule.Kind + "/" + loc.Rule.Level + "/" + loc.Rule.Grid + "/" + loc.Rule.Prefix; got != w.rule {
				t.Errorf("rule %s, want %s", got, w.rule)
			}
			if d := loc.BoundaryDistanceM; d == nil {
				t.Errorf("boundary_distance_m null, want %g to %g", w.minDist, w.maxDist)
			} else if *d < w.minDist-1e-6 || *d > w.maxDist+1e-6 {
				t.Errorf("boundary_distance_m %g, want %g to %g", *d, w.minDist, w.maxDist)
			}
		})
	}

	t.Run("other coordinate systems", func(t *testing.T) {
		wgs := orb.Point{x0 + 0.005, y0 + 0.005}
		tests := []struct {
			crs  string
			echo string
			in   orb.Point
		}{
			{"gcj02", "gcj02", geo.WGS84ToGCJ02(wgs)},
			{"GCJ02", "gcj02", geo.WGS84ToGCJ02(wgs)},
			{"bd09", "bd09", geo.WGS84ToBD09(wgs)},
		}
		for _, tt := range tests {
			t.Run(tt.crs, func(t *testing.T) {
				var loc location
				a.mustOK(a.get(locateQuery(tt.in[0], tt.in[1], "crs="+tt.crs))).decode(t, &loc)
				if loc.Input == nil || loc.Input.CRS != tt.echo || loc.Input.Point != [2]float64(tt.in) {
					t.Errorf("input %+v, want %s %v echoed", loc.Input, tt.echo, tt.in)
				}
				if loc.Point == [2]float64(tt.in) {
					t.Errorf("point %v is the input unconverted", loc.Point)
				}
				if d := math.Hypot(loc.Point[0]-wgs[0], loc.Point[1]-wgs[1]); d > 1e-5 {
					t.Errorf("point %v, want about %v (off by %g°)", loc.Point, wgs, d)
				}
				if loc.Grid == nil || loc.Grid.Code != "G1" {
					t.Errorf("grid %+v, want G1", loc.Grid)
				}
				cell, _ := geo.CellAt(orb.Point(loc.Point), 9)
				if loc.H3 != cell.String() {
					t.Errorf("h3 %s, want the converted point's cell %s", loc.H3, cell)
				}
			})
		}
		var loc location
		a.mustOK(a.get(locateQuery(wgs[0], wgs[1], "crs=wgs84"))).decode(t, &loc)
		if loc.Input != nil || loc.Point != [2]float64(wgs) {
			t.Errorf("crs=wgs84: point %v input %+v, want the point as given and no input", loc.Point, loc.Input)
		}
	})

	t.Run("POST several points", func(t *testing.T) {
		body := fmt.Sprintf(`{"points":[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]],"category":"E0102"}`,
			x0+0.015, y0+0.005, x0+0.002, y0+0.002, x0+0.05, y0+0.005, x0+0.01, y0+0.005, x0+0.015, y0+0.005)
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", body)).decode(t, &got)
		want := []string{"G3 U2", "G1 U1", "- -", "G1 U1", "G3 U2"}
		var gotS []string
		for _, l := range got.Results {
			g, u := "-", "-"
			if l.Grid != nil {
				g = l.Grid.Code
			}
			if l.Unit != nil {
				u = l.Unit.Code
			}
			gotS = append(gotS, g+" "+u)
		}
		if !slices.Equal(gotS, want) {
			t.Errorf("results %v, want %v", gotS, want)
		}
		if len(got.Results) == 5 && (got.Results[2].Nearest == nil || got.Results[2].Nearest.Code != "G3") {
			t.Errorf("results[2].nearest = %+v, want G3", got.Results[2].Nearest)
		}
	})

	t.Run("POST in gcj02", func(t *testing.T) {
		p := geo.WGS84ToGCJ02(orb.Point{x0 + 0.015, y0 + 0.015})
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", fmt.Sprintf(`{"points":[[%v,%v]],"crs":"gcj02"}`, p[0], p[1]))).decode(t, &got)
		if len(got.Results) != 1 || got.Results[0].Grid == nil || got.Results[0].Grid.Code != g4 ||
			got.Results[0].Input == nil || got.Results[0].Input.Point != [2]float64(p) {
			t.Errorf("results = %+v, want %s with the input echoed", got.Results, g4)
		}
	})

	t.Run("POST 10,000 points", func(t *testing.T) {
		var got struct{ Results []location }
		a.mustOK(a.post("/v1/locate", pointsJSON(10000))).decode(t, &got)
		if len(got.Results) != 10000 {
			t.Fatalf("%d results, want 10000", len(got.Results))
		}
		for i, l := range got.Results {
			if want := [2]float64{x0 + 0.001 + float64(i%100)*0.0001, y0 + 0.001 + float64(i/100)*0.0001}; l.Point != want {
				t.Fatalf("results[%d].point = %v, want %v (out of order)", i, l.Point, want)
			}
		}
	})
}

// pointsJSON is a POST /v1/locate body of n points inside the district.
func pointsJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"points":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%v,%v]", x0+0.001+float64(i%100)*0.0001, y0+0.001+float64(i/100)*0.0001)
	}
	b.WriteString(`]}`)
	return b.String()
}
