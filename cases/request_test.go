package cases

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"citygrid"
)

// play applies the updates to c in order at their times, numbering the
// events as a store would (from 100), and returns every event.
func play(t *testing.T, c *Case, steps []step) []Event {
	t.Helper()
	var all []Event
	for i, s := range steps {
		u := s.u
		u.IfVersion, u.Now, u.Calendar, u.Actor = c.Version, s.at, DefaultCalendar(), "someone"
		events, err := ApplyUpdate(c, u)
		if err != nil {
			t.Fatalf("step %d at %s: %v", i, s.at, err)
		}
		for j := range events {
			events[j].ID = int64(100 + len(all) + j)
			if c.Request != nil && c.Request.Event == 0 && events[j].Kind == RequestEventKind(c.Request.Kind) {
				c.Request.Event = events[j].ID
			}
		}
		all = append(all, events...)
	}
	return all
}

type step struct {
	at time.Time
	u  Update
}

// TestRequestsAndDecisions plays requests and decisions on a case due
// Monday 23 November at 11:00 in Shanghai (03:00 UTC), filed at 09:30, and
// checks its deadline, its clock and when it ran past its deadline.
func TestRequestsAndDecisions(t *testing.T) {
	reported := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	due := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC) }
	day2 := func(h, m int) time.Time { return time.Date(2026, 11, 24, h, m, 0, 0, time.UTC) }
	st := func(s Status) Update { return Update{Status: &s} }
	ask := func(v int, unit string) Update { return Update{RequestExtension: &TimeLimit{v, unit}} }
	askPause := Update{RequestPause: true}
	// The request is the fourth event (accept, dispatch, start, request):
	// event 103.
	approve, decline := Update{Approve: new(int64(103))}, Update{Decline: new(int64(103))}
	no := false
	handled := []step{{at(1, 30), st(StatusAccepted)}, {at(1, 40), st(StatusDispatched)}, {at(1, 50), st(StatusInProgress)}}
	tests := []struct {
		name    string
		steps   []step
		due     time.Time
		overdue *time.Time
		paused  *time.Time
		kinds   string // of the events after the handling's three
	}{
		{"asked in time, approved before the deadline", []step{{at(2, 0), ask(4, WorkingHours)}, {at(2, 30), approve}},
			at(7, 0), new(at(7, 0)), nil, "extension_requested extend"},
		{"asked in time, approved after the deadline: from the old deadline, never overdue",
			[]step{{at(2, 0), ask(4, WorkingHours)}, {at(5, 0), approve}}, at(7, 0), new(at(7, 0)), nil, "extension_requested extend"},
		{"approved after even the new deadline: overdue at the approval",
			[]step{{at(2, 0), ask(4, WorkingHours)}, {day2(2, 0), approve}}, at(7, 0), new(day2(2, 0)), nil, "extension_requested extend"},
		{"declined after the deadline: overdue at the decline", []step{{at(2, 0), askPause}, {at(5, 0), decline}},
			due, new(at(5, 0)), nil, "pause_requested declined"},
		{"declined before the deadline: overdue at the deadline", []step{{at(2, 0), ask(1, WorkingDays)}, {at(2, 30), decline}},
			due, new(due), nil, "extension_requested declined"},
		{"parking approved after the deadline: parked since the request", []step{{at(2, 0), askPause}, {at(5, 0), approve}},
			due, nil, new(at(2, 0)), "pause_requested pause"},
		{"resumed: the deadline moves by the working time since the request",
			[]step{{at(2, 0), askPause}, {at(5, 0), approve}, {day2(2, 0), Update{Pause: &no}}},
			day2(3, 0), new(day2(3, 0)), nil, "pause_requested pause resume"},
		{"resolved while asking: the request lapses, and the case was never overdue",
			[]step{{at(2, 0), ask(1, WorkingDays)}, {at(4, 0), st(StatusResolved)}}, due, nil, nil, "extension_requested status lapsed"},
		{"awaiting a decision past the deadline: not yet overdue", []step{{at(2, 0), ask(1, WorkingDays)}}, due, nil, nil, "extension_requested"},
		{"returned: back to acceptance, the clock runs on", []step{{at(2, 0), Update{Status: new(StatusAccepted), Returned: true}}},
			due, new(due), nil, "returned"},
		{"returned twice, dispatched again after the deadline", []step{{at(2, 0), Update{Status: new(StatusAccepted), Returned: true}},
			{at(2, 10), st(StatusDispatched)}, {at(2, 20), Update{Status: new(StatusAccepted), Returned: true}},
			{at(4, 0), st(StatusDispatched)}}, due, new(due), nil, "returned status returned status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: 7, Status: StatusReported, Version: 1, ReportedAt: reported, DueAt: due}
			c.arrive()
			events := play(t, c, append(append([]step{}, handled...), tt.steps...))
			var kinds []string
			for _, e := range events[3:] {
				kinds = append(kinds, e.Kind)
			}
			if got := strings.Join(kinds, " "); got != tt.kinds {
				t.Errorf("events %s, want %s", got, tt.kinds)
			}
			if !c.DueAt.Equal(tt.due) {
				t.Errorf("due %s, want %s", c.DueAt, tt.due)
			}
			if !sameTime(c.OverdueAt, tt.overdue) {
				t.Errorf("overdue at %v, want %v", c.OverdueAt, tt.overdue)
			}
			if !sameTime(c.PausedAt, tt.paused) {
				t.Errorf("paused at %v, want %v", c.PausedAt, tt.paused)
			}
			if *c.FiledAt != at(1, 30) {
				t.Errorf("filed at %v", c.FiledAt)
			}
			if c.Request != nil && strings.Contains(tt.kinds, " ") {
				t.Errorf("a decided or lapsed request is still pending: %+v", c.Request)
			}
		})
	}
}

// TestDecisionsNameTheRequest: the events of a request and its decision
// carry what a history needs: the value asked, the request's id.
func TestDecisionsNameTheRequest(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	c := &Case{ID: 7, Status: StatusInProgress, Version: 1, ReportedAt: now.Add(-time.Hour), DueAt: now.Add(time.Hour)}
	events := play(t, c, []step{{now, Update{RequestExtension: &TimeLimit{2, WorkingDays}}}})
	if string(events[0].Data) != `{"value":2,"unit":"working_days"}` || c.Request.Event != 100 || !c.Request.At.Equal(now) {
		t.Fatalf("request: event %+v, pending %+v", events[0], c.Request)
	}
	events = play(t, c, []step{{now.Add(2 * time.Hour), Update{Approve: new(int64(100))}}})
	var d struct {
		Request int64     `json:"request"`
		By      TimeLimit `json:"by"`
		DueTo   time.Time `json:"due_to"`
	}
	if err := json.Unmarshal(events[0].Data, &d); err != nil || events[0].Kind != "extend" || d.Request != 100 || d.By != (TimeLimit{2, WorkingDays}) || !d.DueTo.Equal(c.DueAt) {
		t.Errorf("approval: %s %s (%v)", events[0].Kind, events[0].Data, err)
	}
	if got := Returns(append(events, Event{Kind: EventReturned}, Event{Kind: "status"}, Event{Kind: EventReturned})); got != 2 {
		t.Errorf("Returns = %d, want 2", got)
	}
}

// TestRequestRules: what cannot be asked or decided is refused with the
// field named, 400 when no case could take it, 422 when this one cannot
// now; and a refused update leaves the case as it was.
func TestRequestRules(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) // Monday 11:00 in Shanghai
	pending := func(k RequestKind) *Request {
		return &Request{Event: 41, Kind: k, At: now.Add(-time.Hour), Extension: &TimeLimit{1, WorkingDays}}
	}
	parked := now.Add(-time.Hour)
	ext := &TimeLimit{1, WorkingDays}
	yes := true
	tests := []struct {
		name  string
		c     Case
		u     Update
		code  citygrid.Code
		field string
		want  string
	}{
		{"returned without a status", Case{Status: StatusDispatched}, Update{Returned: true},
			citygrid.CodeInvalid, "returned", `give "status": "accepted"`},
		{"returned to another status", Case{Status: StatusDispatched}, Update{Returned: true, Status: new(StatusInProgress)},
			citygrid.CodeInvalid, "returned", `"status": "accepted"`},
		{"returned from resolved", Case{Status: StatusResolved}, Update{Returned: true, Status: new(StatusAccepted)},
			citygrid.CodeUnprocessable, "returned", "case 7 is resolved: a case is returned (退单) from dispatched, in_progress"},
		{"returned when accepted already", Case{Status: StatusAccepted}, Update{Returned: true, Status: new(StatusAccepted)},
			citygrid.CodeUnprocessable, "returned", "case 7 is accepted"},
		{"returned while parked", Case{Status: StatusInProgress, PausedAt: &parked}, Update{Returned: true, Status: new(StatusAccepted)},
			citygrid.CodeUnprocessable, "", "resume it first"},
		{"accepted from dispatched without returned", Case{Status: StatusDispatched}, Update{Status: new(StatusAccepted)},
			citygrid.CodeUnprocessable, "", `add "returned": true`},
		{"approve and decline", Case{Status: StatusInProgress, Request: pending(RequestPause)}, Update{Approve: new(int64(41)), Decline: new(int64(41))},
			citygrid.CodeInvalid, "decline", "exclude each other"},
		{"a request and a decision", Case{Status: StatusInProgress, Request: pending(RequestPause)}, Update{RequestExtension: ext, Approve: new(int64(41))},
			citygrid.CodeInvalid, "approve", "cannot go with request_extension"},
		{"an extension of nothing", Case{Status: StatusInProgress}, Update{RequestExtension: &TimeLimit{0, WorkingDays}},
			citygrid.CodeInvalid, "request_extension", "1 to 1000"},
		{"an extension in weeks", Case{Status: StatusInProgress}, Update{RequestExtension: &TimeLimit{1, "weeks"}},
			citygrid.CodeInvalid, "request_extension", "1 to 1000"},
		{"asked after the deadline", Case{Status: StatusInProgress, DueAt: now.Add(-time.Minute)}, Update{RequestExtension: ext},
			citygrid.CodeUnprocessable, "request_extension", "was due at 2026-11-23T10:59:00+08:00: an extension is asked for before the deadline"},
		{"parking asked after the deadline", Case{Status: StatusDispatched, DueAt: now.Add(-time.Minute)}, Update{RequestPause: true},
			citygrid.CodeUnprocessable, "request_pause", "was due at"},
		{"asked while parked", Case{Status: StatusInProgress, PausedAt: &parked}, Update{RequestExtension: ext},
			citygrid.CodeUnprocessable, "request_extension", "parked"},
		{"asked when resolved", Case{Status: StatusResolved}, Update{RequestPause: true},
			citygrid.CodeUnprocessable, "request_pause", "case 7 is resolved"},
		{"asked while another request waits", Case{Status: StatusInProgress, Request: pending(RequestPause)}, Update{RequestExtension: ext},
			citygrid.CodeUnprocessable, "request_extension", "awaiting a decision (event 41)"},
		{"extended directly while a request waits", Case{Status: StatusInProgress, Request: pending(RequestExtension)}, Update{ExtendBy: ext},
			citygrid.CodeUnprocessable, "extend", "approve or decline it first"},
		{"parked directly while a request waits", Case{Status: StatusInProgress, Request: pending(RequestExtension)}, Update{Pause: &yes},
			citygrid.CodeUnprocessable, "pause", "approve or decline it first"},
		{"approving nothing", Case{Status: StatusInProgress}, Update{Approve: new(int64(41))},
			citygrid.CodeUnprocessable, "approve", "case 7 has no request awaiting a decision"},
		{"declining another event", Case{Status: StatusInProgress, Request: pending(RequestExtension)}, Update{Decline: new(int64(40))},
			citygrid.CodeUnprocessable, "decline", "event 40 is not the request of case 7 awaiting a decision: that is event 41"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			c.ID, c.Version = 7, 2
			if c.DueAt.IsZero() {
				c.DueAt = now.Add(time.Hour)
			}
			before := c
			u := tt.u
			u.IfVersion, u.Now, u.Calendar = 2, now, DefaultCalendar()
			_, err := ApplyUpdate(&c, u)
			var e *citygrid.Error
			if !errors.As(err, &e) || e.Code != tt.code || !strings.Contains(e.Message, tt.want) {
				t.Fatalf("error = %v, want %s containing %q", err, tt.code, tt.want)
			}
			if tt.field != "" && (e.Details["field"] != tt.field || !strings.HasPrefix(e.Message, tt.field+": ")) {
				t.Errorf("error %q names field %v, want %s", e.Message, e.Details["field"], tt.field)
			}
			if c.Version != before.Version || c.Status != before.Status || c.Request != before.Request || !c.DueAt.Equal(before.DueAt) {
				t.Errorf("a refused update changed the case: %+v", c)
			}
		})
	}
}
