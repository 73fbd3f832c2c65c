package cases

import (
	"fmt"
	"time"

	"citygrid"
)

// A handler who cannot finish in time asks the dispatcher for an extension
// (延期申请) or for parking (挂账申请) before the deadline; the dispatcher
// approves or declines. One request at a time awaits a decision, and it is
// kept on the case (Case.Request), so that the pending request is known
// without reading the history.
//
// A request made in time holds the deadline: while it awaits a decision
// the case does not run past its deadline (see retime), and an approval
// takes effect as of the request, even when it comes after the deadline:
// an extension moves the deadline from where it was, as a direct one
// would have; parking stops the clock from the moment it was asked for. A
// decline lets the clock run as before: a case whose deadline is behind it
// runs past it at the decline. Handlers are judged by the deadline they
// asked about, not by how long the decision took.
//
// A request lapses when the case leaves the open statuses (resolved,
// rejected, merged) before it is decided: there is nothing left to extend
// or park.

// RequestKind is what a handler asks for.
type RequestKind string

const (
	RequestExtension RequestKind = "extension"
	RequestPause     RequestKind = "pause"
)

// Request is a handler's request awaiting the dispatcher's decision.
type Request struct {
	// Event is the id of the request's event in the history: the id a
	// decision names. Zero until the store has recorded it.
	Event int64       `json:"event"`
	Kind  RequestKind `json:"kind"`
	At    time.Time   `json:"at"`
	// Extension is the extension asked for (Kind extension).
	Extension *TimeLimit `json:"extension,omitempty"`
}

// Event kinds of requests and decisions. An approval is recorded as the
// change it makes: an "extend" or "pause" event whose data names the
// request ({"request": id}).
const (
	EventExtensionRequested = "extension_requested"
	EventPauseRequested     = "pause_requested"
	EventDeclined           = "declined"
	EventLapsed             = "lapsed"
	EventReturned           = "returned"
)

// RequestEventKind is the kind of the event that records a request of
// kind k.
func RequestEventKind(k RequestKind) string {
	if k == RequestPause {
		return EventPauseRequested
	}
	return EventExtensionRequested
}

// Returns counts the returns (退单) in a case's history: a case returned
// twice is disputed.
func Returns(history []Event) int {
	n := 0
	for _, e := range history {
		if e.Kind == EventReturned {
			n++
		}
	}
	return n
}

// fieldProblem is an error of code about one field of an update, named in
// the message and in the problem's "field" member.
func fieldProblem(code citygrid.Code, field, format string, a ...any) *citygrid.Error {
	e := citygrid.Errorf(code, "%s: %s", field, fmt.Sprintf(format, a...))
	e.Details = map[string]any{"field": field}
	return e
}

// checkRequestShape refuses what no case could take: a return without its
// status, more than one request or decision at once, an extension asked
// for out of range.
func checkRequestShape(u *Update) error {
	if u.Returned && (u.Status == nil || *u.Status != StatusAccepted) {
		return fieldProblem(citygrid.CodeInvalid, "returned",
			`a return (退单) sends the case back to acceptance: give "status": "accepted" with it`)
	}
	if u.Approve != nil && u.Decline != nil {
		return fieldProblem(citygrid.CodeInvalid, "decline", "approve and decline exclude each other: a request is decided one way")
	}
	var named []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"request_extension", u.RequestExtension != nil}, {"request_pause", u.RequestPause}, {"approve", u.Approve != nil}, {"decline", u.Decline != nil}} {
		if f.set {
			named = append(named, f.name)
		}
	}
	if len(named) > 1 {
		return fieldProblem(citygrid.CodeInvalid, named[1], "cannot go with %s: one request or decision at a time", named[0])
	}
	if r := u.RequestExtension; r != nil && !validExtension(*r) {
		return fieldProblem(citygrid.CodeInvalid, "request_extension", "want 1 to 1000 working_hours or working_days")
	}
	return nil
}

func validExtension(l TimeLimit) bool {
	return l.Value > 0 && l.Value <= 1000 && (l.Unit == WorkingHours || l.Unit == WorkingDays)
}

// decide applies an approval or a decline of the pending request.
func decide(next *Case, u Update, event func(kind, from, to string, data any)) error {
	id, field := u.Approve, "approve"
	if id == nil {
		id, field = u.Decline, "decline"
	}
	if id == nil {
		return nil
	}
	req := next.Request
	switch {
	case req == nil:
		return fieldProblem(citygrid.CodeUnprocessable, field, "case %d has no request awaiting a decision (event %d is none, or was decided): GET /v1/cases/%d/history lists its requests and decisions", next.ID, *id, next.ID)
	case req.Event != *id:
		return fieldProblem(citygrid.CodeUnprocessable, field, "event %d is not the request of case %d awaiting a decision: that is event %d", *id, next.ID, req.Event)
	}
	next.Request = nil
	if u.Decline != nil {
		event(EventDeclined, "", "", map[string]any{"request": req.Event, "kind": req.Kind})
		return nil
	}
	switch req.Kind {
	case RequestExtension:
		if !next.Status.Open() {
			return fieldProblem(citygrid.CodeUnprocessable, field, "case %d is %s: only open cases can be extended", next.ID, next.Status)
		}
		old := next.DueAt
		next.DueAt = u.Calendar.AddWorking(next.DueAt, req.Extension.Duration(u.Calendar))
		event("extend", "", "", map[string]any{"by": req.Extension, "due_from": old, "due_to": next.DueAt, "request": req.Event})
	case RequestPause:
		if !next.Status.Open() || next.PausedAt != nil {
			return fieldProblem(citygrid.CodeUnprocessable, field, "case %d is %s: only open cases that are not parked can be parked", next.ID, next.Status)
		}
		// Parked as of the request: the clock stood still from then on,
		// and a resume moves the deadline by the working time since.
		since := req.At
		next.PausedAt = &since
		event("pause", "", "", map[string]any{"request": req.Event, "since": since})
	}
	return nil
}

// request records a handler's request for an extension or for parking.
func request(next *Case, u Update, event func(kind, from, to string, data any)) error {
	if u.RequestExtension == nil && !u.RequestPause {
		return nil
	}
	kind, field, what := RequestExtension, "request_extension", "an extension"
	if u.RequestPause {
		kind, field, what = RequestPause, "request_pause", "parking"
	}
	if err := deadlineWorkAllowed(next, u, field, what, false); err != nil {
		return err
	}
	r := &Request{Kind: kind, At: u.Now}
	var data any
	if kind == RequestExtension {
		ext := *u.RequestExtension
		r.Extension, data = &ext, ext
	}
	next.Request = r
	event(RequestEventKind(kind), "", "", data)
	return nil
}

// deadlineWorkAllowed says why the deadline of next cannot be extended or
// its clock stopped now (what names which), directly or by request: it is
// asked for while the case is open, not parked and before its deadline,
// and never beside a request that awaits a decision. A dispatcher may
// still extend a parked case directly (parkedOK): its clock stands still,
// so its deadline is not behind it.
func deadlineWorkAllowed(next *Case, u Update, field, what string, parkedOK bool) error {
	switch {
	case !next.Status.Open():
		return fieldProblem(citygrid.CodeUnprocessable, field, "case %d is %s: %s is asked for while a case is open", next.ID, next.Status, what)
	case next.PausedAt != nil && !parkedOK:
		return fieldProblem(citygrid.CodeUnprocessable, field, "case %d is parked on the backlog ledger: its clock stands still already", next.ID)
	case next.Request != nil:
		return pendingRequest(next, field)
	case pastDeadline(next, u.Now):
		return fieldProblem(citygrid.CodeUnprocessable, field, "case %d was due at %s: %s is asked for before the deadline, not after", next.ID, deadlineText(next.DueAt, u.Calendar), what)
	}
	return nil
}

// lapse ends a request that can no longer be decided: its case left the
// open statuses.
func lapse(next *Case, event func(kind, from, to string, data any)) {
	if next.Request == nil || next.Status.Open() {
		return
	}
	event(EventLapsed, "", "", map[string]any{"request": next.Request.Event, "kind": next.Request.Kind, "because": next.Status})
	next.Request = nil
}

// pendingRequest refuses a direct extension or parking (field) beside a
// request awaiting a decision: the request is answered first, so that one
// question does not get two answers.
func pendingRequest(next *Case, field string) error {
	if next.Request == nil {
		return nil
	}
	return fieldProblem(citygrid.CodeUnprocessable, field, "case %d has a request for %s awaiting a decision (event %d): approve or decline it first",
		next.ID, next.Request.Kind, next.Request.Event)
}
