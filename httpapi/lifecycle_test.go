package httpapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"citygrid/cases"
)

// TestStatusesAreTheLifecycle: GET /v1/statuses is the Go lifecycle, and
// every case reply says whether the case is open and where it may go.
func TestStatusesAreTheLifecycle(t *testing.T) {
	srv, _ := caseServer(t)
	code, out, _ := do(t, "GET", srv.URL+"/v1/statuses", "", "")
	if code != 200 {
		t.Fatalf("GET /v1/statuses = %d %v", code, out)
	}
	var got []struct {
		Status string   `json:"status"`
		Open   bool     `json:"open"`
		Final  bool     `json:"final"`
		Next   []string `json:"next"`
	}
	raw, _ := json.Marshal(out["statuses"])
	if err := json.Unmarshal(raw, &got); err != nil || len(got) != len(cases.Statuses) {
		t.Fatalf("statuses %s: %v", raw, err)
	}
	for i, st := range cases.Statuses {
		g := got[i]
		var next []string
		for _, n := range st.Next() {
			next = append(next, string(n))
		}
		if g.Status != string(st) || g.Open != st.Open() || g.Final != st.Final() || !slices.Equal(g.Next, next) || g.Next == nil {
			t.Errorf("status %d = %+v, want %s open=%t final=%t next=%v", i, g, st, st.Open(), st.Final(), next)
		}
	}

	body := `{"source":"hotline","external_id":"lc-1","category":"E0101","location":[120.365,36.075]}`
	code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body)
	if code != 201 {
		t.Fatalf("create = %d %v", code, f)
	}
	id := f["id"].(string)
	steps := []struct {
		to   string
		open bool
		next []any
	}{
		{"", true, []any{"accepted", "rejected"}},
		{"rejected", false, []any{}},
	}
	for i, step := range steps {
		if step.to != "" {
			code, f, _ = do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", `{"status":"`+step.to+`"}`, "If-Match", `"1"`)
			if code != 200 {
				t.Fatalf("PATCH to %s = %d %v", step.to, code, f)
			}
		}
		p := f["properties"].(map[string]any)
		if p["open"] != step.open || !slices.Equal(p["next_statuses"].([]any), step.next) {
			t.Errorf("step %d: open %v next %v, want %t %v", i, p["open"], p["next_statuses"], step.open, step.next)
		}
	}
	code, list, _ := do(t, "GET", srv.URL+"/v1/cases?bbox=120.3,36,120.4,36.2", "", "")
	feats, _ := list["features"].([]any)
	if code != 200 || len(feats) == 0 {
		t.Fatalf("list = %d %v", code, list)
	}
	if p := feats[0].(map[string]any)["properties"].(map[string]any); p["open"] != false || len(p["next_statuses"].([]any)) != 0 {
		t.Errorf("listed case: open %v next %v, want false []", p["open"], p["next_statuses"])
	}
}

// TestSourcesComeFromTheData: GET /v1/sources lists the sources of the
// cases held, most cases first, and follows new cases.
func TestSourcesComeFromTheData(t *testing.T) {
	srv, _ := caseServer(t)
	sources := func() string {
		code, out, _ := do(t, "GET", srv.URL+"/v1/sources", "", "")
		if code != 200 {
			t.Fatalf("GET /v1/sources = %d %v", code, out)
		}
		raw, _ := json.Marshal(out["sources"])
		return string(raw)
	}
	if got := sources(); got != "[]" {
		t.Fatalf("no cases: sources %s, want []", got)
	}
	for i, src := range []string{"wechat", "12345", "wechat"} {
		body := `{"source":"` + src + `","external_id":"s-` + string(rune('a'+i)) + `","category":"E0101","location":[120.365,36.075]}`
		if code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body); code != 201 {
			t.Fatalf("create = %d %v", code, f)
		}
	}
	if got, want := sources(), `[{"count":2,"source":"wechat"},{"count":1,"source":"12345"}]`; got != want {
		t.Errorf("sources %s, want %s", got, want)
	}
	if code, out, _ := do(t, "GET", srv.URL+"/v1/sources?x=1", "", ""); code != 400 {
		t.Errorf("GET /v1/sources?x=1 = %d %v, want 400", code, out)
	}
}
