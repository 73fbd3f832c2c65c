package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/bulletin"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// bulletinLocator is a district of two streets, in memory.
func bulletinLocator(t *testing.T) *grid.Locator {
	t.Helper()
	l, err := grid.NewLocator([]*grid.Grid{
		{Code: "D", Name: "区", Level: grid.LevelDistrict, Geometry: rect(120.35, 36.07, 120.37, 36.09)},
		{Code: "S1", Name: "西街道", Level: grid.LevelStreet, Parent: "D", Geometry: rect(120.35, 36.07, 120.36, 36.09)},
		{Code: "S2", Name: "东街道", Level: grid.LevelStreet, Parent: "D", Geometry: rect(120.36, 36.07, 120.37, 36.09)},
	}, nil, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// schedulerOn is a scheduler of the district and its streets on pool, at
// 08:00 Asia/Shanghai, with the clock *now.
func schedulerOn(t *testing.T, pool postgres.DBTX, lock bulletin.Locker, now *time.Time, catchUp time.Duration) *bulletin.Scheduler {
	l := bulletinLocator(t)
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cs := postgres.NewCaseStore(pool)
	svc := &bulletin.Service{
		Gen:      &bulletin.Generator{Sources: bulletin.Sources{Stats: cs, Hotspots: cs, Locator: func() *grid.Locator { return l }}},
		Store:    postgres.NewBulletinStore(pool),
		TimeZone: func(context.Context) (*time.Location, error) { return zone, nil },
		Now:      func() time.Time { return *now },
	}
	return &bulletin.Scheduler{Service: svc, Lock: lock, Kinds: bulletin.Kinds, At: 8 * time.Hour, CatchUp: catchUp,
		Scopes: func() []bulletin.Scope { return bulletin.Scopes(l, true, false) }}
}

// anyone grants the lock to every caller: schedulers racing unguarded.
type anyone struct{}

func (anyone) TryLock(context.Context) (func(), bool, error) { return func() {}, true, nil }

// TestSchedulersStoreEachBulletinOnce runs two schedulers at once (two
// goroutines, each taking the advisory lock on a connection of its own),
// and two racing without the lock: each bulletin is stored exactly once,
// and a start after downtime catches up the periods missed.
func TestSchedulersStoreEachBulletinOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		lock func(pool *pgxpool.Pool) bulletin.Locker
	}{
		{"advisory lock", func(p *pgxpool.Pool) bulletin.Locker { return &postgres.Locker{Pool: p} }},
		{"no lock: the key alone", func(*pgxpool.Pool) bulletin.Locker { return anyone{} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pool := dbtest.Isolated(t, "bulletins", "audit_log")
			ctx := context.Background()
			// 11:00 in Shanghai: the day before, the week before and the
			// month before are due; with 48 h of catch-up, the day before
			// that too: 4 bulletins of each of 3 scopes.
			now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
			a := schedulerOn(t, pool, tt.lock(pool), &now, 48*time.Hour)
			b := schedulerOn(t, pool, tt.lock(pool), &now, 48*time.Hour)
			race := func() int {
				var (
					wg     sync.WaitGroup
					stored [2]int
					errs   [2]error
				)
				for i, s := range []*bulletin.Scheduler{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						stored[i], errs[i] = s.RunOnce(ctx)
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				return stored[0] + stored[1]
			}
			check := func(want int) {
				t.Helper()
				var rows, dup int
				if err := pool.QueryRow(ctx, `SELECT count(*), count(*) - count(DISTINCT (kind, scope, period)) FROM bulletins`).Scan(&rows, &dup); err != nil {
					t.Fatal(err)
				}
				if rows != want || dup != 0 {
					t.Errorf("%d bulletins stored (%d twice), want %d, each once", rows, dup, want)
				}
			}
			if l, ok := tt.lock(pool).(*postgres.Locker); ok {
				// Another process holds the lock: this one stores nothing.
				unlock, got, err := l.TryLock(ctx)
				if err != nil || !got {
					t.Fatalf("take the lock: %v %v", got, err)
				}
				if n, err := a.RunOnce(ctx); n != 0 || err != nil {
					t.Errorf("without the lock a pass stored %d (%v), want none", n, err)
				}
				unlock()
			}
			if n := race(); n != 12 {
				t.Errorf("the schedulers stored %d, want 12", n)
			}
			check(12)
			if n := race(); n != 0 {
				t.Errorf("a second pass stored %d, want none", n)
			}
			// Down for three days: the days missed within the catch-up
			// window, and the new ones, once.
			now = now.Add(72 * time.Hour)
			a.CatchUp, b.CatchUp = 96*time.Hour, 96*time.Hour
			if n := race(); n != 9 {
				t.Errorf("catching up stored %d, want 9 (the 23rd, 24th and 25th of 3 scopes)", n)
			}
			check(21)
		})
	}
}
