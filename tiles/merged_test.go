package tiles_test

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/tiles"
)

// TestMergedDuplicateLeavesTheMap: a case merged into another after it was
// drawn leaves the cases layer (its point and its cluster's counts) as soon
// as the change is applied: the cached tiles showing it are dropped, and
// redrawn without it, not as one more closed case.
func TestMergedDuplicateLeavesTheMap(t *testing.T) {
	f := newFixture(t, 200, tiles.Options{})
	p := orb.Point{120.3712, 36.0917}
	gridCode, unit := assign(t, f.idx.Locator(), p)
	dup := caseindex.Entry{ID: 100001, Location: p, ReportedAt: testNow.Add(-3 * time.Hour), DueAt: testNow.Add(time.Hour),
		Category: "E0101", Status: cases.StatusReported, Priority: 3, Source: "hotline", Unit: unit, Grid: gridCode}
	if _, err := f.cases.Apply(dup); err != nil {
		t.Fatal(err)
	}
	point, cluster := tileOf(p, 16), tileOf(p, 12)
	ids := func() []int64 {
		ls, _ := f.decode(t, tiles.LayerCases, point, tiles.Params{})
		var out []int64
		if l := layerNamed(ls, tiles.LayerCases); l != nil {
			for _, feat := range l.Features {
				out = append(out, int64(feat.Properties["id"].(float64)))
			}
		}
		return out
	}
	cell, err := caseindex.Cell(p, tiles.ClusterRes(12))
	if err != nil {
		t.Fatal(err)
	}
	// counts returns the count and the closed count of p's cluster.
	counts := func() (count, closed float64) {
		ls, _ := f.decode(t, tiles.LayerCases, cluster, tiles.Params{})
		for _, feat := range layerNamed(ls, tiles.LayerCases).Features {
			if feat.Properties["h3"] == cell.String() {
				return feat.Properties["count"].(float64), feat.Properties["closed"].(float64)
			}
		}
		t.Fatalf("no cluster %s in %s", cell, cluster)
		return 0, 0
	}
	before := ids()
	count, closed := counts()
	if !slices.Contains(before, dup.ID) {
		t.Fatalf("point tile %s before the merge: %v, want case %d", point, before, dup.ID)
	}

	merged := dup
	merged.Status, merged.Merged = cases.StatusClosed, true
	ch, err := f.cases.Apply(merged)
	if err != nil {
		t.Fatal(err)
	}
	st := f.svc.CaseChanged(ch)
	stale := false
	for _, r := range st.Cases {
		stale = stale || r.Contains(point)
	}
	if !stale {
		t.Errorf("the merge made stale %+v, which lacks the point tile %s", st.Cases, point)
	}
	if after := ids(); slices.Contains(after, dup.ID) || len(after) != len(before)-1 {
		t.Errorf("point tile after the merge: %v, want %v without %d", after, before, dup.ID)
	}
	if c, cl := counts(); c != count-1 || cl != closed {
		t.Errorf("cluster after the merge: count %v, closed %v; want %v and %v (the duplicate counted nowhere)", c, cl, count-1, closed)
	}
}
