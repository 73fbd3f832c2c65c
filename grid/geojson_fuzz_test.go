package grid

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzParseFeatureCollection feeds arbitrary documents through the import's
// first two steps. Neither may panic; a document either fails as a whole
// (and returns no inputs) or yields one input per feature, indexed in order,
// and validation rejects in order exactly the inputs it should name.
//
//	go test ./grid -run '^$' -fuzz FuzzParseFeatureCollection -fuzztime 60s
func FuzzParseFeatureCollection(f *testing.F) {
	seeds := []string{
		// Valid documents.
		fc(feature(`{"code":"G1","name":"网格一","level":"grid","parent":"C1","unit":"U1","units_by_category":{"E01":"U2"}}`, polygonJSON(square))),
		fc(feature(`{"code":"D","name":"区","level":"district"}`,
			`{"type":"MultiPolygon","coordinates":[`+square+`,[[[120.37,36.07],[120.38,36.07],[120.38,36.08],[120.37,36.07]]]]}`)),
		fc(
			feature(`{"code":"D","name":"区","level":"district","unit":"U1"}`, polygonJSON(square)),
			feature(`{"code":"S","name":"街道","level":"street","parent":"D"}`, polygonJSON(square)),
		),
		fc(feature(`{"code":"H","name":"hole","level":"district"}`,
			polygonJSON(`[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,8],[8,8],[8,2],[2,2]]]`))),
		`{"type":"FeatureCollection","features":[]}`,
		// Broken documents and features.
		``,
		`{`,
		`null`,
		`[]`,
		`{"type":"FeatureCollection","features":[`,
		`{"type":"FeatureCollection","features":{}}`,
		`{"type":"FeatureCollection","features":[]}}`,
		`{"type":"FeatureCollection","features":[]} {"type":"FeatureCollection"}`,
		feature(`{"code":"G1"}`, polygonJSON(square)),
		fc(`5`, `null`, `[]`, `"x"`, `{}`),
		fc(feature(`{"code":5}`, polygonJSON(square))),
		fc(feature(`[1]`, polygonJSON(square))),
		fc(feature(`{"code":"G1","level":"planet"}`, polygonJSON(square))),
		fc(feature(`{"code":"G1","units_by_category":{"":"U1","E":5}}`, polygonJSON(square))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, `{"type":"Point","coordinates":[1,2]}`)),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, `{"type":"GeometryCollection","geometries":[]}`)),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[1]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[1,2,3,4],[5,6,7]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[1,1],[1,0],[0,1],[0,0]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[1,0],[1,1],[0,1]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[1,0],[0,0]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[181,0],[181,91],[0,91],[0,0]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[1e308,0],[1e308,1e308],[0,0]]]`))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(`[[[0,0],[0,0],[0,0],[0,0]]]`))),
		fc(feature(`{"code":"x'; DROP TABLE grids; --","name":"x","level":"grid","parent":"x'; DROP TABLE grids; --"}`, polygonJSON(square))),
		fc(feature(`{"code":"G1","name":"x","level":"grid","parent":"C1"}`, polygonJSON(square)),
			feature(`{"code":"G1","name":"y","level":"grid","parent":"C1"}`, polygonJSON(square))),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inputs, err := ParseFeatureCollection(bytes.NewReader(data))
		if err != nil {
			if inputs != nil {
				t.Fatalf("ParseFeatureCollection returned %d inputs and the error %v", len(inputs), err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for i, in := range inputs {
			if in.Index != i {
				t.Fatalf("inputs[%d].Index = %d", i, in.Index)
			}
			if in.Invalid != "" {
				continue
			}
			switch in.Geometry.(type) {
			case orb.Polygon, orb.MultiPolygon:
			default:
				t.Fatalf("inputs[%d] is valid with a %T geometry", i, in.Geometry)
			}
		}
		rejected := ValidateInputs(inputs)
		last := -1
		for _, r := range rejected {
			if r.Index <= last || r.Index >= len(inputs) {
				t.Fatalf("rejection of feature %d out of order or range (previous %d, %d inputs)", r.Index, last, len(inputs))
			}
			last = r.Index
			in := inputs[r.Index]
			if r.Code != in.Code {
				t.Fatalf("rejection of feature %d names code %q, the input has %q", r.Index, r.Code, in.Code)
			}
			if strings.TrimSpace(r.Reason) == "" {
				t.Fatalf("rejection of feature %d has no reason", r.Index)
			}
			if in.Invalid != "" && r.Reason != in.Invalid {
				t.Fatalf("feature %d rejected with %q, want the parse error %q", r.Index, r.Reason, in.Invalid)
			}
		}
		// Every feature the parser could not read must be rejected, and
		// every accepted one must pass the code check.
		rej := make(map[int]bool, len(rejected))
		for _, r := range rejected {
			rej[r.Index] = true
		}
		for i, in := range inputs {
			if in.Invalid != "" && !rej[i] {
				t.Fatalf("feature %d is invalid (%s) but not rejected", i, in.Invalid)
			}
			if !rej[i] {
				if err := ValidateGridCode(in.Code); err != nil {
					t.Fatalf("feature %d accepted with a bad code: %v", i, err)
				}
				if !in.Level.Valid() {
					t.Fatalf("feature %d accepted with level %d", i, in.Level)
				}
			}
		}
	})
}
