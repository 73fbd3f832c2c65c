package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"citygrid/grid"
	"citygrid/postgres"
)

func runImport(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) != 2 || args[0] != "grids" {
		return fmt.Errorf("usage: citygrid import grids FILE")
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
