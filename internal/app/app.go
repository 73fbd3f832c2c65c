// Package app assembles the application layer over the in-memory indexes:
// the hotspot analysis, the vector tiles (whose hotspot layer asks the
// analysis) and the live hub (which keeps the case index and the tile cache
// current and feeds the event streams). The binary and the tests that need
// a whole service build it here, so that they are wired alike.
package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"citygrid/analysis"
	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/live"
	"citygrid/tiles"
)

// App is the application layer.
type App struct {
	Grids    *grid.Index
	Cases    *caseindex.Index
	Analysis *analysis.Service
	Tiles    *tiles.Service
	Live     *live.Hub
}

// Config tunes it; zero values take the defaults.
type Config struct {
	Tiles  tiles.Options
	Now    func() time.Time
	Logger *slog.Logger
}

// New wires the application over the grid index and the case index; store
// (may be nil) is where the live hub re-reads cases changed elsewhere.
func New(grids *grid.Index, cases *caseindex.Index, store live.Store, cfg Config) *App {
	a := &App{Grids: grids, Cases: cases, Analysis: analysis.New(grids, cases)}
	a.Tiles = tiles.New(grids, cases, a.hotCells, cfg.Tiles, cfg.Now)
	a.Live = live.New(cases, live.Options{Store: store, Tiles: staleTiles{a.Tiles}, Now: cfg.Now, Logger: cfg.Logger})
	return a
}

// hotCells is the analysis as the hotspot tiles want it.
func (a *App) hotCells(_ context.Context, q tiles.HotspotQuery) ([]tiles.HotCell, error) {
	h, err := a.Analysis.Hotspots(analysis.Query{Res: q.Res, K: q.K, Filter: q.Filter, FDR: q.FDR})
	if err != nil {
		return nil, err
	}
	st := h.Study
	out := make([]tiles.HotCell, len(st.Cells))
	for i, c := range st.Cells {
		out[i] = tiles.HotCell{Cell: c, Count: h.Counts[i], DensityKM2: h.Counts[i] / (st.AreaM2[i] / 1e6), GiZ: analysis.Finite(h.Z[i]), Class: string(h.Classes[i])}
	}
	return out, nil
}

// staleTiles gives the hub the tiles' invalidation, which it forwards to
// browsers as JSON.
type staleTiles struct{ s *tiles.Service }

func (t staleTiles) CaseChanged(ch caseindex.Change) json.Marshaler { return t.s.CaseChanged(ch) }
