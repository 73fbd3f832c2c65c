package postgres

import (
	"context"
	"fmt"
	"time"

	"citygrid/cases"
	"citygrid/grid"
)

// statsGrouping keys the counted moments of one grouping: a fixed
// allowlist, never text from a request. with adds the CTEs it needs, join
// joins them onto a moment m, key is the group and horizon the instant a
// moment is judged at (the end of its row's period).
type statsGrouping struct {
	with, join, key, horizon string
}

// A case counts in the group it had at the period's end: the value the
// first re-assignment after it changed, or else the present one; the same
// for the status. Changes after a period do not move its cases between
// groups.
const (
	assignedAtEndSQL = `
asg AS (
    SELECT DISTINCT ON (case_id, field) case_id, field, was FROM (
        SELECT case_id, data->>'field' AS field, data->>'from' AS was, at, id
        FROM case_events WHERE kind = 'assign' AND to_status IS NULL AND at >= $2
    ) a ORDER BY case_id, field, at, id
),`
	// statusAtEndSQL is the status a case had at the period's end: the
	// from of its first status change after it. Only a period over has
	// one: the lookup is skipped for a period still running.
	statusAtEndSQL = `COALESCE(CASE WHEN $2 <= $5 THEN (
        SELECT e.from_status FROM case_events e
        WHERE e.case_id = m.id AND e.to_status IS NOT NULL AND e.at >= $2 ORDER BY e.at, e.id LIMIT 1) END, m.status)`
	// ancestorsSQL maps every grid to its ancestor at level $3.
	ancestorsSQL = `
anc AS (
    SELECT code, code AS anc FROM grids WHERE level = $3
    UNION ALL
    SELECT g.code, a.anc FROM grids g JOIN anc a ON g.parent = a.code
),`
	gridAtEndSQL = `CASE WHEN ag.case_id IS NULL THEN m.grid ELSE NULLIF(ag.was, '') END`
)

func assignedAtEnd(field, column string) statsGrouping {
	return statsGrouping{
		with:    assignedAtEndSQL,
		join:    `LEFT JOIN asg ag ON ag.case_id = m.id AND ag.field = '` + field + `'`,
		key:     `COALESCE(CASE WHEN ag.case_id IS NULL THEN m.` + column + ` ELSE ag.was END, '')`,
		horizon: `$2`,
	}
}

var statsGroupings = map[cases.StatsBy]statsGrouping{
	cases.ByStreet:    {assignedAtEndSQL + ancestorsSQL, `LEFT JOIN asg ag ON ag.case_id = m.id AND ag.field = 'grid' LEFT JOIN anc ON anc.code = ` + gridAtEndSQL, `COALESCE(anc.anc, '')`, `$2`},
	cases.ByCommunity: {assignedAtEndSQL + ancestorsSQL, `LEFT JOIN asg ag ON ag.case_id = m.id AND ag.field = 'grid' LEFT JOIN anc ON anc.code = ` + gridAtEndSQL, `COALESCE(anc.anc, '')`, `$2`},
	cases.ByGrid:      assignedAtEnd("grid", "grid"),
	cases.ByUnit:      assignedAtEnd("unit", "unit"),
	cases.ByCategory:  assignedAtEnd("category", "category"),
	cases.ByStatus:    {``, ``, statusAtEndSQL, `$2`},
	// Each day is a period of its own: a moment is judged at the end of
	// its day (or the period's end, if that comes first).
	cases.ByDay: {``, ``, `to_char(timezone($4, m.at), 'YYYY-MM-DD')`,
		`LEAST($2, timezone($4, date_trunc('day', timezone($4, m.at)) + interval '1 day'))`},
}

// statsSQL counts, in one pass over the cases, the moments of the period
// [$1, $2) that the indicators count (see cases.StatsRow): each case's
// report, filing, end (closed, rejected or merged) and the moment it ran
// past its deadline, kept on the case, and the period's reworks and
// extensions from the events. $2 is the period's end, or just after now
// ($5) if that comes first: what happened until now counts, and a deadline
// has been run past only once now is after it. A moment is judged at its
// horizon h, the end of its row's period: a case merged before h counts
// only as a duplicate, and a case that ran overdue is closed late only if
// it was closed before h. Every moment of a case lies between its report
// and its end, which bounds the scan.
const statsSQL = `
WITH RECURSIVE params AS (SELECT $1::timestamptz, $2::timestamptz, $3::smallint, $4::text, $5::timestamptz),%s
m AS (
    SELECT c.id, c.grid, c.unit, c.category, c.status, c.reported_at, c.closed_at, c.overdue_at, c.merged_into, x.what, x.at
    FROM cases c
    CROSS JOIN LATERAL (VALUES ('received', c.reported_at), ('filed', c.filed_at), ('ended', c.closed_at),
                               ('overdue', c.overdue_at)) AS x (what, at)
    WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1)
      AND x.at >= $1 AND x.at < $2 AND (x.what <> 'overdue' OR x.at < $5)
    UNION ALL
    SELECT c.id, c.grid, c.unit, c.category, c.status, c.reported_at, c.closed_at, c.overdue_at, c.merged_into, 'rework', e.at
    FROM case_events e JOIN cases c ON c.id = e.case_id
    WHERE e.kind = 'status' AND e.to_status = 'dispatched' AND e.from_status IN ('resolved', 'verified')
      AND e.at >= $1 AND e.at < $2
    UNION ALL
    SELECT c.id, c.grid, c.unit, c.category, c.status, c.reported_at, c.closed_at, c.overdue_at, c.merged_into, 'extension', e.at
    FROM case_events e JOIN cases c ON c.id = e.case_id
    WHERE e.kind = 'extend' AND e.to_status IS NULL AND e.at >= $1 AND e.at < $2
),
keyed AS (
    SELECT m.*, %s AS key, %s AS h FROM m %s
),
judged AS (
    SELECT k.*,
        (merged_into IS NOT NULL AND closed_at < h) AS dup,
        (overdue_at IS NOT NULL AND (closed_at IS NULL OR overdue_at < closed_at)) AS late
    FROM keyed k
),
counted AS (
    SELECT key, what, reported_at, closed_at,
        what = 'received' AND NOT dup AS received,
        what = 'filed' AND NOT dup AS filed,
        what = 'ended' AND status = 'rejected' AS rejected,
        what = 'ended' AND merged_into IS NOT NULL AS duplicate,
        what = 'ended' AND status = 'closed' AND merged_into IS NULL AND NOT late AS on_time,
        what = 'overdue' AND late AND NOT dup AS overdue,
        what = 'overdue' AND late AND NOT dup AND status = 'closed' AND closed_at < h AS closed_late,
        what = 'rework' AND NOT dup AS rework,
        what = 'extension' AND NOT dup AS extension
    FROM judged
)
SELECT key,
    count(*) FILTER (WHERE received), count(*) FILTER (WHERE filed),
    count(*) FILTER (WHERE rejected), count(*) FILTER (WHERE duplicate),
    count(*) FILTER (WHERE on_time), count(*) FILTER (WHERE overdue), count(*) FILTER (WHERE closed_late),
    count(*) FILTER (WHERE rework), count(*) FILTER (WHERE extension),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at)::float8)
        FILTER (WHERE on_time OR closed_late)
FROM counted
GROUP BY key
HAVING count(*) FILTER (WHERE received OR filed OR rejected OR duplicate OR on_time OR overdue OR rework OR extension) > 0
ORDER BY key`

// Stats computes the indicators of q (see cases.StatsRow). With By = day
// there is a row for every day of the period, in the calendar's time zone.
func (s *CaseStore) Stats(ctx context.Context, q cases.StatsQuery) ([]cases.StatsRow, error) {
	g, ok := statsGroupings[q.By]
	if !ok {
		return nil, fmt.Errorf("stats: unknown grouping %q", q.By)
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	level := int16(grid.LevelStreet)
	if q.By == cases.ByCommunity {
		level = int16(grid.LevelCommunity)
	}
	tz := q.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("stats: time zone %q: %w", tz, err)
	}
	sql := fmt.Sprintf(statsSQL, g.with, g.key, g.horizon, g.join)
	end := q.To
	if q.Now.Before(q.To) {
		end = q.Now.Truncate(time.Microsecond).Add(time.Microsecond) // the database's precision
	}
	rows, err := s.db.Query(ctx, sql, q.From, end, level, tz, q.Now)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	out := []cases.StatsRow{}
	for rows.Next() {
		var (
			r      cases.StatsRow
			median *float64
		)
		if err := rows.Scan(&r.Key, &r.Received, &r.Filed, &r.Rejected, &r.Duplicates, &r.ClosedOnTime, &r.Overdue,
			&r.ClosedLate, &r.Reworks, &r.Extensions, &median); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if median != nil {
			h := *median / 3600
			r.MedianHoursToClose = &h
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if q.By == cases.ByDay {
		out = everyDay(out, cases.Days(q.From, q.To, loc))
	}
	for i := range out {
		r := &out[i]
		r.Due = r.ClosedOnTime + r.Overdue
		r.Closed = r.ClosedOnTime + r.ClosedLate
		r.SetRates()
	}
	return out, nil
}

// everyDay returns a row for each day, with the counted ones in place.
func everyDay(counted []cases.StatsRow, days []string) []cases.StatsRow {
	byDay := make(map[string]cases.StatsRow, len(counted))
	for _, r := range counted {
		byDay[r.Key] = r
	}
	out := make([]cases.StatsRow, len(days))
	for i, d := range days {
		out[i] = byDay[d]
		out[i].Key = d
	}
	return out
}
