package cases

import (
	"errors"
	"strings"
	"testing"
	"time"

	"citygrid"
)

func TestTransitions(t *testing.T) {
	legal := map[[2]Status]bool{
		{StatusReported, StatusAccepted}: true, {StatusReported, StatusRejected}: true,
		{StatusAccepted, StatusDispatched}: true, {StatusDispatched, StatusInProgress}: true,
		{StatusInProgress, StatusResolved}: true, {StatusResolved, StatusVerified}: true,
		{StatusResolved, StatusDispatched}: true, {StatusVerified, StatusClosed}: true,
		{StatusVerified, StatusDispatched}: true,
	}
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	for _, from := range Statuses {
		for _, to := range Statuses {
			if from == to {
				continue
			}
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				c := &Case{ID: 1, Status: from, Version: 4, DueAt: now.Add(time.Hour)}
				events, err := ApplyUpdate(c, Update{Status: &to, IfVersion: 4, Now: now, Actor: "a", Calendar: DefaultCalendar()})
				if legal[[2]Status{from, to}] {
					if err != nil {
						t.Fatalf("legal transition refused: %v", err)
					}
					if c.Status != to || c.Version != 5 || len(events) != 1 || events[0].From != string(from) || events[0].To != string(to) {
						t.Errorf("after update: status %s version %d events %+v", c.Status, c.Version, events)
					}
					if to.Final() != (c.ClosedAt != nil) {
						t.Errorf("closed_at = %v for status %s", c.ClosedAt, to)
					}
					return
				}
				if citygrid.ErrorCode(err) != citygrid.CodeUnprocessable {
					t.Fatalf("illegal transition error = %v, want unprocessable", err)
				}
				if c.Status != from || c.Version != 4 {
					t.Errorf("a refused update changed the case: %s v%d", c.Status, c.Version)
				}
			})
		}
	}
}

// TestRefusedTransitionsNameTheRule: a refused status change says which
// field and why: a final status takes no further status; otherwise where
// the case may go.
func TestRefusedTransitionsNameTheRule(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		from, to Status
		want     string
	}{
		{StatusClosed, StatusDispatched, "status: case 1 is closed, a final status: a case that has left the loop takes no further status"},
		{StatusRejected, StatusAccepted, "status: case 1 is rejected, a final status"},
		{StatusReported, StatusClosed, "status: case 1 cannot move from reported to closed: from reported it may move to accepted, rejected"},
	}
	for _, tt := range tests {
		c := &Case{ID: 1, Status: tt.from, Version: 1, DueAt: now}
		_, err := ApplyUpdate(c, Update{Status: &tt.to, IfVersion: 1, Now: now, Calendar: DefaultCalendar()})
		var e *citygrid.Error
		if !errors.As(err, &e) || e.Code != citygrid.CodeUnprocessable || !strings.Contains(e.Message, tt.want) {
			t.Errorf("%s → %s: %v, want unprocessable %q", tt.from, tt.to, err, tt.want)
		}
	}
}

func TestApplyUpdateRules(t *testing.T) {
	cal := DefaultCalendar()
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // Monday 10:00 in Shanghai
	due := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC) // Monday 14:00
	open := func() *Case { return &Case{ID: 7, Status: StatusDispatched, Version: 2, DueAt: due} }
	yes, no := true, false
	t.Run("stale version", func(t *testing.T) {
		st := StatusInProgress
		if _, err := ApplyUpdate(open(), Update{Status: &st, IfVersion: 1, Now: now}); citygrid.ErrorCode(err) != citygrid.CodePrecondition {
			t.Errorf("error = %v, want precondition", err)
		}
	})
	t.Run("extension moves the deadline on the calendar", func(t *testing.T) {
		c := open()
		if _, err := ApplyUpdate(c, Update{ExtendBy: &TimeLimit{4, WorkingHours}, IfVersion: 2, Now: now, Calendar: cal}); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC); !c.DueAt.Equal(want) { // Tuesday 10:00
			t.Errorf("due = %s, want %s", c.DueAt, want)
		}
	})
	t.Run("parking stops the clock", func(t *testing.T) {
		c := open()
		if _, err := ApplyUpdate(c, Update{Pause: &yes, IfVersion: 2, Now: now, Calendar: cal}); err != nil {
			t.Fatal(err)
		}
		if c.Overdue(now.Add(48 * time.Hour)) {
			t.Error("a parked case is overdue")
		}
		st := StatusInProgress
		if _, err := ApplyUpdate(c, Update{Status: &st, IfVersion: 3, Now: now}); citygrid.ErrorCode(err) != citygrid.CodeUnprocessable {
			t.Errorf("moving a parked case: error = %v, want unprocessable", err)
		}
		// Resumed a day later (8 working hours), the deadline moves 8 working hours.
		later := now.Add(24 * time.Hour)
		if _, err := ApplyUpdate(c, Update{Pause: &no, IfVersion: 3, Now: later, Calendar: cal}); err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC); !c.DueAt.Equal(want) || c.PausedAt != nil {
			t.Errorf("due = %s paused %v, want %s and not paused", c.DueAt, c.PausedAt, want)
		}
	})
	t.Run("merge closes the duplicate", func(t *testing.T) {
		c := open()
		into := int64(3)
		if _, err := ApplyUpdate(c, Update{MergeInto: &into, IfVersion: 2, Now: now}); err != nil {
			t.Fatal(err)
		}
		if c.Status != StatusClosed || c.MergedInto == nil || *c.MergedInto != 3 {
			t.Errorf("after merge: %s into %v", c.Status, c.MergedInto)
		}
		self := int64(7)
		if _, err := ApplyUpdate(open(), Update{MergeInto: &self, IfVersion: 2, Now: now}); err == nil {
			t.Error("merging a case into itself succeeded")
		}
	})
	t.Run("nothing to change", func(t *testing.T) {
		if _, err := ApplyUpdate(open(), Update{IfVersion: 2, Now: now}); citygrid.ErrorCode(err) != citygrid.CodeInvalid {
			t.Errorf("error = %v, want invalid", err)
		}
	})
	t.Run("overdue is derived", func(t *testing.T) {
		c := open()
		if c.Overdue(due.Add(-time.Minute)) || !c.Overdue(due.Add(time.Minute)) {
			t.Error("overdue wrong around the deadline")
		}
		c.Status = StatusResolved
		if c.Overdue(due.Add(time.Hour)) {
			t.Error("a resolved case is overdue")
		}
	})
}
