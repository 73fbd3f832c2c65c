package postgres

import (
	"context"
	"fmt"

	"citygrid/cases"
	"citygrid/grid"
)

// statsGroupKey is the group expression per grouping: a fixed allowlist,
// never text from a request. anc is the case's ancestor at the level asked
// for (street or community).
var statsGroupKey = map[cases.StatsBy]string{
	cases.ByStreet:    "COALESCE(anc.anc, '')",
	cases.ByCommunity: "COALESCE(anc.anc, '')",
	cases.ByGrid:      "COALESCE(c.grid, '')",
	cases.ByUnit:      "COALESCE(c.unit, '')",
	cases.ByCategory:  "c.category",
	cases.ByStatus:    "c.status",
	cases.ByDay:       "to_char(timezone($4::text, c.reported_at), 'YYYY-MM-DD')",
}

// statsSQL computes every indicator in one pass over the cases touching the
// period ($1, $2), plus the events of the period. $3 is the level whose
// ancestors group by street or community; $4 the time zone for days.
const statsSQL = `
WITH RECURSIVE anc AS (
    SELECT code, code AS anc FROM grids WHERE level = $3
    UNION ALL
    SELECT g.code, a.anc FROM grids g JOIN anc a ON g.parent = a.code
),
ev AS (
    SELECT case_id,
           bool_or(to_status = 'accepted') AS filed,
           bool_or(to_status = 'resolved') AS resolved,
           bool_or(from_status IN ('resolved', 'verified') AND to_status = 'dispatched') AS rework,
           bool_or(kind = 'extend') AS extended
    FROM case_events
    WHERE at >= $1 AND at < $2
      AND $4::text IS NOT NULL -- types $4 for the groupings that do not use it
    GROUP BY case_id
),
base AS (
    SELECT %s AS key, c.*, ev.filed, ev.resolved, ev.rework, ev.extended
    FROM cases c
    LEFT JOIN anc ON anc.code = c.grid
    LEFT JOIN ev ON ev.case_id = c.id
    WHERE (c.reported_at >= $1 AND c.reported_at < $2)
       OR (c.closed_at >= $1 AND c.closed_at < $2)
       OR (c.due_at >= $1 AND c.due_at < $2)
       OR ev.case_id IS NOT NULL
)
SELECT key,
    count(*) FILTER (WHERE reported_at >= $1 AND reported_at < $2) AS received,
    count(*) FILTER (WHERE filed) AS filed,
    count(*) FILTER (WHERE due_at >= $1 AND due_at < $2) AS due,
    count(*) FILTER (WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2) AS closed,
    count(*) FILTER (WHERE due_at >= $1 AND due_at < $2 AND status = 'closed' AND closed_at <= due_at) AS closed_on_time,
    count(*) FILTER (WHERE due_at >= $1 AND due_at < $2 AND status <> 'rejected'
                     AND (closed_at IS NULL OR closed_at > due_at) AND paused_at IS NULL) AS overdue,
    count(*) FILTER (WHERE reported_at >= $1 AND reported_at < $2 AND status = 'closed' AND closed_at < $2) AS received_closed,
    count(*) FILTER (WHERE resolved) AS resolved,
    count(*) FILTER (WHERE rework) AS rework,
    count(*) FILTER (WHERE extended) AS extended,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at) / 3600)
        FILTER (WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2) AS median_hours
FROM base
GROUP BY key
ORDER BY key`

// Stats computes the summary indicators of q.
func (s *CaseStore) Stats(ctx context.Context, q cases.StatsQuery) ([]cases.StatsRow, error) {
	key, ok := statsGroupKey[q.By]
	if !ok {
		return nil, fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	level := int16(grid.LevelStreet)
	if q.By == cases.ByCommunity {
		level = int16(grid.LevelCommunity)
	}
	tz := q.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	rows, err := s.db.Query(ctx, fmt.Sprintf(statsSQL, key), q.From, q.To, level, tz)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	out := []cases.StatsRow{}
	for rows.Next() {
		var r cases.StatsRow
		var receivedClosed, resolved, rework, extended int
		if err := rows.Scan(&r.Key, &r.Received, &r.Filed, &r.Due, &r.Closed, &r.ClosedOnTime, &r.Overdue,
			&receivedClosed, &resolved, &rework, &extended, &r.MedianHoursToClose); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		r.ClosureRate = ratio(receivedClosed, r.Received)
		r.OnTimeRate = ratio(r.ClosedOnTime, r.Due)
		r.ReworkRate = ratio(rework, resolved)
		r.ExtensionRate = ratio(extended, r.Received)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ratio is a/b, or nil when there is nothing to divide by.
func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	return &v
}
