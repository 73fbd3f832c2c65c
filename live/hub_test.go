package live_test

import (
	"context"
	"encoding/json"
	"errors"
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

// fakeStore serves cases from a map; LoadCaseIndex waits for release.
type fakeStore struct {
	cases   map[int64]*cases.Case
	release chan struct{}
	mu      sync.Mutex
	loads   int
}

func (s *fakeStore) FindCaseByID(_ context.Context, id int64) (*cases.Case, error) {
	if c, ok := s.cases[id]; ok {
		return c, nil
	}
	return nil, errors.New("no such case")
}

func (s *fakeStore) LoadCaseIndex(ctx context.Context, x *caseindex.Index) error {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

func TestChangedElsewhereReadsTheStore(t *testing.T) {
	x := caseindex.New()
	store := &fakeStore{cases: map[int64]*cases.Case{7: newCase(7, cases.StatusDispatched)}, release: make(chan struct{}, 10)}
	h := live.New(x, live.Options{Store: store})
	defer h.Close()
	events, leave := h.Subscribe(live.Everyone)
	defer leave()

	h.ChangedElsewhere(context.Background(), 7)
	if msg := next(t, events); !strings.Contains(msg, `"id":"7"`) || x.Len() != 1 {
		t.Fatalf("after a change elsewhere: event %q, index %d cases", msg, x.Len())
	}
	// A case that cannot be read: anything may have changed, reload.
	store.release <- struct{}{}
	h.ChangedElsewhere(context.Background(), 8)
	if msg := next(t, events); !strings.HasPrefix(msg, "event: bulk\n") {
		t.Fatalf("after an unreadable case: event %q, want bulk", msg)
	}
}

// TestReloadsCoalesce: reloads asked for while one runs make one more, and
// each ends with every tile dropped and a bulk event.
func TestReloadsCoalesce(t *testing.T) {
	x := caseindex.New()
	tl := &fakeTiles{}
	store := &fakeStore{release: make(chan struct{})}
	h := live.New(x, live.Options{Store: store, Tiles: tl})
	defer h.Close()
	events, leave := h.Subscribe(live.Everyone)
	defer leave()

	h.Reload()
	for store.loadCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	h.Reload()
	h.Reload()
	store.release <- struct{}{}
	store.release <- struct{}{}
	for range 2 {
		if msg := next(t, events); !strings.HasPrefix(msg, "event: bulk\n") {
			t.Fatalf("event %q, want bulk", msg)
		}
	}
	if n := store.loadCount(); n != 2 {
		t.Errorf("%d loads for three reloads asked while the first ran, want 2", n)
	}
	for _, ch := range tl.told() {
		if !ch.Reset {
			t.Errorf("tiles told %+v after a reload, want a reset", ch)
		}
	}
}

func (s *fakeStore) loadCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads
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
