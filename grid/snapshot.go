package grid

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"citygrid/geo"
)

// What is costly in a Locator is its cell index: covering the grids with
// cells and classifying every cell a boundary crosses, pixel by pixel (see
// build). The rest (polygons prepared, paths, owners) takes little time
// from the grids. So a snapshot keeps the cell index only, with a
// fingerprint of what it was built from: the grids (codes, levels,
// geometry), the pixel size and the cell resolution. A process reads the
// grids from the database as always and reuses the snapshot's cell index
// when, and only when, the fingerprint matches; a grid changed since is a
// rebuild, never a stale index.
const (
	builtMagic   = "CGGL"
	builtVersion = 1
)

// ErrBuiltSnapshot is wrapped by every error DecodeBuilt returns for input
// that is not a well-formed cell index.
var ErrBuiltSnapshot = errors.New("grid locator snapshot")

// Built is a Locator's cell index read from a snapshot, for
// NewLocatorReusing.
type Built struct {
	fingerprint [32]byte
	cells       map[geo.Cell]int32
	rasters     []raster
	lists       [][]int32
	maxGrid     int32 // the largest grid index referred to, -1 for none
}

// fingerprint identifies what l's cell index is built from.
func (l *Locator) fingerprint() [32]byte {
	h := sha256.New()
	var b [8]byte
	num := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		h.Write([]byte(s))
	}
	num(builtVersion)
	num(CellRes)
	num(math.Float64bits(l.opt.PixelM))
	num(maxRasterSide)
	num(uint64(len(l.grids)))
	for i := range l.grids {
		g := &l.grids[i]
		str(g.Code)
		num(uint64(g.Level))
		mp := g.MultiPolygon()
		num(uint64(len(mp)))
		for _, poly := range mp {
			num(uint64(len(poly)))
			for _, ring := range poly {
				num(uint64(len(ring)))
				for _, p := range ring {
					num(math.Float64bits(p[0]))
					num(math.Float64bits(p[1]))
				}
			}
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// WriteBuilt writes l's cell index, with the fingerprint of its grids, to w.
// A Locator never changes, so this takes no lock and blocks nobody. Raster
// pixels are written as runs of one value: the quadtree that fills them
// leaves large uniform blocks, so the runs take a small part of the
// pixels' room.
func (l *Locator) WriteBuilt(w io.Writer) (int64, error) {
	le := binary.LittleEndian
	b := []byte(builtMagic)
	b = le.AppendUint32(b, builtVersion)
	fp := l.fingerprint()
	b = append(b, fp[:]...)
	// Cells in order, so that the same locator always writes the same bytes.
	cells := make([]geo.Cell, 0, len(l.cells))
	for c := range l.cells {
		cells = append(cells, c)
	}
	slices.SortFunc(cells, func(a, b geo.Cell) int { return cmp.Compare(a, b) })
	b = le.AppendUint32(b, uint32(len(cells)))
	for _, c := range cells {
		b = le.AppendUint64(b, uint64(c))
		b = le.AppendUint32(b, uint32(l.cells[c]))
	}
	b = le.AppendUint32(b, uint32(len(l.rasters)))
	for _, r := range l.rasters {
		for _, f := range []float64{r.minX, r.minY, r.invDX, r.invDY} {
			b = le.AppendUint64(b, math.Float64bits(f))
		}
		b = le.AppendUint32(b, uint32(r.nx))
		b = le.AppendUint32(b, uint32(r.ny))
		at := len(b)
		b = le.AppendUint32(b, 0) // the number of runs, filled in below
		runs := uint32(0)
		for i := 0; i < len(r.pix); {
			j := i + 1
			for j < len(r.pix) && r.pix[j] == r.pix[i] {
				j++
			}
			b = le.AppendUint32(b, uint32(j-i))
			b = le.AppendUint32(b, uint32(r.pix[i]))
			runs++
			i = j
		}
		le.PutUint32(b[at:], runs)
	}
	b = le.AppendUint32(b, uint32(len(l.lists)))
	for _, list := range l.lists {
		b = le.AppendUint32(b, uint32(len(list)))
		for _, v := range list {
			b = le.AppendUint32(b, uint32(v))
		}
	}
	n, err := w.Write(b)
	return int64(n), err
}

// builtReader reads at most left bytes: a count read from damaged input
// cannot make it allocate more than the input holds.
type builtReader struct {
	r    io.Reader
	left int64
	err  error
}

func (d *builtReader) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrBuiltSnapshot, fmt.Sprintf(format, a...))
	}
}

func (d *builtReader) bytes(n int64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.left {
		d.fail("%s: %d bytes wanted, %d left", what, n, d.left)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%s: %v", what, err)
		return nil
	}
	d.left -= n
	return b
}

// count reads a count of items of at least each bytes.
func (d *builtReader) count(each int64, what string) int {
	b := d.bytes(4, what)
	if b == nil {
		return 0
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if n*each > d.left {
		d.fail("%d %s do not fit in %d bytes", n, what, d.left)
		return 0
	}
	return int(n)
}

func (d *builtReader) int32s(n int, what string) []int32 {
	b := d.bytes(int64(n)*4, what)
	if b == nil {
		return nil
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// DecodeBuilt reads a cell index written by WriteBuilt, reading at most
// size bytes from r. References between its parts are checked here, and
// against the grids by NewLocatorReusing, so damaged input is an error
// wrapping ErrBuiltSnapshot, never a panic.
func DecodeBuilt(r io.Reader, size int64) (*Built, error) {
	d := &builtReader{r: r, left: size}
	hdr := d.bytes(8+32, "header")
	if d.err != nil {
		return nil, d.err
	}
	if string(hdr[:4]) != builtMagic {
		return nil, fmt.Errorf("%w: not a grid locator snapshot", ErrBuiltSnapshot)
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != builtVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrBuiltSnapshot, v, builtVersion)
	}
	b := &Built{maxGrid: -1}
	copy(b.fingerprint[:], hdr[8:])
	grid := func(v int32) {
		b.maxGrid = max(b.maxGrid, v)
	}
	nc := d.count(12, "cells")
	cells := d.bytes(int64(nc)*12, "cells")
	b.cells = make(map[geo.Cell]int32, nc)
	for i := range nc {
		e := cells[12*i:]
		b.cells[geo.Cell(binary.LittleEndian.Uint64(e))] = int32(binary.LittleEndian.Uint32(e[8:]))
	}
	nr := d.count(40, "rasters")
	for range nr {
		h := d.bytes(40, "raster")
		if d.err != nil {
			return nil, d.err
		}
		r := raster{
			minX: math.Float64frombits(binary.LittleEndian.Uint64(h[0:])), minY: math.Float64frombits(binary.LittleEndian.Uint64(h[8:])),
			invDX: math.Float64frombits(binary.LittleEndian.Uint64(h[16:])), invDY: math.Float64frombits(binary.LittleEndian.Uint64(h[24:])),
			nx: int(binary.LittleEndian.Uint32(h[32:])), ny: int(binary.LittleEndian.Uint32(h[36:])),
		}
		if !finite(r.minX) || !finite(r.minY) || !(r.invDX > 0) || !(r.invDY > 0) || !finite(r.invDX) || !finite(r.invDY) {
			return nil, fmt.Errorf("%w: raster frame %g, %g, %g, %g", ErrBuiltSnapshot, r.minX, r.minY, r.invDX, r.invDY)
		}
		if r.nx < 1 || r.nx > maxRasterSide || r.ny < 1 || r.ny > maxRasterSide {
			return nil, fmt.Errorf("%w: raster of %d × %d pixels", ErrBuiltSnapshot, r.nx, r.ny)
		}
		runs := d.int32s(2*d.count(8, "pixel runs"), "pixel runs")
		r.pix = make([]int32, 0, r.nx*r.ny)
		for k := 0; k+1 < len(runs); k += 2 {
			n := int(uint32(runs[k]))
			if n == 0 || n > cap(r.pix)-len(r.pix) {
				return nil, fmt.Errorf("%w: pixel runs overflow a raster of %d × %d", ErrBuiltSnapshot, r.nx, r.ny)
			}
			for range n {
				r.pix = append(r.pix, runs[k+1])
			}
		}
		if d.err == nil && len(r.pix) != r.nx*r.ny {
			return nil, fmt.Errorf("%w: %d pixels for a raster of %d × %d", ErrBuiltSnapshot, len(r.pix), r.nx, r.ny)
		}
		b.rasters = append(b.rasters, r)
	}
	nl := d.count(4, "candidate lists")
	for range nl {
		list := d.int32s(d.count(4, "candidates"), "candidates")
		for _, v := range list {
			if v < 0 {
				d.fail("candidate %d", v)
			}
			grid(v)
		}
		b.lists = append(b.lists, list)
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.left != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the end", ErrBuiltSnapshot, d.left)
	}
	for c, v := range b.cells {
		if v >= 0 {
			grid(v)
		} else if int(^v) >= len(b.rasters) {
			return nil, fmt.Errorf("%w: cell %v names raster %d of %d", ErrBuiltSnapshot, c, ^v, len(b.rasters))
		}
	}
	for _, r := range b.rasters {
		for _, v := range r.pix {
			if v >= 0 {
				grid(v)
			} else if v != noGrid && int(^v) >= len(b.lists) {
				return nil, fmt.Errorf("%w: a pixel names candidate list %d of %d", ErrBuiltSnapshot, ^v, len(b.lists))
			}
		}
	}
	return b, nil
}

// NewLocatorReusing is NewLocator taking its cell index from built (nil for
// none) when built was made from exactly these grids with the same
// options; otherwise it builds one, and why is said by the error reason
// (nil when built was used).
func NewLocatorReusing(grids []*Grid, units []Unit, opt LocatorOptions, built *Built) (l *Locator, reason error, err error) {
	if built == nil {
		l, err = NewLocator(grids, units, opt)
		return l, errors.New("no snapshot"), err
	}
	l, err = prepareLocator(grids, units, opt)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case built.fingerprint != l.fingerprint():
		reason = errors.New("the grids or the locator options changed since the snapshot")
	case int(built.maxGrid) >= len(l.grids):
		reason = fmt.Errorf("the snapshot names grid %d of %d", built.maxGrid, len(l.grids))
	}
	if reason != nil || len(l.grids) == 0 {
		if len(l.grids) > 0 {
			err = l.build()
		}
		return l, reason, err
	}
	l.cells, l.rasters, l.lists = built.cells, built.rasters, built.lists
	return l, nil, nil
}

// RebuildReusing is Rebuild with NewLocatorReusing: it reuses built's cell
// index when the stored grids are those it was built from, and says why
// not otherwise (reason nil: reused).
func (x *Index) RebuildReusing(ctx context.Context, s Store, built *Built) (reason error, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	grids, err := s.FindGrids(ctx, Filter{})
	if err != nil {
		return nil, fmt.Errorf("rebuild index: %w", err)
	}
	units, err := s.FindUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild index: %w", err)
	}
	l, reason, err := NewLocatorReusing(grids, units, x.opt, built)
	if err != nil {
		return nil, fmt.Errorf("rebuild index: %w", err)
	}
	x.store(l)
	return reason, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
