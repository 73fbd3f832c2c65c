package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// CaseStore implements cases.Store.
type CaseStore struct {
	db DBTX
}

var _ cases.Store = (*CaseStore)(nil)

// NewCaseStore returns a store on db (a pool, or a transaction in tests).
func NewCaseStore(db DBTX) *CaseStore { return &CaseStore{db: db} }

// caseColumns is the select list scanned by scanCase.
const caseColumns = `c.id, c.source, c.external_id, c.category, c.title, c.description, c.priority,
    ST_X(c.geom), ST_Y(c.geom), c.h3, COALESCE(c.grid, ''), COALESCE(c.unit, ''), COALESCE(c.unit_rule, ''), c.status,
    c.reported_at, c.due_at, c.closed_at, c.paused_at, c.merged_into, c.version, c.created_at, c.updated_at, c.properties,
    c.filed_at, c.overdue_at, c.pending_request`

func scanCase(row pgx.Row, extra ...any) (*cases.Case, error) {
	var (
		c      cases.Case
		x, y   float64
		status string
		props  []byte
		cell   int64
		req    []byte
	)
	dest := []any{&c.ID, &c.Source, &c.ExternalID, &c.Category, &c.Title, &c.Description, &c.Priority,
		&x, &y, &cell, &c.Grid, &c.Unit, &c.UnitRule, &status,
		&c.ReportedAt, &c.DueAt, &c.ClosedAt, &c.PausedAt, &c.MergedInto, &c.Version, &c.CreatedAt, &c.UpdatedAt, &props,
		&c.FiledAt, &c.OverdueAt, &req}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	c.Location = orb.Point{x, y}
	c.Cell = geo.Cell(cell)
	c.Status = cases.Status(status)
	if len(props) > 0 {
		c.Properties = json.RawMessage(props)
	}
	if len(req) > 0 {
		if err := json.Unmarshal(req, &c.Request); err != nil {
			return nil, fmt.Errorf("case %d: pending request: %w", c.ID, err)
		}
	}
	return &c, nil
}

const insertCaseSQL = `
INSERT INTO cases AS c (source, external_id, category, title, description, priority, geom, h3, grid, unit,
                        status, reported_at, due_at, closed_at, properties, unit_rule, filed_at, overdue_at)
VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, NULLIF($10, ''), NULLIF($11, ''),
        $12, $13, $14, $15, $16, NULLIF($17, ''), $18, $19)
ON CONFLICT (source, external_id) DO NOTHING
RETURNING ` + caseColumns

const findCaseBySourceSQL = `SELECT ` + caseColumns + ` FROM cases c WHERE c.source = $1 AND c.external_id = $2`

const insertEventSQL = `
INSERT INTO case_events (case_id, at, actor, kind, from_status, to_status, note, data)
VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), $7, $8)`

// CreateCase stores c unless a case with the same (source, external_id)
// exists, in which case it returns that one and false.
func (s *CaseStore) CreateCase(ctx context.Context, c *cases.Case, actor string) (*cases.Case, bool, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("create case: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := checkCategoriesKept(ctx, tx, []string{c.Category}); err != nil {
		return nil, false, err
	}
	stored, err := scanCase(tx.QueryRow(ctx, insertCaseSQL, c.Source, c.ExternalID, c.Category, c.Title, c.Description, c.Priority,
		c.Location[0], c.Location[1], int64(c.Cell), c.Grid, c.Unit, string(c.Status), c.ReportedAt, c.DueAt, closedAtFor(c), nullJSON(c.Properties),
		c.UnitRule, c.FiledAt, c.OverdueAt))
	if errors.Is(err, pgx.ErrNoRows) {
		existing, err := scanCase(tx.QueryRow(ctx, findCaseBySourceSQL, c.Source, c.ExternalID))
		if err != nil {
			return nil, false, fmt.Errorf("create case: find duplicate: %w", err)
		}
		return existing, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("create case: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "case.create", ObjectType: "case", ObjectID: strconv.FormatInt(stored.ID, 10),
		ToVersion: &stored.Version, Detail: stored.Source + "/" + stored.ExternalID}); err != nil {
		return nil, false, err
	}
	if actor != "" {
		// Who reported it is worth keeping; the creation itself is the row.
		if _, err := tx.Exec(ctx, insertEventSQL, stored.ID, stored.CreatedAt, actor, "reported_by", "", "", "", nil); err != nil {
			return nil, false, fmt.Errorf("create case: event: %w", err)
		}
	}
	pos, err := written(ctx, tx)
	if err != nil {
		return nil, false, fmt.Errorf("create case: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, fmt.Errorf("create case: %w", err)
	}
	record(ctx, pos)
	return stored, true, nil
}

// closedAtFor gives imported historical cases that arrive closed a closing
// time: their report time, the best that is known.
func closedAtFor(c *cases.Case) *time.Time {
	if c.ClosedAt != nil {
		return c.ClosedAt
	}
	if c.Status.Final() {
		t := c.ReportedAt
		return &t
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

const findCaseByIDSQL = `SELECT ` + caseColumns + ` FROM cases c WHERE c.id = $1`

// FindCaseByID returns one case, or a CodeNotFound error.
func (s *CaseStore) FindCaseByID(ctx context.Context, id int64) (*cases.Case, error) {
	c, err := scanCase(s.db.QueryRow(ctx, findCaseByIDSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "case %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find case %d: %w", id, err)
	}
	return c, nil
}

const lockCaseSQL = findCaseByIDSQL + ` FOR UPDATE`

const updateCaseSQL = `
UPDATE cases SET status = $2, grid = NULLIF($3, ''), unit = NULLIF($4, ''), due_at = $5, closed_at = $6,
    paused_at = $7, merged_into = $8, version = $9, updated_at = $10, unit_rule = NULLIF($11, ''), filed_at = $12, overdue_at = $13
WHERE id = $1`

// setCaseRequestSQL keeps the request awaiting a decision on the case
// (migration 009), with the id of its event once that is stored.
const setCaseRequestSQL = `UPDATE cases SET pending_request = $2 WHERE id = $1`

const bumpCaseVersionSQL = `UPDATE cases SET version = version + 1, updated_at = $2 WHERE id = $1`

// UpdateCase applies u under a row lock, so that of two writers holding the
// same version exactly one wins and the other gets CodePrecondition. A
// merge changes the case merged into as well: it gets the "merged" event
// and a new version (read it back with FindCaseByID).
func (s *CaseStore) UpdateCase(ctx context.Context, id int64, u cases.Update) (*cases.Case, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("update case %d: %w", id, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	c, err := scanCase(tx.QueryRow(ctx, lockCaseSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "case %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("update case %d: %w", id, err)
	}
	if u.Guard != nil {
		if !u.Guard.Sees(c) {
			return nil, access.Hidden("case", strconv.FormatInt(id, 10), fmt.Sprintf("case %d not found", id))
		}
		if err := u.Guard.Permit(c, &u); err != nil {
			return nil, err
		}
	}
	fromVersion := c.Version
	if u.MergeInto != nil {
		// Lock the original too, and record the merge in its history.
		orig, err := scanCase(tx.QueryRow(ctx, lockCaseSQL, *u.MergeInto))
		missing := citygrid.Errorf(citygrid.CodeUnprocessable, "case %d to merge into does not exist", *u.MergeInto)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, missing
		} else if err != nil {
			return nil, fmt.Errorf("update case %d: %w", id, err)
		}
		if u.Guard != nil && !u.Guard.Sees(orig) {
			return nil, &access.Denied{Err: missing, ObjectType: "case", ObjectID: strconv.FormatInt(orig.ID, 10), Reason: "merge into a case out of scope"}
		}
		if orig.MergedInto != nil {
			return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "case %d is itself merged into %d: merge into that one", orig.ID, *orig.MergedInto)
		}
	}
	if u.Grid != nil && *u.Grid != "" {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grids WHERE code = $1)`, *u.Grid).Scan(&exists); err != nil {
			return nil, fmt.Errorf("update case %d: %w", id, err)
		}
		if !exists {
			return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "grid %q does not exist", *u.Grid)
		}
	}
	if u.Unit != nil && *u.Unit != "" {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE code = $1)`, *u.Unit).Scan(&exists); err != nil {
			return nil, fmt.Errorf("update case %d: %w", id, err)
		}
		if !exists {
			return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "unit %q is not registered", *u.Unit)
		}
	}
	pending := c.Request
	events, err := cases.ApplyUpdate(c, u)
	if err != nil {
		return nil, err
	}
	if u.Guard != nil {
		if err := u.Guard.Keep(c); err != nil {
			return nil, err
		}
	}
	kinds := make([]string, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	if err := audit(ctx, tx, access.Entry{Action: "case.update", ObjectType: "case", ObjectID: strconv.FormatInt(c.ID, 10),
		FromVersion: &fromVersion, ToVersion: &c.Version, Detail: strings.Join(kinds, ",")}); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, updateCaseSQL, c.ID, string(c.Status), c.Grid, c.Unit, c.DueAt, c.ClosedAt, c.PausedAt, c.MergedInto, c.Version, c.UpdatedAt,
		c.UnitRule, c.FiledAt, c.OverdueAt); err != nil {
		return nil, fmt.Errorf("update case %d: %w", id, err)
	}
	for _, e := range events {
		if c.Request != nil && c.Request.Event == 0 && e.Kind == cases.RequestEventKind(c.Request.Kind) {
			// A new request: decisions name it by its event's id.
			if err := tx.QueryRow(ctx, insertEventSQL+` RETURNING id`, c.ID, e.At, e.Actor, e.Kind, e.From, e.To, e.Note, nullJSON(e.Data)).Scan(&c.Request.Event); err != nil {
				return nil, fmt.Errorf("update case %d: event: %w", id, err)
			}
			continue
		}
		if _, err := tx.Exec(ctx, insertEventSQL, c.ID, e.At, e.Actor, e.Kind, e.From, e.To, e.Note, nullJSON(e.Data)); err != nil {
			return nil, fmt.Errorf("update case %d: event: %w", id, err)
		}
	}
	if c.Request != pending { // made, decided or lapsed (ApplyUpdate copies an unchanged one's pointer)
		var req any
		if c.Request != nil {
			b, _ := json.Marshal(c.Request)
			req = string(b)
		}
		if _, err := tx.Exec(ctx, setCaseRequestSQL, c.ID, req); err != nil {
			return nil, fmt.Errorf("update case %d: request: %w", id, err)
		}
	}
	if u.MergeInto != nil {
		data, _ := json.Marshal(map[string]int64{"duplicate": c.ID})
		if _, err := tx.Exec(ctx, insertEventSQL, *u.MergeInto, u.Now, u.Actor, "merged", "", "", u.Note, string(data)); err != nil {
			return nil, fmt.Errorf("update case %d: merge event: %w", id, err)
		}
		// The original changed too (its history grew by the duplicate):
		// a new version, so that a client holding the old one reloads it
		// (and a row of its own in the change feed).
		if _, err := tx.Exec(ctx, bumpCaseVersionSQL, *u.MergeInto, u.Now); err != nil {
			return nil, fmt.Errorf("update case %d: merge into %d: %w", id, *u.MergeInto, err)
		}
	}
	pos, err := written(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("update case %d: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("update case %d: %w", id, err)
	}
	record(ctx, pos)
	return c, nil
}

// caseHistorySQL reads a case's events. Creation is not stored as an event
// (see insertStagedCasesSQL): the first row is made from the case itself,
// at its report time, in the status it arrived in (the from of its first
// status change), with what it arrived with in data: its first deadline
// (the due_from of its first deadline change) and its category, grid and
// unit before any re-assignment. With that, the history alone replays the
// case (the indicators' test does). Every other row carries its event's id
// (seq), by which a decision names the request it decides.
const caseHistorySQL = `
SELECT seq, at, actor, kind, from_status, to_status, note, data FROM (
SELECT 0 AS seq, c.reported_at AS at, COALESCE((SELECT e.actor FROM case_events e WHERE e.case_id = c.id AND e.kind = 'reported_by' LIMIT 1), ''),
       'create', '', COALESCE((SELECT e.from_status FROM case_events e WHERE e.case_id = c.id AND e.from_status IS NOT NULL ORDER BY e.at, e.id LIMIT 1), c.status),
       '', jsonb_build_object(
           'due_at', COALESCE((SELECT (e.data->>'due_from')::timestamptz FROM case_events e
                               WHERE e.case_id = c.id AND e.data ? 'due_from' ORDER BY e.at, e.id LIMIT 1), c.due_at),
           'category', COALESCE((SELECT e.data->>'from' FROM case_events e WHERE e.case_id = c.id AND e.kind = 'assign'
                                    AND e.data->>'field' = 'category' ORDER BY e.at, e.id LIMIT 1), c.category),
           'grid', COALESCE((SELECT e.data->>'from' FROM case_events e WHERE e.case_id = c.id AND e.kind = 'assign'
                                    AND e.data->>'field' = 'grid' ORDER BY e.at, e.id LIMIT 1), c.grid, ''),
           'unit', COALESCE((SELECT e.data->>'from' FROM case_events e WHERE e.case_id = c.id AND e.kind = 'assign'
                                    AND e.data->>'field' = 'unit' ORDER BY e.at, e.id LIMIT 1), c.unit, ''))
FROM cases c WHERE c.id = $1
UNION ALL
SELECT id, at, actor, kind, COALESCE(from_status, ''), COALESCE(to_status, ''), note, data
FROM case_events WHERE case_id = $1 AND kind <> 'reported_by'
) h (seq, at, actor, kind, from_status, to_status, note, data)
ORDER BY seq <> 0, at, seq`

// CaseHistory returns the events of a case, oldest first, starting with its
// creation.
func (s *CaseStore) CaseHistory(ctx context.Context, id int64) ([]cases.Event, error) {
	if _, err := s.FindCaseByID(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, caseHistorySQL, id)
	if err != nil {
		return nil, fmt.Errorf("case %d history: %w", id, err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cases.Event, error) {
		var e cases.Event
		var data []byte
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Kind, &e.From, &e.To, &e.Note, &data)
		if len(data) > 0 {
			e.Data = json.RawMessage(data)
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("case %d history: %w", id, err)
	}
	if events == nil {
		events = []cases.Event{}
	}
	return events, nil
}

// possibleDuplicatesSQL finds open cases of one category near a point and
// recent: the cells ($1) bound the search so that it stays an index lookup.
// Distances are on the sphere, as in radius queries (sphereDistanceSQL).
const possibleDuplicatesSQL = `
SELECT ` + caseColumns + `, c.geom::geography <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS distance
FROM cases c
WHERE c.h3 = ANY($1) AND c.category = $4 AND c.id <> $5
  AND ` + openStatusSQL + `
  AND c.reported_at >= $6 AND c.reported_at <= $7
  AND c.geom::geography <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography <= $8
ORDER BY distance, c.id
LIMIT 20`

// PossibleDuplicates returns open cases of c's category within radiusM of it
// and reported within window before (or after) it, nearest first, with their
// distances in metres.
func (s *CaseStore) PossibleDuplicates(ctx context.Context, c *cases.Case, radiusM float64, window time.Duration) ([]*cases.Case, []float64, error) {
	res := grid.CellRes
	// Cells within k rings cover every point closer than k inner radii.
	k := int(math.Ceil(radiusM/(geo.CellEdgeLengthM(res)*math.Sqrt(3)/2))) + 1
	if k > 20 {
		return nil, nil, fmt.Errorf("possible duplicates: radius %g m too large for resolution %d", radiusM, res)
	}
	var cells []int64
	for _, n := range c.Cell.Disk(k) {
		cells = append(cells, int64(n))
	}
	rows, err := s.db.Query(ctx, possibleDuplicatesSQL, cells, c.Location[0], c.Location[1], c.Category, c.ID,
		c.ReportedAt.Add(-window), c.ReportedAt.Add(window), radiusM)
	if err != nil {
		return nil, nil, fmt.Errorf("possible duplicates: %w", err)
	}
	defer rows.Close()
	var (
		out   []*cases.Case
		dists []float64
	)
	for rows.Next() {
		var d float64
		dup, err := scanCase(rows, &d)
		if err != nil {
			return nil, nil, fmt.Errorf("possible duplicates: %w", err)
		}
		out, dists = append(out, dup), append(dists, d)
	}
	return out, dists, rows.Err()
}
