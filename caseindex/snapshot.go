package caseindex

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// The snapshot encoding of an index: a magic, a format version, the row
// count, the four string dictionaries, then every column as one contiguous
// little-endian array, then the spatial buckets (cell, bound, rows). Columns
// are written and read as whole arrays, with no per-case work but the
// id → row map, so that ten million cases load in about the time the disk
// takes to give up their bytes. It carries no checksum: package snapshot
// checksums the file it sits in, and Decode checks every index it reads, so
// a damaged input fails, never panics.
const (
	snapshotMagic   = "CGCI"
	snapshotVersion = 1
	// rowBytes is what one case costs in the columns: id, location, three
	// cells, two times, category, status, priority, source, unit, grid,
	// merged, and its place in a bucket.
	rowBytes = 8 + 16 + 24 + 8 + 8 + 2 + 1 + 1 + 2 + 4 + 4 + 1 + 4
	// bucketBytes is a bucket's fixed part: cell, bound, row count.
	bucketBytes = 8 + 32 + 4
)

// ErrSnapshot is wrapped by every error Decode returns for input that is
// not a well-formed index snapshot.
var ErrSnapshot = errors.New("case index snapshot")

// Frozen is a consistent copy of an index's contents, taken by Freeze, to
// be written at leisure while the index goes on changing.
type Frozen struct {
	id       []int64
	loc      []orb.Point
	cell     []caseCells
	t, due   []int64
	cat      []uint16
	status   []uint8
	priority []uint8
	source   []uint16
	unit     []uint32
	grid     []uint32
	merged   []bool
	dicts    [4][]string
	buckets  []frozenBucket
	rows     []int32 // every bucket's rows, one after another
}

type frozenBucket struct {
	cell  geo.Cell
	bound orb.Bound
	n     int
}

// Freeze copies the index's contents under its read lock, column by
// column: memory copies, with no per-case work, so that writers wait that
// long at most and readers, who share the read lock, not at all (but behind
// a waiting writer: sync.RWMutex lets no new reader past one). The copies'
// memory is allocated and touched before the lock is taken, so that the
// operating system's page faults (most of the cost of fresh memory) are
// not paid while holding it.
func (x *Index) Freeze() *Frozen {
	f := x.frozenRoom()
	x.freezeInto(f)
	return f
}

// frozenRoom allocates a Frozen for about the index's size.
func (x *Index) frozenRoom() *Frozen {
	x.mu.RLock()
	n := len(x.id)
	x.mu.RUnlock()
	room := n + n/64 + 64 // cases added meanwhile mostly fit
	f := &Frozen{
		id: ready[int64](room), loc: ready[orb.Point](room), cell: ready[caseCells](room), t: ready[int64](room), due: ready[int64](room),
		cat: ready[uint16](room), status: ready[uint8](room), priority: ready[uint8](room), source: ready[uint16](room),
		unit: ready[uint32](room), grid: ready[uint32](room), merged: ready[bool](room), rows: ready[int32](room),
	}
	return f
}

// freezeInto fills f under the read lock: the time writers wait.
func (x *Index) freezeInto(f *Frozen) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	f.id, f.loc, f.cell, f.t, f.due = into(f.id, x.id), into(f.loc, x.loc), into(f.cell, x.cell), into(f.t, x.t), into(f.due, x.due)
	f.cat, f.status, f.priority, f.source = into(f.cat, x.cat), into(f.status, x.status), into(f.priority, x.priority), into(f.source, x.source)
	f.unit, f.grid, f.merged = into(f.unit, x.unit), into(f.grid, x.grid), into(f.merged, x.merged)
	f.dicts = [4][]string{clone(x.strs.cats.names), clone(x.strs.sources.names), clone(x.strs.units.names), clone(x.strs.grids.names)}
	f.buckets = make([]frozenBucket, len(x.buckets))
	for i := range x.buckets {
		b := &x.buckets[i]
		f.buckets[i] = frozenBucket{cell: b.cell, bound: b.bound, n: len(b.rows)}
		f.rows = append(f.rows, b.rows...)
	}
}

// ready returns an empty slice with room for n elements, its memory
// written once (clear writes every byte), so that the pages are in place.
func ready[T any](n int) []T {
	s := make([]T, n)
	clear(s)
	return s[:0]
}

// into copies src into dst's memory when it fits, else into a new slice.
func into[T any](dst, src []T) []T {
	if cap(dst) < len(src) {
		return clone(src)
	}
	dst = dst[:len(src)]
	copy(dst, src)
	return dst
}

// clone copies s into a slice of exactly its length (slices.Clone may
// round the capacity up, which at ten million cases is memory for nothing).
func clone[T any](s []T) []T {
	out := make([]T, len(s))
	copy(out, s)
	return out
}

// Len returns the number of cases frozen.
func (f *Frozen) Len() int { return len(f.id) }

// Size returns the number of bytes WriteTo writes.
func (f *Frozen) Size() int64 {
	size := int64(16 + 4 + len(f.buckets)*bucketBytes + len(f.id)*rowBytes)
	for _, names := range f.dicts {
		size += 4
		for _, s := range names {
			size += 4 + int64(len(s))
		}
	}
	return size
}

// WriteTo writes the snapshot encoding of f to w.
func (f *Frozen) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	var hdr [16]byte
	copy(hdr[:4], snapshotMagic)
	binary.LittleEndian.PutUint32(hdr[4:], snapshotVersion)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(len(f.id)))
	cw.write(hdr[:])
	for _, names := range f.dicts {
		cw.u32(uint32(len(names)))
		for _, s := range names {
			cw.u32(uint32(len(s)))
			cw.write([]byte(s))
		}
	}
	writeCol(cw, f.id)
	writeCol(cw, f.loc)
	writeCol(cw, f.cell)
	writeCol(cw, f.t)
	writeCol(cw, f.due)
	writeCol(cw, f.cat)
	writeCol(cw, f.status)
	writeCol(cw, f.priority)
	writeCol(cw, f.source)
	writeCol(cw, f.unit)
	writeCol(cw, f.grid)
	writeCol(cw, f.merged)
	cw.u32(uint32(len(f.buckets)))
	var b [bucketBytes]byte
	for _, bk := range f.buckets {
		binary.LittleEndian.PutUint64(b[0:], uint64(bk.cell))
		binary.LittleEndian.PutUint64(b[8:], math.Float64bits(bk.bound.Min[0]))
		binary.LittleEndian.PutUint64(b[16:], math.Float64bits(bk.bound.Min[1]))
		binary.LittleEndian.PutUint64(b[24:], math.Float64bits(bk.bound.Max[0]))
		binary.LittleEndian.PutUint64(b[32:], math.Float64bits(bk.bound.Max[1]))
		binary.LittleEndian.PutUint32(b[40:], uint32(bk.n))
		cw.write(b[:])
	}
	writeCol(cw, f.rows)
	return cw.n, cw.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) u32(v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	c.write(b[:])
}

// writeCol writes a column as its little-endian bytes, in chunks, so that a
// big-endian machine needs only a chunk's worth of swapped copy.
func writeCol[T any](cw *countingWriter, s []T) {
	const chunk = 1 << 20
	b := bytesOf(s)
	size := elemSize(s)
	for len(b) > 0 && cw.err == nil {
		n := min(len(b), chunk-chunk%size)
		if littleEndian {
			cw.write(b[:n])
		} else {
			tmp := append([]byte(nil), b[:n]...)
			swapEach(tmp, size)
			cw.write(tmp)
		}
		b = b[n:]
	}
}

// littleEndian is true on the machines citygrid runs on (amd64, arm64):
// columns then go between memory and disk as they are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// elemSize is the size of one element of s in bytes; columns hold only
// fixed-size numbers, so this is also the size of their byte order unit
// (points and cells are arrays of 8-byte numbers).
func elemSize[T any](s []T) int {
	var zero T
	switch n := int(unsafe.Sizeof(zero)); {
	case n > 8:
		return 8
	default:
		return n
	}
}

// bytesOf views s's memory as bytes; every column's element type is a
// fixed-size number (or an array of them), with no pointers.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

func swapEach(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}

// decoder reads from r, never more than left bytes in all: a count read
// from damaged input cannot make it allocate more than the input holds.
type decoder struct {
	r    io.Reader
	left int64
	err  error
}

func (d *decoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrSnapshot, fmt.Sprintf(format, a...))
	}
}

// need reports whether n more bytes may still be read, failing if not.
func (d *decoder) need(n int64, what string) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || n > d.left {
		d.fail("%s: %d bytes wanted, %d left", what, n, d.left)
		return false
	}
	return true
}

func (d *decoder) read(b []byte, what string) {
	if !d.need(int64(len(b)), what) {
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%s: %v", what, err)
		return
	}
	d.left -= int64(len(b))
}

func (d *decoder) u32(what string) uint32 {
	var b [4]byte
	d.read(b[:], what)
	return binary.LittleEndian.Uint32(b[:])
}

func readCol[T any](d *decoder, n int, what string) []T {
	var zero T
	if !d.need(int64(n)*int64(unsafe.Sizeof(zero)), what) || n == 0 {
		return nil // as an index that never held a case
	}
	s := make([]T, n)
	b := bytesOf(s)
	d.read(b, what)
	if !littleEndian {
		swapEach(b, elemSize(s))
	}
	return s
}

// Decode reads an index written by Frozen.WriteTo, reading at most size
// bytes from r (the caller knows how many the snapshot holds: they bound
// what a damaged count can make it allocate). The index is new and
// unshared: swap it in with Replace. Every row and dictionary reference is
// checked, so damaged input gives an error wrapping ErrSnapshot.
func Decode(r io.Reader, size int64) (*Index, error) {
	d := &decoder{r: r, left: size}
	var hdr [16]byte
	d.read(hdr[:], "header")
	if d.err != nil {
		return nil, d.err
	}
	if string(hdr[:4]) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a case index snapshot", ErrSnapshot)
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != snapshotVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrSnapshot, v, snapshotVersion)
	}
	n64 := binary.LittleEndian.Uint64(hdr[8:])
	if n64 > math.MaxInt32 || !d.need(int64(n64)*rowBytes, "columns") {
		d.fail("%d cases do not fit in %d bytes", n64, size)
		return nil, d.err
	}
	n := int(n64)
	x := New()
	dicts := [4]*dict{&x.strs.cats, &x.strs.sources, &x.strs.units, &x.strs.grids}
	for k, dc := range dicts {
		d.readDict(dc, k < 2)
	}
	x.id = readCol[int64](d, n, "ids")
	x.loc = readCol[orb.Point](d, n, "locations")
	x.cell = readCol[caseCells](d, n, "cells")
	x.t = readCol[int64](d, n, "report times")
	x.due = readCol[int64](d, n, "deadlines")
	x.cat = readCol[uint16](d, n, "categories")
	x.status = readCol[uint8](d, n, "statuses")
	x.priority = readCol[uint8](d, n, "priorities")
	x.source = readCol[uint16](d, n, "sources")
	x.unit = readCol[uint32](d, n, "units")
	x.grid = readCol[uint32](d, n, "grids")
	merged := readCol[uint8](d, n, "merged")
	if d.err != nil {
		return nil, d.err
	}
	// A bool must be 0 or 1 in memory: check the bytes before viewing
	// them as bools.
	for i, m := range merged {
		if m > 1 {
			return nil, fmt.Errorf("%w: merged flag %d of row %d", ErrSnapshot, m, i)
		}
		x.nMerged += int(m)
	}
	x.merged = unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(merged))), len(merged))
	if err := x.checkRefs(); err != nil {
		return nil, err
	}
	// The one per-case cost of a load: one map insert each (a look-up
	// first would double it; a repeated id shows in the map's size).
	x.byID = make(map[int64]int32, n)
	for i, id := range x.id {
		x.byID[id] = int32(i)
	}
	if len(x.byID) != n {
		return nil, fmt.Errorf("%w: %d ids for %d cases: an id twice", ErrSnapshot, len(x.byID), n)
	}
	d.readBuckets(x, n)
	if d.err != nil {
		return nil, d.err
	}
	if d.left != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the end", ErrSnapshot, d.left)
	}
	// The buckets' live rows and aggregates follow from the rows and
	// columns: recomputed rather than stored (one pass, no format change).
	x.mu.Lock()
	x.rebuildLive()
	x.mu.Unlock()
	return x, nil
}

// readDict reads one string dictionary; small ones (categories, sources)
// are numbered with 16 bits in the columns.
func (d *decoder) readDict(dc *dict, small bool) {
	count := d.u32("dictionary size")
	if !d.need(int64(count)*4, "dictionary") {
		return
	}
	if small && count > math.MaxUint16+1 {
		d.fail("dictionary of %d names for a 16-bit column", count)
		return
	}
	if count == 0 {
		return
	}
	dc.names = make([]string, 0, count)
	dc.ids = make(map[string]uint32, count)
	for range count {
		l := d.u32("name length")
		if !d.need(int64(l), "name") {
			return
		}
		b := make([]byte, l)
		d.read(b, "name")
		s := string(b)
		if _, dup := dc.ids[s]; dup {
			d.fail("name %q twice in a dictionary", s)
			return
		}
		dc.ids[s] = uint32(len(dc.names))
		dc.names = append(dc.names, s)
	}
}

// checkRefs checks that every row's numbers name a dictionary entry and a
// status, as the index's readers assume.
func (x *Index) checkRefs() error {
	cols := []struct {
		what string
		n    int
		bad  func() int
	}{
		{"category", len(x.strs.cats.names), func() int { return firstAtLeast(x.cat, len(x.strs.cats.names)) }},
		{"source", len(x.strs.sources.names), func() int { return firstAtLeast(x.source, len(x.strs.sources.names)) }},
		{"unit", len(x.strs.units.names), func() int { return firstAtLeast(x.unit, len(x.strs.units.names)) }},
		{"grid", len(x.strs.grids.names), func() int { return firstAtLeast(x.grid, len(x.strs.grids.names)) }},
		{"status", len(cases.Statuses), func() int { return firstAtLeast(x.status, len(cases.Statuses)) }},
	}
	for _, c := range cols {
		if i := c.bad(); i >= 0 {
			return fmt.Errorf("%w: row %d names %s beyond the %d known", ErrSnapshot, i, c.what, c.n)
		}
	}
	return nil
}

// firstAtLeast returns the first index whose value is ≥ n, or -1.
func firstAtLeast[T uint8 | uint16 | uint32](s []T, n int) int {
	for i, v := range s {
		if int(v) >= n {
			return i
		}
	}
	return -1
}

// readBuckets reads the buckets and checks that every row sits in exactly
// one, the one of its cell, in order of latitude (what box scans assume).
func (d *decoder) readBuckets(x *Index, n int) {
	nb := d.u32("bucket count")
	if !d.need(int64(nb)*bucketBytes, "buckets") {
		return
	}
	if nb > 0 {
		x.buckets = make([]bucket, nb)
	}
	counts := make([]int, nb)
	total := 0
	var b [bucketBytes]byte
	for i := range x.buckets {
		d.read(b[:], "bucket")
		if d.err != nil {
			return
		}
		bk := &x.buckets[i]
		bk.cell = geo.Cell(binary.LittleEndian.Uint64(b[0:]))
		bk.bound = orb.Bound{
			Min: orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b[8:])), math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))},
			Max: orb.Point{math.Float64frombits(binary.LittleEndian.Uint64(b[24:])), math.Float64frombits(binary.LittleEndian.Uint64(b[32:]))},
		}
		counts[i] = int(binary.LittleEndian.Uint32(b[40:]))
		if total += counts[i]; counts[i] > n || total > n {
			d.fail("buckets hold more rows than the %d cases", n)
			return
		}
		if _, dup := x.byBucket[bk.cell]; dup {
			d.fail("bucket %v twice", bk.cell)
			return
		}
		x.byBucket[bk.cell] = int32(i)
	}
	if total != n {
		d.fail("buckets hold %d rows of %d cases", total, n)
		return
	}
	rows := readCol[int32](d, n, "bucket rows")
	if d.err != nil {
		return
	}
	seen := make([]bool, n)
	for i := range x.buckets {
		bk := &x.buckets[i]
		bk.rows, rows = rows[:counts[i]:counts[i]], rows[counts[i]:]
		for k, r := range bk.rows {
			switch {
			case r < 0 || int(r) >= n || seen[r]:
				d.fail("bucket %v: row %d out of range or repeated", bk.cell, r)
			case x.cell[r][0] != bk.cell:
				d.fail("row %d filed under bucket %v, its cell is %v", r, bk.cell, x.cell[r][0])
			case k > 0 && cmp.Compare(x.loc[bk.rows[k-1]][1], x.loc[r][1]) > 0:
				d.fail("bucket %v not in order of latitude", bk.cell)
			}
			if d.err != nil {
				return
			}
			seen[r] = true
		}
	}
}
