package postgres_test

import (
	"context"
	"testing"
	"time"

	"citygrid/caseindex"
	"citygrid/cases"
)

// TestMergeChangesBothCases: merging a duplicate closes it and bumps the
// original's version (its history has grown by the "merged" entry); a
// parked duplicate leaves the ledger; and the case index read from the
// database counts the duplicate nowhere.
func TestMergeChangesBothCases(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	orig, _, err := e.cases.CreateCase(ctx, e.prepare(t, input("patrol", "m-1", "E0101", 120.365, 36.075)), "")
	if err != nil {
		t.Fatal(err)
	}
	dup, _, err := e.cases.CreateCase(ctx, e.prepare(t, input("hotline", "m-2", "E0101", 120.3651, 36.0751)), "")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := e.cases.UpdateCase(ctx, dup.ID, cases.Update{Pause: &yes, IfVersion: 1, Now: testNow, Calendar: e.cal}); err != nil {
		t.Fatal(err)
	}
	merged, err := e.cases.UpdateCase(ctx, dup.ID, cases.Update{MergeInto: &orig.ID, IfVersion: 2, Now: testNow.Add(time.Hour), Actor: "d", Calendar: e.cal})
	if err != nil {
		t.Fatal(err)
	}
	if merged.Status != cases.StatusClosed || merged.MergedInto == nil || *merged.MergedInto != orig.ID || merged.PausedAt != nil {
		t.Errorf("duplicate after the merge: %s into %v, paused at %v; want closed into %d, not parked", merged.Status, merged.MergedInto, merged.PausedAt, orig.ID)
	}
	after, err := e.cases.FindCaseByID(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != orig.Version+1 || !after.UpdatedAt.Equal(testNow.Add(time.Hour)) || after.Status != orig.Status {
		t.Errorf("original after the merge: v%d updated %s %s, want v%d updated %s, still %s", after.Version, after.UpdatedAt, after.Status, orig.Version+1, testNow.Add(time.Hour), orig.Status)
	}
	events, _ := e.cases.CaseHistory(ctx, orig.ID)
	if last := events[len(events)-1]; last.Kind != "merged" {
		t.Errorf("original's last event %q, want merged", last.Kind)
	}
	// A client holding the original's old version is told it is stale.
	st := cases.StatusAccepted
	if _, err := e.cases.UpdateCase(ctx, orig.ID, cases.Update{Status: &st, IfVersion: orig.Version, Now: testNow.Add(2 * time.Hour)}); err == nil {
		t.Error("an update at the original's version before the merge succeeded")
	}

	x := caseindex.New()
	if err := e.cases.LoadCaseIndex(ctx, x); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 2 {
		t.Fatalf("index holds %d cases, want both", x.Len())
	}
	if got := x.ByGrid(testNow)[orig.Grid]; got == nil || got.Count != 1 {
		t.Errorf("grid %s counts %+v, want the original alone", orig.Grid, got)
	}
	if src := x.Sources(); len(src) != 1 || src[0].Source != "patrol" {
		t.Errorf("sources %+v, want patrol alone (the hotline duplicate is merged)", src)
	}
}
