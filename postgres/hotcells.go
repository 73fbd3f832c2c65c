package postgres

import (
	"context"
	"fmt"
	"time"

	"citygrid/bulletin"
	"citygrid/cases"
	"citygrid/geo"
)

// The bulletins' hotspots count reports by the stored H3 cell, merged
// duplicates left out (as hotspots count them), for one scope: $3 its
// grids (NULL: all), $4 a unit, $5 a source (as statsScopeSQL).
const hotScopeSQL = `c.merged_into IS NULL AND ($3::text[] IS NULL OR c.grid = ANY($3)) AND ($4 = '' OR c.unit = $4) AND ($5 = '' OR c.source = $5)`

const topCellsSQL = `
SELECT c.h3, mode() WITHIN GROUP (ORDER BY COALESCE(c.grid, '')), count(*)
FROM cases c
WHERE c.reported_at >= $1 AND c.reported_at < $2 AND ` + hotScopeSQL + `
GROUP BY c.h3
ORDER BY count(*) DESC, c.h3
LIMIT $6`

// TopCells implements bulletin.HotspotSource.
func (s *CaseStore) TopCells(ctx context.Context, r cases.Restriction, from, to time.Time, n int) ([]bulletin.CellCount, error) {
	rows, err := s.db.Query(ctx, topCellsSQL, from, to, r.Grids, r.Unit, r.Source, n)
	if err != nil {
		return nil, fmt.Errorf("top cells: %w", err)
	}
	defer rows.Close()
	var out []bulletin.CellCount
	for rows.Next() {
		var c bulletin.CellCount
		var cell int64
		if err := rows.Scan(&cell, &c.Grid, &c.Count); err != nil {
			return nil, fmt.Errorf("top cells: %w", err)
		}
		c.Cell = geo.Cell(cell)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top cells: %w", err)
	}
	return out, nil
}

const countCellsSQL = `
SELECT c.h3, count(*) FROM cases c
WHERE c.h3 = ANY($6::bigint[]) AND c.reported_at >= $1 AND c.reported_at < $2 AND ` + hotScopeSQL + `
GROUP BY c.h3`

// CountCells implements bulletin.HotspotSource.
func (s *CaseStore) CountCells(ctx context.Context, r cases.Restriction, from, to time.Time, cells []geo.Cell) (map[geo.Cell]int, error) {
	ids := make([]int64, len(cells))
	for i, c := range cells {
		ids[i] = int64(c)
	}
	rows, err := s.db.Query(ctx, countCellsSQL, from, to, r.Grids, r.Unit, r.Source, ids)
	if err != nil {
		return nil, fmt.Errorf("count cells: %w", err)
	}
	defer rows.Close()
	out := map[geo.Cell]int{}
	for rows.Next() {
		var cell int64
		var n int
		if err := rows.Scan(&cell, &n); err != nil {
			return nil, fmt.Errorf("count cells: %w", err)
		}
		out[geo.Cell(cell)] = n
	}
	return out, rows.Err()
}
