package postgres_test

import (
	"citygrid/cases"
	"context"
	"testing"
	"time"
)

// TestStatsIndicators builds a small history by hand and checks every
// indicator, then adds later activity and checks the past period reads the
// same.
func TestStatsIndicators(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	day := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }
	mk := func(id string, reported time.Time, lng float64) *cases.Case {
		in := input("stats", id, "E0501", lng, 36.075) // E0501: 2 working hours
		in.ReportedAt = &reported
		c, err := in.Prepare(e.cats, e.cal, e.loc, testNow)
		if err != nil {
			t.Fatal(err)
		}
		stored, _, err := e.cases.CreateCase(ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	move := func(c *cases.Case, at time.Time, to ...cases.Status) *cases.Case {
		for _, st := range to {
			var err error
			c, err = e.cases.UpdateCase(ctx, c.ID, cases.Update{Status: &st, IfVersion: c.Version, Now: at, Calendar: e.cal})
			if err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	// October 2026 in street S1 (west): four cases reported on Monday the 12th
	// at 01:00 UTC (09:00 local), due at 11:00 local (03:00 UTC).
	a := mk("a", day(12, 1), 120.355)
	b := mk("b", day(12, 1), 120.355)
	c := mk("c", day(12, 1), 120.355)
	mk("d", day(12, 1), 120.355)                                                                                                                              // never handled: overdue
	move(a, day(12, 2), cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed) // closed on time
	b = move(b, day(12, 2), cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved)
	b = move(b, day(13, 2), cases.StatusDispatched)                                                             // rework
	move(b, day(14, 2), cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed) // closed late
	ext := cases.TimeLimit{Value: 1, Unit: cases.WorkingDays}
	if _, err := e.cases.UpdateCase(ctx, c.ID, cases.Update{ExtendBy: &ext, IfVersion: c.Version, Now: day(12, 2), Calendar: e.cal}); err != nil {
		t.Fatal(err)
	}
	q := cases.StatsQuery{By: cases.ByStreet, From: day(1, 0), To: day(31, 0), TimeZone: "Asia/Shanghai"}
	check := func(label string) {
		rows, err := e.cases.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Key != "S1" {
			t.Fatalf("%s: rows = %+v, want one for S1", label, rows)
		}
		r := rows[0]
		if r.Received != 4 || r.Filed != 2 || r.Closed != 2 || r.Due != 4 || r.ClosedOnTime != 1 || r.Overdue != 3 {
			t.Errorf("%s: counts = %+v", label, r)
		}
		// c's extension moved its deadline to the 13th, still in October and
		// not closed: overdue. Rates: closure 2/4, on time 1/4, rework 1 of 2
		// resolved, extension 1/4.
		for name, got := range map[string]*float64{"closure": r.ClosureRate, "on time": r.OnTimeRate, "rework": r.ReworkRate, "extension": r.ExtensionRate} {
			want := map[string]float64{"closure": 0.5, "on time": 0.25, "rework": 0.5, "extension": 0.25}[name]
			if got == nil || *got != want {
				t.Errorf("%s: %s rate = %v, want %v", label, name, got, want)
			}
		}
		if r.MedianHoursToClose == nil || *r.MedianHoursToClose != (1+49)/2.0 {
			t.Errorf("%s: median hours to close = %v, want 25", label, r.MedianHoursToClose)
		}
	}
	check("October")
	// November activity must not change October's figures.
	mk("e", time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC), 120.355)
	check("October, read again after November's cases")
}
