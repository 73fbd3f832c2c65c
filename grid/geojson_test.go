package grid

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// square is the GeoJSON coordinates of a closed counter-clockwise square.
const square = `[[[120.35,36.07],[120.36,36.07],[120.36,36.08],[120.35,36.08],[120.35,36.07]]]`

var squarePolygon = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.36, 36.08}, {120.35, 36.08}, {120.35, 36.07}}}

// fc wraps features in a FeatureCollection document.
func fc(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// feature is a Feature with the given raw properties and geometry JSON.
func feature(props, geometry string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}`
}

func polygonJSON(coords string) string { return `{"type":"Polygon","coordinates":` + coords + `}` }

func TestParseFeatureCollection(t *testing.T) {
	multi := `{"type":"MultiPolygon","coordinates":[` + square + `,[[[120.37,36.07],[120.38,36.07],[120.38,36.08],[120.37,36.07]]]]}`
	tests := []struct {
		name string
		doc  string
		want []GridInput
	}{
		{
			name: "polygon with every property",
			doc: fc(feature(`{"code":"G1","name":"网格一","level":"grid","parent":"C1","unit":"U1","units_by_category":{"E01":"U2"}}`,
				polygonJSON(square))),
			want: []GridInput{{Index: 0, Code: "G1", Name: "网格一", Level: LevelGrid, Parent: "C1", Unit: "U1",
				UnitsByCategory: map[string]string{"E01": "U2"}, Geometry: squarePolygon}},
		},
		{
			name: "multipolygon district, level case-insensitive, unknown properties ignored",
			doc:  fc(feature(`{"code":"D","name":"区","level":"District","OBJECTID":17,"extra":{"a":[1,2]}}`, multi)),
			want: []GridInput{{Index: 0, Code: "D", Name: "区", Level: LevelDistrict, Geometry: orb.MultiPolygon{
				squarePolygon,
				{{{120.37, 36.07}, {120.38, 36.07}, {120.38, 36.08}, {120.37, 36.07}}},
			}}},
		},
		{
			name: "indexes follow the order of the features",
			doc: fc(
				feature(`{"code":"A","name":"a","level":"street","parent":"D"}`, polygonJSON(square)),
				feature(`{"code":"B","name":"b","level":"street","parent":"D"}`, polygonJSON(square)),
				feature(`{"code":"C","name":"c","level":"street","parent":"D"}`, polygonJSON(square)),
			),
			want: []GridInput{
				{Index: 0, Code: "A", Name: "a", Level: LevelStreet, Parent: "D", Geometry: squarePolygon},
				{Index: 1, Code: "B", Name: "b", Level: LevelStreet, Parent: "D", Geometry: squarePolygon},
				{Index: 2, Code: "C", Name: "c", Level: LevelStreet, Parent: "D", Geometry: squarePolygon},
			},
		},
		{
			name: "no features",
			doc:  `{"type":"FeatureCollection","features":[]}`,
			want: []GridInput{},
		},
		{
			name: "null properties leave the checks to ValidateInputs",
			doc:  fc(feature(`null`, polygonJSON(square))),
			want: []GridInput{{Index: 0, Geometry: squarePolygon}},
		},
		{
			name: "leading and trailing whitespace",
			doc:  " \n\t" + fc(feature(`{"code":"G1"}`, polygonJSON(square))) + "\n\n",
			want: []GridInput{{Index: 0, Code: "G1", Geometry: squarePolygon}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeatureCollection(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatalf("ParseFeatureCollection: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFeatureCollection =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestParseFeatureCollectionInvalidFeatures checks that a feature that is
// malformed on its own comes back with Invalid set (naming the problem) while
// its neighbours are read as usual.
func TestParseFeatureCollectionInvalidFeatures(t *testing.T) {
	before := feature(`{"code":"OK1","name":"ok","level":"district"}`, polygonJSON(square))
	after := feature(`{"code":"OK2","name":"ok","level":"district"}`, polygonJSON(square))
	tests := []struct {
		name     string
		feature  string
		wantCode string
		invalid  string // substring of Invalid
	}{
		{"code is a number", feature(`{"code":5,"name":"x","level":"grid"}`, polygonJSON(square)), "", "code must be a string, got number"},
		{"name is a number, code still named", feature(`{"code":"G1","name":5}`, polygonJSON(square)), "G1", "name must be a string, got number"},
		{"level is a number", feature(`{"code":"G1","level":4}`, polygonJSON(square)), "G1", "level must be a string, got number"},
		{"parent is an object", feature(`{"code":"G1","parent":{"code":"C1"}}`, polygonJSON(square)), "G1", "parent must be a string, got object"},
		{"unit is a bool", feature(`{"code":"G1","unit":true}`, polygonJSON(square)), "G1", "unit must be a string, got bool"},
		{"units_by_category is a string", feature(`{"code":"G1","units_by_category":"U1"}`, polygonJSON(square)), "G1", "units_by_category must be an object of strings"},
		{"units_by_category value is a number", feature(`{"code":"G1","units_by_category":{"E01":7}}`, polygonJSON(square)), "G1", "must be a string, got number"},
		{"unknown level", feature(`{"code":"G1","level":"planet"}`, polygonJSON(square)), "G1", `unknown level "planet"`},
		{"geometry missing", `{"type":"Feature","properties":{"code":"G1"}}`, "G1", "geometry is missing"},
		{"geometry null", feature(`{"code":"G1"}`, `null`), "G1", "geometry is missing"},
		{"geometry is a point", feature(`{"code":"G1"}`, `{"type":"Point","coordinates":[120.35,36.07]}`), "G1", "geometry is a Point, want Polygon or MultiPolygon"},
		{"geometry is a line", feature(`{"code":"G1"}`, `{"type":"LineString","coordinates":[[120.35,36.07],[120.36,36.07]]}`), "G1", "want Polygon or MultiPolygon"},
		{"geometry of unknown type", feature(`{"code":"G1"}`, `{"type":"Circle","coordinates":[120.35,36.07]}`), "G1", "geometry: "},
		{"coordinates are strings", feature(`{"code":"G1"}`, polygonJSON(`[[["120.35","36.07"]]]`)), "G1", "geometry: "},
		{"geometry is a string", feature(`{"code":"G1"}`, `"POLYGON((0 0,1 0,1 1,0 0))"`), "G1", "geometry: "},
		{"wrong feature type", `{"type":"Fature","properties":{"code":"G1"},"geometry":` + polygonJSON(square) + `}`, "", `type is "Fature", want "Feature"`},
		{"feature is a number", `5`, "", "feature is not a JSON object"},
		{"feature is an array", `[1,2]`, "", "feature is not a JSON object"},
		{"feature is null", `null`, "", `want "Feature"`},
		{"properties is an array", feature(`[1,2]`, polygonJSON(square)), "", "properties: "},
		{"a property given twice", feature(`{"code":"G1","unit":"U1","unit":"U2"}`, polygonJSON(square)), "G1", `duplicate key "unit" in properties: a key may appear only once`},
		{"a category given twice", feature(`{"code":"G1","units_by_category":{"E01":"U1","E01":"U2"}}`, polygonJSON(square)), "G1", `duplicate key "E01" in properties.units_by_category`},
		{"geometry given twice", `{"type":"Feature","properties":{"code":"G1"},"geometry":` + polygonJSON(square) + `,"geometry":null}`, "G1", `duplicate key "geometry"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeatureCollection(strings.NewReader(fc(before, tt.feature, after)))
			if err != nil {
				t.Fatalf("ParseFeatureCollection: %v, want the feature marked invalid", err)
			}
			if len(got) != 3 {
				t.Fatalf("got %d inputs, want 3", len(got))
			}
			for i, in := range got {
				if in.Index != i {
					t.Errorf("inputs[%d].Index = %d", i, in.Index)
				}
			}
			if got[0].Invalid != "" || got[2].Invalid != "" || got[0].Code != "OK1" || got[2].Code != "OK2" {
				t.Errorf("neighbours of the bad feature = %+v, %+v; want valid", got[0], got[2])
			}
			bad := got[1]
			if !strings.Contains(bad.Invalid, tt.invalid) {
				t.Errorf("Invalid = %q, want it to contain %q", bad.Invalid, tt.invalid)
			}
			if bad.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", bad.Code, tt.wantCode)
			}
			// Whatever the parser made of it, validation rejects it with
			// the parser's reason.
			rej := ValidateInputs(got)
			if len(rej) != 1 || rej[0].Index != 1 || rej[0].Reason != bad.Invalid {
				t.Errorf("ValidateInputs = %+v, want feature 1 rejected with %q", rej, bad.Invalid)
			}
		})
	}
}

func TestParseFeatureCollectionDocumentErrors(t *testing.T) {
	tooMany := `{"type":"FeatureCollection","features":[` + strings.Repeat("null,", MaxImportFeatures) + `null]}`
	tests := []struct {
		name string
		doc  string
		want string // substring of the error
		is   error  // when set, errors.Is must hold
	}{
		{"empty", ``, "parse GeoJSON", nil},
		{"whitespace only", "  \n", "parse GeoJSON", nil},
		{"not JSON", `hello`, "parse GeoJSON", nil},
		{"truncated", `{"type":"FeatureCollection","features":[`, "parse GeoJSON", nil},
		{"truncated feature", fc(`{"type":"Feature","properties":{"code":"G1"`), "parse GeoJSON", nil},
		{"trailing comma", `{"type":"FeatureCollection","features":[],}`, "parse GeoJSON", nil},
		{"array at the top", `[{"type":"FeatureCollection","features":[]}]`, "parse GeoJSON", nil},
		{"string at the top", `"FeatureCollection"`, "parse GeoJSON", nil},
		{"null", `null`, "", ErrNotFeatureCollection},
		{"a Feature", feature(`{"code":"G1"}`, polygonJSON(square)), `type is "Feature"`, ErrNotFeatureCollection},
		{"a bare geometry", polygonJSON(square), `type is "Polygon"`, ErrNotFeatureCollection},
		{"type missing", `{"features":[]}`, `type is ""`, ErrNotFeatureCollection},
		{"type lowercase", `{"type":"featurecollection","features":[]}`, `type is "featurecollection"`, ErrNotFeatureCollection},
		{"type is a number", `{"type":1,"features":[]}`, "parse GeoJSON", nil},
		{"features is an object", `{"type":"FeatureCollection","features":{}}`, "parse GeoJSON", nil},
		{"features is a string", `{"type":"FeatureCollection","features":"none"}`, "parse GeoJSON", nil},
		{"second document", `{"type":"FeatureCollection","features":[]} {"type":"FeatureCollection","features":[]}`, "unexpected data after", nil},
		{"trailing garbage", `{"type":"FeatureCollection","features":[]} x`, "unexpected data after", nil},
		{"trailing number", `{"type":"FeatureCollection","features":[]}1`, "unexpected data after", nil},
		{"trailing brace", `{"type":"FeatureCollection","features":[]}}`, "after", nil},
		{"trailing bracket", `{"type":"FeatureCollection","features":[]}]`, "after", nil},
		{"too many features", tooMany, "too many features", nil},
		{"features given twice", `{"type":"FeatureCollection","features":[],"features":[]}`, `duplicate key "features" in the top-level object`, nil},
		{"type given twice", `{"type":"FeatureCollection","features":[],"type":"Feature"}`, `duplicate key "type"`, nil},
		{"a key twice in another member", `{"type":"FeatureCollection","crs":{"type":"name","type":"x"},"features":[]}`, `duplicate key "type" in crs`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeatureCollection(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatalf("ParseFeatureCollection = %d inputs, nil error; want an error containing %q", len(got), tt.want)
			}
			if got != nil {
				t.Errorf("ParseFeatureCollection returned %d inputs with the error %v", len(got), err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

// failingReader fails after returning some bytes, like a client that goes away.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestParseFeatureCollectionReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ParseFeatureCollection(&failingReader{data: []byte(`{"type":"FeatureCollection","features":[`), err: boom})
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want it to wrap the reader's error", err)
	}
}

func TestValidateInputs(t *testing.T) {
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
	}
	valid := func() GridInput {
		return GridInput{Index: 7, Code: "G1", Name: "网格1", Level: LevelGrid, Parent: "C1", Unit: "U1",
			UnitsByCategory: map[string]string{"E01": "U2"}, Geometry: rect(120.35, 36.07, 120.36, 36.08)}
	}
	bowtie := orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.08}, {120.36, 36.07}, {120.35, 36.08}, {120.35, 36.07}}}
	tests := []struct {
		name   string
		mutate func(g *GridInput)
		reason string // "" = accepted
	}{
		{"valid grid", func(g *GridInput) {}, ""},
		{"valid district", func(g *GridInput) { g.Level, g.Parent = LevelDistrict, "" }, ""},
		{"valid multipolygon", func(g *GridInput) {
			g.Geometry = orb.MultiPolygon{rect(120.35, 36.07, 120.36, 36.08), rect(120.37, 36.07, 120.38, 36.08)}
		}, ""},
		{"code with inner space and Chinese", func(g *GridInput) { g.Code = "网格 1" }, ""},
		{"SQL-looking code is just a code", func(g *GridInput) { g.Code = "x'; DROP TABLE grids; --" }, ""},
		{"code of 64 bytes", func(g *GridInput) { g.Code = strings.Repeat("a", 64) }, ""},
		{"no units at all", func(g *GridInput) { g.Unit, g.UnitsByCategory = "", nil }, ""},
		{"parse error wins", func(g *GridInput) { g.Invalid = "properties: code must be a string, got number" }, "properties: code must be a string, got number"},
		{"code missing", func(g *GridInput) { g.Code = "" }, "code is missing"},
		{"code of 65 bytes", func(g *GridInput) { g.Code = strings.Repeat("a", 65) }, "longer than 64 bytes"},
		{"code with leading space", func(g *GridInput) { g.Code = " G1" }, "leading or trailing spaces"},
		{"code with trailing newline", func(g *GridInput) { g.Code = "G1\n" }, "leading or trailing spaces"},
		{"code with a control character", func(g *GridInput) { g.Code = "G\x001" }, "control characters"},
		{"code not UTF-8", func(g *GridInput) { g.Code = "G\xff" }, "not valid UTF-8"},
		{"name missing", func(g *GridInput) { g.Name = "" }, "name is missing"},
		{"name blank", func(g *GridInput) { g.Name = " \t" }, "name is missing"},
		{"level missing", func(g *GridInput) { g.Level = 0 }, "level is missing or unknown"},
		{"level 5", func(g *GridInput) { g.Level = 5 }, "level is missing or unknown"},
		{"district with a parent", func(g *GridInput) { g.Level = LevelDistrict }, `a district has no parent, got parent "C1"`},
		{"street without a parent", func(g *GridInput) { g.Level, g.Parent = LevelStreet, "" }, "parent is missing: a street needs a parent district"},
		{"own parent", func(g *GridInput) { g.Parent = g.Code }, "its own parent"},
		{"unit with a control character", func(g *GridInput) { g.Unit = "U\n1" }, "unit: "},
		{"unit too long", func(g *GridInput) { g.Unit = strings.Repeat("u", 65) }, "unit: code is longer"},
		{"empty category prefix", func(g *GridInput) { g.UnitsByCategory = map[string]string{"": "U1"} }, "empty category prefix"},
		{"category unit missing", func(g *GridInput) { g.UnitsByCategory = map[string]string{"E01": ""} }, `units_by_category["E01"]: code is missing`},
		{"geometry missing", func(g *GridInput) { g.Geometry = nil }, "geometry is missing"},
		{"geometry a point", func(g *GridInput) { g.Geometry = orb.Point{120.35, 36.07} }, "want Polygon or MultiPolygon"},
		{"polygon without rings", func(g *GridInput) { g.Geometry = orb.Polygon{} }, "no rings"},
		{"empty multipolygon", func(g *GridInput) { g.Geometry = orb.MultiPolygon{} }, "no polygons"},
		{"self-intersecting", func(g *GridInput) { g.Geometry = bowtie }, "self-intersects"},
		{"unclosed ring", func(g *GridInput) {
			g.Geometry = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.36, 36.08}, {120.35, 36.08}}}
		}, "not closed"},
		{"too few points", func(g *GridInput) {
			g.Geometry = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.35, 36.07}}}
		}, "has 3 points, need at least 4"},
		{"empty ring", func(g *GridInput) { g.Geometry = orb.Polygon{orb.Ring{}} }, "has 0 points"},
		{"collapsed ring", func(g *GridInput) {
			g.Geometry = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.35, 36.07}, {120.36, 36.07}, {120.35, 36.07}}}
		}, "distinct points"},
		{"latitude 91", func(g *GridInput) { g.Geometry = rect(120.35, 36.07, 120.36, 91) }, "latitude 91 out of range"},
		{"longitude 181", func(g *GridInput) { g.Geometry = rect(120.35, 36.07, 181, 36.08) }, "longitude 181 out of range"},
		{"hole outside its shell", func(g *GridInput) {
			g.Geometry = orb.Polygon{rect(120.35, 36.07, 120.36, 36.08)[0], rect(120.37, 36.07, 120.38, 36.08)[0]}
		}, "outside its shell"},
		{"overlapping multipolygon", func(g *GridInput) {
			g.Geometry = orb.MultiPolygon{rect(120.35, 36.07, 120.36, 36.08), rect(120.355, 36.075, 120.365, 36.085)}
		}, "overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := valid()
			tt.mutate(&g)
			got := ValidateInputs([]GridInput{g})
			if tt.reason == "" {
				if len(got) != 0 {
					t.Errorf("ValidateInputs(%+v) = %+v, want no rejection", g, got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("ValidateInputs = %+v, want one rejection containing %q", got, tt.reason)
			}
			if got[0].Index != 7 || got[0].Code != g.Code {
				t.Errorf("rejection names feature %d %q, want 7 %q", got[0].Index, got[0].Code, g.Code)
			}
			if !strings.Contains(got[0].Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", got[0].Reason, tt.reason)
			}
		})
	}
}

func TestValidateInputsBatch(t *testing.T) {
	sq := orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.36, 36.08}, {120.35, 36.08}, {120.35, 36.07}}}
	in := []GridInput{
		{Index: 0, Code: "D", Name: "区", Level: LevelDistrict, Geometry: sq},
		{Index: 1, Code: "S", Name: "街道", Level: LevelStreet, Parent: "D", Geometry: sq},
		{Index: 2, Code: "S", Name: "街道 bis", Level: LevelStreet, Parent: "D", Geometry: sq},
		{Index: 3, Code: "C", Name: "", Level: LevelCommunity, Parent: "S", Geometry: sq},
		{Index: 4, Code: "S", Name: "三", Level: LevelStreet, Parent: "D", Geometry: sq},
		{Index: 5, Code: "", Name: "x", Level: LevelGrid, Parent: "C", Geometry: sq},
		{Index: 6, Code: "", Name: "y", Level: LevelGrid, Parent: "C", Geometry: sq},
		{Index: 7, Code: "G", Name: "网格", Level: LevelGrid, Parent: "C", Geometry: sq},
	}
	got := ValidateInputs(in)
	var gotS []string
	for _, r := range got {
		gotS = append(gotS, fmt.Sprintf("%d %s: %s", r.Index, r.Code, r.Reason))
	}
	want := []string{
		`1 S: duplicate code "S": it appears 3 times in this import`,
		`2 S: duplicate code "S": it appears 3 times in this import`,
		`3 C: name is missing`,
		`4 S: duplicate code "S": it appears 3 times in this import`,
		// Two features without a code are "code is missing", not duplicates.
		`5 : code is missing`,
		`6 : code is missing`,
	}
	if !reflect.DeepEqual(gotS, want) {
		t.Errorf("ValidateInputs =\n%s\nwant\n%s", strings.Join(gotS, "\n"), strings.Join(want, "\n"))
	}
	if got := ValidateInputs(nil); len(got) != 0 {
		t.Errorf("ValidateInputs(nil) = %+v, want none", got)
	}
}
