package access

import (
	"strconv"

	"citygrid/cases"
)

// CaseGuard is a principal's access to cases (cases.Guard).
type CaseGuard struct {
	P     *Principal
	Scope *Scope
}

var _ cases.Guard = CaseGuard{}

// Sees reports whether the case lies in the principal's scope.
func (g CaseGuard) Sees(c *cases.Case) bool { return g.Scope.Sees(c) }

// actionFields names the request field that asks for each action, for
// refusals.
var actionFields = map[cases.Action]string{
	cases.ActionReturn: "returned", cases.ActionReassign: "grid", cases.ActionMerge: "merge_into",
	cases.ActionExtend: "extend", cases.ActionPause: "pause", cases.ActionResume: "pause",
	cases.ActionRequestExtension: "request_extension", cases.ActionRequestPause: "request_pause",
	cases.ActionApprove: "approve", cases.ActionDecline: "decline",
}

// Permit refuses, naming the field, any change the principal's role may
// not make: every action the update takes is checked (no mass assignment).
func (g CaseGuard) Permit(c *cases.Case, u *cases.Update) error {
	for _, a := range u.Actions(c) {
		if g.P.Role.MayAct(a) {
			continue
		}
		field, ok := actionFields[a]
		if !ok {
			field = "status" // the lifecycle's steps
		}
		if a == cases.ActionReassign && u.Grid == nil {
			field = "unit"
		}
		return Forbidden("case", strconv.FormatInt(c.ID, 10), field, "%s: a %s key may not %s a case (%s)", field, g.P.Role, a, whoMay(a))
	}
	return nil
}

// Keep refuses an update that would move the case out of the principal's
// scope: a re-assignment needs scope over the new grid as well as the old.
func (g CaseGuard) Keep(after *cases.Case) error {
	if g.Scope.Sees(after) {
		return nil
	}
	return Forbidden("case", strconv.FormatInt(after.ID, 10), "grid", "grid %q (unit %q) is outside your scope: a re-assignment needs scope over the new grid", after.Grid, after.Unit)
}

// whoMay says which roles may take an action, for refusals.
func whoMay(action cases.Action) string {
	var roles []string
	for _, r := range []Role{RoleDispatcher, RoleHandler, RoleInspector} {
		if r.MayAct(action) {
			roles = append(roles, string(r))
		}
	}
	if len(roles) == 0 {
		return "admin only"
	}
	return "a " + roles[0] + "'s action"
}

// CaseActions lists, of the actions available on a case now, those the
// principal may take: what each case's `actions` shows its caller.
func CaseActions(p *Principal, available []cases.Action) []cases.Action {
	out := []cases.Action{}
	for _, a := range available {
		if p.Role.MayAct(a) {
			out = append(out, a)
		}
	}
	return out
}
