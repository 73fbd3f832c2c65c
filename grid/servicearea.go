package grid

import (
	"math"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// The service area is the union of the top-level grids (the district): a
// point outside it is nobody's to handle, even where a lower grid drawn a
// little beyond its parent (imports tolerate that) covers it.

// prepareServiceArea finds the top level and marks the grids whose whole
// box lies inside a top-level grid: the points they cover need no test.
// Only grids along the district's edge are left unmarked.
func (l *Locator) prepareServiceArea() {
	for _, level := range Levels {
		if len(l.byLevel[level]) > 0 {
			l.top = level
			break
		}
	}
	for i := range l.grids {
		g := &l.grids[i]
		if g.Level == l.top {
			g.inTop = true
			continue
		}
		ctr := g.bound.Center()
		for _, j := range l.byLevel[l.top] {
			t := &l.grids[j]
			if t.bound.Intersects(g.bound) && t.poly.Locate(ctr) == geo.Inside && t.poly.DistanceToBoundaryM(ctr) > boxReachM(g.bound) {
				g.inTop = true
				break
			}
		}
	}
}

// inServiceArea reports whether p, covered by grid i, lies in a top-level
// grid (ST_Covers semantics, as everywhere in the locator).
func (l *Locator) inServiceArea(i int32, p orb.Point) bool {
	if l.grids[i].inTop {
		return true
	}
	for _, j := range l.byLevel[l.top] {
		if l.grids[j].poly.Locate(p) != geo.Outside {
			return true
		}
	}
	return false
}

// boxReachM is a distance from the centre of box within which every point
// of the box lies: half its diagonal, plus 2% and 1 cm for the error of the
// local projection.
func boxReachM(box orb.Bound) float64 {
	w, h := boxSizeM(box)
	return math.Hypot(w, h)/2*1.02 + 0.01
}
