package live_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/live"
)

// fakeTiles records the changes it is told of.
type fakeTiles struct {
	mu      sync.Mutex
	changes []caseindex.Change
}

func (f *fakeTiles) CaseChanged(ch caseindex.Change) json.Marshaler {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, ch)
	return json.RawMessage(`{"cases":"all"}`)
}

func (f *fakeTiles) told() []caseindex.Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]caseindex.Change(nil), f.changes...)
}

func newCase(id int64, status cases.Status) *cases.Case {
	return &cases.Case{ID: id, Source: "patrol", Category: "E0101", Status: status, Location: orb.Point{120.37, 36.09},
		Grid: "G1", Unit: "U1", Version: 1, ReportedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
}

// next reads one event, failing after a second.
func next(t *testing.T, ch <-chan []byte) string {
	t.Helper()
	select {
	case msg := <-ch:
		return string(msg)
	case <-time.After(time.Second):
		t.Fatal("no event within 1 s")
		return ""
	}
}

func TestChangedReachesIndexTilesAndStreams(t *testing.T) {
	x := caseindex.New()
	tl := &fakeTiles{}
	h := live.New(x, live.Options{Tiles: tl})
	defer h.Close()
	events, leave := h.Subscribe(live.Everyone)
	defer leave()

	h.Changed(newCase(1, cases.StatusReported))
	moved := newCase(1, cases.StatusAccepted)
	moved.Location = orb.Point{120.38, 36.1}
	h.Changed(moved)

	if x.Len() != 1 {
		t.Fatalf("index holds %d cases, want 1", x.Len())
	}
	ch := tl.told()
	if len(ch) != 2 || ch[0].Old != nil || ch[0].New == nil || ch[1].Old == nil || ch[1].Old.Location != (orb.Point{120.37, 36.09}) || ch[1].New.Location != moved.Location {
		t.Fatalf("tiles told %+v, want a new case, then its move from the old point", ch)
	}
	for _, want := range []string{`"status":"reported"`, `"status":"accepted"`} {
		msg := next(t, events)
		if !strings.HasPrefix(msg, "event: case\n") || !strings.Contains(msg, want) || !strings.Contains(msg, `"tiles":{"cases":"all"}`) {
			t.Errorf("event %q, want a case event with %s and the stale tiles", msg, want)
		}
	}
}

// TestCloseEndsStreams: Close ends the streams, and a stream opened after
// it is closed at once.
func TestCloseEndsStreams(t *testing.T) {
	h := live.New(caseindex.New(), live.Options{})
	events, leave := h.Subscribe(live.Everyone)
	defer leave()
	h.Close()
	if _, open := <-events; open {
		t.Fatal("a stream stayed open after Close")
	}
	late, _ := h.Subscribe(live.Everyone)
	if _, open := <-late; open {
		t.Fatal("a stream opened after Close")
	}
}
