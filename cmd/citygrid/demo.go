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
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer closeDB()
	return loadDemo(ctx, pool, e)
}

// loadDemoIfEmpty loads the demo district unless grids are already stored.
func loadDemoIfEmpty(ctx context.Context, pool *pgxpool.Pool, e *env) error {
	grids, err := postgres.NewGridStore(pool).FindGrids(ctx, grid.Filter{Limit: 1})
	if err != nil {
		return err
	}
	if len(grids) > 0 {
		e.logger.Info("grids already loaded; skipping the demo district")
		return nil
	}
	return loadDemo(ctx, pool, e)
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
