package httpapi_test

import (
	"strings"
	"testing"
)

// TestDuplicateKeysAreRefused: a key given twice in a JSON body, at any
// depth, is a 400 naming the key and where it is; before, the last one won
// without a word (a wrong category reached dispatch).
func TestDuplicateKeysAreRefused(t *testing.T) {
	srv, count := caseServer(t)
	ok := `"source":"s","external_id":"e","location":[120.36,36.08]`
	tests := []struct {
		name, method, path, body string
		detail, field            string
	}{
		{"a case's category", "POST", "/v1/cases", `{` + ok + `,"category":"E0101","category":"C0101"}`,
			`duplicate key "category" in the top-level object: a key may appear only once in an object`, "category"},
		{"inside properties", "POST", "/v1/cases", `{` + ok + `,"category":"E0101","properties":{"caller":"a","caller":"b"}}`,
			`duplicate key "caller" in properties`, "properties.caller"},
		{"in a search", "POST", "/v1/cases/search", `{"polygon":{"type":"Polygon","type":"Point","coordinates":[[[120.35,36.07],[120.36,36.07],[120.36,36.08],[120.35,36.07]]]}}`,
			`duplicate key "type" in polygon`, "polygon.type"},
		{"in a locate batch", "POST", "/v1/locate", `{"points":[[120.36,36.08]],"crs":"wgs84","crs":"gcj02"}`, `duplicate key "crs"`, "crs"},
		{"a unit in a list", "POST", "/v1/units", `[{"code":"U7","name":"a"},{"code":"U8","name":"b","name":"c"}]`, `duplicate key "name" in [1]`, "[1].name"},
		{"a patch", "PATCH", "/v1/cases/1", `{"status":"accepted","status":"rejected"}`, `duplicate key "status"`, "status"},
		{"the calendar", "PUT", "/v1/calendar", `{"timezone":"Asia/Shanghai","timezone":"UTC","day_start":"09:00","day_end":"17:00"}`, `duplicate key "timezone"`, "timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			code, body, _ := do(t, tt.method, srv.URL+tt.path, "application/json", tt.body, "If-Match", `"1"`)
			if code != 400 {
				t.Fatalf("status %d, want 400: %v", code, body)
			}
			if d, _ := body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", d, tt.detail)
			}
			if body["field"] != tt.field {
				t.Errorf("field %v, want %q", body["field"], tt.field)
			}
			if count() != before {
				t.Error("the request changed the database")
			}
		})
	}
	t.Run("a bulk line", func(t *testing.T) {
		code, res, _ := do(t, "POST", srv.URL+"/v1/cases/bulk", "application/x-ndjson", `{`+ok+`,"category":"E0101","category":"C0101"}`+"\n")
		rejected, _ := res["rejected"].([]any)
		if code != 200 || res["accepted"].(float64) != 0 || len(rejected) != 1 ||
			!strings.Contains(rejected[0].(map[string]any)["error"].(string), "category: given twice") {
			t.Errorf("bulk = %d %v, want the line rejected", code, res)
		}
	})
	t.Run("a grid property", func(t *testing.T) {
		fc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"X1","name":"x","level":"district","unit":"U1","unit":"U2"},` +
			`"geometry":{"type":"Polygon","coordinates":[[[121,37],[121.01,37],[121.01,37.01],[121,37]]]}}]}`
		code, res, _ := do(t, "POST", srv.URL+"/v1/grids/import", "application/json", fc)
		rejected, _ := res["rejected"].([]any)
		if code != 422 || len(rejected) != 1 || !strings.Contains(rejected[0].(map[string]any)["reason"].(string), `duplicate key "unit" in properties`) {
			t.Errorf("import = %d %v, want the feature rejected", code, res)
		}
	})
}

// TestErrorsNameFieldAndRule: a value that misses says which field and
// which rule: a time without a zone, a fractional integer, an unescaped +
// in a query, a change from a final status.
func TestErrorsNameFieldAndRule(t *testing.T) {
	srv, _ := caseServer(t)
	ok := `"source":"s","category":"E0101","location":[120.36,36.08]`
	tests := []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"a report time without a zone", "POST", "/v1/cases", `{` + ok + `,"external_id":"t1","reported_at":"2026-11-20T09:30:00"}`, 400,
			`reported_at: "2026-11-20T09:30:00" has no time zone: add Z for UTC or an offset such as +08:00`},
		{"a query time without a zone", "GET", "/v1/cases?grid=D&from=2026-11-20T09:30:00", "", 400, `from: "2026-11-20T09:30:00" has no time zone`},
		{"a search time without a zone", "POST", "/v1/cases/search", `{"polygon":{"type":"Polygon","coordinates":[[[120.35,36.07],[120.36,36.07],[120.36,36.08],[120.35,36.07]]]},"to":"2026-11-20"}`, 400,
			`to: "2026-11-20" is a date without a time of day`},
		{"a hotspot time without a zone", "GET", "/v1/hotspots?compare_from=2026-11-01T00:00:00&compare_to=2026-11-02T00:00:00Z", "", 400, `compare_from: "2026-11-01T00:00:00" has no time zone`},
		{"an unescaped + in a query time", "GET", "/v1/cases?grid=D&from=2026-11-20T09:30:00+08:00", "", 400,
			`from: "2026-11-20T09:30:00 08:00" has a space where its offset's + should be: in a URL query a + stands for a space, so write it as %2B`},
		{"a stats period without a zone", "GET", "/v1/stats?by=street&from=2026-11-01T00:00:00", "", 400, `from: "2026-11-01T00:00:00" has no time zone`},
		{"an unescaped + in a stats period", "GET", "/v1/stats?by=street&to=2026-11-20T09:30:00+08:00", "", 400, "write it as %2B"},
		{"an unescaped + in a tile filter", "GET", "/tiles/cases/14/13671/6301.mvt?to=2026-11-20T09:30:00+08:00", "", 400, "write it as %2B"},
		{"an unescaped + between categories", "GET", "/v1/cases?grid=D&category=E01+C01", "", 400,
			`category: "E01 C01" is not a category code prefix (letters and digits, such as E01) (a + in a URL query stands for a space: write it as %2B)`},
		{"a fractional priority", "POST", "/v1/cases", `{` + ok + `,"external_id":"t2","priority":2.5}`, 400, "priority: 2.5 is not a whole number: an integer is required"},
		{"a huge priority", "POST", "/v1/cases", `{` + ok + `,"external_id":"t3","priority":1e40}`, 400, "priority: 1e40 is out of range for an integer"},
		{"a fractional limit", "GET", "/v1/cases?grid=D&limit=2.5", "", 400, `limit: "2.5" is not a whole number: want an integer from 1 to 10000`},
		{"a fractional limit in a search", "POST", "/v1/cases/search", `{"polygon":{"type":"Polygon","coordinates":[[[120.35,36.07],[120.36,36.07],[120.36,36.08],[120.35,36.07]]]},"limit":2.5}`, 400,
			"limit: 2.5 is not a whole number"},
		{"a fractional resolution", "GET", "/v1/hotspots?res=8.5", "", 400, `res: "8.5" is not a whole number: want an integer from 7 to 11`},
		{"a fractional extension", "PATCH", "/v1/cases/{id}", `{"extend":{"value":1.5,"unit":"working_days"}}`, 400, "extend.value: 1.5 is not a whole number"},
		{"a status change of a closed case", "PATCH", "/v1/cases/{closed}", `{"status":"dispatched"}`, 422,
			"status: case {closed} is closed, a final status: a case that has left the loop takes no further status"},
	}
	// One open case, and one taken round the loop to closed.
	create := func(ext string) string {
		code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{`+ok+`,"external_id":"`+ext+`"}`)
		if code != 201 {
			t.Fatalf("create = %d %v", code, f)
		}
		return f["properties"].(map[string]any)["id"].(string)
	}
	open, closed := create("open"), create("closed")
	for v, st := range []string{"accepted", "dispatched", "in_progress", "resolved", "verified", "closed"} {
		if code, f, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+closed, "application/json", `{"status":"`+st+`"}`, "If-Match", `"`+string(rune('1'+v))+`"`); code != 200 {
			t.Fatalf("%s = %d %v", st, code, f)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReplacer("{id}", open, "{closed}", closed)
			header := []string{"If-Match", `"1"`}
			if strings.Contains(tt.path, "{closed}") {
				header = []string{"If-Match", `"7"`}
			}
			code, body, _ := do(t, tt.method, srv.URL+r.Replace(tt.path), "application/json", tt.body, header...)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %v", code, tt.status, body)
			}
			if d, _ := body["detail"].(string); !strings.Contains(d, r.Replace(tt.detail)) {
				t.Errorf("detail %q, want it to contain %q", d, r.Replace(tt.detail))
			}
		})
	}
}
