package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
)

// FileName is the snapshot's name in its directory; a write goes to a
// temporary file beside it (FileName + ".tmp-…") and is renamed over it.
const FileName = "citygrid.snapshot"

// The file: a magic, the format version, the header (position, creation
// time, cell resolution, database identity) with its own CRC-32C, then two
// sections, each its length and its bytes (the grid locator's cell index,
// encoded by package grid; the case index, by package caseindex), then a
// CRC-32C of every byte before it. The header has its own checksum so that
// a damaged header is reported as damage, not as another database.
const (
	magic         = "CGSNAP\r\n"
	formatVersion = 1
	// maxHeader bounds the header: a database identity is a short string.
	maxHeader = 1 << 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Why a snapshot is not used; Load's error wraps one of them.
var (
	ErrMissing  = errors.New("no snapshot")
	ErrCorrupt  = errors.New("snapshot damaged")
	ErrVersion  = errors.New("snapshot of another format version")
	ErrDatabase = errors.New("snapshot of another database")
	ErrCellRes  = errors.New("snapshot at another cell resolution")
	ErrTooOld   = errors.New("snapshot older than the retained change log")
	ErrAhead    = errors.New("snapshot ahead of the database's change feed")
)

// Meta is what a snapshot is tagged with.
type Meta struct {
	// Position is the change-feed position the snapshot holds every change
	// up to (it may hold some later ones too: replaying them again is
	// harmless, as a change sets a case to what it is).
	Position uint64
	// Database is the identity of the database the indexes were read from.
	Database string
	// CellRes is the stored cell resolution (grid.CellRes).
	CellRes   int
	CreatedAt time.Time
}

// Expect is what a snapshot must match to be used.
type Expect struct {
	Database string
	CellRes  int
	// Oldest is the oldest position the change log still holds: a
	// snapshot before it cannot be brought up to date (0: not known).
	Oldest uint64
	// Head is the database's current position (0: not known): a snapshot
	// beyond it was taken from a database since reset or restored.
	Head uint64
	// MaxAge is how old a snapshot may be (default DefaultMaxAge), for when
	// Oldest is not known.
	MaxAge time.Duration
	// Now is the time to measure ages at (default time.Now()).
	Now time.Time
}

// DefaultMaxAge is how long the change log is kept by default.
const DefaultMaxAge = 24 * time.Hour

// Snapshot is a snapshot read back: its tags, the case index (new,
// unshared: swap it in with caseindex.Index.Replace) and the locator's cell
// index (for grid.Index.RebuildReusing).
type Snapshot struct {
	Meta
	Cases *caseindex.Index
	Grids *grid.Built
	Bytes int64
}

// Write writes a snapshot of loc (nil for none) and cases to dir, atomically:
// into a temporary file in dir, synced, renamed over the previous
// snapshot, and the directory synced. A process killed at any point leaves
// either the previous snapshot or the new one, whole (and perhaps a
// temporary file, which the next Write of the same directory removes once
// it is an hour old). It returns the snapshot's size.
func Write(dir string, meta Meta, loc *grid.Locator, cases *caseindex.Frozen) (size int64, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	removeStaleTemps(dir, time.Hour)
	f, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	if _, err := bw.Write(encodeHeader(meta)); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	var locBytes strings.Builder
	if loc != nil {
		if _, err := loc.WriteBuilt(&locBytes); err != nil {
			return 0, fmt.Errorf("snapshot: grid locator: %w", err)
		}
	}
	writeLen(bw, int64(locBytes.Len()))
	if _, err := bw.WriteString(locBytes.String()); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	writeLen(bw, cases.Size())
	if _, err := cases.WriteTo(bw); err != nil {
		return 0, fmt.Errorf("snapshot: case index: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if _, err := f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32())); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, FileName)); err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	// The rename is durable only once the directory is.
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return 0, fmt.Errorf("snapshot: sync %s: %w", dir, err)
		}
	}
	return st.Size(), nil
}

func writeLen(w *bufio.Writer, n int64) {
	_, _ = w.Write(binary.LittleEndian.AppendUint64(nil, uint64(n))) // a failure shows at Flush
}

// removeStaleTemps removes temporary files older than age that a killed
// writer left; younger ones may be another process's write in progress.
func removeStaleTemps(dir string, age time.Duration) {
	temps, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp-*"))
	for _, t := range temps {
		if st, err := os.Stat(t); err == nil && time.Since(st.ModTime()) > age {
			os.Remove(t)
		}
	}
}

func encodeHeader(m Meta) []byte {
	le := binary.LittleEndian
	b := []byte(magic)
	b = le.AppendUint32(b, formatVersion)
	body := le.AppendUint64(nil, m.Position)
	body = le.AppendUint64(body, uint64(m.CreatedAt.UnixNano()))
	body = le.AppendUint32(body, uint32(m.CellRes))
	body = append(body, m.Database...)
	b = le.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// Load reads the snapshot in dir if it is usable for want. Otherwise its
// error wraps the reason (ErrMissing, ErrCorrupt, ErrVersion, ErrDatabase,
// ErrCellRes, ErrTooOld, ErrAhead) and says more: the caller does a full
// load and logs it. The header is checked before the body is read, so a
// snapshot of another database costs nothing to refuse.
func Load(dir string, want Expect) (*Snapshot, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrMissing, dir)
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMissing, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMissing, err)
	}
	crc := crc32.New(castagnoli)
	r := &reader{r: bufio.NewReaderSize(f, 1<<20), crc: crc, left: st.Size() - 4}
	s := &Snapshot{Bytes: st.Size()}
	if s.Meta, err = r.header(); err != nil {
		return nil, err
	}
	if err := check(s.Meta, want); err != nil {
		return nil, err
	}
	if n := r.sectionLen("grid locator"); n > 0 {
		s.Grids, err = grid.DecodeBuilt(r.section(n), n)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	n := r.sectionLen("case index")
	if r.err != nil {
		return nil, r.err
	}
	if s.Cases, err = caseindex.Decode(r.section(n), n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if r.left != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the sections", ErrCorrupt, r.left)
	}
	sum := crc.Sum32()
	var tail [4]byte
	if _, err := io.ReadFull(r.r, tail[:]); err != nil {
		return nil, fmt.Errorf("%w: checksum: %w", ErrCorrupt, err)
	}
	if got := binary.LittleEndian.Uint32(tail[:]); got != sum {
		return nil, fmt.Errorf("%w: checksum %08x, content sums to %08x", ErrCorrupt, got, sum)
	}
	return s, nil
}

// check says why a snapshot of meta is not usable for want, or nil.
func check(m Meta, want Expect) error {
	if want.MaxAge == 0 {
		want.MaxAge = DefaultMaxAge
	}
	if want.Now.IsZero() {
		want.Now = time.Now()
	}
	switch age := want.Now.Sub(m.CreatedAt); {
	case m.Database != want.Database:
		return fmt.Errorf("%w: made from database %q, this is %q", ErrDatabase, m.Database, want.Database)
	case m.CellRes != want.CellRes:
		return fmt.Errorf("%w: resolution %d, the database stores %d", ErrCellRes, m.CellRes, want.CellRes)
	case want.Head != 0 && m.Position > want.Head:
		return fmt.Errorf("%w: at position %d, the database at %d (reset or restored since?)", ErrAhead, m.Position, want.Head)
	case want.Oldest != 0 && m.Position < want.Oldest:
		return fmt.Errorf("%w: at position %d, the change log starts at %d", ErrTooOld, m.Position, want.Oldest)
	case age > want.MaxAge:
		return fmt.Errorf("%w: made %s ago (%s), the change log keeps %s", ErrTooOld, age.Round(time.Second), m.CreatedAt.UTC().Format(time.RFC3339), want.MaxAge)
	}
	return nil
}

// reader reads the file through the checksum, at most left bytes in all
// before the trailing checksum.
type reader struct {
	r    *bufio.Reader
	crc  hash.Hash32
	left int64
	err  error
}

func (r *reader) read(b []byte, what string) bool {
	if r.err != nil {
		return false
	}
	if int64(len(b)) > r.left {
		r.err = fmt.Errorf("%w: %s: the file ends", ErrCorrupt, what)
		return false
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
		return false
	}
	r.crc.Write(b)
	r.left -= int64(len(b))
	return true
}

func (r *reader) header() (Meta, error) {
	var fixed [len(magic) + 8]byte
	if !r.read(fixed[:], "header") {
		return Meta{}, r.err
	}
	if string(fixed[:len(magic)]) != magic {
		return Meta{}, fmt.Errorf("%w: not a citygrid snapshot", ErrCorrupt)
	}
	le := binary.LittleEndian
	// The version first: another version may lay out the rest otherwise.
	if v := le.Uint32(fixed[len(magic):]); v != formatVersion {
		return Meta{}, fmt.Errorf("%w: format %d, this build reads %d", ErrVersion, v, formatVersion)
	}
	n := le.Uint32(fixed[len(magic)+4:])
	if n < 20 || n > maxHeader {
		return Meta{}, fmt.Errorf("%w: header of %d bytes", ErrCorrupt, n)
	}
	body := make([]byte, n+4)
	if !r.read(body, "header") {
		return Meta{}, r.err
	}
	whole := append(fixed[:], body[:n]...)
	if crc32.Checksum(whole, castagnoli) != le.Uint32(body[n:]) {
		return Meta{}, fmt.Errorf("%w: header checksum", ErrCorrupt)
	}
	return Meta{
		Position:  le.Uint64(body),
		CreatedAt: time.Unix(0, int64(le.Uint64(body[8:]))),
		CellRes:   int(le.Uint32(body[16:])),
		Database:  string(body[20:n]),
	}, nil
}

func (r *reader) sectionLen(what string) int64 {
	var b [8]byte
	if !r.read(b[:], what) {
		return 0
	}
	n := binary.LittleEndian.Uint64(b[:])
	if n > uint64(r.left) {
		r.err = fmt.Errorf("%w: %s of %d bytes, %d left", ErrCorrupt, what, n, r.left)
		return 0
	}
	return int64(n)
}

// section is the next n bytes, through the checksum.
func (r *reader) section(n int64) io.Reader {
	r.left -= n
	return io.TeeReader(io.LimitReader(r.r, n), r.crc)
}
