package cases

import "time"

// The handling clock is what the indicators judge a case by (see
// StatsRow). It runs while a filed case is being handled — accepted,
// dispatched or in progress — and not parked on the backlog ledger; it
// stands still while the case waits for acceptance (a report is judged by
// the deadline only once it is filed, 立案), while the handler's answer is
// being verified (resolved, verified), and while the case is parked.
//
// A case runs past its deadline (超期) at the first moment its clock runs
// with the deadline behind it: the deadline passes while it is handled, or
// it is filed, sent back for rework or resumed after the deadline. That
// moment is a fact of the past once it has happened: extensions and
// parking are refused after the deadline (ApplyUpdate), and nothing that
// happens later takes it back.
//
// A handler's request for an extension or for parking, made before the
// deadline, holds that moment while it awaits the dispatcher's decision
// (request.go): the case does not run past its deadline then, and the
// decision settles when it does, if it does: never before the decision,
// so that no moment already past changes.

// Filed reports whether a case in status s has been filed (立案): every
// status after acceptance. A rejected report never was.
func (s Status) Filed() bool { return s != StatusReported && s != StatusRejected }

// ClockRuns reports whether the case's handling clock runs now.
func (c *Case) ClockRuns() bool {
	switch c.Status {
	case StatusAccepted, StatusDispatched, StatusInProgress:
		return c.PausedAt == nil
	}
	return false
}

// retime brings OverdueAt up to date after the case changed at t. A moment
// before t has happened and stays; otherwise, while the clock runs, the
// case runs past its deadline at the later of t and the deadline unless
// something changes first.
//
// An OverdueAt equal to t has not happened: a case is overdue only after
// its deadline (Overdue uses After), and a change at that very instant
// comes first. While a request awaits a decision the moment is not known
// yet: nil.
func (c *Case) retime(t time.Time) {
	if c.OverdueAt != nil && c.OverdueAt.Before(t) {
		return
	}
	c.OverdueAt = nil
	if c.ClockRuns() && c.Request == nil {
		m := maxTime(t, c.DueAt)
		c.OverdueAt = &m
	}
}

// arrive sets FiledAt and OverdueAt of a case stored in the status it
// arrives in (a new report, or an import of a case already under way), as
// of its report time.
func (c *Case) arrive() {
	c.FiledAt, c.OverdueAt = nil, nil
	if c.Status.Filed() {
		t := c.ReportedAt
		c.FiledAt = &t
	}
	c.retime(c.ReportedAt)
}
