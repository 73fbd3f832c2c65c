package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Location is where a point lies relative to a polygon.
type Location int8

const (
	Outside    Location = -1
	OnBoundary Location = 0
	Inside     Location = 1
)

// LocatePointInPolygon tells whether p is inside mp, on its boundary or
// outside, with exactly the arithmetic PostGIS 3 uses to answer
// ST_Covers(polygon, point) (liblwgeom's point_in_ring_rtree and
// point_in_multipolygon_rtree): a winding number over the ring's segments in
// plain float64, where a point counts as on the boundary only when its side
// value is exactly zero and it lies in the segment's bounding box. Matching
// it bit for bit is what lets the in-memory locator agree with the database
// on points that lie on shared edges.
func LocatePointInPolygon(mp orb.MultiPolygon, p orb.Point) Location {
	for _, poly := range mp {
		if len(poly) == 0 {
			continue
		}
		if in := combineRings(len(poly), func(i int) Location { return locateInRing(poly[i], p) }); in != Outside {
			return in
		}
	}
	return Outside
}

// combineRings combines the answers for a polygon's rings (exterior
// first, then holes) as PostGIS does: a point on any ring is on the
// boundary; inside a hole is outside.
func combineRings(rings int, ring func(i int) Location) Location {
	switch ring(0) {
	case OnBoundary:
		return OnBoundary
	case Outside:
		return Outside
	}
	for i := 1; i < rings; i++ {
		switch ring(i) {
		case Inside:
			return Outside
		case OnBoundary:
			return OnBoundary
		}
	}
	return Inside
}

// Covers reports whether p lies inside mp or on its boundary, as PostGIS
// ST_Covers does.
func Covers(mp orb.MultiPolygon, p orb.Point) bool { return LocatePointInPolygon(mp, p) != Outside }

func locateInPolygon(poly orb.Polygon, p orb.Point) Location {
	return LocatePointInPolygon(orb.MultiPolygon{poly}, p)
}

func locateInRing(r orb.Ring, p orb.Point) Location {
	wn := 0
	for i := 0; i+1 < len(r); i++ {
		w := segmentWinding(r[i], r[i+1], p)
		if w == windOn {
			return OnBoundary
		}
		wn += int(w)
	}
	return windingLocation(wn)
}

// windingLocation is where a point off the boundary lies, by its winding
// number.
func windingLocation(wn int) Location {
	if wn == 0 {
		return Outside
	}
	return Inside
}

// winding is one segment's part in the winding number around a point (up
// +1, down -1, neither 0), or windOn when the point lies on the segment.
type winding int8

const (
	windNone winding = 0
	windUp   winding = 1
	windDown winding = -1
	windOn   winding = 2
)

// segmentWinding is the body of PostGIS's winding loop for one segment. The
// float64 conversions forbid fused multiply-adds, which the Go spec allows
// and which would change the bits of side.
func segmentWinding(s1, s2, p orb.Point) winding {
	dx, dy := s2[0]-s1[0], s2[1]-s1[1]
	if float64(dx*dx)+float64(dy*dy) < 1e-12*1e-12 {
		return windNone // zero-length segments are ignored
	}
	side := float64(dx*(p[1]-s1[1])) - float64((p[0]-s1[0])*dy)
	if side == 0 && inSegmentBox(s1, s2, p) {
		return windOn
	}
	if s1[1] <= p[1] && p[1] < s2[1] && side > 0 {
		return windUp
	}
	if s2[1] <= p[1] && p[1] < s1[1] && side < 0 {
		return windDown
	}
	return windNone
}

// inSegmentBox is PostGIS's isOnSegment: p within the segment's bounding
// box, edges included.
func inSegmentBox(s1, s2, p orb.Point) bool {
	return math.Min(s1[0], s2[0]) <= p[0] && p[0] <= math.Max(s1[0], s2[0]) &&
		math.Min(s1[1], s2[1]) <= p[1] && p[1] <= math.Max(s1[1], s2[1])
}

// bandCount is how many horizontal bands a prepared ring's segments are
// sorted into; a point then looks only at the segments of its band.
const bandCount = 64

// bandThreshold is the ring size from which bands pay for themselves.
const bandThreshold = 32

// PreparedPolygon answers LocatePointInPolygon and DistanceToBoundaryM
// faster for a polygon queried many times. Results are identical.
type PreparedPolygon struct {
	polys   []preparedPoly
	bound   orb.Bound
	outline sphereOutline // for SphereDistanceToBoundaryM
}

type preparedPoly struct {
	rings []preparedRing // exterior first, then holes
}

type preparedRing struct {
	pts   []orb.Point
	bound orb.Bound
	// bands[k] lists the segments (by start index) whose y-range meets
	// band k; nil for small rings.
	bands      [][]int32
	y0, bandDY float64
}

// Prepare builds the prepared form of mp.
func Prepare(mp orb.MultiPolygon) *PreparedPolygon {
	pp := &PreparedPolygon{bound: mp.Bound(), outline: newSphereOutline(mp)}
	for _, poly := range mp {
		var p preparedPoly
		for _, r := range poly {
			p.rings = append(p.rings, prepareRing(r))
		}
		pp.polys = append(pp.polys, p)
	}
	return pp
}

func prepareRing(r orb.Ring) preparedRing {
	pr := preparedRing{pts: r, bound: r.Bound()}
	if len(r) < bandThreshold || pr.bound.Max[1] == pr.bound.Min[1] {
		return pr
	}
	pr.y0 = pr.bound.Min[1]
	pr.bandDY = (pr.bound.Max[1] - pr.bound.Min[1]) / bandCount
	pr.bands = make([][]int32, bandCount)
	for i := 0; i+1 < len(r); i++ {
		lo, hi := pr.band(math.Min(r[i][1], r[i+1][1])), pr.band(math.Max(r[i][1], r[i+1][1]))
		for k := lo; k <= hi; k++ {
			pr.bands[k] = append(pr.bands[k], int32(i))
		}
	}
	return pr
}

func (pr *preparedRing) band(y float64) int {
	k := int((y - pr.y0) / pr.bandDY)
	return min(max(k, 0), bandCount-1)
}

// locate runs the PostGIS winding over the segments that can matter: a
// segment whose y-range excludes p.y contributes nothing (neither winding
// nor boundary), and each band holds every segment whose y-range meets it.
func (pr *preparedRing) locate(p orb.Point) Location {
	if p[0] < pr.bound.Min[0] || p[0] > pr.bound.Max[0] || p[1] < pr.bound.Min[1] || p[1] > pr.bound.Max[1] {
		return Outside
	}
	if pr.bands == nil {
		return locateInRing(pr.pts, p)
	}
	wn := 0
	for _, i := range pr.bands[pr.band(p[1])] {
		w := segmentWinding(pr.pts[i], pr.pts[i+1], p)
		if w == windOn {
			return OnBoundary
		}
		wn += int(w)
	}
	return windingLocation(wn)
}

// Bound returns the bounding box of the polygon.
func (pp *PreparedPolygon) Bound() orb.Bound { return pp.bound }

// Locate is LocatePointInPolygon on the prepared polygon.
func (pp *PreparedPolygon) Locate(p orb.Point) Location {
	if p[0] < pp.bound.Min[0] || p[0] > pp.bound.Max[0] || p[1] < pp.bound.Min[1] || p[1] > pp.bound.Max[1] {
		return Outside
	}
	for _, poly := range pp.polys {
		if len(poly.rings) == 0 {
			continue
		}
		if in := combineRings(len(poly.rings), func(i int) Location { return poly.rings[i].locate(p) }); in != Outside {
			return in
		}
	}
	return Outside
}
