package postgres

import (
	"context"
	"fmt"
	"time"

	"citygrid/cases"
	"citygrid/grid"
)

// The indicators (cases.StatsRow) count moments of a period: each case's
// report, filing, end (closed, rejected or merged) and the moment it ran
// past its deadline, kept on the case (filed_at, closed_at, overdue_at),
// and the reworks and extensions among its events. The queries take
//
//	$1 the period's start;
//	$2 its end, or just after now if that comes first: what happened until
//	   now counts;
//	$3 the grid level of the grouping (street or community);
//	$4 the calendar's time zone (days);
//	$5 now: a deadline has been run past only once now is after it.
//
// A moment is judged at the end of its row's period: a case merged by then
// counts only as a duplicate, and a case that ran overdue is closed late
// only if it was closed by then. Every moment of a case lies between its
// report and its end, which bounds the scan of cases.

// statsParamsSQL types the parameters, whichever a query uses.
const statsParamsSQL = `params AS (SELECT $1::timestamptz, $2::timestamptz, $3::smallint, $4::text, $5::timestamptz,
    $6::text[], $7::text, $8::text, $9::bigint)`

// statsScopeSQL keeps the cases of the caller's scope ($6 its grids, NULL
// for all; $7 a handler's unit; $8 an integration's source), by the grid a
// case has now; and $9 a campaign's (0: none), by its one rule
// campaign_covers (campaigns, issue 18).
const statsScopeSQL = `($6::text[] IS NULL OR c.grid = ANY($6)) AND ($7 = '' OR c.unit = $7) AND ($8 = '' OR c.source = $8)
    AND ($9 = 0 OR EXISTS (SELECT 1 FROM campaigns k WHERE k.id = $9 AND campaign_covers(k, c)))`

// statsEventsSQL lists the period's reworks and extensions.
const statsEventsSQL = `
events AS (
    SELECT case_id, 'rework' AS what, at FROM case_events
    WHERE kind = 'status' AND to_status = 'dispatched' AND from_status IN ('resolved', 'verified') AND at >= $1 AND at < $2
    UNION ALL
    SELECT case_id, 'extension', at FROM case_events
    WHERE kind = 'extend' AND to_status IS NULL AND at >= $1 AND at < $2
)`

// statsLateSQL: the case ran past its deadline before it ended.
const statsLateSQL = `(c.overdue_at IS NOT NULL AND (c.closed_at IS NULL OR c.overdue_at < c.closed_at))`

// statsTotalsSQL sums the counted rows by key, with the median over the
// closed ones, computed apart: an ordered-set aggregate would sort every
// row.
const statsTotalsSQL = `
totals AS (
    SELECT key,
        count(*) FILTER (WHERE received) AS received, count(*) FILTER (WHERE filed) AS filed,
        count(*) FILTER (WHERE rejected) AS rejected, count(*) FILTER (WHERE duplicate) AS duplicates,
        count(*) FILTER (WHERE on_time) AS on_time, count(*) FILTER (WHERE overdue) AS overdue,
        count(*) FILTER (WHERE closed_late) AS closed_late,
        sum(reworks)::bigint AS reworks, sum(extensions)::bigint AS extensions
    FROM counted
    GROUP BY key
),
medians AS (
    SELECT key, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at)::float8) AS median
    FROM counted WHERE on_time OR closed_late
    GROUP BY key
)
SELECT %s, received, filed, rejected, duplicates, on_time, overdue, closed_late, reworks, extensions, median
FROM totals LEFT JOIN medians USING (key)
WHERE received + filed + rejected + duplicates + on_time + overdue + reworks + extensions > 0
ORDER BY key`

// statsSQL counts by group, one row per case: the case's group is the
// one it had at the period's end (%[1]s adds what the key %[2]s needs,
// %[3]s joins it; %[4]s is "key").
const statsSQL = `
WITH ` + statsParamsSQL + `,` + statsEventsSQL + `,
per_case AS (
    SELECT case_id, count(*) FILTER (WHERE what = 'rework') AS reworks, count(*) FILTER (WHERE what = 'extension') AS extensions
    FROM events GROUP BY case_id
),%[1]s
judged AS (
    SELECT %[2]s AS key, c.reported_at, c.closed_at, c.filed_at, c.overdue_at, c.status,
        c.merged_into IS NOT NULL AS merged, (c.merged_into IS NOT NULL AND c.closed_at < $2) AS dup,
        ` + statsLateSQL + ` AS late, COALESCE(e.reworks, 0) AS reworks, COALESCE(e.extensions, 0) AS extensions
    FROM cases c LEFT JOIN per_case e ON e.case_id = c.id %[3]s
    WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1) AND ` + statsScopeSQL + `
),
counted AS (
    SELECT key, reported_at, closed_at,
        reported_at >= $1 AND NOT dup AS received,
        filed_at >= $1 AND filed_at < $2 AND NOT dup AS filed,
        status = 'rejected' AND closed_at >= $1 AND closed_at < $2 AS rejected,
        merged AND closed_at >= $1 AND closed_at < $2 AS duplicate,
        status = 'closed' AND NOT merged AND NOT late AND closed_at >= $1 AND closed_at < $2 AS on_time,
        late AND overdue_at >= $1 AND overdue_at < $2 AND overdue_at < $5 AND NOT dup AS overdue,
        late AND overdue_at >= $1 AND overdue_at < $2 AND overdue_at < $5 AND NOT dup
            AND status = 'closed' AND NOT merged AND closed_at < $2 AS closed_late,
        CASE WHEN dup THEN 0 ELSE reworks END AS reworks,
        CASE WHEN dup THEN 0 ELSE extensions END AS extensions
    FROM judged
),` + statsTotalsSQL

// statsByDaySQL counts by day, one row per moment: each day is a period of
// its own, its moments judged at the day's end (h). The day is a date
// until the end (%s shows it).
const statsByDaySQL = `
WITH ` + statsParamsSQL + `,` + statsEventsSQL + `,
moments AS (
    SELECT c.reported_at, c.closed_at, c.status, c.merged_into IS NOT NULL AS merged, ` + statsLateSQL + ` AS late, x.what, x.at
    FROM cases c
    CROSS JOIN LATERAL (VALUES ('received', c.reported_at), ('filed', c.filed_at), ('ended', c.closed_at),
                               ('overdue', c.overdue_at)) AS x (what, at)
    WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1) AND ` + statsScopeSQL + `
      AND x.at >= $1 AND x.at < $2 AND (x.what <> 'overdue' OR x.at < $5)
    UNION ALL
    SELECT c.reported_at, c.closed_at, c.status, c.merged_into IS NOT NULL, ` + statsLateSQL + `, e.what, e.at
    FROM events e JOIN cases c ON c.id = e.case_id
    WHERE ` + statsScopeSQL + `
),
days AS (
    SELECT m.*, timezone($4, at)::date AS key FROM moments m
),
judged AS (
    SELECT d.*, LEAST($2, timezone($4, (key + 1)::timestamp)) AS h FROM days d
),
counted AS (
    SELECT key, reported_at, closed_at,
        what = 'received' AND NOT (merged AND closed_at < h) AS received,
        what = 'filed' AND NOT (merged AND closed_at < h) AS filed,
        what = 'ended' AND status = 'rejected' AS rejected,
        what = 'ended' AND merged AS duplicate,
        what = 'ended' AND status = 'closed' AND NOT merged AND NOT late AS on_time,
        what = 'overdue' AND late AND NOT (merged AND closed_at < h) AS overdue,
        what = 'overdue' AND late AND NOT merged AND status = 'closed' AND closed_at < h AS closed_late,
        (what = 'rework' AND NOT (merged AND closed_at < h))::int AS reworks,
        (what = 'extension' AND NOT (merged AND closed_at < h))::int AS extensions
    FROM judged
),` + statsTotalsSQL

// statsGrouping is how one grouping keys a case: a fixed allowlist, never
// text from a request. with adds the CTEs the key needs (each ending in a
// comma), join joins them onto the case c.
type statsGrouping struct {
	with, key, join string
}

// A case counts in the group it had at the period's end: the value its
// first re-assignment after the end changed, or else the present one; the
// same for the status. Changes after a period do not move its cases
// between groups.
const (
	assignedAtEndSQL = `
assigned AS (
    SELECT DISTINCT ON (case_id, field) case_id, field, was FROM (
        SELECT case_id, data->>'field' AS field, data->>'from' AS was, at, id
        FROM case_events WHERE kind = 'assign' AND to_status IS NULL AND at >= $2
    ) a ORDER BY case_id, field, at, id
),`
	// ancestorsSQL maps every grid to its ancestor at level $3: itself,
	// its parent or its grandparent (levels run 1 to 4).
	ancestorsSQL = `
ancestors AS (
    SELECT g1.code, CASE $3 WHEN g1.level THEN g1.code WHEN g2.level THEN g2.code WHEN g3.level THEN g3.code END AS anc
    FROM grids g1 LEFT JOIN grids g2 ON g2.code = g1.parent LEFT JOIN grids g3 ON g3.code = g2.parent
),`
	ancestorJoinSQL = `LEFT JOIN assigned ag ON ag.case_id = c.id AND ag.field = 'grid'
    LEFT JOIN ancestors a ON a.code = CASE WHEN ag.case_id IS NULL THEN c.grid ELSE NULLIF(ag.was, '') END`
	// statusAtEndSQL is the status a case had at the period's end: the
	// from of its first status change after it. Only a period over has
	// one: the lookup is skipped for a period still running.
	statusAtEndSQL = `COALESCE(CASE WHEN $2 <= $5 THEN (
        SELECT e.from_status FROM case_events e
        WHERE e.case_id = c.id AND e.to_status IS NOT NULL AND e.at >= $2 ORDER BY e.at, e.id LIMIT 1) END, c.status)`
)

func assignedAtEnd(field string) statsGrouping {
	return statsGrouping{
		with: assignedAtEndSQL,
		key:  `COALESCE(CASE WHEN ag.case_id IS NULL THEN c.` + field + ` ELSE ag.was END, '')`,
		join: `LEFT JOIN assigned ag ON ag.case_id = c.id AND ag.field = '` + field + `'`,
	}
}

var statsGroupings = map[cases.StatsBy]statsGrouping{
	cases.ByStreet:    {assignedAtEndSQL + ancestorsSQL, `COALESCE(a.anc, '')`, ancestorJoinSQL},
	cases.ByCommunity: {assignedAtEndSQL + ancestorsSQL, `COALESCE(a.anc, '')`, ancestorJoinSQL},
	cases.ByGrid:      assignedAtEnd("grid"),
	cases.ByUnit:      assignedAtEnd("unit"),
	cases.ByCategory:  assignedAtEnd("category"),
	cases.ByStatus:    {``, statusAtEndSQL, ``},
}

// Stats computes the indicators of q (see cases.StatsRow). With By = day
// there is a row for every day of the period, in the calendar's time zone.
func (s *CaseStore) Stats(ctx context.Context, q cases.StatsQuery) ([]cases.StatsRow, error) {
	sql := fmt.Sprintf(statsByDaySQL, `to_char(key, 'YYYY-MM-DD')`)
	if q.By != cases.ByDay {
		g, ok := statsGroupings[q.By]
		if !ok {
			return nil, fmt.Errorf("stats: unknown grouping %q", q.By)
		}
		sql = fmt.Sprintf(statsSQL, g.with, g.key, g.join, "key")
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
	end := q.To
	if q.Now.Before(q.To) {
		end = q.Now.Truncate(time.Microsecond).Add(time.Microsecond) // the database's precision
	}
	rows, err := s.db.Query(ctx, sql, q.From, end, level, tz, q.Now, q.Restrict.Grids, q.Restrict.Unit, q.Restrict.Source, q.Campaign)
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
