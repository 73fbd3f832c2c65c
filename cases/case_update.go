package cases

import (
	"encoding/json"
	"time"

	"citygrid"
)

// ApplyUpdate applies u to c (the stored case, locked by the caller) and
// returns the events to record. A stale version is CodePrecondition; an
// illegal change is CodeUnprocessable. c is changed only when it succeeds.
//
// An extension (延期) or parking (挂账) is asked for before the deadline or
// not at all: once a case has run past its deadline it stays overdue, in
// the case list and in the indicators of the period it happened in. A
// handler's request made in time may be decided after it (request.go).
//
// The parts of an update apply in a fixed order: a merge, the decision on
// a request, the status change, the re-assignment, a direct extension or
// parking, a new request; a request the case can no longer take lapses
// last.
func ApplyUpdate(c *Case, u Update) ([]Event, error) {
	// The database keeps microseconds: times in the events' data must be
	// the ones stored, or the history would not rebuild the case exactly.
	u.Now = u.Now.Truncate(time.Microsecond)
	if err := checkRequestShape(&u); err != nil {
		return nil, err
	}
	if u.IfVersion != c.Version {
		return nil, citygrid.Errorf(citygrid.CodePrecondition, "case %d is at version %d, not %d: reload it and try again", c.ID, c.Version, u.IfVersion)
	}
	next := *c
	var events []Event
	event := func(kind, from, to string, data any) {
		e := Event{At: u.Now, Actor: u.Actor, Kind: kind, From: from, To: to, Note: u.Note}
		if data != nil {
			e.Data, _ = json.Marshal(data)
		}
		events = append(events, e)
	}
	unprocessable := func(format string, a ...any) error {
		return citygrid.Errorf(citygrid.CodeUnprocessable, format, a...)
	}
	if u.MergeInto != nil {
		if *u.MergeInto == c.ID {
			return nil, unprocessable("a case cannot be merged into itself")
		}
		if c.Status.Final() {
			return nil, unprocessable("case %d is already %s", c.ID, c.Status)
		}
		next.Status = StatusClosed
		next.MergedInto = u.MergeInto
		now := u.Now
		next.ClosedAt = &now
		event("merge", string(c.Status), string(StatusClosed), map[string]int64{"into": *u.MergeInto})
	}
	if err := decide(&next, u, event); err != nil {
		return nil, err
	}
	if u.Returned && !canReturn(next.Status) {
		return nil, fieldProblem(citygrid.CodeUnprocessable, "returned", "case %d is %s: a case is returned (退单) from %s", c.ID, next.Status, joinStatuses(returnFrom))
	}
	if u.Status != nil && *u.Status != next.Status {
		to := *u.Status
		if next.Status.Final() {
			return nil, unprocessable("status: case %d is %s, a final status: a case that has left the loop takes no further status (a problem found again is a new case)", c.ID, next.Status)
		}
		kind := "status"
		switch {
		case u.Returned: // from where a return goes (checked above)
			kind = EventReturned
		case !next.Status.CanMoveTo(to):
			hint := ""
			if to == StatusAccepted && canReturn(next.Status) {
				hint = ` (to give it back to the dispatcher, 退单, add "returned": true)`
			}
			return nil, unprocessable("status: case %d cannot move from %s to %s: from %s it may move to %s%s", c.ID, next.Status, to, next.Status, joinStatuses(next.Status.Next()), hint)
		}
		if next.PausedAt != nil && to != StatusRejected {
			return nil, unprocessable("case %d is parked on the backlog ledger: resume it first", c.ID)
		}
		event(kind, string(next.Status), string(to), nil)
		next.Status = to
		if to == StatusAccepted && next.FiledAt == nil {
			now := u.Now
			next.FiledAt = &now
		}
		if to.Final() {
			now := u.Now
			next.ClosedAt = &now
		}
	}
	if err := reassign(&next, u, event); err != nil {
		return nil, err
	}
	if u.ExtendBy != nil {
		if !validExtension(*u.ExtendBy) {
			return nil, fieldProblem(citygrid.CodeInvalid, "extend", "want 1 to 1000 working_hours or working_days")
		}
		if err := deadlineWorkAllowed(&next, u, "extend", "an extension", true); err != nil {
			return nil, err
		}
		old := next.DueAt
		next.DueAt = u.Calendar.AddWorking(next.DueAt, u.ExtendBy.Duration(u.Calendar))
		event("extend", "", "", map[string]any{"by": u.ExtendBy, "due_from": old, "due_to": next.DueAt})
	}
	if u.Pause != nil {
		switch {
		case *u.Pause:
			if err := deadlineWorkAllowed(&next, u, "pause", "parking", false); err != nil {
				return nil, err
			}
			now := u.Now
			next.PausedAt = &now
			event("pause", "", "", nil)
		case next.PausedAt == nil:
			return nil, unprocessable("case %d is not parked", c.ID)
		default:
			// The clock stood still while parked: the deadline moves by the
			// working time that passed.
			stopped := u.Calendar.WorkingBetween(*next.PausedAt, u.Now)
			old := next.DueAt
			next.DueAt = u.Calendar.AddWorking(next.DueAt, stopped)
			next.PausedAt = nil
			event("resume", "", "", map[string]any{"stopped_working_hours": stopped.Hours(), "due_from": old, "due_to": next.DueAt})
		}
	}
	if err := request(&next, u, event); err != nil {
		return nil, err
	}
	lapse(&next, event)
	if next.Status.Final() && next.PausedAt != nil {
		// A case that leaves the loop (rejected, or closed as a duplicate)
		// leaves the backlog ledger too: a closed case shown as parked
		// would be neither. Its clock stood still while parked, so the
		// deadline moves as a resume moves it, and closed-on-time is judged
		// on the clock that ran.
		data := map[string]any{"because": next.Status}
		if u.Calendar != nil {
			old := next.DueAt
			stopped := u.Calendar.WorkingBetween(*next.PausedAt, u.Now)
			next.DueAt = u.Calendar.AddWorking(next.DueAt, stopped)
			data["stopped_working_hours"], data["due_from"], data["due_to"] = stopped.Hours(), old, next.DueAt
		}
		next.PausedAt = nil
		event("resume", "", "", data)
	}
	if len(events) == 0 {
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "the update changes nothing")
	}
	next.Version++
	next.UpdatedAt = u.Now
	next.retime(u.Now)
	*c = next
	return events, nil
}

// pastDeadline reports whether c's deadline is behind it at now. A parked
// case's clock stands still, so it is not: its deadline moves on when it
// resumes.
func pastDeadline(c *Case, now time.Time) bool {
	return c.PausedAt == nil && now.After(c.DueAt)
}

// deadlineText shows a deadline in the calendar's time zone, as the
// dispatcher knows it.
func deadlineText(t time.Time, cal *Calendar) string {
	if cal != nil && cal.loc != nil {
		t = t.In(cal.loc)
	}
	return t.Format(time.RFC3339)
}
