package demo

import (
	"encoding/json"
	"testing"
	"time"

	"citygrid/cases"
	"citygrid/grid"
)

func newTestGenerator(t *testing.T, now time.Time) *CaseGenerator {
	t.Helper()
	district, err := District()
	if err != nil {
		t.Fatal(err)
	}
	cats, err := cases.NewCategories(cases.DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	// The district alone, with a unit: the histories do not depend on the
	// grids, but a case must lie in the service area and have an owner.
	loc, err := grid.NewLocator([]*grid.Grid{{Code: "D", Name: "市北区", Level: grid.LevelDistrict, Unit: "U1", Geometry: district}},
		[]grid.Unit{{Code: "U1", Name: "城管局"}}, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return NewCaseGenerator(district, cats, cases.DefaultCalendar(), loc, now, Seed)
}

// TestHistoriesFollowTheRules plays a few thousand demo cases and checks
// that their histories are the same for the same seed, follow the
// lifecycle, happen in working hours and never after now, ask for
// extensions and parking before the deadline, end in the state the case is
// stored in, and show every kind of handling.
func TestHistoriesFollowTheRules(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	gen, again := newTestGenerator(t, now), newTestGenerator(t, now)
	cal := cases.DefaultCalendar()
	seen := map[string]int{}
	for i := range 3000 {
		r, err := gen.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := again.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mustJSON(t, r), mustJSON(t, r2); a != b {
			t.Fatalf("case %d differs between two runs of one seed:\n%s\n%s", i, a, b)
		}
		c := r.Case
		status, due, last := cases.StatusReported, c.ReportedAt, c.ReportedAt
		if len(r.Events) > 0 {
			due = firstDue(t, r.Events, c.DueAt)
		}
		for _, e := range r.Events {
			switch {
			case e.At.Before(last) || e.At.After(now):
				t.Fatalf("case %d: event at %s out of order or after now", i, e.At)
			case !cal.IsWorkday(e.At) || cal.WorkingBetween(e.At.Add(-time.Minute), e.At) == 0:
				t.Fatalf("case %d: event at %s outside working hours", i, e.At)
			}
			last = e.At
			var data struct {
				DueTo time.Time `json:"due_to"`
			}
			_ = json.Unmarshal(e.Data, &data)
			switch e.Kind {
			case "status":
				if !status.CanMoveTo(cases.Status(e.To)) || e.From != string(status) {
					t.Fatalf("case %d: %s → %s from %s", i, e.From, e.To, status)
				}
				if status == cases.StatusResolved && e.To == string(cases.StatusDispatched) {
					seen["rework"]++
				}
				status = cases.Status(e.To)
			case "merge":
				status = cases.StatusClosed
			case "extend", "pause":
				if e.At.After(due) {
					t.Fatalf("case %d: %s at %s after the deadline %s", i, e.Kind, e.At, due)
				}
			}
			if !data.DueTo.IsZero() {
				due = data.DueTo
			}
			seen[e.Kind]++
		}
		if status != c.Status || !due.Equal(c.DueAt) || c.Version != 1+countUpdates(r.Events) {
			t.Fatalf("case %d: history ends %s due %s, case is %s due %s v%d", i, status, due, c.Status, c.DueAt, c.Version)
		}
		seen[string(c.Status)]++
		if r.MergeInto != nil {
			seen["merged"]++
		}
		if c.OverdueAt != nil && c.OverdueAt.Before(now) {
			seen["overdue"]++
		}
	}
	for _, k := range []string{"rework", "extend", "pause", "resume", "merged", "rejected", "closed", "in_progress", "overdue"} {
		if seen[k] == 0 {
			t.Errorf("no %s among 3000 demo cases: %v", k, seen)
		}
	}
	t.Logf("%v", seen)
}

// firstDue is the deadline a case started with: the due_from of its first
// deadline change, or its deadline.
func firstDue(t *testing.T, events []cases.Event, due time.Time) time.Time {
	for _, e := range events {
		var d struct {
			DueFrom *time.Time `json:"due_from"`
		}
		_ = json.Unmarshal(e.Data, &d)
		if d.DueFrom != nil {
			return *d.DueFrom
		}
	}
	return due
}

// countUpdates counts the updates that made the events: one per instant
// (an update's events share its time).
func countUpdates(events []cases.Event) int {
	n := 0
	for i, e := range events {
		if i == 0 || !e.At.Equal(events[i-1].At) {
			n++
		}
	}
	return n
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
