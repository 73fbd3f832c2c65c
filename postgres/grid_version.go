package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid"
	"citygrid/access"
	"citygrid/grid"
)

// VersionStore keeps grid versions: drafts, their diffs and previews,
// activation (now or at a later time) and the grids in force at any time.
type VersionStore struct {
	db DBTX
	// Instance names this process in its notifications (see GridStore).
	Instance string
	// Locator is how the service builds locators (its fallback unit):
	// re-attribution must pick owners as intake does.
	Locator grid.LocatorOptions
	// Current, when set, returns the locator in force (the service's
	// index); otherwise one is built from the grids table when needed.
	Current func() *grid.Locator
}

var _ grid.VersionStore = (*VersionStore)(nil)

// NewVersionStore returns a store on db.
func NewVersionStore(db DBTX) *VersionStore { return &VersionStore{db: db} }

// startImportVersion records an import as a version in force at once and
// dates the grid rows it writes with it (the grids trigger reads the
// setting).
const startImportVersionSQL = `
WITH prev AS (UPDATE grid_versions SET status = 'superseded' WHERE status = 'active' RETURNING id),
v AS (INSERT INTO grid_versions (kind, status, features, effective_at, activated_at, created_by, activated_by)
      VALUES ('import', 'active', $1, now(), now(), $2, $2) RETURNING id)
SELECT set_config('citygrid.grid_version', v.id::text, true) FROM v`

func startImportVersion(ctx context.Context, tx pgx.Tx, features int) error {
	var ignored string
	if err := tx.QueryRow(ctx, startImportVersionSQL, features, actorOf(ctx)).Scan(&ignored); err != nil {
		return fmt.Errorf("import grids: version: %w", err)
	}
	return nil
}

func actorOf(ctx context.Context) string {
	if p := access.PrincipalFrom(ctx); p != nil {
		return p.Name
	}
	return ""
}

const versionColumns = `id, kind, status, note, features, rejected, successors, created_at, created_by,
    CASE WHEN isfinite(effective_at) THEN effective_at END, activated_at, activated_by`

func scanVersion(row pgx.Row) (*grid.Version, error) {
	var v grid.Version
	var rejected, successors []byte
	if err := row.Scan(&v.ID, &v.Kind, &v.Status, &v.Note, &v.Features, &rejected, &successors, &v.CreatedAt, &v.CreatedBy,
		&v.EffectiveAt, &v.ActivatedAt, &v.ActivatedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(rejected, &v.Rejected); err != nil {
		return nil, fmt.Errorf("version %d rejected: %w", v.ID, err)
	}
	if err := json.Unmarshal(successors, &v.Successors); err != nil {
		return nil, fmt.Errorf("version %d successors: %w", v.ID, err)
	}
	return &v, nil
}

const insertDraftSQL = `
INSERT INTO grid_versions (kind, status, note, features, rejected, successors, created_by)
VALUES ('draft', 'draft', $1, $2, $3, $4, $5)
RETURNING ` + versionColumns

const storeDraftGridsSQL = `
INSERT INTO grid_version_grids (version_id, code, name, level, parent, unit, units_by_category, geom, area_m2)
SELECT $1, code, name, level, parent, unit, COALESCE(ubc, '{}'::jsonb), geom, area_m2
FROM grid_import WHERE NOT rejected`

// unknownSuccessorsSQL lists the successor codes ($1) that are not grids
// of the draft.
const unknownSuccessorsSQL = `
SELECT COALESCE(array_agg(s ORDER BY s), '{}') FROM unnest($1::text[]) s
WHERE NOT EXISTS (SELECT 1 FROM grid_import WHERE code = s AND NOT rejected)`

// CreateDraft checks a draft as a whole map with the import's checks and
// stores it, rejected features listed (such a draft cannot be activated).
// A successor naming a code the draft does not hold is a CodeUnprocessable
// error, and nothing is stored.
func (s *VersionStore) CreateDraft(ctx context.Context, in grid.DraftInput) (*grid.Version, error) {
	early := grid.ValidateInputs(in.Grids)
	reasons := make(map[int]string, len(early))
	for _, r := range early {
		reasons[r.Index] = r.Reason
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create draft: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	rejected, err := checkGridBatch(ctx, tx, in.Grids, reasons, true, func(string, int, int) {})
	if err != nil {
		return nil, err
	}
	targets := make([]string, 0, len(in.Successors))
	for _, to := range in.Successors {
		targets = append(targets, to)
	}
	var unknown []string
	if err := tx.QueryRow(ctx, unknownSuccessorsSQL, targets).Scan(&unknown); err != nil {
		return nil, fmt.Errorf("create draft: successors: %w", err)
	}
	if len(unknown) > 0 {
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "successors: %q is not a grid of this draft", unknown[0])
		e.Details = map[string]any{"field": "successors", "unknown": unknown}
		return nil, e
	}
	rej, _ := json.Marshal(rejected)
	succ := in.Successors
	if succ == nil {
		succ = map[string]string{}
	}
	succJSON, _ := json.Marshal(succ)
	v, err := scanVersion(tx.QueryRow(ctx, insertDraftSQL, in.Note, len(in.Grids), rej, succJSON, actorOf(ctx)))
	if err != nil {
		return nil, fmt.Errorf("create draft: %w", err)
	}
	if _, err := tx.Exec(ctx, storeDraftGridsSQL, v.ID); err != nil {
		return nil, fmt.Errorf("create draft: store grids: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "grids.draft", ObjectType: "grid_version", ObjectID: fmt.Sprint(v.ID),
		Detail: fmt.Sprintf("%d features, %d rejected", len(in.Grids), len(rejected))}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create draft: commit: %w", err)
	}
	return v, nil
}

// FindVersion returns version id, or CodeNotFound.
func (s *VersionStore) FindVersion(ctx context.Context, id int64) (*grid.Version, error) {
	return findVersion(ctx, s.db, id, false)
}

func findVersion(ctx context.Context, db DBTX, id int64, lock bool) (*grid.Version, error) {
	q := `SELECT ` + versionColumns + ` FROM grid_versions WHERE id = $1`
	if lock {
		q += ` FOR UPDATE`
	}
	v, err := scanVersion(db.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "grid version %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find grid version %d: %w", id, err)
	}
	return v, nil
}

// FindVersions lists every version, newest first.
func (s *VersionStore) FindVersions(ctx context.Context) ([]*grid.Version, error) {
	rows, err := s.db.Query(ctx, `SELECT `+versionColumns+` FROM grid_versions ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find grid versions: %w", err)
	}
	defer rows.Close()
	var out []*grid.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("find grid versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const versionGridsSQL = `
SELECT code, name, level, COALESCE(parent, ''), COALESCE(unit, ''), units_by_category, ST_AsBinary(geom), area_m2, now()
FROM grid_version_grids WHERE version_id = $1 ORDER BY level, code`

// VersionGrids returns a draft's grids, by level then code.
func (s *VersionStore) VersionGrids(ctx context.Context, id int64) ([]*grid.Grid, error) {
	if _, err := s.FindVersion(ctx, id); err != nil {
		return nil, err
	}
	return collectGrids(ctx, s.db, versionGridsSQL, id)
}

func collectGrids(ctx context.Context, db DBTX, sql string, args ...any) ([]*grid.Grid, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read grids: %w", err)
	}
	defer rows.Close()
	var out []*grid.Grid
	for rows.Next() {
		g, err := scanGrid(rows)
		if err != nil {
			return nil, fmt.Errorf("read grids: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// gridsAtSQL reads the grid rows in force at $1.
const gridsAtSQL = `
SELECT code, name, level, COALESCE(parent, ''), COALESCE(unit, ''), units_by_category, ST_AsBinary(geom), area_m2, lower(valid)
FROM grid_history WHERE valid @> $1::timestamptz ORDER BY level, code`

// versionAtSQL is the version in force at $1: the last put in force by then.
const versionAtSQL = `
SELECT COALESCE((SELECT id FROM grid_versions WHERE status IN ('active', 'superseded') AND effective_at <= $1
                 ORDER BY effective_at DESC, id DESC LIMIT 1), 0)`

// GridsAt returns the grids in force at t and the version then in force.
func (s *VersionStore) GridsAt(ctx context.Context, t time.Time) ([]*grid.Grid, int64, error) {
	grids, err := collectGrids(ctx, s.db, gridsAtSQL, t)
	if err != nil {
		return nil, 0, err
	}
	var v int64
	if err := s.db.QueryRow(ctx, versionAtSQL, t).Scan(&v); err != nil {
		return nil, 0, fmt.Errorf("version at %s: %w", t, err)
	}
	return grids, v, nil
}

// epochSQL bounds the period around $1 in which no grid row starts or
// ends.
const epochSQL = `
SELECT (SELECT max(b) FROM (SELECT lower(valid) FROM grid_history WHERE lower(valid) <= $1
                            UNION ALL SELECT upper(valid) FROM grid_history WHERE upper(valid) <= $1) x (b)),
       (SELECT min(b) FROM (SELECT lower(valid) FROM grid_history WHERE lower(valid) > $1
                            UNION ALL SELECT upper(valid) FROM grid_history WHERE upper(valid) > $1) y (b))`

// Epoch returns [from, to) around t in which the grids in force stay the
// same; zero times for open ends.
func (s *VersionStore) Epoch(ctx context.Context, t time.Time) (from, to time.Time, err error) {
	var f, u *time.Time
	if err := s.db.QueryRow(ctx, epochSQL, t).Scan(&f, &u); err != nil {
		return from, to, fmt.Errorf("grid epoch at %s: %w", t, err)
	}
	if f != nil {
		from = *f
	}
	if u != nil {
		to = *u
	}
	return from, to, nil
}

// Draft topology: the report of topology.go over a draft's grids.
const (
	draftOverlapsSQL = `
SELECT a.code, b.code, a.level, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS area_m2
FROM grid_version_grids a
JOIN grid_version_grids b ON b.version_id = a.version_id AND a.geom && b.geom AND a.code < b.code
            AND a.level = b.level AND a.parent IS NOT DISTINCT FROM b.parent
WHERE a.version_id = $1 AND ST_Relate(a.geom, b.geom, '2********')`
	draftGapsSQL = `
SELECT p.code, p.level, ST_Area(ST_Difference(p.geom, u.geom)::geography) AS gap_m2, p.area_m2
FROM grid_version_grids p
JOIN LATERAL (SELECT ST_Union(c.geom) AS geom FROM grid_version_grids c WHERE c.version_id = p.version_id AND c.parent = p.code) u
  ON u.geom IS NOT NULL
WHERE p.version_id = $1`
)

// VersionTopology reports overlapping siblings and gaps of a draft.
func (s *VersionStore) VersionTopology(ctx context.Context, id int64) (*grid.Topology, error) {
	return topologyOf(ctx, s.db, draftOverlapsSQL, draftGapsSQL, id)
}

// diffSQL compares the draft's grids ($1) with the grids in force, code by
// code: present where, names, whether anything but the geometry changed,
// and the area gained and lost where the geometry did.
const diffSQL = `
SELECT COALESCE(c.code, n.code), COALESCE(n.level, c.level), c.code IS NOT NULL, n.code IS NOT NULL,
       COALESCE(c.name, ''), COALESCE(n.name, ''),
       c.code IS NOT NULL AND n.code IS NOT NULL AND (c.level <> n.level OR c.parent IS DISTINCT FROM n.parent
           OR c.unit IS DISTINCT FROM n.unit OR c.units_by_category <> n.units_by_category),
       CASE WHEN c.code IS NULL OR n.code IS NULL OR ST_AsEWKB(c.geom) = ST_AsEWKB(n.geom) THEN 0
            ELSE ST_Area(ST_Difference(n.geom, c.geom)::geography) END,
       CASE WHEN c.code IS NULL OR n.code IS NULL OR ST_AsEWKB(c.geom) = ST_AsEWKB(n.geom) THEN 0
            ELSE ST_Area(ST_Difference(c.geom, n.geom)::geography) END
FROM grids c
FULL JOIN (SELECT * FROM grid_version_grids WHERE version_id = $1) n ON n.code = c.code
ORDER BY 1`

// lineageSQL measures the overlap of old and new grids of one level where
// either side is not a grid kept as it was ($2: the codes kept with their
// boundary): kept grids meet their neighbours along edges only. Each
// branch starts from the few changed grids of one side (hashed lookups in
// the kept codes), so a version that changes little costs little.
const lineageSQL = `
WITH kept AS (SELECT unnest($2::text[]) AS code)
SELECT c.code, n.code, c.level, ST_Area(ST_Intersection(c.geom, n.geom)::geography) AS overlap_m2, c.area_m2, n.area_m2
FROM grids c
JOIN grid_version_grids n ON n.version_id = $1 AND n.level = c.level AND n.geom && c.geom
WHERE c.code NOT IN (SELECT code FROM kept) AND ST_Relate(c.geom, n.geom, '2********')
UNION ALL
SELECT c.code, n.code, c.level, ST_Area(ST_Intersection(c.geom, n.geom)::geography) AS overlap_m2, c.area_m2, n.area_m2
FROM grid_version_grids n
JOIN grids c ON n.level = c.level AND n.geom && c.geom
WHERE n.version_id = $1 AND n.code NOT IN (SELECT code FROM kept) AND c.code IN (SELECT code FROM kept)
  AND ST_Relate(c.geom, n.geom, '2********')
ORDER BY 1, 2`

// VersionDiff compares draft id with the grids in force.
func (s *VersionStore) VersionDiff(ctx context.Context, id int64) (*grid.Diff, error) {
	v, err := s.FindVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	return versionDiff(ctx, s.db, v)
}

func versionDiff(ctx context.Context, db DBTX, v *grid.Version) (*grid.Diff, error) {
	d := &grid.Diff{Added: []grid.GridRef{}, Removed: []grid.GridRef{}, Reshaped: []grid.Reshape{}, Renamed: []grid.Rename{},
		Recoded: []grid.Recode{}, Reassigned: []string{}, Merges: []grid.Merge{}, Splits: []grid.Split{}, Lineage: []grid.Lineage{}}
	if err := db.QueryRow(ctx, versionAtSQL, time.Now()).Scan(&d.Against); err != nil {
		return nil, fmt.Errorf("diff: version in force: %w", err)
	}
	rows, err := db.Query(ctx, diffSQL, v.ID)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	var kept []string
	for rows.Next() {
		var (
			code, oldName, newName string
			level                  int16
			inOld, inNew, attrs    bool
			gained, lost           float64
		)
		if err := rows.Scan(&code, &level, &inOld, &inNew, &oldName, &newName, &attrs, &gained, &lost); err != nil {
			rows.Close()
			return nil, fmt.Errorf("diff: %w", err)
		}
		l := grid.Level(level)
		switch {
		case !inOld:
			d.Added = append(d.Added, grid.GridRef{Code: code, Name: newName, Level: l})
			continue
		case !inNew:
			d.Removed = append(d.Removed, grid.GridRef{Code: code, Name: oldName, Level: l})
			continue
		}
		changed := false
		if gained+lost >= grid.ReshapeMinM2 {
			d.Reshaped = append(d.Reshaped, grid.Reshape{Code: code, Level: l, GainedM2: gained, LostM2: lost})
			changed = true
		} else {
			kept = append(kept, code)
		}
		if oldName != newName {
			d.Renamed = append(d.Renamed, grid.Rename{Code: code, From: oldName, To: newName})
			changed = true
		}
		if attrs {
			d.Reassigned = append(d.Reassigned, code)
			changed = true
		}
		if !changed {
			d.Unchanged++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	rows, err = db.Query(ctx, lineageSQL, v.ID, kept)
	if err != nil {
		return nil, fmt.Errorf("diff: lineage: %w", err)
	}
	for rows.Next() {
		var l grid.Lineage
		var level int16
		var oldArea, newArea float64
		if err := rows.Scan(&l.Old, &l.New, &level, &l.OverlapM2, &oldArea, &newArea); err != nil {
			rows.Close()
			return nil, fmt.Errorf("diff: lineage: %w", err)
		}
		if l.OverlapM2 < grid.ReshapeMinM2 {
			continue
		}
		l.Level = grid.Level(level)
		if oldArea > 0 {
			l.ShareOfOld = l.OverlapM2 / oldArea
		}
		if newArea > 0 {
			l.ShareOfNew = l.OverlapM2 / newArea
		}
		d.Lineage = append(d.Lineage, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("diff: lineage: %w", err)
	}
	d.Classify(v.Successors)
	return d, nil
}
