package campaign

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestParseSites(t *testing.T) {
	tests := []struct {
		name    string
		csv     bool
		body    string
		refs    []string
		bad     []RowError
		wantErr error
	}{
		{"csv", true, "\ufeffref,name,lng,lat,category\na1,东门,120.355,36.075,E0101\na2,,120.356,36.076,\n",
			[]string{"a1", "a2"}, nil, nil},
		{"csv columns in any order", true, "lat,lng,ref\n36.075,120.355,x\n", []string{"x"}, nil, nil},
		{"csv broken rows, by line", true, "ref,lng,lat\n,120.3,36.0\nb,east,36.0\nc,120.3,91\nd,120.3,36.0\n",
			[]string{"d"}, []RowError{{Row: 2, Error: "ref: required"}, {Row: 3, Ref: "b", Error: "lng, lat: want decimal degrees"},
				{Row: 4, Ref: "c", Error: "lng, lat: coordinate out of range: latitude 91 out of range [-90, 90]"}}, nil},
		{"csv without lat", true, "ref,lng\na,1\n", nil, nil, ErrFormat},
		{"csv empty", true, "", nil, nil, ErrFormat},
		{"geojson", false, `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{"ref":7,"name":"桥下"},"geometry":{"type":"Point","coordinates":[120.355,36.075]}},
			{"type":"Feature","properties":{"ref":"p"},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
			{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[120.355,36.075]}},
			[1]]}`,
			[]string{"7"}, []RowError{{Row: 1, Ref: "p", Error: "geometry: want a Point [lng, lat]"}, {Row: 2, Error: "ref: required"},
				{Row: 3, Error: "not a GeoJSON Feature"}}, nil},
		{"geojson of another type", false, `{"type":"Feature"}`, nil, nil, ErrFormat},
		{"not json", false, `ref,lng`, nil, nil, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sites, bad, err := ParseSites(strings.NewReader(tt.body), tt.csv)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSites error = %v, want %v", err, tt.wantErr)
			}
			var refs []string
			for _, s := range sites {
				refs = append(refs, s.Ref)
			}
			if !reflect.DeepEqual(refs, tt.refs) {
				t.Errorf("sites %q, want %q", refs, tt.refs)
			}
			if !reflect.DeepEqual(bad, tt.bad) {
				t.Errorf("refused rows %+v, want %+v", bad, tt.bad)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	k := &Campaign{Categories: []string{"E0101"}, Area: orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}}
	known := func(c string) bool { return c == "E0101" || c == "C0101" }
	sites := []Site{
		{Row: 2, Ref: "in", Location: orb.Point{0.5, 0.5}},
		{Row: 3, Ref: "edge", Location: orb.Point{1, 0.5}, Category: "E0101"},
		{Row: 4, Ref: "out", Location: orb.Point{1.5, 0.5}},
		{Row: 5, Ref: "in", Location: orb.Point{0.2, 0.2}},
		{Row: 6, Ref: "other", Location: orb.Point{0.2, 0.2}, Category: "C0101"},
		{Row: 7, Ref: "unknown", Location: orb.Point{0.2, 0.2}, Category: "E0199"},
	}
	ok, bad := k.Check(sites, known)
	if len(ok) != 2 || ok[0].Ref != "in" || ok[0].Category != "E0101" || ok[1].Ref != "edge" {
		t.Errorf("kept %+v, want in (category from the campaign) and edge (the boundary is inside)", ok)
	}
	want := []RowError{
		{Row: 4, Ref: "out", Error: "location [1.5, 0.5]: outside the campaign's area"},
		{Row: 5, Ref: "in", Error: `ref: "in" is given twice (first at row 2)`},
		{Row: 6, Ref: "other", Error: `category: "C0101" is not among the campaign's categories (E0101)`},
		{Row: 7, Ref: "unknown", Error: `category: no category "E0199" in the category table`},
	}
	if !reflect.DeepEqual(bad, want) {
		t.Errorf("refused %+v, want %+v", bad, want)
	}
}

func TestPrepare(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	area := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}
	good := Input{Name: "整治", Categories: []string{"E01"}, Area: area, StartsAt: start, EndsAt: start.AddDate(0, 1, 0),
		Target: Target{Kind: TargetOnTimeRate, Value: 0.95}}
	tests := []struct {
		name   string
		change func(*Input)
		field  string
	}{
		{"valid", func(*Input) {}, ""},
		{"ends before it starts", func(in *Input) { in.EndsAt = start.Add(-time.Hour) }, "ends_at"},
		{"ends as it starts", func(in *Input) { in.EndsAt = start }, "ends_at"},
		{"no start", func(in *Input) { in.StartsAt = time.Time{} }, "starts_at"},
		{"no name", func(in *Input) { in.Name = " " }, "name"},
		{"target kind", func(in *Input) { in.Target.Kind = "close_all" }, "target.kind"},
		{"target as a percentage", func(in *Input) { in.Target.Value = 95 }, "target.value"},
		{"category", func(in *Input) { in.Categories = []string{"E-01"} }, "categories"},
		{"no area", func(in *Input) { in.Area = nil }, "grids"},
		{"both areas", func(in *Input) { in.Grids = []string{"S1"} }, "area"},
		{"open ring", func(in *Input) { in.Area = orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}}}} }, "area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.change(&in)
			_, err := in.Prepare(nil)
			var field string
			if err != nil {
				field = err.(interface{ Error() string }).Error()
				field = field[:strings.Index(field, ":")]
			}
			if field != tt.field {
				t.Errorf("Prepare error = %v, want one naming %q", err, tt.field)
			}
		})
	}
}

func FuzzParseSites(f *testing.F) {
	f.Add(true, "ref,name,lng,lat,category\na1,东门,120.355,36.075,E0101\n")
	f.Add(true, "ref,lng,lat\n\"a,1,2\n")
	f.Add(false, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ref":"a"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`)
	f.Fuzz(func(t *testing.T, isCSV bool, body string) {
		sites, bad, err := ParseSites(strings.NewReader(body), isCSV)
		if err != nil && (sites != nil || bad != nil) {
			t.Fatalf("an unreadable list returned rows")
		}
		for _, s := range sites {
			if msg := checkSite(&s); msg != "" {
				t.Fatalf("a kept site is broken: %s", msg)
			}
		}
		for _, b := range bad {
			if b.Error == "" {
				t.Fatalf("a refused row says nothing: %+v", b)
			}
		}
	})
}
