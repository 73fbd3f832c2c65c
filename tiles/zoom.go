package tiles

import (
	"citygrid/caseindex"
	"citygrid/geo"
	"citygrid/grid"
)

// Fixed by the MVT profile citygrid serves.
const (
	Extent = 4096
	Buffer = 64
)

// DataMaxZoom is the deepest zoom the tiles carry new detail at; map
// clients overzoom beyond it.
const DataMaxZoom = 18

// LevelsAt is what the grids layer shows at zoom z: district and streets
// for the district-wide view, then communities, then unit grids (the
// demo's unit grids are some 80 m across: 40 px at z15).
func LevelsAt(z uint32) []grid.Level {
	switch {
	case z <= 11:
		return []grid.Level{grid.LevelDistrict, grid.LevelStreet}
	case z <= 14:
		return []grid.Level{grid.LevelCommunity}
	default:
		return []grid.Level{grid.LevelGrid}
	}
}

// ClusterRes is the H3 resolution of the case clusters at zoom z: about one
// resolution per zoom, so that a cluster is 20–60 px across on screen
// (resolution 9 at z13, resolution 6 at z10).
func ClusterRes(z uint32) int {
	return max(0, min(caseindex.MaxRes, int(z)-4))
}

// HotspotRes is the hotspot resolution shown at zoom z when none is asked
// for. Resolution 8 is the coarsest that gives a district the 30 cells the
// statistics need.
func HotspotRes(z uint32) int {
	switch {
	case z <= 12:
		return 8
	case z <= 14:
		return 9
	default:
		return 10
	}
}

// featureID makes an H3 cell a feature id that survives JavaScript's
// 53-bit numbers: at one resolution the low 52 bits (base cell and digits)
// already tell cells apart.
func featureID(c geo.Cell) uint64 { return uint64(c) & (1<<52 - 1) }
