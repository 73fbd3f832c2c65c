package grid

import (
	"context"
	"time"

	"github.com/paulmach/orb"
)

// Grid is one unit of the district hierarchy with its boundary in WGS84.
type Grid struct {
	Code   string
	Name   string
	Level  Level
	Parent string // code of the parent grid; empty for a district
	// Unit is the code of the default responsible unit; empty when the grid
	// leaves ownership to its ancestors.
	Unit string
	// UnitsByCategory maps a category-code prefix to the code of the unit
	// responsible for cases of that category in this grid.
	UnitsByCategory map[string]string
	// Geometry is an orb.Polygon or orb.MultiPolygon, as imported.
	Geometry  orb.Geometry
	AreaM2    float64
	UpdatedAt time.Time
}

// MultiPolygon returns the grid's boundary as a MultiPolygon whatever its
// stored type, for code that treats both alike.
func (g *Grid) MultiPolygon() orb.MultiPolygon {
	switch geom := g.Geometry.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{geom}
	case orb.MultiPolygon:
		return geom
	}
	return nil
}

// Unit is a responsible unit (责任单位): a bureau, a street office, a squad.
type Unit struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Filter selects grids; zero fields do not filter.
type Filter struct {
	Level  Level
	Parent string
	Bound  *orb.Bound // grids whose boundary intersects this box
	Limit  int        // 0 = no limit
	// After is the keyset position: the last grid of the previous page.
	After *Cursor
	// Codes, when not nil, keeps only these grids (the caller's scope).
	Codes []string
}

// Cursor is a position in the grid listing, which is ordered by level, then
// code.
type Cursor struct {
	Level Level  `json:"l"`
	Code  string `json:"c"`
}

// Overlap is a pair of sibling grids whose interiors intersect.
type Overlap struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Level  Level   `json:"level"`
	AreaM2 float64 `json:"area_m2"`
}

// Gap is the part of a parent grid not covered by any of its children.
type Gap struct {
	Parent string  `json:"parent"`
	Level  Level   `json:"level"`
	AreaM2 float64 `json:"area_m2"`
	// Share is AreaM2 divided by the parent's area.
	Share float64 `json:"share"`
}

// Topology reports where a district's grid map is broken: overlapping
// siblings and parents their children do not cover. Slivers below the
// report's threshold (floating-point noise of shared edges) are left out.
type Topology struct {
	Overlaps []Overlap `json:"overlaps"`
	Gaps     []Gap     `json:"gaps"`
	// MinAreaM2 is the threshold below which overlaps and gaps are ignored.
	MinAreaM2 float64 `json:"min_area_m2"`
}

// Store persists grids and responsible units.
type Store interface {
	// ImportGrids validates and upserts grids by code; see ImportOptions.
	ImportGrids(ctx context.Context, in []GridInput, opt ImportOptions) (*ImportResult, error)
	// FindGridByCode returns one grid, or a CodeNotFound error.
	FindGridByCode(ctx context.Context, code string) (*Grid, error)
	// FindGrids returns the grids matching f, ordered by level then code.
	FindGrids(ctx context.Context, f Filter) ([]*Grid, error)
	// Topology computes the overlap and gap report over all stored grids.
	Topology(ctx context.Context) (*Topology, error)
	// UpsertUnits inserts or updates units by code.
	UpsertUnits(ctx context.Context, units []Unit) (inserted, updated int, err error)
	// FindUnits lists every unit, ordered by code.
	FindUnits(ctx context.Context) ([]Unit, error)
}
