package bench

import (
	"context"
	"testing"
	"time"

	"citygrid/bulletin"
	"citygrid/grid"
	"citygrid/internal/app"
	"citygrid/postgres"
)

// bulletinBaselineSQL is the plain-SQL daily bulletin the benchmark
// compares with: the day and the day before counted by street, the day's
// overdue by unit and its top cells, straight off the cases table (a
// report's day, a closure's day, closed by the deadline), without the
// indicators' moments, histories, re-assignments or scope.
var bulletinBaselineSQL = []string{
	`SELECT g.parent, count(*) FILTER (WHERE c.reported_at >= $1),
        count(*) FILTER (WHERE c.status = 'closed' AND c.closed_at >= $1),
        count(*) FILTER (WHERE c.status = 'closed' AND c.closed_at >= $1 AND c.closed_at <= c.due_at)
     FROM cases c JOIN grids g1 ON g1.code = c.grid JOIN grids g ON g.code = g1.parent
     WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1) GROUP BY g.parent`,
	`SELECT g.parent, count(*) FILTER (WHERE c.reported_at >= $1),
        count(*) FILTER (WHERE c.status = 'closed' AND c.closed_at >= $1)
     FROM cases c JOIN grids g1 ON g1.code = c.grid JOIN grids g ON g.code = g1.parent
     WHERE c.reported_at < $2 AND (c.closed_at IS NULL OR c.closed_at >= $1) GROUP BY g.parent`,
	`SELECT unit, count(*) FROM cases WHERE due_at >= $1 AND due_at < $2 AND (closed_at IS NULL OR closed_at > due_at) GROUP BY unit`,
	`SELECT h3, count(*) FROM cases WHERE reported_at >= $1 AND reported_at < $2 GROUP BY h3 ORDER BY count(*) DESC LIMIT 5`,
}

// BenchmarkBulletin generates the district's daily bulletin of yesterday
// at a million demo cases (every section: the indicators of the day and
// the day before by street, overdue by unit, hotspots and last day's,
// campaigns, the map), against the plain-SQL baseline in the same run.
//
//	go test ./internal/bench -run '^$' -bench Bulletin -benchtime 5x
func BenchmarkBulletin(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	ctx := context.Background()
	zone, err := time.LoadLocation(e.cal.TimeZone)
	if err != nil {
		b.Fatal(err)
	}
	svc := app.NewBulletins(app.BulletinDeps{Cases: e.cases, Stats: e.cases, Hotspots: e.cases,
		Campaigns: postgres.NewCampaignStore(e.pool), Store: postgres.NewBulletinStore(e.pool),
		Locator: func() *grid.Locator { return e.loc }})
	now := time.Now()
	day := bulletin.PeriodAt(bulletin.Daily, now, zone).Prev()
	b.Run("district-daily", func(b *testing.B) {
		for b.Loop() {
			bl, err := svc.Gen.Build(ctx, bulletin.Scope{Kind: bulletin.District}, day, e.cal.TimeZone, now)
			if err != nil {
				b.Fatal(err)
			}
			if bl.Summary.Received == 0 {
				b.Fatal("no cases yesterday")
			}
		}
	})
	b.Run("plain-sql-baseline", func(b *testing.B) {
		prev := day.Prev()
		for b.Loop() {
			for i, sql := range bulletinBaselineSQL {
				from, to := day.From, day.To
				if i == 1 { // the day before
					from, to = prev.From, prev.To
				}
				rows, err := e.pool.Query(ctx, sql, from, to)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
