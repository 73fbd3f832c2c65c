package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/grid"
	"citygrid/internal/strictjson"
	"citygrid/project"
)

// placeMemo remembers what the grid map says of open cases' places (see
// project.PlaceOf), so that listing disputes costs one locator question
// per case that moved, changed category or is new, and not one per open
// case and request. It is dropped whole when the grids change.
type placeMemo struct {
	mu  sync.Mutex
	loc *grid.Locator
	m   map[int64]memoPlace
}

type memoPlace struct {
	at       orb.Point
	category string
	place    project.Place
}

func (pm *placeMemo) place(l *grid.Locator, e caseindex.Entry) project.Place {
	pm.mu.Lock()
	if pm.loc != l {
		pm.loc, pm.m = l, map[int64]memoPlace{}
	}
	mp, ok := pm.m[e.ID]
	pm.mu.Unlock()
	if ok && mp.at == e.Location && mp.category == e.Category {
		return mp.place
	}
	pl, err := project.PlaceOf(l, e.Location, e.Category)
	if err != nil {
		pl = project.Place{} // a stored case always has a valid location
	}
	pm.mu.Lock()
	if pm.loc == l {
		pm.m[e.ID] = memoPlace{at: e.Location, category: e.Category, place: pl}
	}
	pm.mu.Unlock()
	return pl
}

// disputed is one disputed case.
type disputed struct {
	entry   caseindex.Entry
	reasons []string
	units   []string
	returns int
}

var openStatuses = func() []cases.Status {
	var out []cases.Status
	for _, st := range cases.Statuses {
		if st.Open() {
			out = append(out, st)
		}
	}
	return out
}()

// disputes lists the open cases in the caller's scope (and b, if given)
// whose owner is in doubt, newest first: no unit grid covers them, or
// they lie within the border tolerance of grids of other units (unless a
// dispatcher settled them), or handlers returned them twice since they
// were last settled.
func (s *Server) disputes(r *http.Request, b *orb.Bound) ([]disputed, error) {
	l, err := s.locator()
	if err != nil {
		return nil, err
	}
	returned, err := s.projects.ReturnedTwice(r.Context())
	if err != nil {
		return nil, err
	}
	settled, err := s.projects.SettledCases(r.Context())
	if err != nil {
		return nil, err
	}
	box := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	if b != nil {
		box = *b
	}
	var out []disputed
	f := caseindex.Filter{Statuses: openStatuses, Restriction: s.scopeOf(r).Restriction()}
	s.live.Index().Within(box, f, func(e caseindex.Entry) {
		d := disputed{entry: e}
		if !settled[e.ID] {
			pl := s.places.place(l, e)
			d.reasons, d.units = pl.Reasons, pl.Units
		}
		if n := returned[e.ID]; n >= 2 {
			d.reasons, d.returns = append(d.reasons, project.ReasonReturnedTwice), n
		}
		if len(d.reasons) > 0 {
			out = append(out, d)
		}
	})
	slices.SortFunc(out, func(a, b disputed) int {
		if c := b.entry.ReportedAt.Compare(a.entry.ReportedAt); c != 0 {
			return c
		}
		return int(b.entry.ID - a.entry.ID)
	})
	return out, nil
}

// handleDisputesList serves the disputed cases as GeoJSON points, the
// list and the map layer alike.
func (s *Server) handleDisputesList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "bbox", "limit"); err != nil {
		return err
	}
	limit := 500
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = parseInt(v, "limit", 1, 5000); err != nil {
			return err
		}
	}
	var b *orb.Bound
	if v := q.Get("bbox"); v != "" {
		box, err := parseBBox(v)
		if err != nil {
			return err
		}
		b = &box
	}
	list, err := s.disputes(r, b)
	if err != nil {
		return err
	}
	total := len(list)
	if len(list) > limit {
		list = list[:limit]
	}
	now := s.now()
	fc := geojson.NewFeatureCollection()
	for _, d := range list {
		e := d.entry
		f := geojson.NewFeature(e.Location)
		f.ID = strconv.FormatInt(e.ID, 10)
		units := d.units
		if units == nil {
			units = []string{}
		}
		f.Properties = geojson.Properties{"id": f.ID, "category": e.Category, "status": e.Status, "grid": e.Grid, "unit": e.Unit,
			"reasons": d.reasons, "units": units, "returns": d.returns, "reported_at": e.ReportedAt.UTC().Format(time.RFC3339),
			"overdue_now": e.Overdue(now)}
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"total": total}
	return writeGeoJSON(w, fc)
}

// disputeOf reads a case the caller sees and says why it is disputed; a
// case that is not is a 422.
func (s *Server) disputeOf(r *http.Request, id int64) (*cases.Case, []string, error) {
	c, err := s.visibleCase(r, id)
	if err != nil {
		return nil, nil, err
	}
	list, err := s.disputes(r, &orb.Bound{Min: c.Location, Max: c.Location})
	if err != nil {
		return nil, nil, err
	}
	for _, d := range list {
		if d.entry.ID == id {
			return c, d.reasons, nil
		}
	}
	return nil, nil, citygrid.Errorf(citygrid.CodeUnprocessable, "case %d is not disputed: its owner is clear (or it was settled, or it is not open)", id)
}

type settleBody struct {
	Unit *string `json:"unit"`
	Grid *string `json:"grid"`
	Note string  `json:"note"`
}

// handleDisputeSettle assigns a disputed case its owner through the
// case's re-assignment (the same update and guard as PATCH
// /v1/cases/{id}: scope over the old and new grid, the reassign action)
// and records the settlement.
func (s *Server) handleDisputeSettle(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCaseID(r)
	if err != nil {
		return err
	}
	version, err := optionalIfMatch(r)
	if err != nil {
		return err
	}
	var body settleBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	if body.Unit == nil && body.Grid == nil {
		return fieldInvalid("unit", "name the owner: a unit, a grid (its unit by the ownership rule), or both")
	}
	if len(body.Note) > 2000 {
		return fieldInvalid("note", "longer than 2000 bytes")
	}
	for _, f := range []*string{body.Grid, body.Unit} {
		if f != nil {
			if err := grid.ValidateCode(*f); err != nil {
				return invalid("grid/unit: %v", err)
			}
		}
	}
	c, reasons, err := s.disputeOf(r, id)
	if err != nil {
		return err
	}
	if version == 0 {
		version = c.Version
	}
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return err
	}
	if body.Unit != nil {
		if _, ok := l.Unit(*body.Unit); !ok {
			e := citygrid.Errorf(citygrid.CodeUnprocessable, "unit: unknown unit %q", truncate(*body.Unit, 64))
			e.Details = map[string]any{"field": "unit"}
			return e
		}
	}
	actor := principal(r).Actor()
	note := body.Note
	if note == "" {
		note = "dispute settled"
	}
	u := cases.Update{Grid: body.Grid, Unit: body.Unit, Actor: actor, Note: note, IfVersion: version, Now: s.now(), Calendar: cal, Categories: cats,
		Locator: l, Guard: access.CaseGuard{P: principal(r), Scope: s.scopeOf(r)}}
	updated := c
	if body.Unit != nil && *body.Unit != c.Unit || body.Grid != nil && *body.Grid != c.Grid {
		if updated, err = s.cases.UpdateCase(r.Context(), id, u); err != nil {
			return err
		}
		s.changed(r, updated)
	} else if p := principal(r); !p.Role.MayAct(cases.ActionReassign) {
		// Confirming the owner it has changes nothing of the case, but is
		// still a re-assignment's decision.
		return access.Forbidden("case", strconv.FormatInt(id, 10), "unit", "unit: a %s may not re-assign cases", p.Role)
	} else if version != c.Version {
		return citygrid.Errorf(citygrid.CodePrecondition, "case %d is at version %d, not %d: reload it and try again", id, c.Version, version)
	}
	// The re-assignment is stored; should the record of the settlement
	// fail, the case is still listed and may be settled again.
	if err := s.projects.Settle(r.Context(), project.Settlement{CaseID: id, At: u.Now, Actor: actor, Unit: updated.Unit, Grid: updated.Grid, Note: body.Note}); err != nil {
		return err
	}
	w.Header().Set("ETag", etagOf(updated.Version))
	return writeJSON(w, http.StatusOK, map[string]any{"case": s.caseView(r, u.Now).feature(updated), "settled": reasons})
}

type escalateBody struct {
	Project    *string         `json:"project"`
	NewProject json.RawMessage `json:"new_project"`
	Note       string          `json:"note"`
}

// handleDisputeEscalate turns a disputed case into a project's: linked to
// an existing active project ({"project": id}) or to a new one
// ({"new_project": {...}}, as POST /v1/projects), and settled.
func (s *Server) handleDisputeEscalate(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCaseID(r)
	if err != nil {
		return err
	}
	var body escalateBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	if (body.Project == nil) == (len(body.NewProject) == 0) {
		return fieldInvalid("project", "give an existing project's id (project) or a new project (new_project), one of them")
	}
	if len(body.Note) > 2000 {
		return fieldInvalid("note", "longer than 2000 bytes")
	}
	if _, _, err := s.disputeOf(r, id); err != nil {
		return err
	}
	actor, now := principal(r).Actor(), s.now()
	st := project.Settlement{CaseID: id, At: now, Actor: actor, Note: body.Note}
	if body.Project != nil {
		pid, err := strconv.ParseInt(*body.Project, 10, 64)
		if err != nil || pid <= 0 {
			return fieldInvalid("project", "%q is not a project id", truncate(*body.Project, 40))
		}
		p, err := s.visibleProject(r, pid)
		if err != nil {
			return err
		}
		if !p.Status.Active() {
			return citygrid.Errorf(citygrid.CodeUnprocessable, "project %d is done: escalate into an active project", pid)
		}
		if err := s.projects.Escalate(r.Context(), pid, st); err != nil {
			return err
		}
		p, err = s.projects.FindProjectByID(r.Context(), pid)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, newProjectView(p, s.today(r.Context())))
	}
	var in project.Input
	if err := strictDecode(body.NewProject, &in); err != nil {
		return err
	}
	p, env, sc, err := s.prepareProject(r, in, id)
	if err != nil {
		return err
	}
	created, err := s.projects.CreateProject(r.Context(), p, actor, sc.Roots(), now)
	if err != nil {
		return err
	}
	st.ProjectID = created.ID
	if err := s.projects.Settle(r.Context(), st); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/projects/"+strconv.FormatInt(created.ID, 10))
	return writeJSON(w, http.StatusCreated, newProjectView(created, env.Today()))
}

// strictDecode decodes a nested JSON value as strictly as a body.
func strictDecode(b []byte, v any) error {
	if err := strictjson.Decode(b, v); err != nil {
		return jsonError(err, int64(len(b)))
	}
	return nil
}
