package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// badCase is a request that must fail with a problem and change nothing.
type badCase struct {
	name        string
	method      string // default POST when body is set, else GET
	path        string
	contentType string // default application/json for a body
	body        string
	status      int
	detail      []string    // substrings of detail
	rejected    []rejection // entries the problem must list (Reason: a substring)
}

func runBadCases(t *testing.T, a *api, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
				if tc.body != "" {
					method = http.MethodPost
				}
			}
			ct := tc.contentType
			if ct == "" && tc.body != "" {
				ct = "application/json"
			}
			before := a.snapshot()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := a.do(method, tc.path, ct, body)
			p := checkProblem(t, r, tc.status, tc.detail...)
			if r.status < 400 || r.status > 499 {
				t.Errorf("status %d, want a 4xx", r.status)
			}
			for _, want := range tc.rejected {
				found := false
				for _, got := range p.Rejected {
					if got.Index == want.Index && got.Code == want.Code && strings.Contains(got.Reason, want.Reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("rejected = %+v, want {%d %q %q…}", p.Rejected, want.Index, want.Code, want.Reason)
				}
			}
			if tc.rejected != nil && !bytes.Contains(r.body, []byte(`"inserted":0`)) {
				t.Errorf("a rejected import's problem lacks inserted 0: %s", r.body)
			}
			if after := a.snapshot(); after != before {
				t.Errorf("the request changed the database:\nbefore %s\nafter %s", before, after)
			}
		})
	}
}

func setGeometry(i int, coords any) func(fs []any) {
	return func(fs []any) { fs[i].(map[string]any)["geometry"] = polygon(coords) }
}

func setProp(i int, key string, v any) func(fs []any) {
	return func(fs []any) { props(fs[i])[key] = v }
}

func TestBadImports(t *testing.T) {
	a := newDistrictAPI(t)
	const sql = `x'; DROP TABLE grids; --`
	bowtie := [][][2]float64{{{x0, y0}, {x0 + 0.01, y0 + 0.01}, {x0 + 0.01, y0}, {x0, y0 + 0.01}, {x0, y0}}}
	// 20,000 bytes of an ignored property: over the 16 KiB limit.
	huge := changedDistrict(setProp(5, "comment", strings.Repeat("長", 7000)))
	const imp = "/v1/grids/import"
	cases := []badCase{
		{name: "broken JSON", path: imp, body: `{"type":"FeatureCollection","features":[{"type":"Feature"`, status: 400, detail: []string{"GeoJSON"}},
		{name: "not JSON", path: imp, body: `<FeatureCollection/>`, status: 400, detail: []string{"GeoJSON", "invalid character"}},
		{name: "empty body", path: imp, body: ``, method: http.MethodPost, status: 400},
		{name: "a Feature, not a FeatureCollection", path: imp, body: `{"type":"Feature","properties":{},"geometry":null}`, status: 400, detail: []string{"not a GeoJSON FeatureCollection", `"Feature"`}},
		{name: "a JSON array", path: imp, body: `[` + fcJSON(district()) + `]`, status: 400, detail: []string{"GeoJSON"}},
		{name: "empty features", path: imp, body: `{"type":"FeatureCollection","features":[]}`, status: 400, detail: []string{"no features"}},
		{name: "features null", path: imp, body: `{"type":"FeatureCollection","features":null}`, status: 400, detail: []string{"no features"}},
		{name: "features an object", path: imp, body: `{"type":"FeatureCollection","features":{}}`, status: 400, detail: []string{"GeoJSON"}},
		{name: "two documents", path: imp, body: changedDistrict(func([]any) {}) + fcJSON(district()), status: 400, detail: []string{"after"}},
		{name: "trailing brace", path: imp, body: changedDistrict(func([]any) {}) + "}", status: 400, detail: []string{"after"}},
		{name: "code is a number", path: imp, body: changedDistrict(setProp(5, "code", 5)), status: 422,
			detail: []string{"rejected", "nothing was stored"}, rejected: []rejection{{5, "", "code must be a string, got number"}}},
		{name: "name is an array", path: imp, body: changedDistrict(setProp(5, "name", []string{"a"})), status: 422,
			rejected: []rejection{{5, "G1", "name must be a string, got array"}}},
		{name: "units_by_category is a list", path: imp, body: changedDistrict(setProp(4, "units_by_category", []string{"U2"})), status: 422,
			rejected: []rejection{{4, "C2", "units_by_category must be an object"}, {7, "G3", "parent C2 was rejected"}}},
		{name: "missing code", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "code") }), status: 422,
			rejected: []rejection{{5, "", "code is missing"}}},
		{name: "code with a control character", path: imp, body: changedDistrict(setProp(5, "code", "G\u00071")), status: 422,
			rejected: []rejection{{5, "G\u00071", "control characters"}}},
		{name: "code import, a path of the API", path: imp, body: changedDistrict(setProp(5, "code", "import")), status: 422,
			rejected: []rejection{{5, "import", `code "import" is reserved: /v1/grids/import is an endpoint of the API`}}},
		{name: "code topology, a path of the API", path: imp, body: changedDistrict(setProp(6, "code", "topology")), status: 422,
			rejected: []rejection{{6, "topology", `code "topology" is reserved`}}},
		{name: "code too long", path: imp, body: changedDistrict(setProp(5, "code", strings.Repeat("G", 65))), status: 422,
			rejected: []rejection{{5, strings.Repeat("G", 65), "longer than 64 bytes"}}},
		{name: "duplicate codes", path: imp, body: changedDistrict(setProp(6, "code", "G1")), status: 422,
			rejected: []rejection{{5, "G1", `duplicate code "G1"`}, {6, "G1", `duplicate code "G1"`}}},
		{name: "unknown level", path: imp, body: changedDistrict(setProp(5, "level", "planet")), status: 422,
			rejected: []rejection{{5, "G1", `unknown level "planet"`}}},
		{name: "level missing", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "level") }), status: 422,
			rejected: []rejection{{5, "G1", "level is missing"}}},
		{name: "name missing", path: imp, body: changedDistrict(setProp(5, "name", " ")), status: 422,
			rejected: []rejection{{5, "G1", "name is missing"}}},
		{name: "parent missing", path: imp, body: changedDistrict(setProp(5, "parent", "NOPE")), status: 422,
			rejected: []rejection{{5, "G1", "parent NOPE does not exist"}}},
		{name: "no parent", path: imp, body: changedDistrict(func(fs []any) { delete(props(fs[5]), "parent") }), status: 422,
			rejected: []rejection{{5, "G1", "parent is missing"}}},
		{name: "parent of the wrong level", path: imp, body: changedDistrict(setProp(5, "parent", "S1")), status: 422,
			rejected: []rejection{{5, "G1", "parent S1 is a street, but a grid needs a community parent"}}},
		{name: "district with a parent", path: imp, body: changedDistrict(setProp(0, "parent", "S1")), status: 422,
			rejected: []rejection{{0, "D", "a district has no parent"}, {1, "S1", "parent D was rejected"}}},
		{name: "rejection cascades to the children", path: imp, body: changedDistrict(setProp(2, "parent", "NOPE")), status: 422,
			rejected: []rejection{{2, "S2", "parent NOPE does not exist"}, {4, "C2", "parent S2 was rejected"}, {7, "G3", "parent C2 was rejected"}, {8, g4, "parent C2 was rejected"}}},
		{name: "self-intersecting polygon", path: imp, body: changedDistrict(setGeometry(5, bowtie)), status: 422,
			rejected: []rejection{{5, "G1", "self-intersects"}}},
		{name: "unclosed ring", path: imp, body: changedDistrict(setGeometry(5, [][][2]float64{{{x0, y0}, {x0 + 0.01, y0}, {x0 + 0.01, y0 + 0.01}, {x0, y0 + 0.01}}})), status: 422,
			rejected: []rejection{{5, "G1", "not closed"}}},
		{name: "ring with too few points", path: imp, body: changedDistrict(setGeometry(5, [][][2]float64{{{x0, y0}, {x0 + 0.01, y0}, {x0, y0}}})), status: 422,
			rejected: []rejection{{5, "G1", "need at least 4"}}},
		{name: "latitude 91", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, x0+0.01, 91))), status: 422,
			rejected: []rejection{{5, "G1", "latitude 91 out of range"}}},
		{name: "longitude 181", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, 181, y0+0.01))), status: 422,
			rejected: []rejection{{5, "G1", "longitude 181 out of range"}}},
		{name: "point coordinates", path: imp, body: changedDistrict(func(fs []any) {
			fs[5].(map[string]any)["geometry"] = map[string]any{"type": "Point", "coordinates": []float64{x0, y0}}
		}), status: 422, rejected: []rejection{{5, "G1", "geometry is a Point"}}},
		{name: "geometry missing", path: imp, body: changedDistrict(func(fs []any) { delete(fs[5].(map[string]any), "geometry") }), status: 422,
			rejected: []rejection{{5, "G1", "geometry is missing"}}},
		{name: "coordinates are strings", path: imp, body: changedDistrict(setGeometry(5, [][][]string{{{"120.35", "36.07"}}})), status: 422,
			rejected: []rejection{{5, "G1", "geometry"}}},
		{name: "feature not an object", path: imp, body: changedDistrict(func(fs []any) { fs[5] = 5 }), status: 422,
			rejected: []rejection{{5, "", "not a JSON object"}}},
		{name: "feature of the wrong type", path: imp, body: changedDistrict(func(fs []any) { fs[5].(map[string]any)["type"] = "Point" }), status: 422,
			rejected: []rejection{{5, "", `type is "Point", want "Feature"`}}},
		{name: "unit grid not inside its parent", path: imp, body: changedDistrict(setGeometry(5, rectCoords(x0, y0, x0+0.015, y0+0.01))), status: 422,
			rejected: []rejection{{5, "G1", "not inside its parent C1"}}},
		{name: "unknown unit", path: imp, body: changedDistrict(setProp(5, "unit", "GHOST")), status: 422,
			rejected: []rejection{{5, "G1", "unit GHOST is not registered"}}},
		{name: "unknown unit by category", path: imp, body: changedDistrict(setProp(5, "units_by_category", map[string]string{"E": "GHOST"})), status: 422,
			rejected: []rejection{{5, "G1", "unit GHOST is not registered"}}},
		{name: "SQL in parent", path: imp, body: changedDistrict(setProp(5, "parent", sql)), status: 422,
			rejected: []rejection{{5, "G1", "parent " + sql + " does not exist"}}},
		{name: "SQL in code", path: imp, body: changedDistrict(func(fs []any) {
			props(fs[5])["code"] = sql
			props(fs[5])["unit"] = sql
		}), status: 422, rejected: []rejection{{5, sql, "unit " + sql + " is not registered"}}},
		{name: "SQL in name", path: imp, body: changedDistrict(func(fs []any) {
			props(fs[5])["name"] = sql
			props(fs[5])["parent"] = "NOPE"
		}), status: 422, rejected: []rejection{{5, "G1", "parent NOPE does not exist"}}},
		{name: "body over MaxImportBytes", path: imp, body: huge, status: 413, detail: []string{"larger than 16384 bytes"}},
		{name: "partial not a bool", path: imp + "?partial=maybe", body: fcJSON(district()), status: 400, detail: []string{"partial must be true or false"}},
		{name: "partial repeated", path: imp + "?partial=true&partial=false", body: fcJSON(district()), status: 400, detail: []string{`"partial" is given 2 times`}},
		{name: "unknown query parameter", path: imp + "?dry_run=1", body: fcJSON(district()), status: 400, detail: []string{`unknown query parameter "dry_run"`}},
	}
	if len(huge) <= maxImportBytes {
		t.Fatalf("huge body is %d bytes, want over %d", len(huge), maxImportBytes)
	}
	runBadCases(t, a, cases)
}

func TestBadUnits(t *testing.T) {
	a := newDistrictAPI(t)
	const u = "/v1/units"
	cases := []badCase{
		{name: "unknown field", path: u, body: `{"code":"U9","name":"x","color":"red"}`, status: 400, detail: []string{`unknown field "color"`}},
		{name: "unknown field in an array", path: u, body: `[{"code":"U9","name":"x"},{"code":"U8","name":"y","parnet":"U9"}]`, status: 400, detail: []string{`unknown field "parnet"`}},
		{name: "missing name", path: u, body: `{"code":"U9"}`, status: 400, detail: []string{"name is missing"}},
		{name: "blank name", path: u, body: `{"code":"U9","name":"  "}`, status: 400, detail: []string{"name is missing"}},
		{name: "missing code", path: u, body: `{"name":"x"}`, status: 400, detail: []string{"code is missing"}},
		{name: "code with a control character", path: u, body: `{"code":"U\t9","name":"x"}`, status: 400, detail: []string{"control characters"}},
		{name: "code with surrounding spaces", path: u, body: `{"code":" U9","name":"x"}`, status: 400, detail: []string{"leading or trailing spaces"}},
		{name: "name too long", path: u, body: `{"code":"U9","name":"` + strings.Repeat("x", 201) + `"}`, status: 400, detail: []string{"too long"}},
		{name: "duplicate codes", path: u, body: `[{"code":"U9","name":"x"},{"code":"U8","name":"y"},{"code":"U9","name":"z"}]`, status: 400,
			detail: []string{`units[2]: duplicate code "U9" (also units[0])`}},
		{name: "one bad unit stores none", path: u, body: `[{"code":"U9","name":"x"},{"code":"U1","name":""}]`, status: 400, detail: []string{"units[1]"}},
		{name: "code is a number", path: u, body: `{"code":5,"name":"x"}`, status: 400, detail: []string{"code", "string", "number"}},
		{name: "name is an object", path: u, body: `{"code":"U9","name":{"zh":"x"}}`, status: 400, detail: []string{"name", "string", "object"}},
		{name: "array of numbers", path: u, body: `[1,2]`, status: 400, detail: []string{"number"}},
		{name: "a string", path: u, body: `"U9"`, status: 400, detail: []string{"string"}},
		{name: "empty array", path: u, body: `[]`, status: 400, detail: []string{"no units given"}},
		{name: "broken JSON", path: u, body: `{"code":"U9",`, status: 400, detail: []string{"malformed JSON"}},
		{name: "empty body", path: u, method: http.MethodPost, status: 400, detail: []string{"empty"}},
		{name: "trailing data", path: u, body: `{"code":"U9","name":"x"} {"code":"U8","name":"y"}`, status: 400, detail: []string{"after the JSON value"}},
		{name: "body over MaxBodyBytes", path: u, body: `{"code":"U9","name":"` + strings.Repeat("x", 1<<20) + `"}`, status: 413, detail: []string{"larger than 1048576 bytes"}},
	}
	runBadCases(t, a, cases)
}

func TestBadLocate(t *testing.T) {
	a := newDistrictAPI(t)
	long := strings.Repeat("E", 65)
	cases := []badCase{
		{name: "missing lng", path: "/v1/locate?lat=36.07", status: 400, detail: []string{"lng is missing"}},
		{name: "missing lat", path: "/v1/locate?lng=120.35", status: 400, detail: []string{"lat is missing"}},
		{name: "empty lng", path: "/v1/locate?lng=&lat=36.07", status: 400, detail: []string{"lng is missing"}},
		{name: "no parameters", path: "/v1/locate", status: 400, detail: []string{"lng is missing"}},
		{name: "lng=abc", path: "/v1/locate?lng=abc&lat=36.07", status: 400, detail: []string{"lng must be a finite number", `"abc"`}},
		{name: "lat=NaN", path: "/v1/locate?lng=120.35&lat=NaN", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=Inf", path: "/v1/locate?lng=120.35&lat=Inf", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=-Infinity", path: "/v1/locate?lng=120.35&lat=-Infinity", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=1e999", path: "/v1/locate?lng=120.35&lat=1e999", status: 400, detail: []string{"lat must be a finite number"}},
		{name: "lat=91", path: "/v1/locate?lng=120.35&lat=91", status: 400, detail: []string{"latitude 91 out of range"}},
		{name: "lat=-90.0001", path: "/v1/locate?lng=120.35&lat=-90.0001", status: 400, detail: []string{"latitude -90.0001 out of range"}},
		{name: "lng=181", path: "/v1/locate?lng=181&lat=36.07", status: 400, detail: []string{"longitude 181 out of range"}},
		{name: "lng=-180.5", path: "/v1/locate?lng=-180.5&lat=36.07", status: 400, detail: []string{"longitude -180.5 out of range"}},
		{name: "lat=91 in gcj02", path: "/v1/locate?lng=120.35&lat=91&crs=gcj02", status: 400, detail: []string{"latitude 91 out of range"}},
		{name: "long number text is truncated", path: "/v1/locate?lng=" + strings.Repeat("9", 100) + "x&lat=1", status: 400, detail: []string{"lng must be a finite number", "…"}},
		{name: "unknown parameter", path: "/v1/locate?lng=120.35&lat=36.07&lon=1", status: 400, detail: []string{`unknown query parameter "lon"`}},
		{name: "repeated parameter", path: "/v1/locate?lng=120.35&lat=36.07&lng=121", status: 400, detail: []string{`"lng" is given 2 times`}},
		{name: "crs=xyz", path: "/v1/locate?lng=120.35&lat=36.07&crs=xyz", status: 400, detail: []string{"crs", `"xyz"`}},
		{name: "category over 64 bytes", path: "/v1/locate?lng=120.35&lat=36.07&category=" + long, status: 400, detail: []string{"category must be at most 64 bytes"}},
		{name: "category of 22 Chinese characters (66 bytes)", path: "/v1/locate?lng=120.35&lat=36.07&category=" + url.QueryEscape(strings.Repeat("类", 22)), status: 400, detail: []string{"category"}},
		{name: "category not UTF-8", path: "/v1/locate?lng=120.35&lat=36.07&category=%FF", status: 400, detail: []string{"category"}},

		{name: "POST 10,001 points", path: "/v1/locate", body: pointsJSON(10001), status: 400, detail: []string{"10001 given, at most 10000"}},
		{name: "POST a point with 3 numbers", path: "/v1/locate", body: `{"points":[[120.35,36.07],[120.35,36.07,5]]}`, status: 400, detail: []string{"points[1]: want [lng, lat], got 3 numbers"}},
		{name: "POST a point with 1 number", path: "/v1/locate", body: `{"points":[[120.35]]}`, status: 400, detail: []string{"points[0]", "got 1 numbers"}},
		{name: "POST an empty point", path: "/v1/locate", body: `{"points":[[]]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a null coordinate", path: "/v1/locate", body: `{"points":[[null,36.07]]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a null point", path: "/v1/locate", body: `{"points":[null]}`, status: 400, detail: []string{"points[0]"}},
		{name: "POST a point as an object", path: "/v1/locate", body: `{"points":[{"lng":120.35,"lat":36.07}]}`, status: 400, detail: []string{"points"}},
		{name: "POST a coordinate as a string", path: "/v1/locate", body: `{"points":[["120.35",36.07]]}`, status: 400, detail: []string{"points", "string"}},
		{name: "POST a point out of range", path: "/v1/locate", body: `{"points":[[120.35,36.07],[120.35,36.07],[120.35,91]]}`, status: 400, detail: []string{"points[2]", "latitude 91 out of range"}},
		{name: "POST unknown field", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"crs":"wgs84","radius":5}`, status: 400, detail: []string{`unknown field "radius"`}},
		{name: "POST empty points", path: "/v1/locate", body: `{"points":[]}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST no points", path: "/v1/locate", body: `{"category":"E01"}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST points null", path: "/v1/locate", body: `{"points":null}`, status: 400, detail: []string{"points is missing or empty"}},
		{name: "POST crs=xyz", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"crs":"xyz"}`, status: 400, detail: []string{"crs"}},
		{name: "POST category over 64 bytes", path: "/v1/locate", body: `{"points":[[120.35,36.07]],"category":"` + long + `"}`, status: 400, detail: []string{"category"}},
		{name: "POST broken JSON", path: "/v1/locate", body: `{"points":[[120.35,36.07]`, status: 400, detail: []string{"malformed JSON"}},
		{name: "POST empty body", path: "/v1/locate", method: http.MethodPost, status: 400, detail: []string{"empty"}},
		{name: "POST trailing data", path: "/v1/locate", body: `{"points":[[120.35,36.07]]}{"points":[[120.35,36.07]]}`, status: 400, detail: []string{"after the JSON value"}},
		{name: "POST not JSON content", path: "/v1/locate", contentType: "text/plain", body: `{"points":[[120.35,36.07]]}`, status: 400, detail: []string{"not JSON"}},
		{name: "POST body over MaxBodyBytes", path: "/v1/locate", body: `{"points":[` + strings.Repeat("[120.35,36.07],", 80000) + `[120.35,36.07]]}`, status: 413, detail: []string{"larger than 1048576 bytes"}},
	}
	runBadCases(t, a, cases)
}

func TestBadGridQueries(t *testing.T) {
	a := newDistrictAPI(t)
	cases := []badCase{
		{name: "bbox of 3 numbers", path: "/v1/grids?bbox=120.35,36.07,120.37", status: 400, detail: []string{"bbox must be minLng,minLat,maxLng,maxLat"}},
		{name: "bbox of 5 numbers", path: "/v1/grids?bbox=1,2,3,4,5", status: 400, detail: []string{"bbox must be"}},
		{name: "inverted bbox", path: "/v1/grids?bbox=120.37,36.09,120.35,36.07", status: 400, detail: []string{"bbox minimum must not exceed its maximum"}},
		{name: "bbox with NaN", path: "/v1/grids?bbox=NaN,36.07,120.37,36.09", status: 400, detail: []string{"bbox minLng must be a finite number"}},
		{name: "bbox with text", path: "/v1/grids?bbox=a,b,c,d", status: 400, detail: []string{"bbox minLng"}},
		{name: "bbox with an empty number", path: "/v1/grids?bbox=120.35,,120.37,36.09", status: 400, detail: []string{"bbox minLat is missing"}},
		{name: "bbox latitude 91", path: "/v1/grids?bbox=120.35,36.07,120.37,91", status: 400, detail: []string{"bbox", "latitude 91"}},
		{name: "bbox longitude -181", path: "/v1/grids?bbox=-181,36.07,120.37,36.09", status: 400, detail: []string{"bbox", "longitude -181"}},
		{name: "level=planet", path: "/v1/grids?level=planet", status: 400, detail: []string{`level: unknown level "planet"`}},
		{name: "level=4", path: "/v1/grids?level=4", status: 400, detail: []string{"level"}},
		{name: "limit=0", path: "/v1/grids?limit=0", status: 400, detail: []string{"limit: 0 is out of range: want 1 to 100000"}},
		{name: "limit=-1", path: "/v1/grids?limit=-1", status: 400, detail: []string{"limit: -1 is out of range"}},
		{name: "limit=abc", path: "/v1/grids?limit=abc", status: 400, detail: []string{`limit: "abc" is not an integer`}},
		{name: "limit=100001", path: "/v1/grids?limit=100001", status: 400, detail: []string{"limit: 100001 is out of range"}},
		{name: "limit=1.5", path: "/v1/grids?limit=1.5", status: 400, detail: []string{`limit: "1.5" is not a whole number`}},
		{name: "bad cursor", path: "/v1/grids?cursor=abc", status: 400, detail: []string{"cursor is not one this query returned"}},
		{name: "unknown parameter", path: "/v1/grids?bbbox=1,2,3,4", status: 400, detail: []string{`unknown query parameter "bbbox"`}},
		{name: "repeated parameter", path: "/v1/grids?level=grid&level=street", status: 400, detail: []string{`"level" is given 2 times`}},
		{name: "parent with a leading space", path: "/v1/grids?parent=%20C1", status: 400, detail: []string{"parent", "leading or trailing spaces"}},
		{name: "parent too long", path: "/v1/grids?parent=" + strings.Repeat("P", 65), status: 400, detail: []string{"parent", "longer than 64 bytes"}},
		{name: "unknown grid", path: "/v1/grids/NOPE", status: 404, detail: []string{`grid "NOPE" not found`}},
		{name: "unknown grid with a Chinese code", path: "/v1/grids/" + url.PathEscape("没有"), status: 404, detail: []string{`grid "没有" not found`}},
		{name: "grid code with a leading space", path: "/v1/grids/%20G1", status: 400, detail: []string{"grid code", "leading or trailing spaces"}},
		{name: "grid code too long", path: "/v1/grids/" + strings.Repeat("G", 65), status: 400, detail: []string{"grid code", "longer than 64 bytes"}},
		{name: "grid code with a control character", path: "/v1/grids/G%071", status: 400, detail: []string{"grid code", "control characters"}},
		{name: "unknown route", path: "/v2/grids", status: 404, detail: []string{"no such endpoint: GET /v2/grids"}},
		{name: "unknown route under /v1", path: "/v1/gridz", status: 404, detail: []string{"no such endpoint"}},
		{name: "unknown route with a body", path: "/v1/nothing", body: `{}`, status: 404, detail: []string{"no such endpoint: POST /v1/nothing"}},
		{name: "GET on the import", path: "/v1/grids/import", status: 405, detail: []string{"method GET not allowed on /v1/grids/import (allowed: POST)"}},
		{name: "DELETE a grid", method: http.MethodDelete, path: "/v1/grids/G1", status: 405, detail: []string{"method DELETE not allowed"}},
		{name: "PUT units", method: http.MethodPut, path: "/v1/units", body: unitsJSON, status: 405, detail: []string{"method PUT not allowed"}},
		{name: "DELETE units", method: http.MethodDelete, path: "/v1/units", status: 405, detail: []string{"method DELETE not allowed"}},
		{name: "PUT import", method: http.MethodPut, path: "/v1/grids/import", body: fcJSON(district()), status: 405, detail: []string{"not allowed"}},
		{name: "PATCH locate", method: http.MethodPatch, path: "/v1/locate", body: `{}`, status: 405, detail: []string{"method PATCH not allowed"}},
		{name: "POST healthz", path: "/healthz", body: `{}`, status: 405, detail: []string{"not allowed"}},
	}
	runBadCases(t, a, cases)
}

// TestMethodNotAllowedSaysWhatIs: a 405 carries Allow (RFC 9110), HEAD
// beside every GET.
func TestMethodNotAllowedSaysWhatIs(t *testing.T) {
	a := newAPI(t, nil)
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/v1/units", "GET, HEAD, POST"},
		{http.MethodPatch, "/v1/locate", "GET, HEAD, POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
		// The import is a subrouter of its own: its path is not a grid code.
		{http.MethodGet, "/v1/grids/import", "POST"},
		{http.MethodPut, "/v1/grids/import", "POST"},
		{http.MethodDelete, "/v1/grids/import/", "POST"},
		{http.MethodDelete, "/v1/grids/G1", "GET, HEAD"},
		{http.MethodPost, "/v1/grids/topology", "GET, HEAD"},
		{http.MethodPost, "/v1/grids", "GET, HEAD"},
		{http.MethodHead, "/v1/grids/import", "POST"},
	} {
		r := a.do(tt.method, tt.path, "", nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d, Allow %q; want 405 with Allow %q", tt.method, tt.path, r.status, r.header.Get("Allow"), tt.allow)
		}
	}
}
