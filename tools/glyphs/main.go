// Command glyphs renders the signed-distance-field glyph ranges that the
// battle map's labels need (digits, Latin letters, punctuation) as the
// protobuf files MapLibre GL loads from a style's "glyphs" URL:
// web/fonts/<stack>/<start>-<end>.pbf. CJK text is not in them: the page
// draws ideographs with the browser's own fonts (MapLibre's
// localIdeographFontFamily).
//
// The fonts are the Go fonts (golang.org/x/image/font/gofont, BSD-style
// licence, see web/fonts/LICENSE), so the generator needs no font file. It
// is run once by hand and its output is committed; it lives in a module of
// its own so that the service does not depend on golang.org/x/image.
//
//	cd tools/glyphs && go run . -out ../../web/fonts
//
// The glyphs follow node-fontnik's conventions: rendered at 24 px with a
// 3 px buffer; the SDF is TinySDF's (radius 8, cutoff 0.25) computed with
// the Felzenszwalb–Huttenlocher distance transform; "top" is the glyph's
// ascent less a baseline offset chosen to line up with MapLibre's locally
// drawn CJK glyphs.
package main

import (
	"flag"
	"fmt"
	"image"
	"log"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

const (
	fontSize = 24   // px per em, as MapLibre expects
	buffer   = 3    // px of SDF around each glyph
	radius   = 8.0  // px of distance encoded
	cutoff   = 0.25 // share of the radius used inside the glyph
	// baseline is subtracted from a glyph's ascent to give "top": MapLibre
	// uses 27.5 for the CJK glyphs it draws itself.
	baseline = 27
	// maxCodePoint bounds the ranges written: Latin, Greek, Cyrillic,
	// punctuation, letterlike symbols, arrows, maths and shapes.
	maxCodePoint = 0x2fff
)

// stacks are the font stacks written, by directory name.
var stacks = []struct {
	dir, name string
	ttf       []byte
}{
	{"go-regular", "Go Regular", goregular.TTF},
	{"go-medium", "Go Medium", gomedium.TTF},
	{"go-bold", "Go Bold", gobold.TTF},
}

func main() {
	out := flag.String("out", "../../web/fonts", "directory to write <stack>/<range>.pbf into")
	flag.Parse()
	for _, s := range stacks {
		f, err := sfnt.Parse(s.ttf)
		if err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
		dir := filepath.Join(*out, s.dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		ranges, glyphs := 0, 0
		for start := 0; start <= maxCodePoint; start += 256 {
			pbf, n, err := renderRange(f, s.name, start)
			if err != nil {
				log.Fatalf("%s %d: %v", s.name, start, err)
			}
			if n == 0 {
				continue
			}
			name := filepath.Join(dir, fmt.Sprintf("%d-%d.pbf", start, start+255))
			if err := os.WriteFile(name, pbf, 0o644); err != nil {
				log.Fatal(err)
			}
			ranges++
			glyphs += n
		}
		fmt.Printf("%s: %d ranges, %d glyphs\n", s.name, ranges, glyphs)
	}
}

// glyph is one rendered glyph in the PBF's terms.
type glyph struct {
	id                 int
	bitmap             []byte // (width+2·buffer)·(height+2·buffer), or nil
	width, height      int
	left, top, advance int
}

// renderRange renders the glyphs of code points start…start+255 that the
// font has, and returns the encoded fontstack message and their number.
func renderRange(f *sfnt.Font, name string, start int) ([]byte, int, error) {
	var buf sfnt.Buffer
	var glyphs []glyph
	for cp := start; cp < start+256; cp++ {
		idx, err := f.GlyphIndex(&buf, rune(cp))
		if err != nil {
			return nil, 0, err
		}
		if idx == 0 {
			continue // not in the font
		}
		g, err := renderGlyph(f, &buf, idx, cp)
		if err != nil {
			return nil, 0, fmt.Errorf("U+%04X: %w", cp, err)
		}
		glyphs = append(glyphs, g)
	}
	if len(glyphs) == 0 {
		return nil, 0, nil
	}
	return encode(name, fmt.Sprintf("%d-%d", start, start+255), glyphs), len(glyphs), nil
}

func renderGlyph(f *sfnt.Font, buf *sfnt.Buffer, idx sfnt.GlyphIndex, cp int) (glyph, error) {
	ppem := fixed.I(fontSize)
	bounds, adv, err := f.GlyphBounds(buf, idx, ppem, font.HintingNone)
	if err != nil {
		return glyph{}, err
	}
	g := glyph{id: cp, advance: int(math.Round(float64(adv) / 64))}
	segs, err := f.LoadGlyph(buf, idx, ppem, nil)
	if err != nil {
		return glyph{}, err
	}
	if len(segs) == 0 || bounds.Empty() {
		return g, nil // a space: advance only
	}
	// Whole-pixel box around the outline; y grows down, the origin is on
	// the baseline.
	x0, y0 := bounds.Min.X.Floor(), bounds.Min.Y.Floor()
	x1, y1 := bounds.Max.X.Ceil(), bounds.Max.Y.Ceil()
	g.width, g.height = x1-x0, y1-y0
	g.left, g.top = x0, -y0-baseline
	w, h := g.width+2*buffer, g.height+2*buffer
	z := vector.NewRasterizer(w, h)
	dx, dy := float32(buffer-x0), float32(buffer-y0)
	pt := func(p fixed.Point26_6) (float32, float32) {
		return float32(p.X)/64 + dx, float32(p.Y)/64 + dy
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			z.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			z.QuadTo(ax, ay, bx, by)
		case sfnt.SegmentOpCubeTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			cx, cy := pt(s.Args[2])
			z.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	z.ClosePath()
	alpha := image.NewAlpha(image.Rect(0, 0, w, h))
	z.Draw(alpha, alpha.Bounds(), image.Opaque, image.Point{})
	g.bitmap = sdf(alpha.Pix, w, h)
	return g, nil
}

// sdf turns coverage (0–255 per pixel) into TinySDF's encoding: 255 − 255 ·
// (d/radius + cutoff), d the signed distance to the edge in pixels
// (positive outside), so the edge sits at 191.
func sdf(cover []byte, w, h int) []byte {
	const inf = 1e20
	n := w * h
	outer, inner := make([]float64, n), make([]float64, n)
	for i, c := range cover {
		a := float64(c) / 255
		switch {
		case a == 0:
			outer[i], inner[i] = inf, 0
		case a == 1:
			outer[i], inner[i] = 0, inf
		default: // an edge pixel: start from its sub-pixel distance
			d := 0.5 - a
			outer[i], inner[i] = math.Max(d, 0)*math.Max(d, 0), math.Min(d, 0)*math.Min(d, 0)
		}
	}
	edt(outer, w, h)
	edt(inner, w, h)
	out := make([]byte, n)
	for i := range out {
		d := math.Sqrt(outer[i]) - math.Sqrt(inner[i])
		v := math.Round(255 - 255*(d/radius+cutoff))
		out[i] = byte(math.Max(0, math.Min(255, v)))
	}
	return out
}

// edt replaces squared distances-to-seeds in grid (w×h, row-major) with the
// squared Euclidean distance transform: columns, then rows.
func edt(grid []float64, w, h int) {
	m := max(w, h)
	f, z, v := make([]float64, m), make([]float64, m+1), make([]int, m)
	for x := range w {
		edt1d(grid, x, w, h, f, v, z)
	}
	for y := range h {
		edt1d(grid, y*w, 1, w, f, v, z)
	}
}

// edt1d is the lower envelope of parabolas of Felzenszwalb and Huttenlocher,
// "Distance Transforms of Sampled Functions" (2012), along one line.
func edt1d(grid []float64, offset, stride, n int, f []float64, v []int, z []float64) {
	for q := range n {
		f[q] = grid[offset+q*stride]
	}
	parabola := func(q, r int) float64 { // where the parabolas from q and r meet
		return ((f[q] + float64(q*q)) - (f[r] + float64(r*r))) / float64(2*(q-r))
	}
	k := 0
	v[0], z[0], z[1] = 0, math.Inf(-1), math.Inf(1)
	for q := 1; q < n; q++ {
		s := parabola(q, v[k])
		for s <= z[k] { // z[0] is -Inf: k stays ≥ 0
			k--
			s = parabola(q, v[k])
		}
		k++
		v[k], z[k], z[k+1] = q, s, math.Inf(1)
	}
	k = 0
	for q := range n {
		for z[k+1] < float64(q) {
			k++
		}
		d := float64(q - v[k])
		grid[offset+q*stride] = f[v[k]] + d*d
	}
}

// encode writes a glyphs message (glyphs.proto of mapbox/glyph-pbf-composite:
// glyphs{1: fontstack{1: name, 2: range, 3: glyph{1 id, 2 bitmap, 3 width,
// 4 height, 5 left (sint), 6 top (sint), 7 advance}}}).
func encode(name, rng string, glyphs []glyph) []byte {
	var stack []byte
	stack = appendBytes(stack, 1, []byte(name))
	stack = appendBytes(stack, 2, []byte(rng))
	for _, g := range glyphs {
		var m []byte
		m = appendVarintField(m, 1, uint64(g.id))
		if g.bitmap != nil {
			m = appendBytes(m, 2, g.bitmap)
		}
		m = appendVarintField(m, 3, uint64(g.width))
		m = appendVarintField(m, 4, uint64(g.height))
		m = appendVarintField(m, 5, zigzag(g.left))
		m = appendVarintField(m, 6, zigzag(g.top))
		m = appendVarintField(m, 7, uint64(g.advance))
		stack = appendBytes(stack, 3, m)
	}
	return appendBytes(nil, 1, stack)
}

func zigzag(v int) uint64 { return uint64((int64(v) << 1) ^ (int64(v) >> 63)) }

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendVarintField(b []byte, field int, v uint64) []byte {
	return appendVarint(appendVarint(b, uint64(field<<3)), v)
}

func appendBytes(b []byte, field int, p []byte) []byte {
	b = appendVarint(b, uint64(field<<3|2))
	b = appendVarint(b, uint64(len(p)))
	return append(b, p...)
}
