package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"citygrid/cases"
	"citygrid/grid"
	"citygrid/postgres"
)

// CellM is the side of the demo's unit-grid squares: 100 m squares are
// 10,000 m², the size districts use for a grid worker's beat.
const CellM = 100

// Seed makes the generated district the same on every machine.
const Seed = 20260203

// Loaded reports what Load stored.
type Loaded struct {
	Divisions     Divisions
	UnitsInserted int
	UnitsUpdated  int
	Import        *grid.ImportResult
	Inputs        int
}

// Load generates the Shibei demo district (streets, communities and unit
// grids tiling the real boundary) and stores it with its responsible units,
// through the same validation as any other import. db may be a pool or a
// transaction.
func Load(ctx context.Context, db postgres.DBTX, progress func(stage string, done, total int)) (*Loaded, error) {
	district, err := District()
	if err != nil {
		return nil, err
	}
	divs, err := LoadDivisions()
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress("generating polygons", 0, 1)
	}
	gen, err := GeneratePolygons(ctx, db, district, divs, CellM, Seed)
	if err != nil {
		return nil, err
	}
	inputs, err := Grids(divs, district, gen.Streets, gen.Communities, gen.Cells)
	if err != nil {
		return nil, err
	}
	store := postgres.NewGridStore(db)
	out := &Loaded{Divisions: divs, Inputs: len(inputs)}
	if out.UnitsInserted, out.UnitsUpdated, err = store.UpsertUnits(ctx, Units(divs)); err != nil {
		return nil, err
	}
	if out.Import, err = store.ImportGrids(ctx, inputs, grid.ImportOptions{Progress: progress}); err != nil {
		return nil, err
	}
	if !out.Import.Committed {
		r := out.Import.Rejected[0]
		return out, fmt.Errorf("demo grids rejected (%d), first: feature %d (%s): %s", len(out.Import.Rejected), r.Index, r.Code, r.Reason)
	}
	return out, nil
}

// LoadCases generates n demo cases with their histories (see
// CaseGenerator) over the stored demo district and stores them in batches.
// progress, when set, is told how many are done.
func LoadCases(ctx context.Context, db postgres.DBTX, n int, now time.Time, progress func(done, total int)) (int, error) {
	district, err := District()
	if err != nil {
		return 0, err
	}
	grids := postgres.NewGridStore(db)
	all, err := grids.FindGrids(ctx, grid.Filter{})
	if err != nil {
		return 0, err
	}
	units, err := grids.FindUnits(ctx)
	if err != nil {
		return 0, err
	}
	loc, err := grid.NewLocator(all, units, grid.LocatorOptions{})
	if err != nil {
		return 0, err
	}
	store := postgres.NewCaseStore(db)
	cats, err := store.Categories(ctx)
	if err != nil {
		return 0, err
	}
	cal, err := store.Calendar(ctx)
	if err != nil {
		return 0, err
	}
	gen := NewCaseGenerator(district, cats, cal, loc, now, Seed)
	// Cases are generated (located, their histories played) in one
	// goroutine and stored by others, two at once on a pool: storing the
	// events is the slow part. A duplicate is merged into a case of its own
	// batch (prev starts afresh with each), which the store then finds in
	// the batch rather than among batches still being stored.
	const batch = 10000
	workers := 1
	if postgres.Concurrent(db) {
		workers = 2
	}
	type generated struct {
		recs []cases.Record
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan generated, workers)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += batch {
			gen.prev = nil
			recs := make([]cases.Record, 0, batch)
			var err error
			for i := start; i < min(start+batch, n) && err == nil; i++ {
				var r cases.Record
				if r, err = gen.Record(i); err == nil {
					recs = append(recs, r)
				}
			}
			select {
			case batches <- generated{recs, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var (
		mu             sync.Mutex
		inserted, done int
		firstErr       error
		wg             sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for b := range batches {
				err := b.err
				k := 0
				if err == nil {
					k, err = store.InsertRecords(ctx, b.recs)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				inserted += k
				done += len(b.recs)
				if progress != nil && firstErr == nil {
					progress(done, n)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return inserted, firstErr
}
