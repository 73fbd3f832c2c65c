package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/demo"
	"citygrid/grid"
	"citygrid/postgres"
)

func runDemo(ctx context.Context, cfg *Config, args []string, e *env) error {
	pool, closeDB, err := openDatabaseNoArgs(ctx, cfg, args, e)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := loadDemo(ctx, pool, e); err != nil {
		return err
	}
	return loadDemoCases(ctx, pool, cfg.DemoCases, e)
}

// loadDemoCases generates n demo cases with a progress bar.
func loadDemoCases(ctx context.Context, pool *pgxpool.Pool, n int, e *env) error {
	if n == 0 {
		return nil
	}
	start := time.Now()
	bar := newProgress(e.stderr)
	k, err := demo.LoadCases(ctx, pool, n, time.Now(), func(done, total int) { bar.Update("demo cases", done, total) })
	bar.Done()
	// Running servers follow the change feed: nothing to announce.
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "demo cases: %d stored (%d already there) in %s, %.0f cases/s\n", k, n-k, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return nil
}

// loadDemoIfEmpty loads the demo district unless grids are already stored.
func loadDemoIfEmpty(ctx context.Context, pool *pgxpool.Pool, n int, e *env) error {
	grids, err := postgres.NewGridStore(pool).FindGrids(ctx, grid.Filter{Limit: 1})
	if err != nil {
		return err
	}
	if len(grids) > 0 {
		e.logger.Info("grids already loaded; skipping the demo district")
		return nil
	}
	if err := loadDemo(ctx, pool, e); err != nil {
		return err
	}
	return loadDemoCases(ctx, pool, n, e)
}

func loadDemo(ctx context.Context, pool *pgxpool.Pool, e *env) error {
	start := time.Now()
	bar := newProgress(e.stderr)
	loaded, err := demo.Load(ctx, pool, bar.Update)
	bar.Done()
	if loaded != nil && loaded.Import != nil {
		if err := reportImport(e, loaded.Import, loaded.Inputs); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	d := loaded.Divisions
	fmt.Fprintf(e.stdout, "units: %d inserted, %d updated\n", loaded.UnitsInserted, loaded.UnitsUpdated)
	fmt.Fprintf(e.stdout, "demo district %s (%s) loaded in %s\n", d.DistrictName, d.DistrictCode, time.Since(start).Round(time.Millisecond))
	return nil
}
