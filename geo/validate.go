package geo

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// ValidLonLat checks that p is a finite WGS84 coordinate: longitude in
// [-180, 180], latitude in [-90, 90].
func ValidLonLat(p orb.Point) error {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0):
		return fmt.Errorf("%w: longitude is not a finite number", ErrOutOfRange)
	case math.IsNaN(lat) || math.IsInf(lat, 0):
		return fmt.Errorf("%w: latitude is not a finite number", ErrOutOfRange)
	case lon < -180 || lon > 180:
		return fmt.Errorf("%w: longitude %g out of range [-180, 180]", ErrOutOfRange, lon)
	case lat < -90 || lat > 90:
		return fmt.Errorf("%w: latitude %g out of range [-90, 90]", ErrOutOfRange, lat)
	}
	return nil
}

// MaxVertices bounds one polygonal geometry; a district boundary has
// thousands, a unit grid tens.
const MaxVertices = 1_000_000

// ValidatePolygonal checks that g is a valid Polygon or MultiPolygon in the
// OGC sense, with messages a person can act on: every ring closed, with at
// least four points and a non-zero area, coordinates in range, no ring
// crossing or touching itself, rings of a polygon not crossing each other,
// holes inside their shell, and the polygons of a MultiPolygon not
// overlapping. PostGIS's ST_IsValid remains the last word on subtle cases.
func ValidatePolygonal(g orb.Geometry) error {
	var mp orb.MultiPolygon
	switch v := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{v}
	case orb.MultiPolygon:
		mp = v
	case nil:
		return fmt.Errorf("%w: geometry is missing", ErrInvalidGeometry)
	default:
		return fmt.Errorf("%w: a %s, want Polygon or MultiPolygon", ErrInvalidGeometry, g.GeoJSONType())
	}
	if len(mp) == 0 {
		return fmt.Errorf("%w: no polygons", ErrInvalidGeometry)
	}
	n := 0
	for pi, poly := range mp {
		if len(poly) == 0 {
			return fmt.Errorf("%w: polygon %d has no rings", ErrInvalidGeometry, pi)
		}
		for ri, ring := range poly {
			n += len(ring)
			if err := validateRing(ring); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrInvalidGeometry, ringName(len(mp), pi, ri), err)
			}
		}
	}
	if n > MaxVertices {
		return fmt.Errorf("%w: %d vertices, at most %d", ErrInvalidGeometry, n, MaxVertices)
	}
	// Rings must not cross: one sweep over every segment of the geometry.
	if err := checkCrossings(mp); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidGeometry, err)
	}
	for pi, poly := range mp {
		for ri, ring := range poly {
			if ringArea2(ring) == 0 {
				return fmt.Errorf("%w: %s has zero area", ErrInvalidGeometry, ringName(len(mp), pi, ri))
			}
		}
	}
	for pi, poly := range mp {
		for ri, hole := range poly[1:] {
			if loc := locateInRing(poly[0], interiorProbe(hole)); loc == Outside {
				return fmt.Errorf("%w: %s lies outside its shell", ErrInvalidGeometry, ringName(len(mp), pi, ri+1))
			}
		}
	}
	for i := range mp {
		for j := range mp {
			if i == j {
				continue
			}
			// With no crossings, two polygons overlap only if one lies
			// inside the other (or inside one of its holes' complement).
			if locateInPolygon(mp[j], interiorProbe(mp[i][0])) == Inside {
				return fmt.Errorf("%w: polygon %d lies inside polygon %d", ErrInvalidGeometry, i, j)
			}
		}
	}
	return nil
}

func ringName(polys, pi, ri int) string {
	kind := "exterior ring"
	if ri > 0 {
		kind = fmt.Sprintf("ring %d (a hole)", ri)
	}
	if polys > 1 {
		return fmt.Sprintf("polygon %d %s", pi, kind)
	}
	return kind
}

func validateRing(r orb.Ring) error {
	if len(r) < 4 {
		return fmt.Errorf("has %d points, need at least 4", len(r))
	}
	for _, p := range r {
		if err := ValidLonLat(p); err != nil {
			return err
		}
	}
	if r[0] != r[len(r)-1] {
		return fmt.Errorf("is not closed: first point %v differs from last point %v", r[0], r[len(r)-1])
	}
	distinct := map[orb.Point]bool{}
	for _, p := range r {
		distinct[p] = true
	}
	if len(distinct) < 3 {
		return fmt.Errorf("has %d distinct points, need at least 3", len(distinct))
	}
	return nil
}

// ringArea2 is twice the signed planar area of r (positive when
// counter-clockwise).
func ringArea2(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += float64(r[i][0]*r[i+1][1]) - float64(r[i+1][0]*r[i][1])
	}
	return a
}

// interiorProbe returns a point strictly inside ring r (for the containment
// checks): the midpoint of the widest horizontal span through the ring at
// the height of its vertex midway between min and max y.
func interiorProbe(r orb.Ring) orb.Point {
	b := r.Bound()
	y := (b.Min[1] + b.Max[1]) / 2
	var xs []float64
	for i := 0; i+1 < len(r); i++ {
		a, c := r[i], r[i+1]
		if (a[1] <= y) != (c[1] <= y) {
			xs = append(xs, a[0]+(y-a[1])*(c[0]-a[0])/(c[1]-a[1]))
		}
	}
	sort.Float64s(xs)
	best, bx := -1.0, r[0][0]
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > best {
			best, bx = w, (xs[i]+xs[i+1])/2
		}
	}
	return orb.Point{bx, y}
}

type segment struct {
	a, b       orb.Point
	poly, ring int
	idx, n     int // index of the segment in its ring, and the ring's segment count
}

func (s segment) minX() float64 { return math.Min(s.a[0], s.b[0]) }
func (s segment) maxX() float64 { return math.Max(s.a[0], s.b[0]) }

// checkCrossings finds any two segments that intersect where they should
// not: within one ring, non-adjacent segments must not meet at all and
// adjacent ones must not fold back; segments of different rings must not
// cross or overlap (touching at a point is allowed between rings, as OGC
// allows a hole to touch its shell at one point).
func checkCrossings(mp orb.MultiPolygon) error {
	var segs []segment
	for pi, poly := range mp {
		for ri, ring := range poly {
			n := len(ring) - 1
			for i := 0; i < n; i++ {
				if ring[i] == ring[i+1] {
					continue // a repeated point is harmless
				}
				segs = append(segs, segment{a: ring[i], b: ring[i+1], poly: pi, ring: ri, idx: i, n: n})
			}
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].minX() < segs[j].minX() })
	for i := range segs {
		s := segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX() <= s.maxX(); j++ {
			t := segs[j]
			if math.Max(s.a[1], s.b[1]) < math.Min(t.a[1], t.b[1]) || math.Max(t.a[1], t.b[1]) < math.Min(s.a[1], s.b[1]) {
				continue
			}
			if err := checkPair(s, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPair(s, t segment) error {
	kind, at := intersect(s.a, s.b, t.a, t.b)
	if kind == noIntersection {
		return nil
	}
	sameRing := s.poly == t.poly && s.ring == t.ring
	if sameRing {
		adjacent := (s.idx+1)%s.n == t.idx || (t.idx+1)%t.n == s.idx
		if adjacent && kind == pointIntersection && sharesEndpoint(s, t, at) {
			return nil // consecutive segments meet at their shared vertex
		}
		return fmt.Errorf("ring self-intersects at (%.7f, %.7f)", at[0], at[1])
	}
	if kind == pointIntersection && (isEndpoint(s, at) || isEndpoint(t, at)) && s.poly == t.poly {
		return nil // rings of one polygon may touch at a point
	}
	if s.poly == t.poly {
		return fmt.Errorf("rings cross at (%.7f, %.7f)", at[0], at[1])
	}
	if kind == pointIntersection && (isEndpoint(s, at) || isEndpoint(t, at)) {
		return nil // polygons of a MultiPolygon may touch at points
	}
	return fmt.Errorf("polygons %d and %d overlap near (%.7f, %.7f)", s.poly, t.poly, at[0], at[1])
}

func sharesEndpoint(s, t segment, at orb.Point) bool {
	return (at == s.a || at == s.b) && (at == t.a || at == t.b)
}

func isEndpoint(s segment, p orb.Point) bool { return p == s.a || p == s.b }

type intersection int

const (
	noIntersection intersection = iota
	pointIntersection
	overlapIntersection
)

func orient(a, b, c orb.Point) float64 {
	return float64((b[0]-a[0])*(c[1]-a[1])) - float64((b[1]-a[1])*(c[0]-a[0]))
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// intersect classifies how segments ab and cd meet and returns a point where
// they do.
func intersect(a, b, c, d orb.Point) (intersection, orb.Point) {
	d1, d2 := sign(orient(c, d, a)), sign(orient(c, d, b))
	d3, d4 := sign(orient(a, b, c)), sign(orient(a, b, d))
	if d1 == 0 && d2 == 0 { // collinear
		var shared []orb.Point
		for _, p := range []orb.Point{a, b} {
			if onSegment(c, d, p) {
				shared = append(shared, p)
			}
		}
		for _, p := range []orb.Point{c, d} {
			if onSegment(a, b, p) && p != a && p != b {
				shared = append(shared, p)
			}
		}
		switch {
		case len(shared) == 0:
			return noIntersection, orb.Point{}
		case len(shared) == 1 || (len(shared) == 2 && shared[0] == shared[1]):
			return pointIntersection, shared[0]
		}
		return overlapIntersection, shared[0]
	}
	if d1*d2 <= 0 && d3*d4 <= 0 {
		switch {
		case d1 == 0:
			return pointIntersection, a
		case d2 == 0:
			return pointIntersection, b
		case d3 == 0:
			return pointIntersection, c
		case d4 == 0:
			return pointIntersection, d
		}
		t := orient(c, d, a) / (orient(c, d, a) - orient(c, d, b))
		return pointIntersection, orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	}
	return noIntersection, orb.Point{}
}
