package live_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/live"
)

// fakeFeed is a change feed in memory: rows of (position, case id), the
// cases as they are now, and how far the log was pruned.
type fakeFeed struct {
	mu      sync.Mutex
	horizon uint64
	pruned  uint64
	rows    []fakeRow
	cases   map[int64]*cases.Case
	loads   int
}

type fakeRow struct {
	pos uint64
	id  int64
}

// write stores c as a transaction at position pos (its xid is pos-1) and
// moves the horizon to end.
func (f *fakeFeed) write(pos, end uint64, cs ...*cases.Case) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cases == nil {
		f.cases = map[int64]*cases.Case{}
	}
	for _, c := range cs {
		cp := *c
		f.cases[c.ID] = &cp
		f.rows = append(f.rows, fakeRow{pos - 1, c.ID})
	}
	f.horizon = max(f.horizon, end)
}

func (f *fakeFeed) ReadChanges(_ context.Context, from uint64) ([]int64, uint64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []int64
	for _, r := range f.rows {
		if r.pos >= from && r.pos < f.horizon {
			ids = append(ids, r.id)
		}
	}
	return ids, f.horizon, f.pruned > from || f.horizon < from, nil
}

func (f *fakeFeed) FindCasesByID(_ context.Context, ids []int64) ([]*cases.Case, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*cases.Case
	for _, id := range ids {
		if c, ok := f.cases[id]; ok {
			cp := *c
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (f *fakeFeed) LoadCases(context.Context) (*caseindex.Index, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	x := caseindex.New()
	for _, c := range f.cases {
		if _, err := x.Apply(caseindex.EntryOf(c)); err != nil {
			return nil, 0, err
		}
	}
	return x, f.horizon, nil
}

// status returns the status case id has in x, or "".
func status(x *caseindex.Index, id int64) cases.Status {
	var st cases.Status
	x.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(c caseindex.Entry) {
		if c.ID == id {
			st = c.Status
		}
	})
	return st
}

func TestFollowAppliesInOrderAndNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	feed := &fakeFeed{}
	feed.write(10, 20, newCase(1, cases.StatusReported))
	x := caseindex.New()
	h := live.New(x, live.Options{Store: feed})
	defer h.Close()
	if err := h.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Applied() != 20 || x.Len() != 1 {
		t.Fatalf("after Load: applied %d, %d cases, want 20, 1", h.Applied(), x.Len())
	}

	// Another process changes case 1 and makes case 2; the feed brings them.
	c1 := newCase(1, cases.StatusAccepted)
	c1.Version = 2
	feed.write(25, 30, c1, newCase(2, cases.StatusReported))
	if err := h.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Applied() != 30 || status(x, 1) != cases.StatusAccepted || x.Len() != 2 {
		t.Fatalf("after CatchUp: applied %d, case 1 %q, %d cases", h.Applied(), status(x, 1), x.Len())
	}

	// A write of this process the follower has passed is not applied again:
	// the follower read the case after it.
	old := newCase(2, cases.StatusReported)
	old.Status = cases.StatusDispatched
	h.ChangedAt(29, old)
	if status(x, 2) != cases.StatusReported {
		t.Errorf("a write below the applied position was applied: case 2 %q", status(x, 2))
	}

	// A write of this process ahead of the follower shows at once; a stale
	// read of the same case that arrives after it does not undo it.
	c1v3 := newCase(1, cases.StatusDispatched)
	c1v3.Version = 3
	h.ChangedAt(41, c1v3)
	if status(x, 1) != cases.StatusDispatched {
		t.Fatalf("own write not applied at once: case 1 %q", status(x, 1))
	}
	feed.write(35, 36, c1) // the feed still has version 2 (read before the write committed)
	if err := h.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if status(x, 1) != cases.StatusDispatched {
		t.Errorf("a stale read undid this process's newer write: case 1 %q", status(x, 1))
	}

	// WaitFor: at once for what is applied, after the catch-up otherwise.
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := h.WaitFor(wctx, 36); err != nil {
		t.Errorf("WaitFor(36) with 36 applied: %v", err)
	}
	if err := h.WaitFor(wctx, 50); err == nil {
		t.Error("WaitFor(50) returned before 50 was applied")
	}
	done := make(chan error, 1)
	go func() { done <- h.WaitFor(ctx, 50) }()
	feed.write(45, 50, c1v3)
	if err := h.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("WaitFor(50) still waits after 50 was applied")
	}
}

// TestGapResyncs: a follower whose place was pruned from the log loads
// everything anew (built aside and swapped in), says so, and keeps its own
// writes the load's snapshot predates.
func TestGapResyncs(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	feed := &fakeFeed{}
	feed.write(10, 20, newCase(1, cases.StatusReported))
	x := caseindex.New()
	h := live.New(x, live.Options{Store: feed, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer h.Close()
	events, leave := h.Subscribe(live.Everyone)
	defer leave()
	if err := h.Load(ctx); err != nil {
		t.Fatal(err)
	}
	next(t, events) // the load's bulk event
	// Meanwhile: a change, then the log pruned past it; and an own write
	// the feed has not reached.
	c2 := newCase(2, cases.StatusReported)
	feed.write(22, 30, c2)
	feed.mu.Lock()
	feed.pruned, feed.rows = 30, nil
	feed.mu.Unlock()
	own := newCase(3, cases.StatusReported)
	h.ChangedAt(40, own) // committed, but the database's snapshot may predate it
	next(t, events)
	if err := h.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if feed.loads != 2 || x.Len() != 3 || h.Applied() != 30 {
		t.Fatalf("after the gap: %d loads, %d cases, applied %d; want 2, 3 (one own write kept), 30", feed.loads, x.Len(), h.Applied())
	}
	if !strings.Contains(logs.String(), "pruned from the log: loading every case anew") {
		t.Errorf("no log line of the resync:\n%s", logs.String())
	}
	if msg := next(t, events); !strings.HasPrefix(msg, "event: bulk\n") {
		t.Errorf("event %q after the resync, want bulk", msg)
	}
}

// TestReplayFrom: a start from a snapshot applies only the feed's tail; a
// snapshot older than the retained log loads everything.
func TestReplayFrom(t *testing.T) {
	ctx := context.Background()
	feed := &fakeFeed{}
	feed.write(10, 20, newCase(1, cases.StatusReported))
	feed.write(25, 30, newCase(2, cases.StatusReported))
	x := caseindex.New()
	snap := caseindex.New() // the snapshot at 20: case 1 only
	if _, err := snap.Apply(caseindex.EntryOf(newCase(1, cases.StatusReported))); err != nil {
		t.Fatal(err)
	}
	x.Replace(snap)
	h := live.New(x, live.Options{Store: feed})
	defer h.Close()
	if err := h.ReplayFrom(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if feed.loads != 0 || x.Len() != 2 || h.Applied() != 30 {
		t.Fatalf("after replaying from 20: %d loads, %d cases, applied %d; want 0, 2, 30", feed.loads, x.Len(), h.Applied())
	}
	feed.mu.Lock()
	feed.pruned = 30
	feed.mu.Unlock()
	if err := h.ReplayFrom(ctx, 20); err != nil {
		t.Fatal(err)
	}
	if feed.loads != 1 || h.Applied() != 30 {
		t.Errorf("a snapshot older than the log: %d loads, applied %d; want a full load at 30", feed.loads, h.Applied())
	}
}
