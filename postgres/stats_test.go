package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"citygrid"
	"citygrid/cases"
)

// statsScene plays cases through the store at chosen times on the small
// district (S1 west of 120.36, S2 east). The calendar is the default:
// Monday to Friday, 09:00–17:00 in Shanghai (01:00–09:00 UTC).
type statsScene struct {
	t *testing.T
	e *caseEnv
}

func newStatsScene(t *testing.T) *statsScene {
	t.Parallel()
	return &statsScene{t: t, e: newCaseEnv(t)}
}

// utc is an instant of 2026.
func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

// local is local midnight of a day of 2026 in Shanghai.
func local(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// report stores a case of category E0501 (two working hours) reported at
// at, in S1 (west) or S2 (east).
func (s *statsScene) report(id string, at time.Time, east bool) *cases.Case {
	s.t.Helper()
	lng := 120.355
	if east {
		lng = 120.365
	}
	in := input("stats", id, "E0501", lng, 36.075)
	in.ReportedAt = &at
	c, err := in.Prepare(s.e.cats, s.e.cal, s.e.loc, at)
	if err != nil {
		s.t.Fatal(err)
	}
	stored, _, err := s.e.cases.CreateCase(context.Background(), c, "")
	if err != nil {
		s.t.Fatal(err)
	}
	return stored
}

func (s *statsScene) update(c *cases.Case, at time.Time, u cases.Update) (*cases.Case, error) {
	u.IfVersion, u.Now, u.Calendar = c.Version, at, s.e.cal
	return s.e.cases.UpdateCase(context.Background(), c.ID, u)
}

func (s *statsScene) must(c *cases.Case, err error) *cases.Case {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// move takes c through the statuses, one minute apart from at.
func (s *statsScene) move(c *cases.Case, at time.Time, to ...cases.Status) *cases.Case {
	s.t.Helper()
	for i, st := range to {
		c = s.must(s.update(c, at.Add(time.Duration(i)*time.Minute), cases.Update{Status: &st}))
	}
	return c
}

// stats returns the rows of a query as known at now, checking that each
// adds up.
func (s *statsScene) stats(by cases.StatsBy, from, to, now time.Time) []cases.StatsRow {
	s.t.Helper()
	rows, err := s.e.cases.Stats(context.Background(), cases.StatsQuery{By: by, From: from, To: to, Now: now, TimeZone: "Asia/Shanghai"})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range rows {
		if err := r.Check(); err != nil {
			s.t.Error(err)
		}
	}
	return rows
}

// one returns the only row of a query.
func (s *statsScene) one(by cases.StatsBy, from, to, now time.Time) cases.StatsRow {
	s.t.Helper()
	rows := s.stats(by, from, to, now)
	if len(rows) != 1 {
		s.t.Fatalf("stats by %s = %d rows %+v, want one", by, len(rows), rows)
	}
	return rows[0]
}

// counts is a row's counts, for comparing.
type counts struct {
	Received, Filed, Rejected, Duplicates, Due, Closed, ClosedOnTime, ClosedLate, Overdue, Reworks, Extensions int
}

func countsOf(r cases.StatsRow) counts {
	return counts{r.Received, r.Filed, r.Rejected, r.Duplicates, r.Due, r.Closed, r.ClosedOnTime, r.ClosedLate, r.Overdue, r.Reworks, r.Extensions}
}

func (s *statsScene) wantCounts(label string, r cases.StatsRow, want counts) {
	s.t.Helper()
	if got := countsOf(r); got != want {
		s.t.Errorf("%s: counts\n got %+v\nwant %+v", label, got, want)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var (
	october  = [2]time.Time{local(10, 1), local(11, 1)}
	november = [2]time.Time{local(11, 1), local(12, 1)}
)

// TestStatsIndicators builds a month by hand and checks every indicator,
// then adds later activity and checks the month reads the same.
func TestStatsIndicators(t *testing.T) {
	s := newStatsScene(t)
	// Monday 12 October, 09:00 local: four reports, due at 11:00 (03:00 UTC).
	a := s.report("a", utc(10, 12, 1, 0), false)
	b := s.report("b", utc(10, 12, 1, 0), false)
	c := s.report("c", utc(10, 12, 1, 0), false)
	s.report("d", utc(10, 12, 1, 0), false) // never filed: received only
	s.move(a, utc(10, 12, 2, 0), cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed)
	b = s.move(b, utc(10, 12, 2, 0), cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved)
	// Sent back the next day, after its deadline: overdue at that moment.
	b = s.move(b, utc(10, 13, 2, 0), cases.StatusDispatched)
	s.move(b, utc(10, 14, 2, 0), cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed)
	// c is extended in time but never filed: an extension, nothing due.
	s.must(s.update(c, utc(10, 12, 2, 0), cases.Update{ExtendBy: &cases.TimeLimit{Value: 1, Unit: cases.WorkingDays}}))

	check := func(label string, now time.Time) {
		r := s.one(cases.ByStreet, october[0], october[1], now)
		if r.Key != "S1" {
			t.Errorf("%s: key %q, want S1", label, r.Key)
		}
		s.wantCounts(label, r, counts{Received: 4, Filed: 2, Due: 2, Closed: 2, ClosedOnTime: 1, ClosedLate: 1, Overdue: 1, Reworks: 1, Extensions: 1})
		for name, got := range map[string]*float64{"closure": r.ClosureRate, "on time": r.OnTimeRate, "rework": r.ReworkRate, "extension": r.ExtensionRate} {
			want := map[string]float64{"closure": 1, "on time": 0.5, "rework": 0.5, "extension": 0.5}[name]
			if got == nil || *got != want {
				t.Errorf("%s: %s rate = %v, want %v", label, name, got, want)
			}
		}
		// a took 1 h 5 min (closed at 02:05 on the 12th), b 49 h 3 min
		// (02:03 on the 14th): the median is halfway, in seconds as
		// PostgreSQL interpolates.
		if want := (3900 + 0.5*(176580-3900)) / 3600; r.MedianHoursToClose == nil || *r.MedianHoursToClose != want {
			t.Errorf("%s: median hours to close = %v, want %v", label, r.MedianHoursToClose, want)
		}
	}
	check("October", utc(11, 23, 3, 0))
	before := jsonOf(s.stats(cases.ByStreet, october[0], october[1], utc(11, 23, 3, 0)))
	s.move(s.report("e", utc(11, 2, 1, 0), false), utc(11, 2, 2, 0), cases.StatusAccepted)
	check("October, read again after November's cases", utc(11, 23, 3, 0))
	check("October, read in December", utc(12, 15, 0, 0))
	if after := jsonOf(s.stats(cases.ByStreet, october[0], october[1], utc(12, 15, 0, 0))); after != before {
		t.Errorf("October changed:\nbefore %s\nafter  %s", before, after)
	}
}

// TestStatsPeriodStillRunning: a period not over counts what has happened
// until now, so a deadline still to come (or coming now) is neither due
// nor overdue.
func TestStatsPeriodStillRunning(t *testing.T) {
	s := newStatsScene(t)
	c := s.report("a", utc(11, 23, 1, 0), false) // due 03:00 UTC
	s.wantCounts("at the report", s.one(cases.ByStreet, november[0], november[1], utc(11, 23, 1, 0)),
		counts{Received: 1})
	s.move(c, utc(11, 23, 1, 30), cases.StatusAccepted)
	s.wantCounts("before the deadline", s.one(cases.ByStreet, november[0], november[1], utc(11, 23, 2, 0)),
		counts{Received: 1, Filed: 1})
	s.wantCounts("at the deadline", s.one(cases.ByStreet, november[0], november[1], utc(11, 23, 3, 0)),
		counts{Received: 1, Filed: 1})
	s.wantCounts("after the deadline", s.one(cases.ByStreet, november[0], november[1], utc(11, 23, 3, 1)),
		counts{Received: 1, Filed: 1, Due: 1, Overdue: 1})
}

// TestStatsDuplicates: a merged duplicate counts as a duplicate only, in
// the period of the merge; a period that ended before the merge knew it as
// a report.
func TestStatsDuplicates(t *testing.T) {
	s := newStatsScene(t)
	orig := s.report("orig", utc(11, 23, 1, 0), false)
	dup := s.report("dup", utc(11, 23, 1, 0), false)
	s.must(s.update(dup, utc(11, 23, 1, 0).Add(time.Second), cases.Update{MergeInto: &orig.ID}))
	r := s.one(cases.ByStreet, november[0], november[1], utc(11, 23, 2, 0))
	s.wantCounts("merged within a second", r, counts{Received: 1, Duplicates: 1})
	if r.ClosureRate != nil || r.MedianHoursToClose != nil {
		t.Errorf("merged within a second: closure rate %v, median %v, want none", r.ClosureRate, r.MedianHoursToClose)
	}

	late := s.report("late-dup", utc(10, 30, 1, 0), true)
	old := s.report("old-orig", utc(10, 30, 1, 0), true)
	s.must(s.update(late, utc(11, 2, 2, 0), cases.Update{MergeInto: &old.ID}))
	s.wantCounts("October, before the merge", s.one(cases.ByStreet, october[0], october[1], utc(11, 23, 2, 0)),
		counts{Received: 2})
	rows := s.stats(cases.ByStreet, november[0], november[1], utc(11, 23, 2, 0))
	if len(rows) != 2 || rows[1].Key != "S2" {
		t.Fatalf("November = %+v, want S1 and S2", rows)
	}
	s.wantCounts("November, S2", rows[1], counts{Duplicates: 1})
}

// TestStatsRejected: a rejected report is received and rejected, never due
// or closed.
func TestStatsRejected(t *testing.T) {
	s := newStatsScene(t)
	c := s.report("r", utc(10, 12, 1, 0), false)
	s.move(c, utc(10, 12, 5, 0), cases.StatusRejected) // after its deadline: it was never filed
	r := s.one(cases.ByStreet, october[0], october[1], utc(11, 23, 0, 0))
	s.wantCounts("rejected", r, counts{Received: 1, Rejected: 1})
	if r.OnTimeRate != nil || r.ClosureRate != nil {
		t.Errorf("rates %v %v, want none", r.OnTimeRate, r.ClosureRate)
	}
}

// TestStatsOverdueStays: once a case has run past its deadline, neither an
// extension nor parking is accepted (422, naming the deadline), and the
// period it happened in keeps it as overdue after the case is closed.
func TestStatsOverdueStays(t *testing.T) {
	s := newStatsScene(t)
	c := s.report("x", utc(10, 12, 1, 0), false)
	c = s.move(c, utc(10, 12, 1, 30), cases.StatusAccepted, cases.StatusDispatched)
	want := counts{Received: 1, Filed: 1, Due: 1, Overdue: 1}
	s.wantCounts("October", s.one(cases.ByStreet, october[0], october[1], utc(11, 2, 0, 0)), want)
	before := jsonOf(s.stats(cases.ByStreet, october[0], october[1], utc(11, 2, 0, 0)))
	yes := true
	for name, u := range map[string]cases.Update{
		"extension": {ExtendBy: &cases.TimeLimit{Value: 3, Unit: cases.WorkingDays}},
		"parking":   {Pause: &yes},
	} {
		_, err := s.update(c, utc(11, 2, 2, 0), u)
		if citygrid.ErrorCode(err) != citygrid.CodeUnprocessable || !contains(err, "2026-10-12T11:00:00+08:00") {
			t.Errorf("%s after the deadline: %v, want unprocessable naming the deadline", name, err)
		}
	}
	s.move(c, utc(11, 2, 2, 0), cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed)
	if after := jsonOf(s.stats(cases.ByStreet, october[0], october[1], utc(11, 23, 0, 0))); after != before {
		t.Errorf("October changed:\nbefore %s\nafter  %s", before, after)
	}
	// It fell due in October: November does not count it again.
	if rows := s.stats(cases.ByStreet, november[0], november[1], utc(11, 23, 0, 0)); len(rows) != 0 {
		t.Errorf("November = %+v, want nothing", rows)
	}
	s.wantCounts("October and November", s.one(cases.ByStreet, october[0], november[1], utc(11, 23, 0, 0)),
		counts{Received: 1, Filed: 1, Due: 1, Overdue: 1, Closed: 1, ClosedLate: 1})
}

// TestStatsByDay: one row per day of the period, in the calendar's time
// zone, each counting what happened that day.
func TestStatsByDay(t *testing.T) {
	s := newStatsScene(t)
	// Monday 12 October: reported 09:00, filed 09:30, overdue after 11:00;
	// closed on Tuesday.
	a := s.report("a", utc(10, 12, 1, 0), false)
	a = s.move(a, utc(10, 12, 1, 30), cases.StatusAccepted)
	s.move(a, utc(10, 13, 2, 0), cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved, cases.StatusVerified, cases.StatusClosed)
	// 17:30 UTC on the 12th is 01:30 on the 13th in Shanghai.
	s.report("b", utc(10, 12, 17, 30), true)
	now := utc(11, 23, 0, 0)
	rows := s.stats(cases.ByDay, local(10, 12), local(10, 15), now)
	want := []struct {
		key string
		c   counts
	}{
		{"2026-10-12", counts{Received: 1, Filed: 1, Due: 1, Overdue: 1}},
		{"2026-10-13", counts{Received: 1}},
		{"2026-10-14", counts{}},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows %+v, want %d", len(rows), rows, len(want))
	}
	for i, w := range want {
		if rows[i].Key != w.key {
			t.Errorf("row %d is %q, want %q", i, rows[i].Key, w.key)
		}
		s.wantCounts(w.key, rows[i], w.c)
	}
	if rows := s.stats(cases.ByDay, local(10, 12), local(10, 13), now); len(rows) != 1 {
		t.Errorf("one day: %d rows, want 1", len(rows))
	}
	// Cut mid-day: 10:00 to 12:00 local on the 12th holds the overdue moment only.
	s.wantCounts("two hours", s.one(cases.ByDay, local(10, 12).Add(10*time.Hour), local(10, 12).Add(12*time.Hour), now),
		counts{Due: 1, Overdue: 1})
	// A period of days not yet come: zero rows.
	for _, r := range s.stats(cases.ByDay, local(11, 23), local(11, 26), utc(11, 23, 0, 0)) {
		s.wantCounts("days to come "+r.Key, r, counts{})
	}
}

// TestStatsGroupsAtPeriodEnd: a case counts in the group it had at the
// period's end; re-assigning it or moving it on later does not change a
// past period.
func TestStatsGroupsAtPeriodEnd(t *testing.T) {
	s := newStatsScene(t)
	c := s.report("a", utc(10, 12, 1, 0), false) // G1, S1
	c = s.move(c, utc(10, 12, 1, 30), cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress)
	now := utc(11, 23, 0, 0)
	before := map[cases.StatsBy]string{}
	for _, by := range []cases.StatsBy{cases.ByStreet, cases.ByCommunity, cases.ByGrid, cases.ByUnit, cases.ByStatus, cases.ByCategory} {
		before[by] = jsonOf(s.stats(by, october[0], october[1], now))
	}
	if r := s.one(cases.ByStatus, october[0], october[1], now); r.Key != "in_progress" {
		t.Errorf("October by status: %q, want in_progress", r.Key)
	}
	g3, u2 := "G3", "U2"
	c = s.must(s.update(c, utc(11, 3, 2, 0), cases.Update{Grid: &g3, Unit: &u2}))
	s.move(c, utc(11, 3, 3, 0), cases.StatusResolved, cases.StatusVerified, cases.StatusClosed)
	for by, want := range before {
		if got := jsonOf(s.stats(by, october[0], october[1], now)); got != want {
			t.Errorf("October by %s changed:\nbefore %s\nafter  %s", by, want, got)
		}
	}
	// Judged at November's end, the case is in S2 and closed.
	for by, key := range map[cases.StatsBy]string{cases.ByStreet: "S2", cases.ByStatus: "closed", cases.ByUnit: "U2"} {
		if r := s.one(by, october[0], november[1], now); r.Key != key {
			t.Errorf("October and November by %s: %q, want %q", by, r.Key, key)
		}
	}
}

func contains(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}
