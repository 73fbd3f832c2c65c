package project

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"citygrid"
)

// Patch is a change to a project; absent fields stay as they are.
type Patch struct {
	Name       *string          `json:"name"`
	Kind       *string          `json:"kind"`
	Area       json.RawMessage  `json:"area"`
	Categories *[]string        `json:"categories"`
	Leader     *LeaderInput     `json:"leader"`
	Units      *[]string        `json:"units"`
	Plan       *string          `json:"plan"`
	Budget     *BudgetInput     `json:"budget"`
	SpentCNY   json.RawMessage  `json:"spent_cny"` // a number of yuan (see ParseMoney)
	Deadline   *string          `json:"deadline"`
	Milestones *[]MilestoneSpec `json:"milestones"`
	Status     *string          `json:"status"`
	// CompleteMilestones marks milestones done, by index.
	CompleteMilestones []int `json:"complete_milestones"`
	// LinkCases and UnlinkCases add and remove links made by hand.
	LinkCases   []string `json:"link_cases"`
	UnlinkCases []string `json:"unlink_cases"`
	Note        string   `json:"note"`
}

// Event is one entry of a project's history.
type Event struct {
	At    time.Time       `json:"at"`
	Actor string          `json:"actor"`
	Kind  string          `json:"kind"`
	Note  string          `json:"note,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// NewEvent builds an event with data marshalled as JSON.
func NewEvent(at time.Time, actor, kind, note string, data any) Event {
	e := Event{At: at, Actor: actor, Kind: kind, Note: note}
	if data != nil {
		e.Data, _ = json.Marshal(data)
	}
	return e
}

// Change is what a patch did, for the store: the new project, the area
// given anew (if any), the links to add and remove, the history entries.
type Change struct {
	Next        *Project
	Area        *AreaInput
	Link        []int64
	Unlink      []int64
	Events      []Event
	AreaChanged bool // the area or the leader changed: the overlap rule is checked again
	Actor       string
}

// Apply applies patch to p (as stored) for actor at env.Now. Re-planning
// (a new deadline or milestones) back-schedules from today, keeps the done
// marks of milestones of the same name, and is allowed while the project
// is planned or suspended: a project under way is suspended first, so that
// the history shows the plan changed.
func Apply(p *Project, patch Patch, actor string, env Env) (*Change, error) {
	if err := checkText("note", patch.Note, 2000, false); err != nil {
		return nil, err
	}
	if p.Status == StatusDone && !patchEmptyButNote(patch) {
		return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "project %d is done: a done project is a record and takes no changes", p.ID)
	}
	next := *p
	ch := &Change{Next: &next, Actor: actor}
	event := func(kind string, data any) {
		ch.Events = append(ch.Events, NewEvent(env.Now, actor, kind, patch.Note, data))
	}
	changed := map[string]any{}
	for _, f := range []struct {
		field string
		v     *string
		to    *string
		max   int
	}{{"name", patch.Name, &next.Name, MaxNameLen}, {"kind", patch.Kind, &next.Kind, MaxKindLen}, {"plan", patch.Plan, &next.Plan, MaxPlanLen}} {
		if f.v == nil {
			continue
		}
		if err := checkText(f.field, *f.v, f.max, f.field == "name"); err != nil {
			return nil, err
		}
		if *f.v != *f.to {
			*f.to = *f.v
			changed[f.field] = *f.v
		}
	}
	if len(patch.Area) > 0 && string(patch.Area) != "null" {
		area, err := ParseArea(patch.Area)
		if err != nil {
			return nil, err
		}
		if err := ValidateArea(area, env.Locator); err != nil {
			return nil, err
		}
		ch.Area, ch.AreaChanged = &area, true
		next.Area, next.GridCodes = area.Polygon, area.Grids
		changed["area"] = true
	} else if string(patch.Area) == "null" {
		return nil, fieldProblem(citygrid.CodeInvalid, "area", "a project always has an area")
	}
	if patch.Categories != nil {
		cats, err := checkCategories(*patch.Categories, env.Categories)
		if err != nil {
			return nil, err
		}
		next.Categories = cats
		changed["categories"] = cats
	}
	if patch.Leader != nil {
		l, err := checkLeader(*patch.Leader, env)
		if err != nil {
			return nil, err
		}
		if l != p.Leader {
			next.Leader = l
			ch.AreaChanged = true
			event("leader", map[string]any{"from": p.Leader, "to": l})
		}
	}
	if patch.Units != nil {
		units, err := checkUnits(*patch.Units, env.Locator)
		if err != nil {
			return nil, err
		}
		next.Units = units
		changed["units"] = units
	}
	if patch.Budget != nil {
		b, err := checkBudget(*patch.Budget)
		if err != nil {
			return nil, err
		}
		next.Budget = b
		changed["budget"] = map[string]any{"amount_cny": Money(b.AmountFen), "source": b.Source}
	}
	if len(patch.SpentCNY) > 0 {
		fen, err := ParseMoney("spent_cny", patch.SpentCNY)
		if err != nil {
			return nil, err
		}
		next.SpentFen = fen
		event("spent", map[string]any{"from": Money(p.SpentFen), "to": Money(fen)})
	}
	if len(changed) > 0 {
		event("edit", changed)
	}
	if patch.Deadline != nil || patch.Milestones != nil {
		if p.Status != StatusPlanned && p.Status != StatusSuspended {
			return nil, fieldProblem(citygrid.CodeUnprocessable, "milestones", "project %d is %s: suspend it to change its plan (deadline, milestones)", p.ID, p.Status)
		}
		deadline := p.Deadline.Format(DateLayout)
		if patch.Deadline != nil {
			deadline = *patch.Deadline
		}
		specs := make([]MilestoneSpec, len(p.Milestones))
		for i, m := range p.Milestones {
			specs[i] = MilestoneSpec{Name: m.Name, WorkingDays: m.WorkingDays}
		}
		if patch.Milestones != nil {
			specs = *patch.Milestones
		}
		d, ms, err := plan(deadline, specs, env)
		if err != nil {
			return nil, err
		}
		for i := range ms {
			for _, old := range p.Milestones {
				if old.Name == ms[i].Name {
					ms[i].DoneAt = old.DoneAt
				}
			}
		}
		next.Deadline, next.Milestones = d, ms
		event("replan", map[string]any{"deadline": d.Format(DateLayout), "milestones": MilestoneViews(ms, env.Today())})
	}
	if len(patch.CompleteMilestones) > 0 {
		next.Milestones = slices.Clone(next.Milestones)
		for _, i := range patch.CompleteMilestones {
			if i < 0 || i >= len(next.Milestones) {
				return nil, fieldProblem(citygrid.CodeInvalid, "complete_milestones", "no milestone %d (the project has %d, counted from 0)", i, len(next.Milestones))
			}
			if next.Milestones[i].DoneAt != nil {
				continue
			}
			now := env.Now.Truncate(time.Microsecond)
			next.Milestones[i].DoneAt = &now
			event("milestone_done", map[string]any{"milestone": i, "name": next.Milestones[i].Name, "late": next.Milestones[i].Late(env.Today())})
		}
	}
	var err error
	if ch.Link, err = ParseCaseIDs("link_cases", patch.LinkCases); err != nil {
		return nil, err
	}
	if ch.Unlink, err = ParseCaseIDs("unlink_cases", patch.UnlinkCases); err != nil {
		return nil, err
	}
	for _, id := range ch.Link {
		if slices.Contains(ch.Unlink, id) {
			return nil, fieldProblem(citygrid.CodeInvalid, "unlink_cases", "case %d is both linked and unlinked", id)
		}
	}
	if patch.Status != nil {
		st, err := ParseStatus(*patch.Status)
		if err != nil {
			return nil, fieldProblem(citygrid.CodeInvalid, "status", "%v", err)
		}
		if st != p.Status {
			if !p.Status.CanMoveTo(st) {
				return nil, fieldProblem(citygrid.CodeUnprocessable, "status", "project %d cannot move from %s to %s: from %s it may move to %s", p.ID, p.Status, st, p.Status, joinStatuses(p.Status.Next()))
			}
			next.Status = st
			event("status", map[string]any{"from": p.Status, "to": st})
		}
	}
	if len(ch.Events) == 0 && len(ch.Link) == 0 && len(ch.Unlink) == 0 && patch.Note != "" {
		event("note", nil)
	}
	return ch, nil
}

func patchEmptyButNote(p Patch) bool {
	return p.Name == nil && p.Kind == nil && len(p.Area) == 0 && p.Categories == nil && p.Leader == nil && p.Units == nil &&
		p.Plan == nil && p.Budget == nil && len(p.SpentCNY) == 0 && p.Deadline == nil && p.Milestones == nil && p.Status == nil &&
		len(p.CompleteMilestones) == 0 && len(p.LinkCases) == 0 && len(p.UnlinkCases) == 0
}

// MilestoneView is a milestone as the API writes it.
type MilestoneView struct {
	Index       int     `json:"index"`
	Name        string  `json:"name"`
	WorkingDays int     `json:"working_days"`
	Start       string  `json:"start"`
	Due         string  `json:"due"`
	Done        bool    `json:"done"`
	DoneAt      *string `json:"done_at"`
	Late        bool    `json:"late"`
}

// MilestoneViews renders milestones as of today (a civil date).
func MilestoneViews(ms []Milestone, today time.Time) []MilestoneView {
	out := make([]MilestoneView, len(ms))
	for i, m := range ms {
		out[i] = MilestoneView{Index: i, Name: m.Name, WorkingDays: m.WorkingDays, Start: m.Start.Format(DateLayout), Due: m.Due.Format(DateLayout),
			Done: m.DoneAt != nil, Late: m.Late(today)}
		if m.DoneAt != nil {
			s := m.DoneAt.UTC().Format(time.RFC3339)
			out[i].DoneAt = &s
		}
	}
	return out
}

// String names a project in messages.
func (p *Project) String() string { return fmt.Sprintf("project %d %q", p.ID, truncate(p.Name, 60)) }
