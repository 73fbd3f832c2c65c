package geo

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// CRS names a coordinate system that points may arrive in.
type CRS string

const (
	WGS84 CRS = "wgs84" // GPS, and what citygrid stores
	GCJ02 CRS = "gcj02" // China's obfuscated datum, used by AMap, Tencent and Google China
	BD09  CRS = "bd09"  // Baidu's further offset of GCJ-02
)

// ParseCRS parses a coordinate-system name, case-insensitively; empty means
// WGS84.
func ParseCRS(s string) (CRS, error) {
	switch c := CRS(strings.ToLower(s)); c {
	case "":
		return WGS84, nil
	case WGS84, GCJ02, BD09:
		return c, nil
	}
	return "", fmt.Errorf("%w %q (want wgs84, gcj02 or bd09)", ErrInvalidCRS, s)
}

// ToWGS84 converts p from the given system to WGS84.
func ToWGS84(p orb.Point, from CRS) orb.Point {
	switch from {
	case GCJ02:
		return GCJ02ToWGS84(p)
	case BD09:
		return BD09ToWGS84(p)
	}
	return p
}

// The published GCJ-02 algorithm: Krasovsky 1940 ellipsoid and the offset
// series in transformLat/transformLon.
const (
	krasovskyA  = 6378245.0
	krasovskyEE = 0.00669342162296594323
	bdXPi       = math.Pi * 3000.0 / 180.0
)

// outOfChina is the published algorithm's rough rectangle: outside it the
// obfuscation is not applied.
func outOfChina(p orb.Point) bool {
	return p[0] < 72.004 || p[0] > 137.8347 || p[1] < 0.8293 || p[1] > 55.8271
}

func transformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func transformLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// gcjOffset is the GCJ-02 shift (Δlon, Δlat) at WGS84 point p.
func gcjOffset(p orb.Point) (float64, float64) {
	lon, lat := p[0], p[1]
	dLat := transformLat(lon-105.0, lat-35.0)
	dLon := transformLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((krasovskyA * (1 - krasovskyEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dLon, dLat
}

// WGS84ToGCJ02 applies the GCJ-02 offset (inside China only).
func WGS84ToGCJ02(p orb.Point) orb.Point {
	if outOfChina(p) {
		return p
	}
	dLon, dLat := gcjOffset(p)
	return orb.Point{p[0] + dLon, p[1] + dLat}
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration to better than
// 1e-9 degrees (the one-step approximation common online is off by up to a
// metre or two).
func GCJ02ToWGS84(p orb.Point) orb.Point {
	if outOfChina(p) {
		return p
	}
	return invert(WGS84ToGCJ02, p, p, 30, 1e-10)
}

// invert finds the point that forward maps to target by fixed-point
// iteration from start: both offsets are smooth and small, so each step
// removes most of the remaining error. It stops after n steps or when a
// step moves less than tol degrees.
func invert(forward func(orb.Point) orb.Point, target, start orb.Point, n int, tol float64) orb.Point {
	w := start
	for range n {
		f := forward(w)
		dx, dy := f[0]-target[0], f[1]-target[1]
		w = orb.Point{w[0] - dx, w[1] - dy}
		if math.Abs(dx) < tol && math.Abs(dy) < tol {
			break
		}
	}
	return w
}

// GCJ02ToBD09 applies Baidu's BD-09 transform.
func GCJ02ToBD09(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// BD09ToGCJ02 inverts GCJ02ToBD09: Baidu's published inverse (off by up
// to about 0.1 m), refined by fixed-point iteration to better than 1e-9
// degrees.
func BD09ToGCJ02(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	return invert(GCJ02ToBD09, p, orb.Point{z * math.Cos(theta), z * math.Sin(theta)}, 10, 1e-11)
}

// BD09ToWGS84 converts a Baidu coordinate to WGS84.
func BD09ToWGS84(p orb.Point) orb.Point { return GCJ02ToWGS84(BD09ToGCJ02(p)) }

// WGS84ToBD09 converts a WGS84 coordinate to Baidu's system.
func WGS84ToBD09(p orb.Point) orb.Point { return GCJ02ToBD09(WGS84ToGCJ02(p)) }
