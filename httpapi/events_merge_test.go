package httpapi_test

import (
	"strings"
	"testing"
)

// TestEventsOfAMerge: merging a duplicate sends its event, then the
// original's, at the original's new version (its history grew); the
// original's old ETag is stale.
func TestEventsOfAMerge(t *testing.T) {
	srv, _ := caseServer(t)
	create := func(extID string) string {
		t.Helper()
		code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"hotline","external_id":"`+extID+`","category":"E0101","location":[120.365,36.075]}`)
		if code != 201 {
			t.Fatalf("create = %d %v", code, f)
		}
		return f["id"].(string)
	}
	orig, dup := create("orig"), create("dup")
	s := openEvents(t, srv.URL)
	if code, out, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+dup, "application/json", `{"merge_into":"`+orig+`"}`, "If-Match", `"1"`); code != 200 {
		t.Fatalf("merge = %d %v", code, out)
	}
	create("sentinel") // an event after the merge's, so that a missing one shows
	if name, ev := s.next(); name != "case" || ev["id"] != dup || ev["status"] != "closed" || ev["version"] != 2.0 || ev["overdue_now"] != false {
		t.Fatalf("first event after the merge: %q %v, want case %s closed at version 2", name, ev, dup)
	}
	if name, ev := s.next(); name != "case" || ev["id"] != orig || ev["status"] != "reported" || ev["version"] != 2.0 {
		t.Fatalf("second event after the merge: %q %v, want case %s, still reported, at version 2", name, ev, orig)
	}
	code, f, h := do(t, "GET", srv.URL+"/v1/cases/"+orig, "", "")
	if code != 200 || h.Get("ETag") != `"2"` || f["properties"].(map[string]any)["version"] != 2.0 {
		t.Errorf("original after the merge = %d, ETag %s, %v; want version 2", code, h.Get("ETag"), f["properties"])
	}
	if code, _, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+orig, "application/json", `{"status":"accepted"}`, "If-Match", `"1"`); code != 412 {
		t.Errorf("PATCH of the original at its version before the merge = %d, want 412", code)
	}
}

// TestEventsOfABulkThatFailed: a bulk ingest that fails after storing some
// cases (here: a line past the body limit) still makes this process
// reload once and say so, since what was stored stays stored.
func TestEventsOfABulkThatFailed(t *testing.T) {
	srv, _ := caseServer(t)
	s := openEvents(t, srv.URL)
	nd := `{"source":"app","external_id":"kept","category":"E0101","location":[120.355,36.085]}` + "\n" +
		`{"source":"app","external_id":"` + strings.Repeat("x", 2<<20) + `"}` + "\n"
	if code, out, _ := do(t, "POST", srv.URL+"/v1/cases/bulk", "application/x-ndjson", nd); code < 400 || code >= 500 {
		t.Fatalf("bulk with an oversized line = %d %v, want a 4xx", code, out)
	}
	// A change after it, so that a missing bulk event shows.
	if code, _, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"app","external_id":"after","category":"E0101","location":[120.355,36.085]}`); code != 201 {
		t.Fatalf("create after the bulk = %d", code)
	}
	if name, ev := s.next(); name != "bulk" || ev["at"] == nil {
		t.Fatalf("after the failed bulk: event %q %v, want bulk", name, ev)
	}
	// One event for the one bulk: the next is the next change's.
	if name, ev := s.next(); name != "case" {
		t.Fatalf("event after the bulk's: %q %v, want the created case's", name, ev)
	}
}
