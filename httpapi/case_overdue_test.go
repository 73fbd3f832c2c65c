package httpapi_test

import (
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestCaseListOverdueNow: the list's "open and past its deadline now" is
// overdue_now, in the reply, the CSV and the filter (true and false), with
// overdue= kept as the filter's alias; the two disagreeing is a 400.
func TestCaseListOverdueNow(t *testing.T) {
	srv, _ := caseServer(t)
	create := func(extID, reported string) string {
		t.Helper()
		body := `{"source":"hotline","external_id":"` + extID + `","category":"E0101","location":[120.365,36.075]` + reported + `}`
		code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body)
		if code != 201 {
			t.Fatalf("create %s = %d %v", extID, code, f)
		}
		return f["id"].(string)
	}
	late := create("late", `,"reported_at":"2026-11-02T01:00:00Z"`) // weeks past its 4 working hours
	fresh := create("fresh", "")
	// Parked before its deadline (parking after it is refused): parked
	// cases are never overdue now, whatever their deadline.
	parked := create("parked", `,"reported_at":"2026-11-23T02:30:00Z"`)
	if code, out, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+parked, "application/json", `{"pause":true}`, "If-Match", `"1"`); code != 200 {
		t.Fatalf("park = %d %v", code, out)
	}
	list := func(query string) (int, []string, map[string]any) {
		t.Helper()
		code, fc, _ := do(t, "GET", srv.URL+"/v1/cases?grid=D"+query, "", "")
		if code != 200 {
			return code, nil, fc
		}
		var ids []string
		for _, f := range fc["features"].([]any) {
			p := f.(map[string]any)["properties"].(map[string]any)
			if _, old := p["overdue"]; old {
				t.Errorf("case %s still has the ambiguous property overdue", p["id"])
			}
			if want := p["id"] == late; p["overdue_now"] != want {
				t.Errorf("case %s: overdue_now = %v, want %v", p["id"], p["overdue_now"], want)
			}
			ids = append(ids, p["id"].(string))
		}
		slices.Sort(ids)
		return code, ids, fc
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	tests := []struct {
		query string
		want  []string
	}{
		{"", sorted(late, fresh, parked)},
		{"&overdue_now=true", []string{late}},
		{"&overdue_now=false", sorted(fresh, parked)},
		{"&overdue=true", []string{late}},
		{"&overdue=false", sorted(fresh, parked)},
		{"&overdue_now=1&overdue=true", []string{late}},
	}
	for _, tt := range tests {
		if code, got, fc := list(tt.query); code != 200 || !slices.Equal(got, tt.want) {
			t.Errorf("?%s = %d %v (%v), want %v", tt.query, code, got, fc, tt.want)
		}
	}
	for _, q := range []string{"&overdue_now=maybe", "&overdue=yes", "&overdue_now=true&overdue=false"} {
		if code, _, out := list(q); code != 400 || !strings.Contains(out["detail"].(string), "overdue") {
			t.Errorf("?%s = %d %v, want 400 naming overdue", q, code, out)
		}
	}

	// POST /v1/cases/search takes the same names.
	poly := `{"type":"Polygon","coordinates":[[[120.35,36.07],[120.37,36.07],[120.37,36.09],[120.35,36.09],[120.35,36.07]]]}`
	for body, want := range map[string]int{`"overdue_now":true`: 1, `"overdue_now":false`: 2, `"overdue":false`: 2, `"overdue":true,"overdue_now":false`: -1} {
		code, fc, _ := do(t, "POST", srv.URL+"/v1/cases/search", "application/json", `{"polygon":`+poly+`,`+body+`}`)
		if want < 0 {
			if code != 400 {
				t.Errorf("search {%s} = %d, want 400", body, code)
			}
			continue
		}
		if code != 200 || len(fc["features"].([]any)) != want {
			t.Errorf("search {%s} = %d %v, want %d cases", body, code, fc, want)
		}
	}

	// The CSV column has the same name.
	resp, err := http.Get(srv.URL + "/v1/cases?grid=D&format=csv&overdue_now=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "overdue_now")
	if col < 0 || slices.Contains(rows[0], "overdue") || len(rows) != 2 || rows[1][0] != late || rows[1][col] != "true" {
		t.Errorf("CSV = %q, want the header with overdue_now and the late case's row saying true", rows)
	}
}
