package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// EarthRadiusM is the mean Earth radius in metres: WGS84's (2a+b)/3, the
// sphere PostGIS measures geography on when use_spheroid is false, so that
// distances computed here and in SQL agree.
const EarthRadiusM = 6371008.7714150598

const degToRad = math.Pi / 180

// DistanceM returns the great-circle (haversine) distance between a and b in
// metres.
func DistanceM(a, b orb.Point) float64 {
	lat1, lat2 := a[1]*degToRad, b[1]*degToRad
	dLat, dLon := lat2-lat1, (b[0]-a[0])*degToRad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// localFrame projects points near an origin onto a plane in metres
// (equirectangular around the origin): at district scale, within 0.5% of the
// true distances.
type localFrame struct {
	origin orb.Point
	kx, ky float64
}

func newLocalFrame(p orb.Point) localFrame {
	ky := EarthRadiusM * degToRad
	return localFrame{origin: p, kx: ky * math.Cos(p[1]*degToRad), ky: ky}
}

func (f localFrame) xy(q orb.Point) (float64, float64) {
	return (q[0] - f.origin[0]) * f.kx, (q[1] - f.origin[1]) * f.ky
}

// distToSegment is the distance from the frame's origin to segment ab.
func (f localFrame) distToSegment(a, b orb.Point) float64 {
	ax, ay := f.xy(a)
	bx, by := f.xy(b)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
	}
	return math.Hypot(ax+t*dx, ay+t*dy)
}

// DistanceToBoundaryM returns the distance in metres from p to the nearest
// point of any ring of mp.
func DistanceToBoundaryM(mp orb.MultiPolygon, p orb.Point) float64 {
	f := newLocalFrame(p)
	best := math.Inf(1)
	for _, poly := range mp {
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				best = math.Min(best, f.distToSegment(r[i], r[i+1]))
			}
		}
	}
	return best
}

// DistanceToPolygonM returns 0 when mp covers p, else the distance in metres
// from p to mp.
func DistanceToPolygonM(mp orb.MultiPolygon, p orb.Point) float64 {
	if Covers(mp, p) {
		return 0
	}
	return DistanceToBoundaryM(mp, p)
}

// DistanceToBoundaryM is the package function on the prepared polygon. Rings
// whose bounding box is farther than the best distance so far are skipped.
func (pp *PreparedPolygon) DistanceToBoundaryM(p orb.Point) float64 {
	f := newLocalFrame(p)
	best := math.Inf(1)
	for _, poly := range pp.polys {
		for _, r := range poly.rings {
			if f.boxDistance(r.bound) > best {
				continue
			}
			for i := 0; i+1 < len(r.pts); i++ {
				best = math.Min(best, f.distToSegment(r.pts[i], r.pts[i+1]))
			}
		}
	}
	return best
}

// boxDistance is a lower bound of the distance from the origin to box b.
func (f localFrame) boxDistance(b orb.Bound) float64 {
	x0, y0 := f.xy(b.Min)
	x1, y1 := f.xy(b.Max)
	dx := math.Max(0, math.Max(x0, -x1))
	dy := math.Max(0, math.Max(y0, -y1))
	return math.Hypot(dx, dy) * 0.99
}
