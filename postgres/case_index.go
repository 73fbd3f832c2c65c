package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/paulmach/orb"

	"citygrid/grid"
)

const scanIndexedCasesSQL = `
SELECT id, ST_X(geom), ST_Y(geom), reported_at, category, status, source, COALESCE(unit, '') FROM cases`

// LoadCaseIndex reads every case into a fresh index and swaps it into x.
func (s *CaseStore) LoadCaseIndex(ctx context.Context, x *grid.CaseIndex) error {
	fresh := grid.NewCaseIndex()
	rows, err := s.db.Query(ctx, scanIndexedCasesSQL)
	if err != nil {
		return fmt.Errorf("load case index: %w", err)
	}
	defer rows.Close()
	var (
		c      grid.IndexedCase
		lng    float64
		lat    float64
		status string
		t      time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&c.ID, &lng, &lat, &t, &c.Category, &status, &c.Source, &c.Unit); err != nil {
			return fmt.Errorf("load case index: %w", err)
		}
		c.Location, c.Status, c.ReportedAt = orb.Point{lng, lat}, grid.Status(status), t
		if err := fresh.Apply(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load case index: %w", err)
	}
	x.Replace(fresh)
	return nil
}
