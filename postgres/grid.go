package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"citygrid"
	"citygrid/grid"
)

// GridStore implements grid.Store.
type GridStore struct {
	db DBTX
	// Instance names this process in the notifications it sends, so that
	// its own listener can skip them (see Listen). Empty is fine.
	Instance string
}

var _ grid.Store = (*GridStore)(nil)

// NewGridStore returns a store on db (a pool, or a transaction in tests).
func NewGridStore(db DBTX) *GridStore { return &GridStore{db: db} }

// gridColumns is the select list scanned by scanGrid.
const gridColumns = `code, name, level, COALESCE(parent, ''), COALESCE(unit, ''), units_by_category, ST_AsBinary(geom), area_m2, updated_at`

const findGridByCodeSQL = `SELECT ` + gridColumns + ` FROM grids WHERE code = $1`

// FindGridByCode returns the grid with the given code, or a CodeNotFound error.
func (s *GridStore) FindGridByCode(ctx context.Context, code string) (*grid.Grid, error) {
	g, err := scanGrid(s.db.QueryRow(ctx, findGridByCodeSQL, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "grid %q not found", code)
	} else if err != nil {
		return nil, fmt.Errorf("find grid %q: %w", code, err)
	}
	return g, nil
}

// findGridsSQL filters by level ($1, 0 = any), parent ($2, ” = any) and a
// box ($3..$6, NULL = anywhere); the && test lets the GiST index pick rows.
// A page starts after the position ($8, $9; NULL = the first page), in the
// listing's order.
const findGridsSQL = `
SELECT ` + gridColumns + `
FROM grids
WHERE ($1::smallint = 0 OR level = $1)
  AND ($2::text = '' OR parent = $2)
  AND ($3::float8 IS NULL OR (
        geom && ST_MakeEnvelope($3, $4, $5, $6, 4326)
        AND ST_Intersects(geom, ST_MakeEnvelope($3, $4, $5, $6, 4326))))
  AND ($8::smallint IS NULL OR (level, code) > ($8, $9::text))
  AND ($10::text[] IS NULL OR code = ANY($10))
ORDER BY level, code
LIMIT NULLIF($7::int, 0)`

// FindGrids returns the grids matching f, ordered by level then code, after
// f.After when it is set.
func (s *GridStore) FindGrids(ctx context.Context, f grid.Filter) ([]*grid.Grid, error) {
	var box [4]*float64
	if f.Bound != nil {
		box = [4]*float64{&f.Bound.Min[0], &f.Bound.Min[1], &f.Bound.Max[0], &f.Bound.Max[1]}
	}
	var afterLevel *int16
	var afterCode string
	if f.After != nil {
		l := int16(f.After.Level)
		afterLevel, afterCode = &l, f.After.Code
	}
	rows, err := s.db.Query(ctx, findGridsSQL, int16(f.Level), f.Parent, box[0], box[1], box[2], box[3], f.Limit, afterLevel, afterCode, f.Codes)
	if err != nil {
		return nil, fmt.Errorf("find grids: %w", err)
	}
	defer rows.Close()
	var out []*grid.Grid
	for rows.Next() {
		g, err := scanGrid(rows)
		if err != nil {
			return nil, fmt.Errorf("find grids: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find grids: %w", err)
	}
	return out, nil
}

func scanGrid(row pgx.Row) (*grid.Grid, error) {
	var (
		g     grid.Grid
		level int16
		ubc   []byte
		geom  []byte
	)
	if err := row.Scan(&g.Code, &g.Name, &level, &g.Parent, &g.Unit, &ubc, &geom, &g.AreaM2, &g.UpdatedAt); err != nil {
		return nil, err
	}
	g.Level = grid.Level(level)
	if err := json.Unmarshal(ubc, &g.UnitsByCategory); err != nil {
		return nil, fmt.Errorf("grid %q units_by_category: %w", g.Code, err)
	}
	var err error
	if g.Geometry, err = decodePolygonal(geom); err != nil {
		return nil, fmt.Errorf("grid %q geometry: %w", g.Code, err)
	}
	return &g, nil
}

// decodePolygonal reads WKB that must hold a Polygon or MultiPolygon.
func decodePolygonal(b []byte) (orb.Geometry, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		return g, nil
	}
	return nil, fmt.Errorf("geometry is a %s, want Polygon or MultiPolygon", g.GeoJSONType())
}
