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

// demoCellM is the side of the demo's unit-grid squares: 100 m squares are
// 10,000 m², the size districts use for a grid worker's beat.
const demoCellM = 100

// demoSeed makes the generated district the same on every machine.
const demoSeed = 20260203

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

// loadDemo generates the Shibei demo district and imports it through the
// same validation as any other import.
func loadDemo(ctx context.Context, pool *pgxpool.Pool, e *env) error {
	start := time.Now()
	district, err := demo.District()
	if err != nil {
		return err
	}
	divs, err := demo.LoadDivisions()
	if err != nil {
		return err
	}
	var streets []postgres.DemoDivision
	for _, st := range divs.Streets {
		d := postgres.DemoDivision{Code: st.Code, Name: st.Name}
		for _, c := range st.Communities {
			d.Children = append(d.Children, postgres.DemoDivision{Code: c.Code, Name: c.Name})
		}
		streets = append(streets, d)
	}
	fmt.Fprintf(e.stderr, "generating %d streets and their communities and %d m unit grids...\n", len(streets), demoCellM)
	gen, err := postgres.GenerateDemoGrids(ctx, pool, district, streets, demoCellM, demoSeed)
	if err != nil {
		return err
	}
	inputs, err := demo.Grids(divs, district, pieces(gen.Streets), pieces(gen.Communities), pieces(gen.Cells))
	if err != nil {
		return err
	}
	store := postgres.NewGridStore(pool)
	ins, upd, err := store.UpsertUnits(ctx, demo.Units(divs))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "units: %d inserted, %d updated\n", ins, upd)
	bar := newProgress(e.stderr)
	res, err := store.ImportGrids(ctx, inputs, grid.ImportOptions{Progress: bar.Update})
	bar.Done()
	if err != nil {
		return err
	}
	if err := reportImport(e, res, len(inputs)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo district %s (%s) loaded in %s\n", divs.DistrictName, divs.DistrictCode, time.Since(start).Round(time.Millisecond))
	return nil
}

func pieces(polys []postgres.DemoPolygon) []demo.Piece {
	out := make([]demo.Piece, len(polys))
	for i, p := range polys {
		out[i] = demo.Piece{Code: p.Code, Geometry: p.Geometry}
	}
	return out
}
