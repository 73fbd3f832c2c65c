package project

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/cases"
	"citygrid/grid"
)

// LeaderInput names a leader: {"user": name} or {"name", "unit"}.
type LeaderInput struct {
	User string `json:"user"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// BudgetInput is a budget as given.
type BudgetInput struct {
	AmountCNY json.RawMessage `json:"amount_cny"` // a number of yuan (see ParseMoney)
	Source    string          `json:"source"`
}

// Input is a new project as submitted.
type Input struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Area       json.RawMessage `json:"area"`
	Categories []string        `json:"categories"`
	Leader     *LeaderInput    `json:"leader"`
	Units      []string        `json:"units"`
	Plan       string          `json:"plan"`
	Budget     *BudgetInput    `json:"budget"`
	Deadline   string          `json:"deadline"`
	Milestones []MilestoneSpec `json:"milestones"`
	// Status is planned (the default) or in_progress.
	Status string `json:"status"`
	// Cases are case ids (decimal strings) linked by hand.
	Cases []string `json:"cases"`
}

// Env is what checking a project needs: the calendar, the grids and units
// (the locator), the categories, today, and the users.
type Env struct {
	Calendar   *cases.Calendar
	Locator    *grid.Locator
	Categories *cases.Categories // nil: categories are not checked against the table
	Now        time.Time
	// User finds a user by name: its display name, or found false.
	User func(name string) (display string, found bool, err error)
}

// Today is the civil date of Now on the calendar.
func (e Env) Today() time.Time { return Civil(e.Now, e.Calendar.Location()) }

// ParseArea reads an area: a GeoJSON Polygon or MultiPolygon geometry
// (WGS84 [lng, lat]), or {"grids": [codes]}.
func ParseArea(raw json.RawMessage) (AreaInput, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return AreaInput{}, nil
	}
	var probe struct {
		Type  string   `json:"type"`
		Grids []string `json:"grids"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return AreaInput{}, fieldProblem(citygrid.CodeInvalid, "area", "not a GeoJSON geometry or {\"grids\": [...]}")
	}
	if probe.Type == "" {
		var g struct {
			Grids []string `json:"grids"`
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&g); err != nil {
			return AreaInput{}, fieldProblem(citygrid.CodeInvalid, "area", "give a GeoJSON Polygon or MultiPolygon, or {\"grids\": [codes]}")
		}
		if len(g.Grids) == 0 {
			return AreaInput{}, fieldProblem(citygrid.CodeInvalid, "area.grids", "empty: name at least one grid")
		}
		return AreaInput{Grids: g.Grids}, nil
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return AreaInput{}, fieldProblem(citygrid.CodeInvalid, "area", "not a GeoJSON geometry: %v", err)
	}
	switch geom := g.Geometry().(type) {
	case orb.Polygon:
		return AreaInput{Polygon: orb.MultiPolygon{geom}}, nil
	case orb.MultiPolygon:
		return AreaInput{Polygon: geom}, nil
	}
	return AreaInput{}, fieldProblem(citygrid.CodeInvalid, "area", "a %s is no area: give a Polygon or MultiPolygon", g.Geometry().GeoJSONType())
}

// Prepare checks a new project and schedules its milestones; the area's
// geometry for grid codes is filled in by the store (it holds the grids'
// exact boundaries). Every failure is a client-safe *citygrid.Error: 400
// for malformed input, 422 for what cannot be accepted (an unknown unit,
// grid or user, a past deadline, milestones that do not fit).
func Prepare(in Input, env Env) (*Project, AreaInput, error) {
	p := &Project{Status: StatusPlanned}
	for _, f := range []struct {
		field, v string
		max      int
		required bool
	}{{"name", in.Name, MaxNameLen, true}, {"kind", in.Kind, MaxKindLen, false}, {"plan", in.Plan, MaxPlanLen, false}} {
		if err := checkText(f.field, f.v, f.max, f.required); err != nil {
			return nil, AreaInput{}, err
		}
	}
	p.Name, p.Kind, p.Plan = strings.TrimSpace(in.Name), strings.TrimSpace(in.Kind), in.Plan
	area, err := ParseArea(in.Area)
	if err != nil {
		return nil, AreaInput{}, err
	}
	if err := ValidateArea(area, env.Locator); err != nil {
		return nil, AreaInput{}, err
	}
	p.Area, p.GridCodes = area.Polygon, area.Grids
	if p.Categories, err = checkCategories(in.Categories, env.Categories); err != nil {
		return nil, AreaInput{}, err
	}
	if in.Leader == nil {
		return nil, AreaInput{}, fieldProblem(citygrid.CodeInvalid, "leader", "required: {\"user\": name} or {\"name\", \"unit\"}")
	}
	if p.Leader, err = checkLeader(*in.Leader, env); err != nil {
		return nil, AreaInput{}, err
	}
	if p.Units, err = checkUnits(in.Units, env.Locator); err != nil {
		return nil, AreaInput{}, err
	}
	if in.Budget != nil {
		if p.Budget, err = checkBudget(*in.Budget); err != nil {
			return nil, AreaInput{}, err
		}
	}
	if in.Status != "" {
		st, err := ParseStatus(in.Status)
		if err != nil || (st != StatusPlanned && st != StatusInProgress) {
			return nil, AreaInput{}, fieldProblem(citygrid.CodeInvalid, "status", "a new project is planned or in_progress")
		}
		p.Status = st
	}
	if p.Deadline, p.Milestones, err = plan(in.Deadline, in.Milestones, env); err != nil {
		return nil, AreaInput{}, err
	}
	if p.CaseIDs, err = ParseCaseIDs("cases", in.Cases); err != nil {
		return nil, AreaInput{}, err
	}
	return p, area, nil
}

// plan parses the deadline and back-schedules the milestones.
func plan(deadline string, specs []MilestoneSpec, env Env) (time.Time, []Milestone, error) {
	if deadline == "" {
		return time.Time{}, nil, fieldProblem(citygrid.CodeInvalid, "deadline", "required: a date such as 2027-06-30")
	}
	d, err := ParseDate(deadline)
	if err != nil {
		return time.Time{}, nil, fieldProblem(citygrid.CodeInvalid, "deadline", "%q is not a date YYYY-MM-DD", truncate(deadline, 40))
	}
	if len(specs) > MaxMilestones {
		return time.Time{}, nil, fieldProblem(citygrid.CodeInvalid, "milestones", "%d milestones: at most %d", len(specs), MaxMilestones)
	}
	seen := map[string]bool{}
	for i, m := range specs {
		field := fmt.Sprintf("milestones[%d]", i)
		if err := checkText(field+".name", m.Name, MaxNameLen, true); err != nil {
			return time.Time{}, nil, err
		}
		if seen[m.Name] {
			return time.Time{}, nil, fieldProblem(citygrid.CodeInvalid, field+".name", "%q is the name of an earlier milestone", truncate(m.Name, 40))
		}
		seen[m.Name] = true
		if m.WorkingDays < 1 || m.WorkingDays > MaxWorkingDays {
			return time.Time{}, nil, fieldProblem(citygrid.CodeInvalid, field+".working_days", "%d: a milestone takes 1 to %d working days", m.WorkingDays, MaxWorkingDays)
		}
	}
	ms, err := Schedule(env.Calendar, env.Today(), d, specs)
	if err != nil {
		if se, ok := err.(*ScheduleError); ok {
			return time.Time{}, nil, se.Problem()
		}
		if ce, ok := err.(*citygrid.Error); ok && ce.Details == nil {
			ce.Details = map[string]any{"field": "deadline"}
		}
		return time.Time{}, nil, err
	}
	return d, ms, nil
}

func checkCategories(list []string, table *cases.Categories) ([]string, error) {
	if len(list) > MaxCategories {
		return nil, fieldProblem(citygrid.CodeInvalid, "categories", "%d categories: at most %d", len(list), MaxCategories)
	}
	out := []string{}
	for _, c := range list {
		if c == "" || len(c) > 32 || strings.ContainsAny(c, " ,\t\n") {
			return nil, fieldProblem(citygrid.CodeInvalid, "categories", "%q is not a category code (or prefix)", truncate(c, 40))
		}
		if table != nil && !table.HasPrefix(c) {
			return nil, fieldProblem(citygrid.CodeUnprocessable, "categories", "no category starts with %q", truncate(c, 40))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func checkLeader(in LeaderInput, env Env) (Leader, error) {
	switch {
	case in.User != "" && (in.Name != "" || in.Unit != ""):
		return Leader{}, fieldProblem(citygrid.CodeInvalid, "leader", "a user, or a name and a unit, not both")
	case in.User != "":
		if env.User == nil {
			return Leader{}, fieldProblem(citygrid.CodeUnprocessable, "leader.user", "this service keeps no users: name the leader and the unit")
		}
		display, ok, err := env.User(in.User)
		if err != nil {
			return Leader{}, err
		}
		if !ok {
			return Leader{}, fieldProblem(citygrid.CodeUnprocessable, "leader.user", "no user %q", truncate(in.User, 64))
		}
		if display == "" {
			display = in.User
		}
		return Leader{User: in.User, Name: display}, nil
	}
	if err := checkText("leader.name", in.Name, MaxNameLen, true); err != nil {
		return Leader{}, err
	}
	if in.Unit == "" {
		return Leader{}, fieldProblem(citygrid.CodeInvalid, "leader.unit", "required with a name: the code of the leader's unit")
	}
	if env.Locator != nil {
		if _, ok := env.Locator.Unit(in.Unit); !ok {
			return Leader{}, fieldProblem(citygrid.CodeUnprocessable, "leader.unit", "unknown unit %q", truncate(in.Unit, 64))
		}
	}
	return Leader{Name: strings.TrimSpace(in.Name), Unit: in.Unit}, nil
}

func checkUnits(list []string, l *grid.Locator) ([]string, error) {
	if len(list) > MaxUnits {
		return nil, fieldProblem(citygrid.CodeInvalid, "units", "%d units: at most %d", len(list), MaxUnits)
	}
	out := []string{}
	for _, u := range list {
		if l != nil {
			if _, ok := l.Unit(u); !ok {
				return nil, fieldProblem(citygrid.CodeUnprocessable, "units", "unknown unit %q", truncate(u, 64))
			}
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

func checkBudget(in BudgetInput) (Budget, error) {
	if len(in.AmountCNY) == 0 || string(in.AmountCNY) == "null" {
		return Budget{}, fieldProblem(citygrid.CodeInvalid, "budget.amount_cny", "required: the amount in yuan")
	}
	fen, err := ParseMoney("budget.amount_cny", in.AmountCNY)
	if err != nil {
		return Budget{}, err
	}
	if err := checkText("budget.source", in.Source, MaxSourceTextLen, fen > 0); err != nil {
		return Budget{}, err
	}
	return Budget{AmountFen: fen, Source: in.Source}, nil
}

// ParseMoney reads an amount of yuan (a JSON number, at most two
// decimals, not negative) as fen; a problem names field.
func ParseMoney(field string, raw json.RawMessage) (int64, error) {
	var m Money
	if err := m.UnmarshalJSON(raw); err != nil {
		return 0, fieldProblem(citygrid.CodeInvalid, field, "%v", err)
	}
	if int64(m) > MaxBudgetFen {
		return 0, fieldProblem(citygrid.CodeInvalid, field, "too large")
	}
	return int64(m), nil
}

// ParseCaseIDs parses case ids given as decimal strings.
func ParseCaseIDs(field string, list []string) ([]int64, error) {
	if len(list) > 1000 {
		return nil, fieldProblem(citygrid.CodeInvalid, field, "%d cases: at most 1000 at once", len(list))
	}
	var out []int64
	for _, s := range list {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, fieldProblem(citygrid.CodeInvalid, field, "%q is not a case id (a decimal string such as \"42\")", truncate(s, 40))
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}
