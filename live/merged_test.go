package live_test

import (
	"strings"
	"testing"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/live"
)

// TestMergedCaseLeavesTheCounts: a case merged after it was indexed leaves
// the counts as soon as the hub has the change, the tiles are told of it
// (old entry counted, new not), and its event says it is not overdue now.
func TestMergedCaseLeavesTheCounts(t *testing.T) {
	x := caseindex.New()
	tl := &fakeTiles{}
	h := live.New(x, live.Options{Tiles: tl})
	defer h.Close()
	events, leave := h.Subscribe(live.Everyone)
	defer leave()

	h.Changed(newCase(1, cases.StatusReported))
	dup := newCase(2, cases.StatusReported)
	h.Changed(dup)
	if n := x.ByGrid(dup.ReportedAt)["G1"].Count; n != 2 {
		t.Fatalf("before the merge: grid G1 counts %d cases, want 2", n)
	}
	into := int64(1)
	merged := *dup
	merged.Status, merged.MergedInto, merged.Version = cases.StatusClosed, &into, 2
	h.Changed(&merged)

	if n := x.ByGrid(dup.ReportedAt)["G1"].Count; n != 1 {
		t.Errorf("after the merge: grid G1 counts %d cases, want 1 (the duplicate left out)", n)
	}
	ch := tl.told()
	if last := ch[len(ch)-1]; last.Old == nil || last.Old.Merged || last.New == nil || !last.New.Merged {
		t.Errorf("tiles told %+v, want the duplicate's old entry and its merged one", last)
	}
	next(t, events)
	next(t, events)
	if msg := next(t, events); !strings.Contains(msg, `"id":"2"`) || !strings.Contains(msg, `"status":"closed"`) || !strings.Contains(msg, `"overdue_now":false`) {
		t.Errorf("event %q, want case 2 closed, overdue_now false", msg)
	}
}
