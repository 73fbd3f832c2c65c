package bulletin

import (
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"citygrid/grid"
)

// Map is the bulletin's small map, kept in the record as drawn: the
// district's streets as SVG paths in a MapWidth × MapHeight box (north up,
// longitude scaled by the cosine of the middle latitude), the scope's
// shaded, and the top hotspots as dots.
type Map struct {
	Width   int        `json:"width"`
	Height  int        `json:"height"`
	Streets []MapShape `json:"streets"`
	Dots    []MapDot   `json:"dots"`
}

// MapShape is one street's outline.
type MapShape struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Path string `json:"path"` // SVG path data
	// Shade is 0–1: the share of the scope's reports (the district's
	// streets), or 1 for the street a street bulletin is about.
	Shade float64 `json:"shade"`
}

// MapDot is a hotspot.
type MapDot struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Count int     `json:"count"`
}

// Map size in SVG units (the page prints it about 70 mm wide).
const (
	MapWidth  = 300
	MapHeight = 220
)

// drawMap projects the streets and hotspots into the map's box. shade maps
// a street code to its 0–1 shade.
func drawMap(streets []*grid.Grid, shade map[string]float64, hot []HotCell) Map {
	m := Map{Width: MapWidth, Height: MapHeight, Streets: []MapShape{}, Dots: []MapDot{}}
	var b orb.Bound
	first := true
	for _, g := range streets {
		gb := g.MultiPolygon().Bound()
		if first {
			b, first = gb, false
		} else {
			b = b.Union(gb)
		}
	}
	if first {
		return m
	}
	k := math.Cos((b.Min[1] + b.Max[1]) / 2 * math.Pi / 180)
	w, h := (b.Max[0]-b.Min[0])*k, b.Max[1]-b.Min[1]
	if w <= 0 || h <= 0 {
		return m
	}
	scale := math.Min((MapWidth-8)/w, (MapHeight-8)/h)
	ox := (MapWidth - w*scale) / 2
	oy := (MapHeight - h*scale) / 2
	proj := func(p orb.Point) (float64, float64) {
		return ox + (p[0]-b.Min[0])*k*scale, oy + (b.Max[1]-p[1])*scale
	}
	for _, g := range streets {
		var sb strings.Builder
		for _, poly := range g.MultiPolygon() {
			for _, ring := range poly {
				lastX, lastY := math.NaN(), math.NaN()
				n := 0
				for _, p := range ring {
					x, y := proj(p)
					x, y = math.Round(x*2)/2, math.Round(y*2)/2 // half a unit: enough for a 70 mm map
					if x == lastX && y == lastY {
						continue
					}
					if n == 0 {
						sb.WriteByte('M')
					} else {
						sb.WriteByte('L')
					}
					sb.WriteString(strconv.FormatFloat(x, 'f', -1, 64) + " " + strconv.FormatFloat(y, 'f', -1, 64))
					lastX, lastY = x, y
					n++
				}
				sb.WriteByte('Z')
			}
		}
		m.Streets = append(m.Streets, MapShape{Code: g.Code, Name: g.Name, Path: sb.String(), Shade: math.Round(shade[g.Code]*100) / 100})
	}
	for _, c := range hot {
		x, y := proj(orb.Point{c.Lng, c.Lat})
		m.Dots = append(m.Dots, MapDot{X: math.Round(x*10) / 10, Y: math.Round(y*10) / 10, Count: c.Count})
	}
	return m
}
