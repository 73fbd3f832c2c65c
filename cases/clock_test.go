package cases

import (
	"strings"
	"testing"
	"time"

	"citygrid"
)

// TestHandlingClock plays changes on a case due Monday 23 November at
// 11:00 in Shanghai (03:00 UTC) and checks when it is filed and when it ran
// past its deadline.
func TestHandlingClock(t *testing.T) {
	cal := DefaultCalendar()
	reported := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	due := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC) }
	day2 := func(h, m int) time.Time { return time.Date(2026, 11, 24, h, m, 0, 0, time.UTC) }
	st := func(s Status) Update { return Update{Status: &s} }
	yes, no := true, false
	type step struct {
		at time.Time
		u  Update
	}
	tests := []struct {
		name    string
		arrive  Status
		steps   []step
		filed   *time.Time
		overdue *time.Time
	}{
		{"a report awaiting acceptance has no clock", StatusReported, nil, nil, nil},
		{"filed in time: due at the deadline", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}}, new(at(1, 30)), new(due)},
		{"closed before the deadline: never overdue", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(1, 40), st(StatusDispatched)}, {at(1, 50), st(StatusInProgress)},
				{at(2, 0), st(StatusResolved)}, {at(2, 10), st(StatusVerified)}, {at(2, 20), st(StatusClosed)}}, new(at(1, 30)), nil},
		{"resolved in time, verified after: the clock stood still", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(1, 40), st(StatusDispatched)}, {at(1, 50), st(StatusInProgress)},
				{at(2, 0), st(StatusResolved)}, {day2(2, 0), st(StatusVerified)}, {day2(2, 10), st(StatusClosed)}}, new(at(1, 30)), nil},
		{"ran past the deadline while handled: stays overdue once closed", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(4, 0), st(StatusDispatched)}, {at(5, 0), st(StatusInProgress)},
				{at(6, 0), st(StatusResolved)}, {at(6, 10), st(StatusVerified)}, {at(6, 20), st(StatusClosed)}}, new(at(1, 30)), new(due)},
		{"filed after the deadline: overdue when filed", StatusReported,
			[]step{{at(5, 0), st(StatusAccepted)}}, new(at(5, 0)), new(at(5, 0))},
		{"sent back for rework after the deadline: overdue then", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(1, 40), st(StatusDispatched)}, {at(1, 50), st(StatusInProgress)},
				{at(2, 0), st(StatusResolved)}, {day2(2, 0), st(StatusDispatched)}}, new(at(1, 30)), new(day2(2, 0))},
		{"extended in time: due at the new deadline", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(2, 0), Update{ExtendBy: &TimeLimit{4, WorkingHours}}}},
			new(at(1, 30)), new(at(7, 0))}, // 15:00 local
		{"parked in time: no clock while parked", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(2, 0), Update{Pause: &yes}}}, new(at(1, 30)), nil},
		{"resumed: due later by the time parked", StatusReported,
			[]step{{at(1, 30), st(StatusAccepted)}, {at(2, 0), Update{Pause: &yes}}, {day2(2, 0), Update{Pause: &no}}},
			new(at(1, 30)), new(day2(3, 0))},
		{"rejected: never filed, never due", StatusReported,
			[]step{{at(5, 0), st(StatusRejected)}}, nil, nil},
		{"merged before filing: never filed", StatusReported,
			[]step{{at(1, 1), Update{MergeInto: new(int64(9))}}}, nil, nil},
		{"arrived in progress: filed at the report, due at the deadline", StatusInProgress, nil, new(reported), new(due)},
		{"arrived closed: filed, never due", StatusClosed, nil, new(reported), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: 1, Status: tt.arrive, ReportedAt: reported, DueAt: due, Version: 1}
			c.arrive()
			for _, s := range tt.steps {
				u := s.u
				u.IfVersion, u.Now, u.Calendar = c.Version, s.at, cal
				if _, err := ApplyUpdate(c, u); err != nil {
					t.Fatalf("at %s: %v", s.at, err)
				}
			}
			if !sameTime(c.FiledAt, tt.filed) || !sameTime(c.OverdueAt, tt.overdue) {
				t.Errorf("filed %v overdue %v, want %v %v", c.FiledAt, c.OverdueAt, tt.filed, tt.overdue)
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// TestNoExtensionOrParkingAfterTheDeadline: both are asked for before the
// deadline or refused, naming it; a parked case's clock stands still, so
// it may still be extended.
func TestNoExtensionOrParkingAfterTheDeadline(t *testing.T) {
	cal := DefaultCalendar()
	due := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) // 11:00 in Shanghai
	yes := true
	ext := &TimeLimit{1, WorkingDays}
	tests := []struct {
		name   string
		paused bool
		now    time.Time
		u      Update
		ok     bool
	}{
		{"extension at the deadline", false, due, Update{ExtendBy: ext}, true},
		{"extension after the deadline", false, due.Add(time.Second), Update{ExtendBy: ext}, false},
		{"parking at the deadline", false, due, Update{Pause: &yes}, true},
		{"parking after the deadline", false, due.Add(time.Hour), Update{Pause: &yes}, false},
		{"extension of a parked case past its old deadline", true, due.Add(48 * time.Hour), Update{ExtendBy: ext}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: 7, Status: StatusInProgress, Version: 2, DueAt: due}
			if tt.paused {
				p := due.Add(-time.Hour)
				c.PausedAt = &p
			}
			u := tt.u
			u.IfVersion, u.Now, u.Calendar = 2, tt.now, cal
			_, err := ApplyUpdate(c, u)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if citygrid.ErrorCode(err) != citygrid.CodeUnprocessable || !strings.Contains(err.Error(), "was due at 2026-11-23T11:00:00+08:00") {
				t.Errorf("error = %v, want unprocessable naming the deadline", err)
			}
			if c.Version != 2 || !c.DueAt.Equal(due) || c.PausedAt != nil {
				t.Errorf("a refused update changed the case: %+v", c)
			}
		})
	}
}
