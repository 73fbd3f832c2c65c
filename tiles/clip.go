package tiles

import (
	"math"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// tilePolygon projects a WGS84 multipolygon into tile coordinates, clips it
// to the buffered tile, snaps it to the integer grid and returns its rings
// with MVT winding (exteriors positive, holes negative area, y down), or
// nil if nothing of it is left.
//
// Snapping is the per-zoom simplification: every vertex lands on the
// tile's 1/extent grid and vertices that fall together, or in line, are
// dropped. Whether a vertex survives depends only on it and its
// neighbours, and clipping computes a shared edge's crossing from its
// endpoints in a fixed order, so two grids that share an edge still share
// it exactly in the tile: no cracks between neighbours.
func tilePolygon(mp orb.MultiPolygon, pr geo.Projector, lo, hi float64) [][][2]int32 {
	var out [][][2]int32
	for _, poly := range mp {
		for ri, ring := range poly {
			pts := make([][2]float64, 0, len(ring))
			for _, p := range ring {
				x, y := pr.Project(p)
				pts = append(pts, [2]float64{x, y})
			}
			pts = clipRing(pts, lo, hi)
			r := snapRing(pts)
			if len(r) < 3 {
				if ri == 0 {
					break // the exterior is gone, and its holes with it
				}
				continue
			}
			area := ringArea(r)
			if area == 0 {
				if ri == 0 {
					break
				}
				continue
			}
			if (ri == 0) != (area > 0) {
				reverse(r)
			}
			out = append(out, r)
		}
	}
	return out
}

// clipRing is Sutherland–Hodgman against the square [lo, hi]². The result
// may run along the square's edges where the ring leaves and re-enters;
// renderers draw that correctly.
func clipRing(pts [][2]float64, lo, hi float64) [][2]float64 {
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	for edge := range 4 {
		if len(pts) == 0 {
			return nil
		}
		axis, limit, keepBelow := edge/2, lo, false
		if edge%2 == 1 {
			limit, keepBelow = hi, true
		}
		inside := func(p [2]float64) bool {
			if keepBelow {
				return p[axis] <= limit
			}
			return p[axis] >= limit
		}
		out := make([][2]float64, 0, len(pts)+4)
		prev := pts[len(pts)-1]
		for _, cur := range pts {
			cin, pin := inside(cur), inside(prev)
			if cin != pin {
				out = append(out, crossing(prev, cur, axis, limit))
			}
			if cin {
				out = append(out, cur)
			}
			prev = cur
		}
		pts = out
	}
	return pts
}

// crossing is where segment ab meets the line coordinate[axis] = limit,
// computed from the endpoints in a canonical order so that the segment and
// its reverse (the neighbour's side of a shared edge) give the same point.
func crossing(a, b [2]float64, axis int, limit float64) [2]float64 {
	if b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]) {
		a, b = b, a
	}
	t := (limit - a[axis]) / (b[axis] - a[axis])
	var p [2]float64
	p[axis] = limit
	p[1-axis] = a[1-axis] + t*(b[1-axis]-a[1-axis])
	return p
}

// snapRing rounds to the integer grid and drops repeated and collinear
// vertices.
func snapRing(pts [][2]float64) [][2]int32 {
	r := make([][2]int32, 0, len(pts))
	for _, p := range pts {
		q := [2]int32{int32(math.Round(p[0])), int32(math.Round(p[1]))}
		if len(r) > 0 && r[len(r)-1] == q {
			continue
		}
		r = append(r, q)
	}
	for len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	// Drop collinear vertices until none is left; each pass is linear.
	for changed := true; changed && len(r) >= 3; {
		changed = false
		kept := r[:0:0]
		n := len(r)
		for i := range n {
			prev, cur, next := r[(i+n-1)%n], r[i], r[(i+1)%n]
			if len(kept) > 0 {
				prev = kept[len(kept)-1]
			}
			if cross(prev, cur, next) == 0 {
				changed = true
				continue
			}
			kept = append(kept, cur)
		}
		r = kept
	}
	return r
}

func cross(a, b, c [2]int32) int64 {
	return int64(b[0]-a[0])*int64(c[1]-a[1]) - int64(b[1]-a[1])*int64(c[0]-a[0])
}

// ringArea is twice the signed area by the surveyor's formula, in tile
// coordinates (y down: positive means clockwise on screen).
func ringArea(r [][2]int32) int64 {
	var a int64
	for i := range r {
		j := (i + 1) % len(r)
		a += int64(r[i][0])*int64(r[j][1]) - int64(r[j][0])*int64(r[i][1])
	}
	return a
}

func reverse(r [][2]int32) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}
