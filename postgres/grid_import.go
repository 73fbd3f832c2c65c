package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"citygrid/access"
	"citygrid/grid"
)

// GridsChannel is the LISTEN/NOTIFY channel on which every committed grid
// import is announced, so that other citygrid processes rebuild their index.
const GridsChannel = "citygrid_grids"

// containmentToleranceM2 and containmentToleranceShare bound how much of a
// grid may lie outside its parent: boundaries drawn by hand or converted
// between systems disagree by centimetres to metres along shared edges.
const (
	containmentToleranceM2    = 1.0
	containmentToleranceShare = 0.005
)

// createGridImportSQL drops a leftover first: ON COMMIT DROP only fires at
// the top-level commit, and a store running inside a caller's transaction
// may import twice.
const createGridImportSQL = `
DROP TABLE IF EXISTS pg_temp.grid_import;
CREATE TEMP TABLE grid_import (
    idx      integer NOT NULL,
    code     text    NOT NULL,
    name     text,
    level    smallint,
    parent   text,
    unit     text,
    ubc      jsonb,
    wkb      bytea,
    geom     geometry,
    area_m2  double precision,
    rejected boolean NOT NULL DEFAULT false,
    reason   text
) ON COMMIT DROP`

var gridImportColumns = []string{"idx", "code", "name", "level", "parent", "unit", "ubc", "wkb", "rejected", "reason"}

// prepareGridImportSQL builds geometries and areas, and indexes the batch.
const prepareGridImportSQL = `
UPDATE grid_import SET geom = ST_GeomFromWKB(wkb, 4326) WHERE NOT rejected;
UPDATE grid_import SET area_m2 = ST_Area(geom::geography) WHERE NOT rejected;
CREATE INDEX ON grid_import (code);
ANALYZE grid_import`

// rejectInvalidGeometrySQL is GEOS's opinion on validity, the last word after
// citygrid's own checks (which give clearer messages for the common cases).
const rejectInvalidGeometrySQL = `
UPDATE grid_import
SET rejected = true, reason = 'invalid geometry: ' || ST_IsValidReason(geom)
WHERE NOT rejected AND NOT ST_IsValid(geom)`

const rejectUnknownUnitsSQL = `
UPDATE grid_import b
SET rejected = true, reason = format('unit %s is not registered (POST /v1/units first)', missing.unit)
FROM (
    SELECT DISTINCT ON (b2.idx) b2.idx, u.unit
    FROM grid_import b2,
         LATERAL (SELECT b2.unit WHERE b2.unit IS NOT NULL
                  UNION ALL
                  SELECT value FROM jsonb_each_text(b2.ubc)) AS u (unit)
    WHERE NOT b2.rejected
      AND NOT EXISTS (SELECT 1 FROM units WHERE units.code = u.unit)
    ORDER BY b2.idx, u.unit
) AS missing
WHERE b.idx = missing.idx`

// rejectBadParentsSQL checks the grids of one level ($1) against their
// parents, taken from this batch when it has them and from the stored grids
// otherwise: the parent must exist, not be rejected, be one level up, and
// cover the grid up to the containment tolerance ($2 m², $3 share of the
// grid's area). Levels run from the top down, so a rejection cascades.
// $4 (a draft) takes parents from the batch only.
const rejectBadParentsSQL = `
UPDATE grid_import b
SET rejected = true, reason = bad.reason
FROM (
    SELECT c.idx,
        CASE
            WHEN p.rejected THEN format('parent %s was rejected in this import', c.parent)
            WHEN p.level IS NULL THEN format('parent %s does not exist', c.parent)
            WHEN p.level <> $1::smallint - 1 THEN format('parent %s is a %s, but a %s needs a %s parent', c.parent,
                                               (ARRAY['district','street','community','grid'])[p.level],
                                               (ARRAY['district','street','community','grid'])[$1::smallint],
                                               (ARRAY['district','street','community','grid'])[$1::smallint - 1])
            ELSE format('not inside its parent %s: %s m² of %s m² lies outside (tolerance %s m²)',
                        c.parent, round(outside.area_m2::numeric, 1), round(c.area_m2::numeric, 1),
                        round(($2::float8 + $3::float8 * c.area_m2)::numeric, 1))
        END AS reason,
        p.level IS NULL OR p.rejected OR p.level <> $1::smallint - 1
            OR outside.area_m2 > $2::float8 + $3::float8 * c.area_m2 AS bad
    FROM grid_import c
    LEFT JOIN LATERAL (
        SELECT level, geom, rejected FROM grid_import WHERE code = c.parent
        UNION ALL
        SELECT level, geom, false FROM grids
        WHERE code = c.parent AND NOT EXISTS (SELECT 1 FROM grid_import WHERE code = c.parent)
          AND NOT $4::bool -- a draft is a whole map: its parents are its own
        ORDER BY rejected DESC
        LIMIT 1
    ) p ON true
    LEFT JOIN LATERAL (
        SELECT CASE WHEN p.geom IS NULL OR p.rejected OR ST_CoveredBy(c.geom, p.geom) THEN 0
                    ELSE ST_Area(ST_Difference(c.geom, p.geom)::geography) END AS area_m2
    ) outside ON true
    WHERE c.level = $1::smallint AND NOT c.rejected
) AS bad
WHERE b.idx = bad.idx AND bad.bad`

// rejectOrphaningSQL refuses to change the level of a stored grid that has
// children outside this batch: they would hang under the wrong level.
const rejectOrphaningSQL = `
UPDATE grid_import b
SET rejected = true, reason = format('changing level would leave %s stored child grids under the wrong level', n.children)
FROM (
    SELECT b2.idx, count(*) AS children
    FROM grid_import b2
    JOIN grids g ON g.code = b2.code AND g.level <> b2.level
    JOIN grids child ON child.parent = b2.code
    WHERE NOT b2.rejected AND NOT EXISTS (SELECT 1 FROM grid_import c WHERE c.code = child.code)
    GROUP BY b2.idx
) n
WHERE b.idx = n.idx`

const listRejectedSQL = `SELECT idx, code, reason FROM grid_import WHERE rejected ORDER BY idx`

// upsertGridsSQL stores the accepted rows; xmax = 0 tells a fresh insert
// from an update.
const upsertGridsSQL = `
INSERT INTO grids AS g (code, name, level, parent, unit, units_by_category, geom, area_m2)
SELECT code, name, level, parent, unit, COALESCE(ubc, '{}'::jsonb), geom, area_m2
FROM grid_import
WHERE NOT rejected
ORDER BY level, code
ON CONFLICT (code) DO UPDATE SET
    name = excluded.name, level = excluded.level, parent = excluded.parent, unit = excluded.unit,
    units_by_category = excluded.units_by_category, geom = excluded.geom, area_m2 = excluded.area_m2,
    updated_at = now()
RETURNING (xmax = 0) AS inserted`

const notifyGridsSQL = `SELECT pg_notify($1, $2)`

// ImportGrids validates and upserts grids by code in one transaction. Checks
// that need only the batch run in Go (grid.ValidateInputs); the rest (units,
// parents, containment, GEOS validity) run in SQL against the batch and the
// stored grids. Unless opt.Partial, any rejection stores nothing. The reply
// carries the topology report of the grids as they stand afterwards.
func (s *GridStore) ImportGrids(ctx context.Context, in []grid.GridInput, opt grid.ImportOptions) (*grid.ImportResult, error) {
	progress := opt.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	res := &grid.ImportResult{Rejected: []grid.Rejection{}}
	early := grid.ValidateInputs(in)
	reasons := make(map[int]string, len(early))
	for _, r := range early {
		reasons[r.Index] = r.Reason
	}
	progress("validated", len(in), len(in))

	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("import grids: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	if res.Rejected, err = checkGridBatch(ctx, tx, in, reasons, false, progress); err != nil {
		return nil, err
	}
	if len(res.Rejected) > 0 && !opt.Partial {
		return res, nil // rolled back by the deferred Rollback
	}
	// Grid versions (issue 19): an import is a version in force at once.
	if err := startImportVersion(ctx, tx, len(in)); err != nil {
		return nil, err
	}

	upserted, err := tx.Query(ctx, upsertGridsSQL)
	if err != nil {
		return nil, fmt.Errorf("import grids: upsert: %w", err)
	}
	for upserted.Next() {
		var inserted bool
		if err := upserted.Scan(&inserted); err != nil {
			upserted.Close()
			return nil, fmt.Errorf("import grids: upsert: %w", err)
		}
		if inserted {
			res.Inserted++
		} else {
			res.Updated++
		}
	}
	if err := upserted.Err(); err != nil {
		return nil, fmt.Errorf("import grids: upsert: %w", err)
	}
	progress("stored", res.Inserted+res.Updated, len(in))
	if res.Topology, err = topology(ctx, tx); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, notifyGridsSQL, GridsChannel, s.Instance); err != nil {
		return nil, fmt.Errorf("import grids: notify: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "grids.import", ObjectType: "grids",
		Detail: fmt.Sprintf("%d inserted, %d updated", res.Inserted, res.Updated)}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("import grids: commit: %w", err)
	}
	res.Committed = true
	return res, nil
}

// checkGridBatch loads in into the temporary table grid_import and runs
// the checks that need the database, returning the rejections in order
// (reasons holds those found in Go). A draft is checked as a whole map:
// parents come from the batch alone.
func checkGridBatch(ctx context.Context, tx pgx.Tx, in []grid.GridInput, reasons map[int]string, draft bool, progress func(string, int, int)) ([]grid.Rejection, error) {
	if _, err := tx.Exec(ctx, createGridImportSQL); err != nil {
		return nil, fmt.Errorf("import grids: %w", err)
	}
	rows := make([][]any, 0, len(in))
	for i, g := range in {
		if reason, bad := reasons[g.Index]; bad {
			// Kept, marked rejected, so that its children are rejected too.
			rows = append(rows, []any{g.Index, g.Code, nil, nil, nil, nil, nil, nil, true, reason})
			continue
		}
		geom, err := wkb.Marshal(g.Geometry)
		if err != nil {
			return nil, fmt.Errorf("import grids: feature %d: %w", g.Index, err)
		}
		ubc, err := json.Marshal(g.UnitsByCategory)
		if err != nil {
			return nil, fmt.Errorf("import grids: feature %d: %w", g.Index, err)
		}
		if g.UnitsByCategory == nil {
			ubc = []byte("{}")
		}
		rows = append(rows, []any{g.Index, g.Code, g.Name, int16(g.Level), nullIfEmpty(g.Parent), nullIfEmpty(g.Unit), string(ubc), geom, false, nil})
		if i%1000 == 0 {
			progress("encoded", i, len(in))
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"grid_import"}, gridImportColumns, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("import grids: copy: %w", err)
	}
	progress("loaded", len(in), len(in))
	steps := []struct {
		name string
		sql  string
		args []any
	}{
		{"prepare", prepareGridImportSQL, nil},
		{"check geometry", rejectInvalidGeometrySQL, nil},
		{"check units", rejectUnknownUnitsSQL, nil},
	}
	if !draft {
		steps = append(steps, struct {
			name string
			sql  string
			args []any
		}{"check levels", rejectOrphaningSQL, nil})
	}
	for _, l := range grid.Levels[1:] {
		steps = append(steps, struct {
			name string
			sql  string
			args []any
		}{"check parents at level " + l.String(), rejectBadParentsSQL, []any{int16(l), containmentToleranceM2, containmentToleranceShare, draft}})
	}
	for i, st := range steps {
		if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
			return nil, fmt.Errorf("import grids: %s: %w", st.name, err)
		}
		progress("checked", i+1, len(steps))
	}
	return listRejected(ctx, tx)

}

func listRejected(ctx context.Context, tx pgx.Tx) ([]grid.Rejection, error) {
	rows, err := tx.Query(ctx, listRejectedSQL)
	if err != nil {
		return nil, fmt.Errorf("import grids: list rejected: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grid.Rejection, error) {
		var rej grid.Rejection
		err := r.Scan(&rej.Index, &rej.Code, &rej.Reason)
		return rej, err
	})
	if err != nil {
		return nil, fmt.Errorf("import grids: list rejected: %w", err)
	}
	if out == nil {
		out = []grid.Rejection{}
	}
	return out, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
