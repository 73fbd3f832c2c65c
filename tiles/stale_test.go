package tiles_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/tiles"
)

// TestStaleAfter: a case's point tiles from the point zoom, its cluster
// cell's tiles below, the tiles of every grid on its path at every zoom
// (by level), hotspots and battlemap everywhere; a reset, every layer.
func TestStaleAfter(t *testing.T) {
	idx := district(t)
	l := idx.Locator()
	p := orb.Point{120.365, 36.085}
	gridCode, _ := assign(t, l, p)
	st := tiles.StaleAfter(caseindex.Change{New: &caseindex.Entry{ID: 1, Location: p, Grid: gridCode}}, l, 14)
	covered := func(rs []tiles.TileRange, tile geo.Tile) bool {
		for _, r := range rs {
			if r.Contains(tile) {
				return true
			}
		}
		return false
	}
	for z := 0; z <= geo.MaxZoom; z++ {
		at := p
		if z < 14 {
			cell, _ := caseindex.Cell(p, tiles.ClusterRes(uint32(z)))
			at = cell.Center()
		}
		if tile := tileOf(at, z); !covered(st.Cases, tile) {
			t.Errorf("z%d: the case's tile %s is not stale", z, tile)
		}
		if tile := tileOf(p, z); !covered(st.Grids, tile) {
			t.Errorf("z%d: the grid tile %s under the case is not stale", z, tile)
		}
	}
	if len(st.Grids) != len(l.Path(gridCode))*(geo.MaxZoom+1) {
		t.Errorf("%d grid ranges, want one per zoom for each of the %d grids on the path", len(st.Grids), len(l.Path(gridCode)))
	}
	raw, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(raw), `"hotspots":"all"`) || !strings.Contains(string(raw), `"battlemap":"all"`) || !strings.Contains(string(raw), `"level":"grid"`) {
		t.Errorf("JSON %.200s…: %v", raw, err)
	}
	if far := tileOf(orb.Point{120.2, 36.3}, 16); covered(st.Cases, far) || covered(st.Grids, far) {
		t.Errorf("a tile far away, %s, is stale", far)
	}

	reset, _ := json.Marshal(tiles.StaleAfter(caseindex.Change{Reset: true}, l, 14))
	if want := `{"battlemap":"all","cases":"all","grids":"all","hotspots":"all"}`; string(reset) != want {
		t.Errorf("a reset: %s, want %s", reset, want)
	}
}
