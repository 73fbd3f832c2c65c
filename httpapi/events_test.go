package httpapi_test

import (
	"bufio"
	"citygrid/geo"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// sse reads server-sent events from a stream.
type sse struct {
	t *testing.T
	r *bufio.Reader
}

// next returns the next event's name and data, skipping comments.
func (s *sse) next() (string, map[string]any) {
	s.t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading events: %v (so far event %q data %q)", err, name, data)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if name == "" && data == "" {
				continue // a comment block ended
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				s.t.Fatalf("event %q: data is not JSON: %q", name, data)
			}
			return name, v
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		default:
			s.t.Fatalf("unexpected line in the event stream: %q", line)
		}
	}
}

func openEvents(t *testing.T, base string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the server closes: a stream never ends by itself
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /v1/events = %d %q %q, want 200 text/event-stream no-cache", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	s := &sse{t: t, r: bufio.NewReader(resp.Body)}
	if name, _ := s.next(); name != "hello" {
		t.Fatalf("first event %q, want hello", name)
	}
	return s
}

func TestEvents(t *testing.T) {
	srv, _ := caseServer(t)
	s := openEvents(t, srv.URL)
	other := openEvents(t, srv.URL) // every stream gets every event

	body := `{"source":"hotline","external_id":"ev-1","category":"E0101","title":"垃圾","location":[120.365,36.075]}`
	code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body)
	if code != 201 {
		t.Fatalf("create = %d %v", code, f)
	}
	id := f["id"].(string)
	for _, stream := range []*sse{s, other} {
		name, ev := stream.next()
		if name != "case" || ev["id"] != id || ev["status"] != "reported" || ev["grid"] != "G3" || ev["unit"] != "U2" || ev["version"] != 1.0 {
			t.Fatalf("after create: event %q %v, want case %s reported in G3 for U2, version 1", name, ev, id)
		}
		loc, _ := ev["location"].([]any)
		if len(loc) != 2 || loc[0] != 120.365 || loc[1] != 36.075 {
			t.Fatalf("event location %v, want [120.365 36.075]", ev["location"])
		}
		checkStaleTiles(t, ev["tiles"], orb.Point{120.365, 36.075})
	}

	// A re-sent case changes nothing and tells nobody.
	if code, _, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body); code != 200 {
		t.Fatalf("re-send = %d, want 200", code)
	}
	code, _, _ = do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", `{"status":"accepted"}`, "If-Match", `"1"`)
	if code != 200 {
		t.Fatalf("patch = %d", code)
	}
	if name, ev := s.next(); name != "case" || ev["id"] != id || ev["status"] != "accepted" || ev["version"] != 2.0 {
		t.Fatalf("after patch: event %q %v, want case %s accepted version 2", name, ev, id)
	}

	// A failed change tells nobody either: the next event is the bulk one.
	if code, _, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", `{"status":"closed"}`, "If-Match", `"2"`); code != 422 {
		t.Fatalf("illegal transition = %d, want 422", code)
	}
	nd := `{"source":"app","external_id":"ev-2","category":"E0101","location":[120.355,36.085]}` + "\n"
	if code, out, _ := do(t, "POST", srv.URL+"/v1/cases/bulk", "application/x-ndjson", nd); code != 200 || out["accepted"] != 1.0 {
		t.Fatalf("bulk = %d %v", code, out)
	}
	if name, ev := s.next(); name != "bulk" || ev["at"] == nil {
		t.Fatalf("after bulk: event %q %v, want bulk", name, ev)
	}
}

func TestEventsRejectParameters(t *testing.T) {
	srv, _ := caseServer(t)
	code, out, _ := do(t, "GET", srv.URL+"/v1/events?since=3", "", "")
	if code != 400 || !strings.Contains(out["detail"].(string), "since") {
		t.Fatalf("GET /v1/events?since=3 = %d %v, want 400 naming the parameter", code, out)
	}
}

// TestEventsEndOnClose checks that CloseStreams ends open streams, so that
// a graceful shutdown does not wait for them.
func TestEventsEndOnClose(t *testing.T) {
	srv, _ := caseServer(t)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := &sse{t: t, r: bufio.NewReader(resp.Body)}
	if name, _ := s.next(); name != "hello" {
		t.Fatalf("first event %q, want hello", name)
	}
	srv.Config.Handler.(interface{ CloseStreams() }).CloseStreams()
	done := make(chan error, 1)
	go func() {
		_, err := s.r.ReadString('\n')
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the stream went on after CloseStreams")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end within 5 s of CloseStreams")
	}
}

// checkStaleTiles checks an event's stale tiles against a case at p: its
// point's tile at z16 in the cases and (unit grid level) grids layers, the
// hotspot and battlemap layers everywhere.
func checkStaleTiles(t *testing.T, v any, p orb.Point) {
	t.Helper()
	raw, _ := json.Marshal(v)
	var st struct {
		Cases, Grids []struct {
			Z     uint32    `json:"z"`
			X     [2]uint32 `json:"x"`
			Y     [2]uint32 `json:"y"`
			Level string    `json:"level"`
		}
		Hotspots  string `json:"hotspots"`
		Battlemap string `json:"battlemap"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("tiles %s: %v", raw, err)
	}
	tile := geo.TilesAt(p, 16, 4096, 0)[0]
	in := func(z, x, y uint32, x2, y2 [2]uint32) bool {
		return z == 16 && x >= x2[0] && x <= x2[1] && y >= y2[0] && y <= y2[1]
	}
	found := map[string]bool{}
	for _, r := range st.Cases {
		found["cases"] = found["cases"] || in(r.Z, tile.X, tile.Y, r.X, r.Y)
	}
	for _, r := range st.Grids {
		found["grids"] = found["grids"] || (r.Level == "grid" && in(r.Z, tile.X, tile.Y, r.X, r.Y))
	}
	if !found["cases"] || !found["grids"] || st.Hotspots != "all" || st.Battlemap != "all" {
		t.Fatalf("stale tiles %s: want the case's z16 tile %s in cases and grids (level grid), hotspots and battlemap all", raw, tile)
	}
}
