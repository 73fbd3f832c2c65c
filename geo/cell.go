package geo

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Errors returned by this package; callers wrap them into client errors.
var (
	ErrOutOfRange      = errors.New("coordinate out of range")
	ErrResolution      = errors.New("H3 resolution out of range")
	ErrInvalidCell     = errors.New("invalid H3 cell")
	ErrInvalidGeometry = errors.New("invalid geometry")
	ErrInvalidCRS      = errors.New("unknown coordinate system")
)

// MaxRes is H3's finest resolution.
const MaxRes = 15

// Cell is an H3 cell index. It converts to h3.Cell only inside this package,
// which keeps the cgo seam in one place.
type Cell int64

// CellAt returns the cell of resolution res containing p.
func CellAt(p orb.Point, res int) (Cell, error) {
	if err := ValidLonLat(p); err != nil {
		return 0, err
	}
	if res < 0 || res > MaxRes {
		return 0, fmt.Errorf("%w: %d, want 0 to %d", ErrResolution, res, MaxRes)
	}
	c, err := h3.LatLngToCell(h3.LatLng{Lat: p[1], Lng: p[0]}, res)
	if err != nil {
		return 0, fmt.Errorf("cell at %v: %w", p, err)
	}
	return Cell(c), nil
}

// ParseCell parses a cell from its hexadecimal form ("89283082803ffff").
func ParseCell(s string) (Cell, error) {
	if len(s) == 0 || len(s) > 16 {
		return 0, fmt.Errorf("%w: %q", ErrInvalidCell, s)
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return 0, fmt.Errorf("%w: %q is not hexadecimal", ErrInvalidCell, s)
		}
	}
	c := Cell(h3.CellFromString(s))
	if !c.Valid() {
		return 0, fmt.Errorf("%w: %q", ErrInvalidCell, s)
	}
	return c, nil
}

func (c Cell) h3() h3.Cell { return h3.Cell(c) }

// String returns the cell in lowercase hexadecimal, as H3 prints it.
func (c Cell) String() string { return h3.CellToString(c.h3()) }

// MarshalText renders the cell as hexadecimal, so JSON carries a string.
func (c Cell) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a hexadecimal cell.
func (c *Cell) UnmarshalText(b []byte) error {
	v, err := ParseCell(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Valid reports whether c is a valid H3 cell.
func (c Cell) Valid() bool { return c.h3().IsValid() }

// Resolution returns the cell's resolution, 0 to 15.
func (c Cell) Resolution() int { return int(uint64(c)>>52) & 0xF }

// Parent returns the ancestor of c at resolution res, which must not be finer
// than c's. It works on the index bits (set the resolution, fill the finer
// digits with 7), so it costs nanoseconds where a cgo call costs tens.
func (c Cell) Parent(res int) Cell {
	h := uint64(c)&^(uint64(0xF)<<52) | uint64(res)<<52
	h |= 1<<(uint(MaxRes-res)*3) - 1
	return Cell(h)
}

// Children returns the descendants of c at resolution res.
func (c Cell) Children(res int) []Cell {
	kids, err := c.h3().Children(res)
	if err != nil {
		return nil
	}
	return fromH3(kids)
}

// Center returns the cell's centre.
func (c Cell) Center() orb.Point {
	ll, err := c.h3().LatLng()
	if err != nil {
		return orb.Point{math.NaN(), math.NaN()}
	}
	return orb.Point{ll.Lng, ll.Lat}
}

// Boundary returns the cell's outline as a closed, counter-clockwise ring.
func (c Cell) Boundary() orb.Ring {
	b, err := c.h3().Boundary()
	if err != nil {
		return nil
	}
	ring := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		ring = append(ring, orb.Point{ll.Lng, ll.Lat})
	}
	return append(ring, ring[0])
}

// AreaM2 returns the exact area of the cell in square metres.
func (c Cell) AreaM2() float64 {
	a, err := h3.CellAreaM2(c.h3())
	if err != nil {
		return math.NaN()
	}
	return a
}

// Disk returns every cell within k steps of c, c included.
func (c Cell) Disk(k int) []Cell {
	cells, err := c.h3().GridDisk(k)
	if err != nil {
		return nil
	}
	return fromH3(cells)
}

// HexAreaAvgM2 returns the average area of a hexagon at res.
func HexAreaAvgM2(res int) float64 {
	a, err := h3.HexagonAreaAvgM2(res)
	if err != nil {
		return math.NaN()
	}
	return a
}

// CellEdgeLengthM returns the average hexagon edge length at res.
func CellEdgeLengthM(res int) float64 {
	l, err := h3.HexagonEdgeLengthAvgM(res)
	if err != nil {
		return math.NaN()
	}
	return l
}

// Containment says which cells cover a polygon.
type Containment int

const (
	ContainCenter      Containment = iota // the cell's centre is inside
	ContainFull                           // the whole cell is inside
	ContainOverlapping                    // the cell and the polygon share any point
)

// PolygonCells returns the cells of resolution res that cover mp in the
// given sense. Holes are respected.
func PolygonCells(mp orb.MultiPolygon, res int, mode Containment) ([]Cell, error) {
	if res < 0 || res > MaxRes {
		return nil, fmt.Errorf("%w: %d", ErrResolution, res)
	}
	m := map[Containment]h3.ContainmentMode{
		ContainCenter: h3.ContainmentCenter, ContainFull: h3.ContainmentFull, ContainOverlapping: h3.ContainmentOverlapping,
	}[mode]
	seen := map[Cell]bool{}
	var out []Cell
	for _, poly := range mp {
		if len(poly) == 0 {
			continue
		}
		gp := h3.GeoPolygon{GeoLoop: loop(poly[0])}
		for _, hole := range poly[1:] {
			gp.Holes = append(gp.Holes, loop(hole))
		}
		cells, err := h3.PolygonToCellsExperimental(gp, res, m)
		if err != nil {
			return nil, fmt.Errorf("polygon to cells: %w", err)
		}
		for _, c := range cells {
			if cc := Cell(c); !seen[cc] {
				seen[cc] = true
				out = append(out, cc)
			}
		}
	}
	return out, nil
}

// loop converts a closed ring to an H3 loop (which is implicitly closed).
func loop(r orb.Ring) h3.GeoLoop {
	n := len(r)
	if n > 1 && r[0] == r[n-1] {
		n--
	}
	l := make(h3.GeoLoop, n)
	for i := range n {
		l[i] = h3.LatLng{Lat: r[i][1], Lng: r[i][0]}
	}
	return l
}

func fromH3(cells []h3.Cell) []Cell {
	out := make([]Cell, 0, len(cells))
	for _, c := range cells {
		if c != 0 {
			out = append(out, Cell(c))
		}
	}
	return out
}
