package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// MaxZoom is the deepest web-map zoom citygrid serves tiles for.
const MaxZoom = 22

// maxMercatorLat is where Web Mercator stops: the square world's edge.
const maxMercatorLat = 85.0511287798066

// Tile is one web-map tile (XYZ scheme: y grows southwards).
type Tile struct {
	Z, X, Y uint32
}

// NewTile checks z/x/y and returns the tile.
func NewTile(z, x, y int) (Tile, error) {
	if z < 0 || z > MaxZoom {
		return Tile{}, fmt.Errorf("zoom %d: want 0 to %d", z, MaxZoom)
	}
	n := 1 << z
	if x < 0 || x >= n || y < 0 || y >= n {
		return Tile{}, fmt.Errorf("tile %d/%d/%d: x and y must be 0 to %d at zoom %d", z, x, y, n-1, z)
	}
	return Tile{uint32(z), uint32(x), uint32(y)}, nil
}

func (t Tile) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// Projector maps WGS84 points to a tile's integer coordinate space: (0,0)
// is the tile's north-west corner and (extent, extent) its south-east one.
type Projector struct {
	scale  float64 // tile-space units per world width
	ox, oy float64 // the tile's origin, in the same units
}

// NewProjector returns the projection into t with the given extent (4096 for
// Mapbox Vector Tiles).
func NewProjector(t Tile, extent int) Projector {
	scale := float64(extent) * float64(uint64(1)<<t.Z)
	return Projector{scale: scale, ox: float64(t.X) * float64(extent), oy: float64(t.Y) * float64(extent)}
}

// Project returns p in tile units, unrounded.
func (pr Projector) Project(p orb.Point) (x, y float64) {
	lat := math.Max(-maxMercatorLat, math.Min(maxMercatorLat, p[1]))
	s := math.Sin(lat * math.Pi / 180)
	x = (p[0]+180)/360*pr.scale - pr.ox
	y = (0.5-math.Log((1+s)/(1-s))/(4*math.Pi))*pr.scale - pr.oy
	return x, y
}

// Unproject is the inverse of Project.
func (pr Projector) Unproject(x, y float64) orb.Point {
	lng := (x+pr.ox)/pr.scale*360 - 180
	n := math.Pi * (1 - 2*(y+pr.oy)/pr.scale)
	lat := math.Atan(math.Sinh(n)) * 180 / math.Pi
	return orb.Point{lng, lat}
}

// Bound returns the tile's extent in WGS84, grown by buffer tile units on
// every side (buffer/extent of the tile's width).
func (t Tile) Bound(extent, buffer int) orb.Bound {
	pr := NewProjector(t, extent)
	nw := pr.Unproject(float64(-buffer), float64(-buffer))
	se := pr.Unproject(float64(extent+buffer), float64(extent+buffer))
	return orb.Bound{Min: orb.Point{nw[0], se[1]}, Max: orb.Point{se[0], nw[1]}}
}

// TilesAt returns the tiles at zoom z whose extent grown by buffer/extent
// contains p: one, or up to four near tile corners. Points outside Web
// Mercator's latitude range are in none.
func TilesAt(p orb.Point, z int, extent, buffer int) []Tile {
	if p[1] > maxMercatorLat || p[1] < -maxMercatorLat || p[0] < -180 || p[0] > 180 {
		return nil
	}
	pr := NewProjector(Tile{Z: uint32(z)}, extent)
	x, y := pr.Project(p)
	n := float64(uint64(1) << z)
	e := float64(extent)
	b := float64(buffer)
	var out []Tile
	for tx := math.Floor((x - b) / e); tx <= math.Floor((x+b)/e); tx++ {
		for ty := math.Floor((y - b) / e); ty <= math.Floor((y+b)/e); ty++ {
			if tx < 0 || ty < 0 || tx >= n || ty >= n {
				continue
			}
			out = append(out, Tile{uint32(z), uint32(tx), uint32(ty)})
		}
	}
	return out
}

// TilesCovering returns the tiles at zoom z that intersect b.
func TilesCovering(b orb.Bound, z int) []Tile {
	pr := NewProjector(Tile{Z: uint32(z)}, 1)
	x0, y0 := pr.Project(orb.Point{b.Min[0], b.Max[1]})
	x1, y1 := pr.Project(orb.Point{b.Max[0], b.Min[1]})
	n := int(uint64(1) << z)
	clamp := func(v float64) int { return max(0, min(n-1, int(math.Floor(v)))) }
	var out []Tile
	for x := clamp(x0); x <= clamp(x1); x++ {
		for y := clamp(y0); y <= clamp(y1); y++ {
			out = append(out, Tile{uint32(z), uint32(x), uint32(y)})
		}
	}
	return out
}
