package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Distances on the sphere of radius EarthRadiusM, with polygon edges taken
// as great-circle arcs, as PostGIS measures geography with use_spheroid
// false. The local frame of distance.go is exact enough near a point (a
// boundary a few metres away) but not across a continent: these are what a
// distance reported far from the district must use.

// SpherePoint is a point as a unit vector, the form the sphere distances
// take; a query against many polygons converts its point once.
type SpherePoint [3]float64

// ToSphere converts p ([lng, lat] in degrees) to a unit vector.
func ToSphere(p orb.Point) SpherePoint {
	lat, lon := p[1]*degToRad, p[0]*degToRad
	sinLat, cosLat := math.Sincos(lat)
	sinLon, cosLon := math.Sincos(lon)
	return SpherePoint{cosLat * cosLon, cosLat * sinLon, sinLat}
}

func cross(a, b SpherePoint) SpherePoint {
	return SpherePoint{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func dot(a, b SpherePoint) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func norm(a SpherePoint) float64 { return math.Sqrt(dot(a, a)) }

// arc is the angle between unit vectors a and b in radians; atan2 keeps it
// accurate from millimetres to the antipode (acos of the dot product loses
// short distances, asin of the cross product long ones).
func arc(a, b SpherePoint) float64 { return math.Atan2(norm(cross(a, b)), dot(a, b)) }

// arcToSegment is the angle in radians from p to the minor great-circle arc
// from a to b.
func arcToSegment(p, a, b SpherePoint) float64 {
	n := cross(a, b)
	nn := norm(n)
	if nn < 1e-15 {
		return arc(p, a) // a and b coincide (or are antipodal: no minor arc)
	}
	// p's foot on the great circle lies on the arc when it is on b's side
	// of a and on a's side of b.
	if dot(cross(a, p), n) >= 0 && dot(cross(p, b), n) >= 0 {
		return math.Asin(math.Min(1, math.Abs(dot(p, n))/nn))
	}
	return math.Min(arc(p, a), arc(p, b))
}

// SphereDistanceM returns the great-circle distance between a and b in
// metres; DistanceM is the same for points given as [lng, lat].
func SphereDistanceM(a, b SpherePoint) float64 { return arc(a, b) * EarthRadiusM }

// sphereCap bounds a part of an outline: every vertex, and so every arc
// between its vertices (a cap smaller than a hemisphere holds the minor arcs
// between its points), lies within r radians of the unit vector c.
type sphereCap struct {
	c SpherePoint
	r float64
}

// lowerBound is a lower bound, in radians, of the angle from p to any point
// of the cap.
func (k sphereCap) lowerBound(p SpherePoint) float64 { return math.Max(0, arc(p, k.c)-k.r) }

func capOf(pts []orb.Point) sphereCap {
	var sum SpherePoint
	vs := make([]SpherePoint, len(pts))
	for i, p := range pts {
		vs[i] = ToSphere(p)
		for k := range sum {
			sum[k] += vs[i][k]
		}
	}
	n := norm(sum)
	if n == 0 {
		return sphereCap{r: math.Pi} // no bound: never skipped
	}
	c := SpherePoint{sum[0] / n, sum[1] / n, sum[2] / n}
	r := 0.0
	for _, v := range vs {
		r = math.Max(r, arc(c, v))
	}
	if r >= math.Pi/2 {
		return sphereCap{c: c, r: math.Pi} // not convex: no bound
	}
	// A margin for rounding: the bound must never exceed the distance.
	return sphereCap{c: c, r: r*(1+1e-9) + 1e-12}
}

// outlineChunk is a run of consecutive segments of one ring (chunkSegments
// of them, the last chunk fewer) and its cap, so that the distance from a
// point skips the runs that cannot hold the nearest point.
type outlineChunk struct {
	pts []orb.Point // the run's vertices, the last shared with the next run
	cap sphereCap
}

// chunkSegments is the length of an outline chunk: long enough for the cap
// to be cheaper than the segments it skips.
const chunkSegments = 16

// sphereOutline is every ring of a polygon, cut into chunks, with the cap
// of the whole.
type sphereOutline struct {
	chunks []outlineChunk
	cap    sphereCap
}

func newSphereOutline(mp orb.MultiPolygon) sphereOutline {
	var o sphereOutline
	var all []orb.Point
	for _, poly := range mp {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i += chunkSegments {
				pts := r[i:min(i+chunkSegments+1, len(r))]
				o.chunks = append(o.chunks, outlineChunk{pts: pts, cap: capOf(pts)})
			}
			all = append(all, r...)
		}
	}
	o.cap = capOf(all)
	return o
}

// distance is the angle from p to the nearest point of the outline, in
// radians (+Inf for an empty outline).
func (o *sphereOutline) distance(p SpherePoint) float64 {
	best := math.Inf(1)
	for i := range o.chunks {
		ch := &o.chunks[i]
		if ch.cap.lowerBound(p) > best {
			continue
		}
		a := ToSphere(ch.pts[0])
		for _, q := range ch.pts[1:] {
			b := ToSphere(q)
			best = math.Min(best, arcToSegment(p, a, b))
			a = b
		}
	}
	return best
}

// SphereDistanceToBoundaryM returns the distance in metres on the sphere
// from p to the nearest point of any ring of the polygon, the rings' edges
// taken as great-circle arcs (PostGIS's geography distance with
// use_spheroid false). Unlike DistanceToBoundaryM it is true at any
// distance, the antipode included.
func (pp *PreparedPolygon) SphereDistanceToBoundaryM(p SpherePoint) float64 {
	return pp.outline.distance(p) * EarthRadiusM
}

// SphereCap returns a cap holding the polygon's boundary: its centre and
// its radius in radians (π when there is no useful bound). No point of the
// boundary is nearer to p than the distance to the centre less the radius.
func (pp *PreparedPolygon) SphereCap() (SpherePoint, float64) {
	return pp.outline.cap.c, pp.outline.cap.r
}

// ChordSq returns the squared straight-line distance between two unit
// vectors. It grows with the great-circle distance, so it ranks and bounds
// distances without trigonometry: what a scan over thousands of polygons
// needs.
func ChordSq(a, b SpherePoint) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dx*dx + dy*dy + dz*dz
}

// ChordSqOfM is ChordSq of two points m metres apart on the sphere.
func ChordSqOfM(m float64) float64 {
	a := m / EarthRadiusM
	if a >= math.Pi {
		return 4
	}
	c := 2 * math.Sin(a/2)
	return c * c
}
