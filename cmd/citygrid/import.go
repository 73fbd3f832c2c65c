package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"citygrid/cases"
	"citygrid/grid"
	"citygrid/postgres"
)

func runImport(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) == 3 && args[0] == "grids" && (args[1] == "--draft" || args[1] == "-draft") {
		return importDraft(ctx, cfg, args[2], e) // grid versions (issue 19)
	}
	if len(args) != 2 || (args[0] != "grids" && args[0] != "cases") {
		return fmt.Errorf("usage: citygrid import grids FILE | citygrid import grids --draft FILE | citygrid import cases FILE (.ndjson or .csv)")
	}
	if args[0] == "cases" {
		return importCases(ctx, cfg, args[1], e)
	}
	var r io.Reader = os.Stdin
	if args[1] != "-" {
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	inputs, err := grid.ParseFeatureCollection(r)
	if err != nil {
		return fmt.Errorf("%s: %w", args[1], err)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer closeDB()
	bar := newProgress(e.stderr)
	res, err := postgres.NewGridStore(pool).ImportGrids(ctx, inputs, grid.ImportOptions{Progress: bar.Update})
	bar.Done()
	if err != nil {
		return err
	}
	return reportImport(e, res, len(inputs))
}

// reportImport prints the outcome; rejections make the command fail.
func reportImport(e *env, res *grid.ImportResult, total int) error {
	for _, r := range res.Rejected {
		fmt.Fprintf(e.stderr, "feature %d (%s): %s\n", r.Index, r.Code, r.Reason)
	}
	if !res.Committed {
		return fmt.Errorf("%d of %d features rejected; nothing stored", len(res.Rejected), total)
	}
	fmt.Fprintf(e.stdout, "grids: %d inserted, %d updated, %d rejected\n", res.Inserted, res.Updated, len(res.Rejected))
	if t := res.Topology; t != nil {
		fmt.Fprintf(e.stdout, "topology: %d sibling overlaps, %d parents with gaps (over %g m²)\n", len(t.Overlaps), len(t.Gaps), t.MinAreaM2)
		if len(t.Overlaps)+len(t.Gaps) > 0 {
			b, _ := json.MarshalIndent(t, "", "  ")
			e.logger.Debug("topology", "report", string(b))
		}
	}
	return nil
}

// importCases ingests an NDJSON or CSV file of cases (by extension; "-"
// reads NDJSON from stdin) through the same path as POST /v1/cases/bulk.
func importCases(ctx context.Context, cfg *Config, path string, e *env) error {
	var r io.Reader = os.Stdin
	format := cases.BulkNDJSON
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
		if strings.HasSuffix(strings.ToLower(path), ".csv") {
			format = cases.BulkCSV
		}
	}
	pool, closeDB, err := openDatabase(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer closeDB()
	grids := postgres.NewGridStore(pool)
	caseStore := postgres.NewCaseStore(pool)
	index := grid.NewIndex(cfg.locatorOptions())
	if err := index.Rebuild(ctx, grids); err != nil {
		return err
	}
	cats, err := caseStore.Categories(ctx)
	if err != nil {
		return err
	}
	cal, err := caseStore.Calendar(ctx)
	if err != nil {
		return err
	}
	bar := newProgress(e.stderr)
	start := time.Now()
	ing := cases.Ingester{Categories: cats, Calendar: cal, Locator: index.Locator(), Now: time.Now, Store: caseStore,
		Progress: func(lines int) { bar.Update("lines read", lines, 0) }}
	res, err := ing.Ingest(ctx, r, format)
	bar.Done()
	if err != nil {
		return err
	}
	for _, l := range res.Rejected {
		fmt.Fprintf(e.stderr, "line %d: %s\n", l.Line, l.Error)
	}
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "cases: %d accepted, %d duplicates, %d rejected in %s\n", res.Accepted, res.Duplicates, len(res.Rejected), el.Round(time.Millisecond))
	return nil
}
