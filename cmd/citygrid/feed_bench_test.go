package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/live"
	"citygrid/postgres"
)

// benchCleanup removes what the feed benchmarks store.
func benchCleanup(b *testing.B) {
	b.Helper()
	if _, err := dbtest.Pool(b).Exec(context.Background(), `DELETE FROM cases WHERE source = 'feed-bench'`); err != nil {
		b.Error(err)
	}
}

// follower starts a second process's hub on the shared database: loaded,
// woken by the change feed's notifications and polling every second.
func follower(b *testing.B, ctx context.Context) *app.App {
	b.Helper()
	pool := dbtest.Pool(b)
	store := postgres.NewCaseStore(pool)
	a := app.New(grid.NewIndex(grid.LocatorOptions{}), caseindex.New(), store, app.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	wake := make(chan struct{}, 1)
	ready := make(chan struct{})
	var once sync.Once
	go postgres.Listen(ctx, pool, postgres.ChangesChannel, "bench", slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}, func() { once.Do(func() { close(ready) }) })
	<-ready
	if err := a.Live.Load(ctx); err != nil {
		b.Fatal(err)
	}
	go a.Live.Follow(ctx, wake, time.Second)
	return a
}

// BenchmarkChangeFeedPropagation writes 1,000 case changes a second (each
// its own transaction, as the API makes them) for 3 s and measures how
// long each takes to reach another process's case index: from its commit
// until the follower has applied its position. Target: p99 < 1 s, none over 5 s.
func BenchmarkChangeFeedPropagation(b *testing.B) {
	benchCleanup(b)
	b.Cleanup(func() { benchCleanup(b) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := follower(b, ctx)
	pool := dbtest.Pool(b)
	const rate, seconds = 1000, 3
	for range b.N {
		var (
			mu      sync.Mutex
			lat     []time.Duration
			waiting sync.WaitGroup
		)
		// Writers: 4 connections, one change every 4 ms each. Each change
		// is timed from its commit until the follower has applied its
		// position (its index holds it).
		var wg sync.WaitGroup
		start := time.Now()
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rate * seconds / 4 {
					next := start.Add(time.Duration(i*4+w) * time.Second / rate)
					time.Sleep(time.Until(next))
					var xid uint64
					err := pool.QueryRow(ctx, `INSERT INTO cases (source, external_id, category, geom, h3, status, reported_at, due_at)
VALUES ('feed-bench', $1, 'E0101', ST_SetSRID(ST_MakePoint(-40 + random()*0.01, 10 + random()*0.01), 4326), 0, 'reported', now(), now() + interval '3 days')
RETURNING pg_current_xact_id()::text::bigint`, fmt.Sprintf("p-%d-%d-%d", time.Now().UnixNano(), w, i)).Scan(&xid)
					if err != nil {
						b.Error(err)
						return
					}
					committed := time.Now()
					waiting.Add(1)
					go func() {
						defer waiting.Done()
						wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
						defer cancel()
						if err := f.Live.WaitFor(wctx, xid+1); err != nil {
							return // counted as missed
						}
						d := time.Since(committed)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}()
				}
			}()
		}
		wg.Wait()
		wrote := time.Since(start)
		waiting.Wait()
		slices.Sort(lat)
		if len(lat) == 0 {
			b.Fatal("no change propagated")
		}
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		b.ReportMetric(float64(rate*seconds)/wrote.Seconds(), "changes/s")
		b.ReportMetric(float64(q(0.5).Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
		b.ReportMetric(float64(rate*seconds-len(lat)), "missed")
	}
}

// BenchmarkBulkApply compares, in one run, what a bulk ingest of 5,000-case
// batches costs this process after storing each batch over a table of
// 100,000 cases: before (issue 14), a full reload of the case index per
// ingest request; now, applying the batch's own rows. It reports both
// ingest rates (store + make visible) and their ratio.
func BenchmarkBulkApply(b *testing.B) {
	benchCleanup(b)
	b.Cleanup(func() { benchCleanup(b) })
	ctx := context.Background()
	pool := dbtest.Pool(b)
	if _, err := pool.Exec(ctx, `INSERT INTO cases (source, external_id, category, geom, h3, status, reported_at, due_at)
SELECT 'feed-bench', 'fill-' || i, 'E0101', ST_SetSRID(ST_MakePoint(-40 + random()*0.05, 10 + random()*0.05), 4326), 0, 'reported', now(), now() + interval '3 days'
FROM generate_series(1, 100000) i`); err != nil {
		b.Fatal(err)
	}
	store := postgres.NewCaseStore(pool)
	x := caseindex.New()
	h := live.New(x, live.Options{Store: store})
	if err := h.Load(ctx); err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	n := 0
	mk := func() []*cases.Case {
		out := make([]*cases.Case, batch)
		now := time.Now()
		for i := range out {
			n++
			p := orb.Point{-40 + float64(n%500)*0.0001, 10 + float64(n/500%500)*0.0001}
			cell, _ := geo.CellAt(p, grid.CellRes)
			out[i] = &cases.Case{Source: "feed-bench", ExternalID: fmt.Sprintf("bulk-%d-%d", now.UnixNano(), i), Category: "E0101", Title: "t",
				Location: p, Cell: cell, Status: cases.StatusReported, Priority: 3, ReportedAt: now, DueAt: now.Add(72 * time.Hour)}
		}
		return out
	}
	var before, after time.Duration
	for range b.N {
		cs := mk()
		start := time.Now()
		if _, err := store.InsertCases(ctx, cs); err != nil {
			b.Fatal(err)
		}
		if err := store.LoadCaseIndex(ctx, x); err != nil { // the old way: reload everything
			b.Fatal(err)
		}
		before += time.Since(start)

		cs = mk()
		start = time.Now()
		if _, err := store.InsertCases(ctx, cs); err != nil {
			b.Fatal(err)
		}
		h.ChangedMany(0, cs) // now: the batch's own rows
		after += time.Since(start)
	}
	rb, ra := float64(b.N*batch)/before.Seconds(), float64(b.N*batch)/after.Seconds()
	b.ReportMetric(rb, "before_cases/s")
	b.ReportMetric(ra, "after_cases/s")
	b.ReportMetric(ra/rb, "after/before")
}
