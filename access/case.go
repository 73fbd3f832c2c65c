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

// statusActions names a status change by where it starts and ends.
var statusActions = map[[2]cases.Status]string{
	{cases.StatusReported, cases.StatusAccepted}:     "accept",
	{cases.StatusReported, cases.StatusRejected}:     "reject",
	{cases.StatusAccepted, cases.StatusDispatched}:   "dispatch",
	{cases.StatusDispatched, cases.StatusInProgress}: "start",
	{cases.StatusInProgress, cases.StatusResolved}:   "resolve",
	{cases.StatusResolved, cases.StatusVerified}:     "verify",
	{cases.StatusResolved, cases.StatusDispatched}:   "send_back",
	{cases.StatusVerified, cases.StatusDispatched}:   "rework",
	{cases.StatusVerified, cases.StatusClosed}:       "close",
	{cases.StatusDispatched, cases.StatusAccepted}:   "return",
	{cases.StatusInProgress, cases.StatusAccepted}:   "return",
}

// StatusAction names the action that moves a case from one status to
// another ("" for a move the lifecycle has no name for: the lifecycle
// refuses it).
func StatusAction(from, to cases.Status) string { return statusActions[[2]cases.Status{from, to}] }

// Permit refuses, naming the field, any change the principal's role may
// not make: no mass assignment.
func (g CaseGuard) Permit(c *cases.Case, u *cases.Update) error {
	id := strconv.FormatInt(c.ID, 10)
	check := func(field, action string) error {
		if action == "" || g.P.Role.MayAct(action) {
			return nil
		}
		return Forbidden("case", id, field, "%s: a %s key may not %s a case (%s)", field, g.P.Role, action, whoMay(action))
	}
	if u.Status != nil && *u.Status != c.Status {
		if err := check("status", StatusAction(c.Status, *u.Status)); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		field, action string
		set           bool
	}{
		{"grid", "reassign", u.Grid != nil},
		{"unit", "reassign", u.Unit != nil},
		{"extend", "extend", u.ExtendBy != nil},
		{"pause", "pause", u.Pause != nil && *u.Pause},
		{"pause", "resume", u.Pause != nil && !*u.Pause},
		{"merge_into", "merge", u.MergeInto != nil},
	} {
		if f.set {
			if err := check(f.field, f.action); err != nil {
				return err
			}
		}
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
func whoMay(action string) string {
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
func CaseActions(p *Principal, available []string) []string {
	out := []string{}
	for _, a := range available {
		if p.Role.MayAct(a) {
			out = append(out, a)
		}
	}
	return out
}
