package postgres

import (
	"citygrid/caseindex"
	"citygrid/cases"
	"context"
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

const scanIndexedCasesSQL = `
SELECT id, ST_X(geom), ST_Y(geom), reported_at, CASE WHEN paused_at IS NULL THEN due_at END,
       category, status, priority, source, COALESCE(unit, ''), COALESCE(grid, ''), merged_into IS NOT NULL
FROM cases`

// LoadCaseIndex reads every case into a fresh index and swaps it into x.
// Changes applied to x while it reads survive the swap (see
// caseindex.Index.BeginReload).
func (s *CaseStore) LoadCaseIndex(ctx context.Context, x *caseindex.Index) error {
	x.BeginReload()
	fresh := caseindex.New()
	fresh.BeginLoad()
	rows, err := s.db.Query(ctx, scanIndexedCasesSQL)
	if err != nil {
		return fmt.Errorf("load case index: %w", err)
	}
	defer rows.Close()
	var (
		c      caseindex.Entry
		lng    float64
		lat    float64
		status string
		t      time.Time
		due    *time.Time
	)
	for rows.Next() {
		if err := rows.Scan(&c.ID, &lng, &lat, &t, &due, &c.Category, &status, &c.Priority, &c.Source, &c.Unit, &c.Grid, &c.Merged); err != nil {
			return fmt.Errorf("load case index: %w", err)
		}
		c.Location, c.Status, c.ReportedAt, c.DueAt = orb.Point{lng, lat}, cases.Status(status), t, time.Time{}
		if due != nil {
			c.DueAt = *due
		}
		if _, err := fresh.Apply(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load case index: %w", err)
	}
	x.Replace(fresh)
	return nil
}
