package cases

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"citygrid"
)

// TestStatusActionsAreTheLifecycle: every step of the lifecycle has its own
// action and every status action is a step, so that the two tables cannot
// drift apart; the names are the wire names, each once.
func TestStatusActionsAreTheLifecycle(t *testing.T) {
	seen := map[Action]bool{}
	for _, from := range Statuses {
		for _, to := range from.Next() {
			a, ok := StatusAction(from, to)
			if !ok {
				t.Errorf("%s → %s has no action", from, to)
				continue
			}
			if seen[a] {
				t.Errorf("action %s names two steps", a)
			}
			seen[a] = true
			if f, got := a.Moves(); !slices.Equal(f, []Status{from}) || got != to {
				t.Errorf("%s.Moves() = %v → %s, want [%s] → %s", a, f, got, from, to)
			}
		}
	}
	if len(statusActions) != len(seen) {
		t.Errorf("%d status actions for %d lifecycle steps", len(statusActions), len(seen))
	}
	if _, ok := StatusAction(StatusDispatched, StatusAccepted); ok {
		t.Error("dispatched → accepted is a plain step: a return must be asked for by name")
	}
	if from, to := ActionReturn.Moves(); !slices.Equal(from, []Status{StatusDispatched, StatusInProgress}) || to != StatusAccepted {
		t.Errorf("return moves %v → %s", from, to)
	}
	wire := []string{"accept", "reject", "dispatch", "start", "resolve", "verify", "send_back", "rework", "close", "return",
		"reassign", "merge", "extend", "pause", "resume", "request_extension", "request_pause", "approve", "decline"}
	if len(Actions) != len(wire) {
		t.Fatalf("%d actions, want %d", len(Actions), len(wire))
	}
	for i, a := range Actions {
		if string(a) != wire[i] {
			t.Errorf("Actions[%d] = %q, want %q", i, a, wire[i])
		}
	}
}

// actionStates are cases in every state that matters to what can be done:
// each status, parked or not, before or past the deadline, with a request
// awaiting a decision or not.
func actionStates(now time.Time) map[string]*Case {
	out := map[string]*Case{}
	for _, st := range Statuses {
		for _, parked := range []bool{false, true} {
			for _, late := range []bool{false, true} {
				for _, req := range []RequestKind{"", RequestExtension, RequestPause} {
					if (parked || req != "") && !st.Open() || parked && req != "" {
						continue // no such case: ApplyUpdate never makes one
					}
					c := &Case{ID: 7, Status: st, Version: 3, Grid: "G1", Unit: "U1", DueAt: now.Add(2 * time.Hour)}
					name := string(st)
					if parked {
						at := now.Add(-time.Hour)
						c.PausedAt, name = &at, name+" parked"
					}
					if late {
						c.DueAt, name = now.Add(-time.Hour), name+" late"
					}
					if req != "" {
						c.Request = &Request{Event: 41, Kind: req, At: now.Add(-3 * time.Hour), Extension: &TimeLimit{1, WorkingDays}}
						name += " asking " + string(req)
					}
					out[name] = c
				}
			}
		}
	}
	return out
}

// actionUpdate is the update that takes action a on c, or false when no
// update could (a status action from another status).
func actionUpdate(c *Case, a Action, now time.Time) (Update, bool) {
	u := Update{IfVersion: c.Version, Now: now, Calendar: DefaultCalendar(), Actor: "someone"}
	yes, no := true, false
	id := int64(12345)
	if c.Request != nil {
		id = c.Request.Event
	}
	switch a {
	case ActionReassign:
		g, un := "G9", "U9"
		u.Grid, u.Unit = &g, &un
	case ActionMerge:
		into := int64(99)
		u.MergeInto = &into
	case ActionExtend:
		u.ExtendBy = &TimeLimit{1, WorkingDays}
	case ActionPause:
		u.Pause = &yes
	case ActionResume:
		u.Pause = &no
	case ActionRequestExtension:
		u.RequestExtension = &TimeLimit{2, WorkingDays}
	case ActionRequestPause:
		u.RequestPause = true
	case ActionApprove:
		u.Approve = &id
	case ActionDecline:
		u.Decline = &id
	default:
		from, to := a.Moves()
		if !slices.Contains(from, c.Status) {
			return u, false
		}
		u.Status, u.Returned = &to, a == ActionReturn
	}
	return u, true
}

// TestAvailableActionsAgreeWithApplyUpdate: on every state, an action is
// available exactly when the update that takes it succeeds, and that
// update takes that action and no other.
func TestAvailableActionsAgreeWithApplyUpdate(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) // Monday 11:00 in Shanghai
	for name, c := range actionStates(now) {
		avail := AvailableActions(c, now)
		for _, a := range Actions {
			u, possible := actionUpdate(c, a, now)
			listed := slices.Contains(avail, a)
			if !possible {
				if listed {
					t.Errorf("%s: %s listed, but no update takes it", name, a)
				}
				continue
			}
			if got := u.Actions(c); !slices.Equal(got, []Action{a}) {
				t.Errorf("%s: the update for %s takes %v", name, a, got)
			}
			copied := *c
			_, err := ApplyUpdate(&copied, u)
			if code := citygrid.ErrorCode(err); err != nil && code != citygrid.CodeUnprocessable {
				t.Errorf("%s: %s refused with %s (%v), want unprocessable", name, a, code, err)
			}
			if listed != (err == nil) {
				t.Errorf("%s: %s listed %t, but ApplyUpdate says %v", name, a, listed, err)
			}
		}
	}
}

func TestAvailableActions(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	before, after := now.Add(time.Hour), now.Add(-time.Hour)
	parkedAt := now.Add(-2 * time.Hour)
	pending := &Request{Event: 5, Kind: RequestExtension, At: now.Add(-3 * time.Hour), Extension: &TimeLimit{1, WorkingDays}}
	deadlineWork := []Action{ActionExtend, ActionPause, ActionRequestExtension, ActionRequestPause}
	tests := []struct {
		name string
		c    Case
		want []Action
	}{
		{"a new report", Case{Status: StatusReported, DueAt: before},
			append([]Action{ActionAccept, ActionReject, ActionReassign, ActionMerge}, deadlineWork...)},
		{"a report past its deadline", Case{Status: StatusReported, DueAt: after},
			[]Action{ActionAccept, ActionReject, ActionReassign, ActionMerge}},
		{"a parked report: its deadline is not behind it", Case{Status: StatusReported, DueAt: after, PausedAt: &parkedAt},
			[]Action{ActionReject, ActionReassign, ActionMerge, ActionExtend, ActionResume}},
		{"dispatched", Case{Status: StatusDispatched, DueAt: before},
			append([]Action{ActionStart, ActionReturn, ActionReassign, ActionMerge}, deadlineWork...)},
		{"in progress, late", Case{Status: StatusInProgress, DueAt: after},
			[]Action{ActionResolve, ActionReturn, ActionReassign, ActionMerge}},
		{"in progress, parked", Case{Status: StatusInProgress, DueAt: after, PausedAt: &parkedAt},
			[]Action{ActionReassign, ActionMerge, ActionExtend, ActionResume}},
		{"in progress, a request pending past the deadline", Case{Status: StatusInProgress, DueAt: after, Request: pending},
			[]Action{ActionResolve, ActionReturn, ActionReassign, ActionMerge, ActionApprove, ActionDecline}},
		{"resolved", Case{Status: StatusResolved, DueAt: before},
			[]Action{ActionVerify, ActionSendBack, ActionReassign, ActionMerge}},
		{"verified", Case{Status: StatusVerified, DueAt: after},
			[]Action{ActionRework, ActionClose, ActionReassign, ActionMerge}},
		{"closed", Case{Status: StatusClosed, DueAt: before}, []Action{ActionReassign}},
		{"rejected", Case{Status: StatusRejected, DueAt: before}, []Action{ActionReassign}},
		{"due this very instant: not past it yet", Case{Status: StatusAccepted, DueAt: now},
			append([]Action{ActionDispatch, ActionReassign, ActionMerge}, deadlineWork...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AvailableActions(&tt.c, now); !slices.Equal(got, tt.want) {
				t.Errorf("AvailableActions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpdateActions(t *testing.T) {
	before := &Case{Status: StatusDispatched, Grid: "G1", Unit: "U1"}
	st := func(s Status) *Status { return &s }
	str := func(s string) *string { return &s }
	id := func(n int64) *int64 { return &n }
	yes, no := true, false
	tests := []struct {
		name string
		u    Update
		want []Action
	}{
		{"a lifecycle step", Update{Status: st(StatusInProgress)}, []Action{ActionStart}},
		{"a return", Update{Status: st(StatusAccepted), Returned: true}, []Action{ActionReturn}},
		{"accepted without returned is no step", Update{Status: st(StatusAccepted)}, nil},
		{"the status the case has", Update{Status: st(StatusDispatched)}, nil},
		{"the grid it has", Update{Grid: str("G1"), Unit: str("U1")}, nil},
		{"another unit", Update{Unit: str("U2")}, []Action{ActionReassign}},
		{"a unit cleared", Update{Unit: str("")}, []Action{ActionReassign}},
		{"a step and a re-assignment", Update{Status: st(StatusInProgress), Grid: str("G2"), Note: "n"},
			[]Action{ActionStart, ActionReassign}},
		{"merge", Update{MergeInto: id(3), Status: st(StatusClosed)}, []Action{ActionMerge}},
		{"park and extend", Update{Pause: &yes, ExtendBy: &TimeLimit{1, WorkingDays}}, []Action{ActionExtend, ActionPause}},
		{"resume", Update{Pause: &no}, []Action{ActionResume}},
		{"requests", Update{RequestExtension: &TimeLimit{1, WorkingDays}, RequestPause: true},
			[]Action{ActionRequestExtension, ActionRequestPause}},
		{"decisions", Update{Approve: id(4), Decline: id(4)}, []Action{ActionApprove, ActionDecline}},
		{"a note alone", Update{Note: "n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.u.Actions(before); !slices.Equal(got, tt.want) {
				t.Errorf("Actions = %v, want %v", got, tt.want)
			}
		})
	}
}

func ExampleAvailableActions() {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	c := &Case{Status: StatusInProgress, DueAt: now.Add(time.Hour)}
	fmt.Println(AvailableActions(c, now))
	// Output: [resolve return reassign merge extend pause request_extension request_pause]
}
