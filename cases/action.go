package cases

import "time"

// Action names one thing that can be done to a case: the words of 数字城管
// practice, alike for every client and for access control, which decides
// who may take which action (package cases only says what is possible).
type Action string

// The actions. A status action is one step of the lifecycle, named by its
// (from, to) pair; the rest change the deadline, the clock, the owner or
// the requests of a case without a status step of their own.
const (
	ActionAccept   Action = "accept"    // reported → accepted (立案)
	ActionReject   Action = "reject"    // reported → rejected (不予立案)
	ActionDispatch Action = "dispatch"  // accepted → dispatched (派遣)
	ActionStart    Action = "start"     // dispatched → in_progress
	ActionResolve  Action = "resolve"   // in_progress → resolved (处置反馈)
	ActionVerify   Action = "verify"    // resolved → verified (核查)
	ActionSendBack Action = "send_back" // resolved → dispatched: the inspector's 返工
	ActionRework   Action = "rework"    // verified → dispatched: the problem found back
	ActionClose    Action = "close"     // verified → closed (结案)
	// ActionReturn is 退单: the handler gives a dispatched or started case
	// back to the dispatcher (→ accepted), who dispatches it again.
	ActionReturn   Action = "return"
	ActionReassign Action = "reassign" // a change of grid or unit
	ActionMerge    Action = "merge"    // closed as a duplicate of another case
	ActionExtend   Action = "extend"   // a direct extension (延期) by the dispatcher
	ActionPause    Action = "pause"    // parked on the backlog ledger (挂账)
	ActionResume   Action = "resume"
	// The handler's requests, and the dispatcher's decision on them.
	ActionRequestExtension Action = "request_extension"
	ActionRequestPause     Action = "request_pause"
	ActionApprove          Action = "approve"
	ActionDecline          Action = "decline"
)

// Actions lists every action in a fixed order: the lifecycle's steps, then
// the rest. Lists of actions (AvailableActions, Update.Actions) keep it.
var Actions = []Action{
	ActionAccept, ActionReject, ActionDispatch, ActionStart, ActionResolve, ActionVerify, ActionSendBack,
	ActionRework, ActionClose, ActionReturn, ActionReassign, ActionMerge, ActionExtend, ActionPause, ActionResume,
	ActionRequestExtension, ActionRequestPause, ActionApprove, ActionDecline,
}

// statusActions names every step of the lifecycle (transitions): a test
// holds the two tables to each other.
var statusActions = map[[2]Status]Action{
	{StatusReported, StatusAccepted}:     ActionAccept,
	{StatusReported, StatusRejected}:     ActionReject,
	{StatusAccepted, StatusDispatched}:   ActionDispatch,
	{StatusDispatched, StatusInProgress}: ActionStart,
	{StatusInProgress, StatusResolved}:   ActionResolve,
	{StatusResolved, StatusVerified}:     ActionVerify,
	{StatusResolved, StatusDispatched}:   ActionSendBack,
	{StatusVerified, StatusDispatched}:   ActionRework,
	{StatusVerified, StatusClosed}:       ActionClose,
}

// returnFrom are the statuses a case can be returned (退单) from: the
// handler holds it.
var returnFrom = []Status{StatusDispatched, StatusInProgress}

// StatusAction returns the action of the lifecycle step from → to, and
// false when there is none (the step is illegal). A return (退单) is not a
// lifecycle step: it goes back against the loop, and only when asked for
// by name (Update.Returned).
func StatusAction(from, to Status) (Action, bool) {
	a, ok := statusActions[[2]Status{from, to}]
	return a, ok
}

// Moves returns the statuses a moves a case from and the one it moves it
// to; an action that changes no status returns nil and "".
func (a Action) Moves() (from []Status, to Status) {
	if a == ActionReturn {
		return returnFrom, StatusAccepted
	}
	for _, st := range Statuses {
		for _, next := range st.Next() {
			if statusActions[[2]Status{st, next}] == a {
				return []Status{st}, next
			}
		}
	}
	return nil, ""
}

// canReturn reports whether a case in status s can be returned (退单).
func canReturn(s Status) bool { return s == StatusDispatched || s == StatusInProgress }

// AvailableActions returns every action that could succeed on c at now,
// whoever asks, in the order of Actions: what ApplyUpdate would accept (a
// test holds the two to each other). A merge or a re-assignment may still
// fail on its target (the case merged into, the grid or unit named).
//
// A parked case takes no status step but rejection until it is resumed,
// and no request; a case past its deadline gets neither an extension nor
// parking, direct or requested; one request at a time awaits a decision,
// and while it does, the dispatcher decides it rather than extending or
// parking directly.
func AvailableActions(c *Case, now time.Time) []Action {
	parked := c.PausedAt != nil
	// Extensions and parking, asked for or given: before the deadline,
	// while the case is open, not parked and has no request pending; a
	// dispatcher may extend a parked case (its deadline is not behind it
	// while its clock stands still).
	deadlineWork := c.Status.Open() && !pastDeadline(c, now.Truncate(time.Microsecond)) && c.Request == nil
	var out []Action
	for _, a := range Actions {
		var ok bool
		switch a {
		case ActionReturn:
			ok = canReturn(c.Status) && !parked
		case ActionReassign:
			// ApplyUpdate re-assigns a case in any status: responsibility
			// for a closed case can still be corrected (考核申诉).
			ok = true
		case ActionMerge:
			ok = !c.Status.Final()
		case ActionExtend:
			ok = deadlineWork
		case ActionPause, ActionRequestExtension, ActionRequestPause:
			ok = deadlineWork && !parked
		case ActionResume:
			ok = parked
		case ActionApprove, ActionDecline:
			ok = c.Request != nil
		default:
			from, to := a.Moves()
			ok = len(from) == 1 && from[0] == c.Status && (!parked || to == StatusRejected)
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// Actions returns the actions u would take on before (the case as the
// caller read it, at the version u names), in the order of Actions, so
// that each can be checked against who asks: every field of an update
// that changes something is an action. A status change maps to its action
// by (from, to), a return (退单) to ActionReturn. Parts that change
// nothing (a grid the case has already) take no action; a status change
// that is no lifecycle step maps to none, and ApplyUpdate refuses it.
func (u Update) Actions(before *Case) []Action {
	take := map[Action]bool{}
	if u.MergeInto != nil {
		take[ActionMerge] = true
	}
	if u.Status != nil && *u.Status != before.Status {
		if u.Returned {
			take[ActionReturn] = true
		} else if a, ok := StatusAction(before.Status, *u.Status); ok {
			take[a] = true
		}
	}
	if (u.Grid != nil && *u.Grid != before.Grid) || (u.Unit != nil && *u.Unit != before.Unit) {
		take[ActionReassign] = true
	}
	if u.ExtendBy != nil {
		take[ActionExtend] = true
	}
	if u.Pause != nil {
		if *u.Pause {
			take[ActionPause] = true
		} else {
			take[ActionResume] = true
		}
	}
	if u.RequestExtension != nil {
		take[ActionRequestExtension] = true
	}
	if u.RequestPause {
		take[ActionRequestPause] = true
	}
	if u.Approve != nil {
		take[ActionApprove] = true
	}
	if u.Decline != nil {
		take[ActionDecline] = true
	}
	var out []Action
	for _, a := range Actions {
		if take[a] {
			out = append(out, a)
		}
	}
	return out
}
