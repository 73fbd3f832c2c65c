package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/project"
	"citygrid/tiles"
)

// ProjectStore keeps pain-point projects and dispute settlements
// (postgres.ProjectStore).
type ProjectStore interface {
	CreateProject(ctx context.Context, p *project.Project, actor string, roots []string, at time.Time) (*project.Project, error)
	FindProjectByID(ctx context.Context, id int64) (*project.Project, error)
	FindProjects(ctx context.Context, f project.Filter) ([]*project.Project, error)
	UpdateProject(ctx context.Context, id int64, ifVersion int, roots []string, at time.Time, see func(*project.Project) bool,
		change func(*project.Project) (*project.Change, error)) (*project.Project, error)
	ProjectHistory(ctx context.Context, id int64) ([]project.Event, error)
	ReturnedTwice(ctx context.Context) (map[int64]int, error)
	SettledCases(ctx context.Context) (map[int64]bool, error)
	Settle(ctx context.Context, st project.Settlement) error
	Escalate(ctx context.Context, projectID int64, st project.Settlement) error
	ProjectsVersion(ctx context.Context, today time.Time) (string, error)
}

// registerProjectRoutes serves the battle map's projects and disputed
// cases (issue 17): every route of the feature is here, for the rule table
// and the OpenAPI document.
func (s *Server) registerProjectRoutes(r chi.Router) {
	r.Get("/v1/projects", s.handle(s.handleProjectsList))
	r.Post("/v1/projects", s.handle(s.handleProjectCreate))
	r.Get("/v1/projects/{id}", s.handle(s.handleProjectGet))
	r.Patch("/v1/projects/{id}", s.handle(s.handleProjectPatch))
	r.Get("/v1/projects/{id}/history", s.handle(s.handleProjectHistory))
	r.Get("/v1/projects/{id}/progress", s.handle(s.handleProjectProgress))
	r.Get("/v1/projects/{id}/cases", s.handle(s.handleProjectCases))
	r.Get("/v1/disputes", s.handle(s.handleDisputesList))
	r.Post("/v1/disputes/{id}/settle", s.handle(s.handleDisputeSettle))
	r.Post("/v1/disputes/{id}/escalate", s.handle(s.handleDisputeEscalate))
	if s.tiles != nil {
		r.Get("/tiles/projects/{z}/{x}/{file}", s.handle(s.handleProjectsTile))
	}
}

// projectEnv is what checking a project needs now.
func (s *Server) projectEnv(r *http.Request) (project.Env, error) {
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return project.Env{}, err
	}
	env := project.Env{Calendar: cal, Locator: l, Categories: cats, Now: s.now()}
	if s.users != nil {
		env.User = func(name string) (string, bool, error) {
			u, err := s.users.UserByName(r.Context(), name)
			if err != nil || u == nil || u.Disabled {
				return "", false, err
			}
			return u.DisplayName, true, nil
		}
	}
	return env, nil
}

// seesProject reports whether the caller's scope meets the project's area.
func seesProject(sc *access.Scope, p *project.Project) bool {
	grids := sc.Grids()
	if grids == nil {
		return true
	}
	return slices.ContainsFunc(p.Grids, func(code string) bool { return grids[code] })
}

func parseProjectID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("project id %q is not a positive integer", truncate(raw, 40))
	}
	return id, nil
}

// visibleProject reads a project the caller may see; one it may not see
// answers as one that does not exist.
func (s *Server) visibleProject(r *http.Request, id int64) (*project.Project, error) {
	p, err := s.projects.FindProjectByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !seesProject(s.scopeOf(r), p) {
		return nil, access.Hidden("project", strconv.FormatInt(id, 10), "project "+strconv.FormatInt(id, 10)+" not found")
	}
	return p, nil
}

// projectView is a project as the API writes it.
type projectView struct {
	ID             string                  `json:"id"`
	Name           string                  `json:"name"`
	Kind           string                  `json:"kind"`
	Area           *geojson.Geometry       `json:"area"`
	AreaGrids      []string                `json:"area_grids"`
	Grids          []string                `json:"grids"`
	Categories     []string                `json:"categories"`
	Leader         project.Leader          `json:"leader"`
	Units          []string                `json:"units"`
	Plan           string                  `json:"plan"`
	Budget         budgetView              `json:"budget"`
	SpentCNY       project.Money           `json:"spent_cny"`
	Deadline       string                  `json:"deadline"`
	Milestones     []project.MilestoneView `json:"milestones"`
	Status         project.Status          `json:"status"`
	NextStatuses   []project.Status        `json:"next_statuses"`
	Late           bool                    `json:"late"`
	LateMilestones int                     `json:"late_milestones"`
	LinkedCases    []string                `json:"linked_cases"` // linked by hand
	Version        int                     `json:"version"`
	CreatedAt      string                  `json:"created_at"`
	UpdatedAt      string                  `json:"updated_at"`
	Progress       *project.Progress       `json:"progress,omitempty"`
}

type budgetView struct {
	AmountCNY project.Money `json:"amount_cny"`
	Source    string        `json:"source"`
}

// today is the civil date now on the working calendar.
func (s *Server) today(ctx context.Context) time.Time {
	cal, err := s.cases.Calendar(ctx)
	if err != nil || cal == nil {
		cal = cases.DefaultCalendar()
	}
	return project.Civil(s.now(), cal.Location())
}

func newProjectView(p *project.Project, today time.Time) projectView {
	v := projectView{ID: strconv.FormatInt(p.ID, 10), Name: p.Name, Kind: p.Kind, Area: geojson.NewGeometry(p.Area), AreaGrids: p.GridCodes,
		Grids: p.Grids, Categories: p.Categories, Leader: p.Leader, Units: p.Units, Plan: p.Plan,
		Budget: budgetView{project.Money(p.Budget.AmountFen), p.Budget.Source}, SpentCNY: project.Money(p.SpentFen),
		Deadline: p.Deadline.Format(project.DateLayout), Milestones: project.MilestoneViews(p.Milestones, today), Status: p.Status,
		NextStatuses: p.Status.Next(), Late: p.Late(today), LateMilestones: p.LateMilestones(today), LinkedCases: []string{}, Version: p.Version,
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339)}
	if v.NextStatuses == nil {
		v.NextStatuses = []project.Status{}
	}
	for _, id := range p.CaseIDs {
		v.LinkedCases = append(v.LinkedCases, strconv.FormatInt(id, 10))
	}
	for _, f := range []*[]string{&v.AreaGrids, &v.Grids, &v.Categories, &v.Units} {
		if *f == nil {
			*f = []string{}
		}
	}
	return v
}

func (s *Server) handleProjectsList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "bbox", "grid", "status", "leader", "late", "limit", "after"); err != nil {
		return err
	}
	f := project.Filter{Today: s.today(r.Context()), Grids: s.scopeOf(r).Restriction().Grids, Limit: 100}
	if v := q.Get("bbox"); v != "" {
		b, err := parseBBox(v)
		if err != nil {
			return err
		}
		f.Bound = &b
	}
	f.Grid = q.Get("grid")
	if v := q.Get("status"); v != "" {
		for _, part := range strings.Split(v, ",") {
			st, err := project.ParseStatus(part)
			if err != nil {
				return invalid("status: %v", err)
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	f.Leader = q.Get("leader")
	if v := q.Get("late"); v != "" {
		late, err := parseBool(v, "late")
		if err != nil {
			return err
		}
		f.Late = &late
	}
	var err error
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = parseInt(v, "limit", 1, 1000); err != nil {
			return err
		}
	}
	if v := q.Get("after"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || f.AfterID < 0 {
			return invalid("after: %q is not a project id", truncate(v, 40))
		}
	}
	list, err := s.projects.FindProjects(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]projectView, len(list))
	for i, p := range list {
		out[i] = newProjectView(p, f.Today)
	}
	reply := map[string]any{"projects": out, "next": nil}
	if len(list) == f.Limit {
		reply["next"] = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return writeJSON(w, http.StatusOK, reply)
}

func (s *Server) handleProjectCreate(w http.ResponseWriter, r *http.Request) error {
	var in project.Input
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	p, env, sc, err := s.prepareProject(r, in)
	if err != nil {
		return err
	}
	created, err := s.projects.CreateProject(r.Context(), p, principal(r).Actor(), sc.Roots(), env.Now)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/projects/"+strconv.FormatInt(created.ID, 10))
	w.Header().Set("ETag", etagOf(created.Version))
	return writeJSON(w, http.StatusCreated, newProjectView(created, env.Today()))
}

// prepareProject checks a new project (POST /v1/projects, or a dispute
// escalated into one) against the rules and the caller's scope: every case
// it links is one the caller sees, and an area given as grids lies within
// the scope. link, when not 0, is a case linked besides those asked for.
func (s *Server) prepareProject(r *http.Request, in project.Input, link ...int64) (*project.Project, project.Env, *access.Scope, error) {
	env, err := s.projectEnv(r)
	if err != nil {
		return nil, env, nil, err
	}
	p, _, err := project.Prepare(in, env)
	if err != nil {
		return nil, env, nil, err
	}
	for _, id := range link {
		if !slices.Contains(p.CaseIDs, id) {
			p.CaseIDs = append(p.CaseIDs, id)
		}
	}
	sc := s.scopeOf(r)
	if err := s.mayLink(r, sc, p.CaseIDs); err != nil {
		return nil, env, nil, err
	}
	if len(p.GridCodes) > 0 && sc.Grids() != nil {
		for _, code := range p.GridCodes {
			if sc.Grid(code) != access.Full {
				return nil, env, nil, access.Forbidden("project", "", "area", "area: grid %q lies outside your scope", code)
			}
		}
	}
	return p, env, sc, nil
}

// mayLink checks that the caller sees every case it links: a case outside
// its scope answers as one that does not exist.
func (s *Server) mayLink(r *http.Request, sc *access.Scope, ids []int64) error {
	for _, id := range ids {
		c, err := s.cases.FindCaseByID(r.Context(), id)
		if err == nil && !sc.Sees(c) {
			err = access.Hidden("case", strconv.FormatInt(id, 10), "case "+strconv.FormatInt(id, 10)+" not found")
		}
		if err != nil {
			if ce, ok := err.(*citygrid.Error); ok && ce.Code == citygrid.CodeNotFound {
				e := citygrid.Errorf(citygrid.CodeUnprocessable, "cases: case %d not found", id)
				e.Details = map[string]any{"field": "cases"}
				return e
			}
			return err
		}
	}
	return nil
}

func (s *Server) handleProjectGet(w http.ResponseWriter, r *http.Request) error {
	id, err := parseProjectID(r)
	if err != nil {
		return err
	}
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	p, err := s.visibleProject(r, id)
	if err != nil {
		return err
	}
	today := s.today(r.Context())
	v := newProjectView(p, today)
	pr, err := s.progressOf(r, p, today)
	if err != nil {
		return err
	}
	v.Progress = &pr
	w.Header().Set("ETag", etagOf(p.Version))
	return writeJSON(w, http.StatusOK, v)
}

// optionalIfMatch reads If-Match when given (0 when not).
func optionalIfMatch(r *http.Request) (int, error) {
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		return 0, nil
	}
	return parseIfMatch(r)
}

func (s *Server) handleProjectPatch(w http.ResponseWriter, r *http.Request) error {
	id, err := parseProjectID(r)
	if err != nil {
		return err
	}
	version, err := optionalIfMatch(r)
	if err != nil {
		return err
	}
	var patch project.Patch
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &patch); err != nil {
		return err
	}
	env, err := s.projectEnv(r)
	if err != nil {
		return err
	}
	sc := s.scopeOf(r)
	links, err := project.ParseCaseIDs("link_cases", patch.LinkCases)
	if err != nil {
		return err
	}
	if err := s.mayLink(r, sc, links); err != nil {
		return err
	}
	actor := principal(r).Actor()
	p, err := s.projects.UpdateProject(r.Context(), id, version, sc.Roots(), env.Now, func(p *project.Project) bool { return seesProject(sc, p) },
		func(p *project.Project) (*project.Change, error) {
			ch, err := project.Apply(p, patch, actor, env)
			if err != nil {
				return nil, err
			}
			if ch.Area != nil && len(ch.Area.Grids) > 0 && sc.Grids() != nil {
				for _, code := range ch.Area.Grids {
					if sc.Grid(code) != access.Full {
						return nil, access.Forbidden("project", strconv.FormatInt(id, 10), "area", "area: grid %q lies outside your scope", code)
					}
				}
			}
			return ch, nil
		})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etagOf(p.Version))
	return writeJSON(w, http.StatusOK, newProjectView(p, env.Today()))
}

func (s *Server) handleProjectHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := parseProjectID(r)
	if err != nil {
		return err
	}
	if _, err := s.visibleProject(r, id); err != nil {
		return err
	}
	events, err := s.projects.ProjectHistory(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"project": strconv.FormatInt(id, 10), "events": events})
}

// linked finds a project's linked cases that the caller sees: those in
// its area and categories (from the case index) and those linked by hand,
// each once. visit gets every one; auto and manual count them.
func (s *Server) linked(r *http.Request, p *project.Project, visit func(e caseindex.Entry)) (auto, manual int, err error) {
	sc := s.scopeOf(r)
	seen := map[int64]bool{}
	if s.live != nil {
		poly := geo.Prepare(p.Area)
		f := caseindex.Filter{Categories: p.Categories, Restriction: sc.Restriction()}
		s.live.Index().Within(p.Area.Bound(), f, func(e caseindex.Entry) {
			if poly.Locate(e.Location) != geo.Outside {
				seen[e.ID] = true
				auto++
				visit(e)
			}
		})
	}
	for _, id := range p.CaseIDs {
		if seen[id] {
			manual++
			continue
		}
		c, err := s.cases.FindCaseByID(r.Context(), id)
		if err != nil {
			return 0, 0, err
		}
		if !sc.Sees(c) {
			continue
		}
		manual++
		visit(caseindex.EntryOf(c))
	}
	return auto, manual, nil
}

func (s *Server) progressOf(r *http.Request, p *project.Project, today time.Time) (project.Progress, error) {
	var statuses []cases.Status
	auto, manual, err := s.linked(r, p, func(e caseindex.Entry) { statuses = append(statuses, e.Status) })
	if err != nil {
		return project.Progress{}, err
	}
	return p.Tally(today, auto, manual, statuses), nil
}

func (s *Server) handleProjectProgress(w http.ResponseWriter, r *http.Request) error {
	id, err := parseProjectID(r)
	if err != nil {
		return err
	}
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	p, err := s.visibleProject(r, id)
	if err != nil {
		return err
	}
	pr, err := s.progressOf(r, p, s.today(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

// handleProjectCases lists a project's linked cases as GeoJSON points,
// newest first, at most limit (100 by default).
func (s *Server) handleProjectCases(w http.ResponseWriter, r *http.Request) error {
	id, err := parseProjectID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := allowParams(q, "limit"); err != nil {
		return err
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		if limit, err = parseInt(v, "limit", 1, 1000); err != nil {
			return err
		}
	}
	p, err := s.visibleProject(r, id)
	if err != nil {
		return err
	}
	manualSet := map[int64]bool{}
	for _, id := range p.CaseIDs {
		manualSet[id] = true
	}
	var list []caseindex.Entry
	if _, _, err := s.linked(r, p, func(e caseindex.Entry) { list = append(list, e) }); err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b caseindex.Entry) int {
		if c := b.ReportedAt.Compare(a.ReportedAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	total := len(list)
	if len(list) > limit {
		list = list[:limit]
	}
	now := s.now()
	fc := geojson.NewFeatureCollection()
	for _, e := range list {
		f := geojson.NewFeature(e.Location)
		f.ID = strconv.FormatInt(e.ID, 10)
		f.Properties = geojson.Properties{"id": f.ID, "category": e.Category, "status": e.Status, "grid": e.Grid, "unit": e.Unit,
			"reported_at": e.ReportedAt.UTC().Format(time.RFC3339), "overdue_now": e.Overdue(now), "manual": manualSet[e.ID]}
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"total": total}
	return writeGeoJSON(w, fc)
}

// handleProjectsTile serves the projects layer: /tiles/projects/{z}/{x}/{y}.mvt.
func (s *Server) handleProjectsTile(w http.ResponseWriter, r *http.Request) error {
	file := chi.URLParam(r, "file")
	dot := strings.LastIndexByte(file, '.')
	ys, ext := file[:max(dot, 0)], file[dot+1:]
	if dot < 0 || (ext != "mvt" && ext != "pbf") {
		return citygrid.Errorf(citygrid.CodeNotFound, "tiles end in .mvt or .pbf: /tiles/projects/{z}/{x}/{y}.mvt")
	}
	if err := allowParams(r.URL.Query(), "status"); err != nil {
		return err
	}
	var zxy [3]int
	var err error
	for i, part := range []struct{ s, name string }{{chi.URLParam(r, "z"), "z"}, {chi.URLParam(r, "x"), "x"}, {ys, "y"}} {
		if zxy[i], err = parseTileCoord(part.s, part.name); err != nil {
			return err
		}
	}
	t, err := geo.NewTile(zxy[0], zxy[1], zxy[2])
	if err != nil {
		return citygrid.Errorf(citygrid.CodeNotFound, "%v", err)
	}
	today := s.today(r.Context())
	bound := t.Bound(tiles.Extent, tiles.Buffer)
	sc := s.scopeOf(r)
	var statuses []project.Status
	if v := r.URL.Query().Get("status"); v != "" {
		for _, part := range strings.Split(v, ",") {
			st, err := project.ParseStatus(part)
			if err != nil {
				return invalid("status: %v", err)
			}
			statuses = append(statuses, st)
		}
	}
	list, err := s.projectsIn(r.Context(), bound, sc, statuses, today)
	if err != nil {
		return err
	}
	feats := make([]tiles.ProjectFeature, len(list))
	for i, p := range list {
		feats[i] = tiles.ProjectFeature{ID: p.ID, Name: p.Name, Kind: p.Kind, Status: p.Status, Leader: p.Leader.Name, Late: p.Late(today),
			LateMilestones: p.LateMilestones(today), Area: p.Area}
	}
	enc, capped := tiles.Projects(t, feats, s.tiles.Options().MaxFeatures)
	// As every tile route answers (handleTile): the caching policy and
	// CORS, an ETag, 204 for an empty tile, gzip when accepted.
	h := w.Header()
	s.tileHeaders(h, tiles.LayerProjects, sc)
	h.Set("ETag", enc.ETag)
	h.Set("Vary", "Accept-Encoding, Authorization")
	if capped {
		h.Set("X-Tile-Capped", tiles.LayerProjects)
	}
	writeTile(w, r, enc)
	return nil
}
