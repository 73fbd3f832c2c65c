package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"citygrid"
	"citygrid/access"
	"citygrid/project"
)

// ProjectStore keeps pain-point projects and dispute settlements: its SQL
// is in this file and, for disputes, dispute.go.
type ProjectStore struct {
	db DBTX
}

// NewProjectStore returns a store over db.
func NewProjectStore(db DBTX) *ProjectStore { return &ProjectStore{db: db} }

// projectAreasLock serialises the writers of active projects' areas, so
// that the overlap rule (one leader per area) checked in one transaction
// holds against every other: an exclusion constraint cannot say it (&&
// compares boxes, and the rule is about interiors).
const projectAreasLockSQL = `SELECT pg_advisory_xact_lock(hashtext('citygrid.project_areas'))`

// areaFromGridsSQL unions the given grids into the area.
const areaFromGridsSQL = `SELECT ST_AsBinary(ST_Multi(ST_UnaryUnion(ST_Collect(geom)))), count(*) FROM grids WHERE code = ANY($1)`

// areaGridsSQL lists the grids whose interior the area's interior meets
// (touching along an edge does not count), and checks the area against the
// caller's scope roots ($2, NULL for the whole district): it must lie
// within their union (a hair of tolerance for unions of shared edges).
const areaGridsSQL = `
WITH a AS (SELECT ST_GeomFromWKB($1, 4326) AS geom)
SELECT COALESCE((SELECT array_agg(g.code ORDER BY g.code) FROM grids g, a
                  WHERE g.geom && a.geom AND ST_Relate(g.geom, a.geom, 'T********')), '{}'),
       $2::text[] IS NULL OR COALESCE((SELECT ST_CoveredBy(a.geom, ST_Buffer(ST_Union(g.geom), 1e-7))
                                         FROM grids g WHERE g.code = ANY($2)), false)
FROM a`

// overlapSQL finds an active project of another leader whose area's
// interior meets this one's.
const overlapSQL = `
SELECT id, name, leader_name FROM projects
WHERE status <> 'done' AND id <> $2 AND leader_key <> $3
  AND geom && ST_GeomFromWKB($1, 4326) AND ST_Relate(geom, ST_GeomFromWKB($1, 4326), 'T********')
ORDER BY id LIMIT 1`

const insertProjectSQL = `
INSERT INTO projects (name, kind, geom, grid_codes, grids, categories, leader_user, leader_name, leader_unit, leader_key, units,
                      plan, budget_fen, budget_source, spent_fen, deadline, status, created_at, updated_at)
VALUES ($1, $2, ST_Multi(ST_GeomFromWKB($3, 4326)), $4, $5, $6, NULLIF($7, ''), $8, NULLIF($9, ''), $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
RETURNING id`

const insertMilestoneSQL = `
INSERT INTO project_milestones (project_id, ord, name, working_days, start_on, due_on, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`

const insertProjectEventSQL = `
INSERT INTO project_events (project_id, at, actor, kind, note, data) VALUES ($1, $2, $3, $4, $5, $6)`

const existingCasesSQL = `SELECT id FROM cases WHERE id = ANY($1)`

const linkCaseSQL = `INSERT INTO project_cases (project_id, case_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`

const unlinkCaseSQL = `DELETE FROM project_cases WHERE project_id = $1 AND case_id = $2`

// Scope is the part of the district a project writer may draw in: the
// codes of its scope's roots, nil for the whole district.
type Scope = []string

// CreateProject stores a new project: the area of grid codes becomes
// their union; the area must lie within the writer's scope (roots, nil for
// the whole district) and meet no active project's area of another leader
// (包片). Nothing is stored on any failure.
func (s *ProjectStore) CreateProject(ctx context.Context, p *project.Project, actor string, roots Scope, at time.Time) (*project.Project, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	area, err := s.prepareArea(ctx, tx, p, 0, roots)
	if err != nil {
		return nil, err
	}
	var id int64
	err = tx.QueryRow(ctx, insertProjectSQL, p.Name, p.Kind, area, nullCodes(p.GridCodes), p.Grids, nonNil(p.Categories), p.Leader.User, p.Leader.Name,
		p.Leader.Unit, p.Leader.Key(), nonNil(p.Units), p.Plan, p.Budget.AmountFen, p.Budget.Source, p.SpentFen, p.Deadline, string(p.Status), at).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	if err := writeMilestones(ctx, tx, id, p.Milestones); err != nil {
		return nil, err
	}
	if err := linkCases(ctx, tx, id, p.CaseIDs, at); err != nil {
		return nil, err
	}
	ev := project.NewEvent(at, actor, "create", "", map[string]any{"status": p.Status, "leader": p.Leader, "deadline": p.Deadline.Format(project.DateLayout)})
	if err := writeProjectEvents(ctx, tx, id, []project.Event{ev}); err != nil {
		return nil, err
	}
	if err := audit(ctx, tx, access.Entry{Action: "project.create", ObjectType: "project", ObjectID: strconv.FormatInt(id, 10), ToVersion: ptr(1), Detail: p.Name}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	return s.FindProjectByID(ctx, id)
}

func ptr[T any](v T) *T { return &v }

// nonNil stores no list as an empty one: the columns are NOT NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullCodes(c []string) any {
	if c == nil {
		return nil
	}
	return c
}

// prepareArea fills p.Area (from grid codes) and p.Grids, checks the scope
// and the overlap rule under the areas lock, and returns the area as WKB.
func (s *ProjectStore) prepareArea(ctx context.Context, tx pgx.Tx, p *project.Project, id int64, roots Scope) ([]byte, error) {
	if _, err := tx.Exec(ctx, projectAreasLockSQL); err != nil {
		return nil, fmt.Errorf("lock project areas: %w", err)
	}
	if len(p.GridCodes) > 0 {
		var b []byte
		var n int
		if err := tx.QueryRow(ctx, areaFromGridsSQL, p.GridCodes).Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("project area from grids: %w", err)
		}
		if n != len(p.GridCodes) || b == nil {
			return nil, fieldConflict(citygrid.CodeUnprocessable, "area.grids", "some of the grids do not exist")
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("project area from grids: %w", err)
		}
		mp, ok := g.(orb.MultiPolygon)
		if !ok {
			return nil, fmt.Errorf("project area from grids: a %T", g)
		}
		p.Area = mp
	}
	b, err := wkb.Marshal(p.Area)
	if err != nil {
		return nil, fmt.Errorf("project area: %w", err)
	}
	var inScope bool
	var rootsArg any
	if roots != nil {
		rootsArg = roots
	}
	if err := tx.QueryRow(ctx, areaGridsSQL, b, rootsArg).Scan(&p.Grids, &inScope); err != nil {
		return nil, fmt.Errorf("project area grids: %w", err)
	}
	if !inScope {
		return nil, access.Forbidden("project", strconv.FormatInt(id, 10), "area", "area: the project's area reaches outside your scope")
	}
	if len(p.Grids) == 0 {
		return nil, fieldConflict(citygrid.CodeUnprocessable, "area", "the area lies in no grid of the district")
	}
	if !p.Status.Active() {
		return b, nil
	}
	var other int64
	var name, leader string
	err = tx.QueryRow(ctx, overlapSQL, b, id, p.Leader.Key()).Scan(&other, &name, &leader)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return b, nil
	case err != nil:
		return nil, fmt.Errorf("project overlap: %w", err)
	}
	e := citygrid.Errorf(citygrid.CodeConflict, "area: it overlaps active project %d %q led by %s: one leader per area (包片) — give it the same leader, change the area, or finish or re-lead the other project", other, name, leader)
	e.Details = map[string]any{"field": "area", "project": strconv.FormatInt(other, 10)}
	return nil, e
}

func fieldConflict(code citygrid.Code, field, msg string) error {
	e := citygrid.Errorf(code, "%s: %s", field, msg)
	e.Details = map[string]any{"field": field}
	return e
}

func writeMilestones(ctx context.Context, tx pgx.Tx, id int64, ms []project.Milestone) error {
	if _, err := tx.Exec(ctx, `DELETE FROM project_milestones WHERE project_id = $1`, id); err != nil {
		return fmt.Errorf("project %d milestones: %w", id, err)
	}
	for i, m := range ms {
		if _, err := tx.Exec(ctx, insertMilestoneSQL, id, i, m.Name, m.WorkingDays, m.Start, m.Due, m.DoneAt); err != nil {
			return fmt.Errorf("project %d milestone %d: %w", id, i, err)
		}
	}
	return nil
}

func linkCases(ctx context.Context, tx pgx.Tx, id int64, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, existingCasesSQL, ids)
	if err != nil {
		return fmt.Errorf("project %d links: %w", id, err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("project %d links: %w", id, err)
	}
	for _, c := range ids {
		if !containsID(found, c) {
			return fieldConflict(citygrid.CodeUnprocessable, "cases", fmt.Sprintf("case %d does not exist", c))
		}
		if _, err := tx.Exec(ctx, linkCaseSQL, id, c, at); err != nil {
			return fmt.Errorf("project %d link case %d: %w", id, c, err)
		}
	}
	return nil
}

func containsID(list []int64, id int64) bool {
	for _, v := range list {
		if v == id {
			return true
		}
	}
	return false
}

func writeProjectEvents(ctx context.Context, tx pgx.Tx, id int64, events []project.Event) error {
	for _, e := range events {
		var data any
		if e.Data != nil {
			data = string(e.Data)
		}
		if _, err := tx.Exec(ctx, insertProjectEventSQL, id, e.At, e.Actor, e.Kind, e.Note, data); err != nil {
			return fmt.Errorf("project %d event %s: %w", id, e.Kind, err)
		}
	}
	return nil
}

const projectColumns = `p.id, p.name, p.kind, ST_AsBinary(p.geom), p.grid_codes, p.grids, p.categories, COALESCE(p.leader_user, ''), p.leader_name,
COALESCE(p.leader_unit, ''), p.units, p.plan, p.budget_fen, p.budget_source, p.spent_fen, p.deadline, p.status, p.version, p.created_at, p.updated_at,
COALESCE((SELECT array_agg(pc.case_id ORDER BY pc.case_id) FROM project_cases pc WHERE pc.project_id = p.id), '{}')`

func scanProject(row pgx.Row) (*project.Project, error) {
	var p project.Project
	var geom []byte
	var status string
	err := row.Scan(&p.ID, &p.Name, &p.Kind, &geom, &p.GridCodes, &p.Grids, &p.Categories, &p.Leader.User, &p.Leader.Name, &p.Leader.Unit,
		&p.Units, &p.Plan, &p.Budget.AmountFen, &p.Budget.Source, &p.SpentFen, &p.Deadline, &status, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CaseIDs)
	if err != nil {
		return nil, err
	}
	p.Status = project.Status(status)
	g, err := wkb.Unmarshal(geom)
	if err != nil {
		return nil, fmt.Errorf("project %d area: %w", p.ID, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("project %d area: a %T", p.ID, g)
	}
	p.Area = mp
	return &p, nil
}

const findProjectSQL = `SELECT ` + projectColumns + ` FROM projects p WHERE p.id = $1`

const projectMilestonesSQL = `
SELECT project_id, name, working_days, start_on, due_on, done_at FROM project_milestones WHERE project_id = ANY($1) ORDER BY project_id, ord`

// FindProjectByID returns a project with its milestones and links, or
// CodeNotFound.
func (s *ProjectStore) FindProjectByID(ctx context.Context, id int64) (*project.Project, error) {
	p, err := scanProject(s.db.QueryRow(ctx, findProjectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "project %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find project %d: %w", id, err)
	}
	if err := s.milestones(ctx, []*project.Project{p}); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *ProjectStore) milestones(ctx context.Context, ps []*project.Project) error {
	if len(ps) == 0 {
		return nil
	}
	byID := make(map[int64]*project.Project, len(ps))
	ids := make([]int64, len(ps))
	for i, p := range ps {
		byID[p.ID], ids[i] = p, p.ID
	}
	rows, err := s.db.Query(ctx, projectMilestonesSQL, ids)
	if err != nil {
		return fmt.Errorf("project milestones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m project.Milestone
		if err := rows.Scan(&id, &m.Name, &m.WorkingDays, &m.Start, &m.Due, &m.DoneAt); err != nil {
			return fmt.Errorf("project milestones: %w", err)
		}
		byID[id].Milestones = append(byID[id].Milestones, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("project milestones: %w", err)
	}
	return nil
}

// findProjectsSQL is one statement whatever the filters: each is a $n
// that, when NULL, filters nothing.
const findProjectsSQL = `SELECT ` + projectColumns + ` FROM projects p
WHERE ($1::float8[] IS NULL OR p.geom && ST_MakeEnvelope($1[1], $1[2], $1[3], $1[4], 4326))
  AND ($2::text IS NULL OR $2 = ANY(p.grids))
  AND ($3::text[] IS NULL OR p.status = ANY($3))
  AND ($4::text IS NULL OR p.leader_user = $4 OR p.leader_name = $4)
  AND ($5::boolean IS NULL OR $5 = EXISTS (SELECT 1 FROM project_milestones m
                                          WHERE m.project_id = p.id AND m.done_at IS NULL AND m.due_on < $6::date)
                              AND ($5 = false OR p.status <> 'done'))
  AND ($7::text[] IS NULL OR p.grids && $7)
  AND p.id > $8
ORDER BY p.id LIMIT $9`

// FindProjects lists projects by id.
func (s *ProjectStore) FindProjects(ctx context.Context, f project.Filter) ([]*project.Project, error) {
	var bound, grid, statuses, leader, late, grids any
	if f.Bound != nil {
		bound = []float64{f.Bound.Min[0], f.Bound.Min[1], f.Bound.Max[0], f.Bound.Max[1]}
	}
	if f.Grid != "" {
		grid = f.Grid
	}
	if f.Statuses != nil {
		list := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			list[i] = string(st)
		}
		statuses = list
	}
	if f.Leader != "" {
		leader = f.Leader
	}
	if f.Late != nil {
		late = *f.Late
	}
	if f.Grids != nil {
		grids = f.Grids
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.db.Query(ctx, findProjectsSQL, bound, grid, statuses, leader, late, f.Today, grids, f.AfterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*project.Project, error) { return scanProject(row) })
	if err != nil {
		return nil, fmt.Errorf("find projects: %w", err)
	}
	if err := s.milestones(ctx, list); err != nil {
		return nil, err
	}
	return list, nil
}

const lockProjectSQL = `SELECT ` + projectColumns + ` FROM projects p WHERE p.id = $1 FOR UPDATE`

const updateProjectSQL = `
UPDATE projects SET name = $2, kind = $3, geom = ST_Multi(ST_GeomFromWKB($4, 4326)), grid_codes = $5, grids = $6, categories = $7,
       leader_user = NULLIF($8, ''), leader_name = $9, leader_unit = NULLIF($10, ''), leader_key = $11, units = $12, plan = $13,
       budget_fen = $14, budget_source = $15, spent_fen = $16, deadline = $17, status = $18, version = version + 1, updated_at = $19
WHERE id = $1`

// UpdateProject changes a project in one transaction: change is given the
// project as stored (locked) and says what to do; ifVersion 0 skips the
// version check. A changed area or leader is checked again against the
// scope and the overlap rule; see is the caller's scope test of the
// project as stored (false: it answers as one that does not exist).
func (s *ProjectStore) UpdateProject(ctx context.Context, id int64, ifVersion int, roots Scope, at time.Time, see func(*project.Project) bool,
	change func(*project.Project) (*project.Change, error)) (*project.Project, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("update project %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	p, err := scanProject(tx.QueryRow(ctx, lockProjectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !see(p) {
		return nil, access.Hidden("project", strconv.FormatInt(id, 10), fmt.Sprintf("project %d not found", id))
	} else if err != nil {
		return nil, fmt.Errorf("update project %d: %w", id, err)
	}
	if err := (&ProjectStore{db: tx}).milestones(ctx, []*project.Project{p}); err != nil {
		return nil, err
	}
	if ifVersion != 0 && ifVersion != p.Version {
		return nil, citygrid.Errorf(citygrid.CodePrecondition, "project %d is at version %d, not %d: reload it and try again", id, p.Version, ifVersion)
	}
	ch, err := change(p)
	if err != nil {
		return nil, err
	}
	next := ch.Next
	var area []byte
	if ch.AreaChanged || (next.Status.Active() && !p.Status.Active()) {
		if area, err = s.prepareArea(ctx, tx, next, id, roots); err != nil {
			return nil, err
		}
	} else if area, err = wkb.Marshal(next.Area); err != nil {
		return nil, fmt.Errorf("project %d area: %w", id, err)
	}
	_, err = tx.Exec(ctx, updateProjectSQL, id, next.Name, next.Kind, area, nullCodes(next.GridCodes), next.Grids, nonNil(next.Categories), next.Leader.User,
		next.Leader.Name, next.Leader.Unit, next.Leader.Key(), nonNil(next.Units), next.Plan, next.Budget.AmountFen, next.Budget.Source, next.SpentFen,
		next.Deadline, string(next.Status), at)
	if err != nil {
		return nil, fmt.Errorf("update project %d: %w", id, err)
	}
	if err := writeMilestones(ctx, tx, id, next.Milestones); err != nil {
		return nil, err
	}
	if err := linkCases(ctx, tx, id, ch.Link, at); err != nil {
		return nil, err
	}
	events := ch.Events
	for _, c := range ch.Link {
		events = append(events, project.NewEvent(at, eventActor(ch), "link", "", map[string]string{"case": strconv.FormatInt(c, 10)}))
	}
	for _, c := range ch.Unlink {
		if _, err := tx.Exec(ctx, unlinkCaseSQL, id, c); err != nil {
			return nil, fmt.Errorf("project %d unlink case %d: %w", id, c, err)
		}
		events = append(events, project.NewEvent(at, eventActor(ch), "unlink", "", map[string]string{"case": strconv.FormatInt(c, 10)}))
	}
	if err := writeProjectEvents(ctx, tx, id, events); err != nil {
		return nil, err
	}
	kinds := make([]string, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	if err := audit(ctx, tx, access.Entry{Action: "project.update", ObjectType: "project", ObjectID: strconv.FormatInt(id, 10),
		FromVersion: ptr(p.Version), ToVersion: ptr(p.Version + 1), Detail: strings.Join(kinds, ",")}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("update project %d: %w", id, err)
	}
	return s.FindProjectByID(ctx, id)
}

func eventActor(ch *project.Change) string { return ch.Actor }

const projectHistorySQL = `SELECT at, actor, kind, note, data FROM project_events WHERE project_id = $1 ORDER BY id`

// ProjectHistory lists a project's events, oldest first.
func (s *ProjectStore) ProjectHistory(ctx context.Context, id int64) ([]project.Event, error) {
	rows, err := s.db.Query(ctx, projectHistorySQL, id)
	if err != nil {
		return nil, fmt.Errorf("project %d history: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (project.Event, error) {
		var e project.Event
		var data []byte
		err := row.Scan(&e.At, &e.Actor, &e.Kind, &e.Note, &data)
		e.Data = data
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("project %d history: %w", id, err)
	}
	return out, nil
}

// projectsVersionSQL sums up the stored projects so that a copy of them
// knows when it is stale: every change of a project bumps its version and
// updated_at, and the late milestones at $1 (a date) change with the day.
const projectsVersionSQL = `
SELECT count(*)::text || '/' || COALESCE(sum(version), 0)::text || '/' || COALESCE(max(updated_at)::text, '') || '/' ||
       (SELECT count(*) FROM project_milestones WHERE done_at IS NULL AND due_on < $1::date)::text
FROM projects`

// ProjectsVersion names the state of every stored project as of today (a
// civil date): equal names, equal projects.
func (s *ProjectStore) ProjectsVersion(ctx context.Context, today time.Time) (string, error) {
	var v string
	if err := s.db.QueryRow(ctx, projectsVersionSQL, today).Scan(&v); err != nil {
		return "", fmt.Errorf("projects version: %w", err)
	}
	return v, nil
}
