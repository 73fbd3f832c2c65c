package tiles

import (
	"encoding/binary"
	"math"
	"slices"
)

// A hand-rolled Mapbox Vector Tile 2.1 encoder: citygrid's layers have
// fixed, known schemas, so features are written straight into protobuf
// bytes with no intermediate maps; keys and values are deduplicated per
// layer as the specification asks.

const (
	geomPoint   = 1
	geomPolygon = 3

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

// value is one property value.
type value struct {
	kind byte // 's' string, 'i' int, 'd' double, 'b' bool
	s    string
	i    int64
	d    float64
}

func str(s string) value     { return value{kind: 's', s: s} }
func integer(i int64) value  { return value{kind: 'i', i: i} }
func double(d float64) value { return value{kind: 'd', d: d} }
func boolean(b bool) value   { return value{kind: 'b', i: b2i(b)} }
func intValue(i int) value   { return integer(int64(i)) }
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// layerWriter collects one layer's features.
type layerWriter struct {
	name   string
	extent uint32
	keys   []string
	keyIdx map[string]uint32
	values []value
	// One dedupe map per kind: hashing a string or an integer alone is
	// much cheaper than hashing the whole value.
	strIdx   map[string]uint32
	intIdx   map[int64]uint32
	dblIdx   map[uint64]uint32
	boolIdx  [2]int32 // -1: not yet in values
	features []byte
	count    int

	tags []uint32 // scratch
	geom []uint32 // scratch
	buf  []byte   // scratch
}

func newLayer(name string, extent int) *layerWriter {
	return &layerWriter{name: name, extent: uint32(extent), keyIdx: map[string]uint32{},
		strIdx: map[string]uint32{}, intIdx: map[int64]uint32{}, dblIdx: map[uint64]uint32{}, boolIdx: [2]int32{-1, -1}}
}

func (l *layerWriter) key(k string) uint32 {
	if i, ok := l.keyIdx[k]; ok {
		return i
	}
	i := uint32(len(l.keys))
	l.keys = append(l.keys, k)
	l.keyIdx[k] = i
	return i
}

func (l *layerWriter) val(v value) uint32 {
	switch v.kind {
	case 's':
		return intern(l, l.strIdx, v.s, v)
	case 'i':
		return intern(l, l.intIdx, v.i, v)
	case 'd':
		return intern(l, l.dblIdx, math.Float64bits(v.d), v)
	default:
		if l.boolIdx[v.i] < 0 {
			l.boolIdx[v.i] = int32(l.addValue(v))
		}
		return uint32(l.boolIdx[v.i])
	}
}

// intern returns the index of v, keyed by k in idx, adding it the first
// time: each distinct value is written once per layer.
func intern[K comparable](l *layerWriter, idx map[K]uint32, k K, v value) uint32 {
	i, ok := idx[k]
	if !ok {
		i = l.addValue(v)
		idx[k] = i
	}
	return i
}

func (l *layerWriter) addValue(v value) uint32 {
	l.values = append(l.values, v)
	return uint32(len(l.values) - 1)
}

// expect sizes the layer's buffers for n features: a tile of thousands of
// points otherwise spends a good part of its time growing slices.
func (l *layerWriter) expect(n int) {
	l.features = slices.Grow(l.features, n*40)
	l.values = slices.Grow(l.values, n*2)
}

// fields registers a layer's property names up front and returns their
// key indices, in order: features then tag by index, with no lookup.
func (l *layerWriter) fields(names ...string) []uint32 {
	ks := make([]uint32, len(names))
	for i, n := range names {
		ks[i] = l.key(n)
	}
	return ks
}

// tagUnique adds a property whose value no other feature of the layer
// has (a case id): no dedupe lookup, which would only grow a map.
func (l *layerWriter) tagUnique(k uint32, v value) {
	l.values = append(l.values, v)
	l.tags = append(l.tags, k, uint32(len(l.values)-1))
}

// tag adds one property (a key index from fields) to the feature being
// built.
func (l *layerWriter) tag(k uint32, v value) {
	l.tags = append(l.tags, k, l.val(v))
}

// point writes a point feature with the tags added since the last feature.
func (l *layerWriter) point(id uint64, x, y int32) {
	l.geom = append(l.geom[:0], command(cmdMoveTo, 1), zigzag(x), zigzag(y))
	l.finish(id, geomPoint)
}

// polygon writes a polygon feature from rings already in tile coordinates,
// with exterior rings of positive and holes of negative area (MVT winding),
// not closed (the first point is not repeated).
func (l *layerWriter) polygon(id uint64, rings [][][2]int32) {
	l.geom = l.geom[:0]
	var cx, cy int32
	for _, r := range rings {
		l.geom = append(l.geom, command(cmdMoveTo, 1), zigzag(r[0][0]-cx), zigzag(r[0][1]-cy))
		cx, cy = r[0][0], r[0][1]
		l.geom = append(l.geom, command(cmdLineTo, len(r)-1))
		for _, p := range r[1:] {
			l.geom = append(l.geom, zigzag(p[0]-cx), zigzag(p[1]-cy))
			cx, cy = p[0], p[1]
		}
		l.geom = append(l.geom, command(cmdClosePath, 1))
	}
	l.finish(id, geomPolygon)
}

func (l *layerWriter) finish(id uint64, typ uint32) {
	f := l.buf[:0]
	f = appendTag(f, 1, 0)
	f = binary.AppendUvarint(f, id)
	f = appendPacked(f, 2, l.tags)
	f = appendTag(f, 3, 0)
	f = binary.AppendUvarint(f, uint64(typ))
	f = appendPacked(f, 4, l.geom)
	l.features = appendTag(l.features, 2, 2)
	l.features = binary.AppendUvarint(l.features, uint64(len(f)))
	l.features = append(l.features, f...)
	l.buf = f
	l.tags = l.tags[:0]
	l.count++
}

// appendTo appends the layer as a Tile.layers field; an empty layer adds
// nothing.
func (l *layerWriter) appendTo(tile []byte) []byte {
	if l.count == 0 {
		return tile
	}
	b := make([]byte, 0, len(l.features)+len(l.values)*8+256)
	b = appendTag(b, 15, 0)
	b = binary.AppendUvarint(b, 2)
	b = appendBytes(b, 1, []byte(l.name))
	b = append(b, l.features...)
	for _, k := range l.keys {
		b = appendBytes(b, 3, []byte(k))
	}
	for _, v := range l.values {
		b = appendBytes(b, 4, encodeValue(v))
	}
	b = appendTag(b, 5, 0)
	b = binary.AppendUvarint(b, uint64(l.extent))
	return appendBytes(tile, 3, b)
}

func encodeValue(v value) []byte {
	switch v.kind {
	case 's':
		return appendBytes(nil, 1, []byte(v.s))
	case 'd':
		b := appendTag(nil, 3, 1)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.d))
	case 'b':
		return binary.AppendUvarint(appendTag(nil, 7, 0), uint64(v.i))
	default: // sint64: zigzag, the compact form for small signed numbers
		return binary.AppendUvarint(appendTag(nil, 6, 0), uint64((v.i<<1)^(v.i>>63)))
	}
}

func command(id, count int) uint32 { return uint32(id&7) | uint32(count)<<3 }
func zigzag(v int32) uint32        { return uint32((v << 1) ^ (v >> 31)) }

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func appendBytes(b []byte, field int, data []byte) []byte {
	b = appendTag(b, field, 2)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendPacked(b []byte, field int, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		n += uvarintLen(uint64(v))
	}
	b = appendTag(b, field, 2)
	b = binary.AppendUvarint(b, uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
