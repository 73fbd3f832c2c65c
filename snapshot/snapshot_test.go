package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/grid"
)

var t0 = time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)

// fixture is a small district (one street of four unit grids) and n cases
// in it, one merged.
func fixture(tb testing.TB, n int) (*grid.Locator, []*grid.Grid, *caseindex.Index) {
	tb.Helper()
	rect := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
	}
	grids := []*grid.Grid{
		{Code: "D", Level: grid.LevelDistrict, Geometry: rect(120.35, 36.07, 120.352, 36.072)},
		{Code: "S", Level: grid.LevelStreet, Parent: "D", Geometry: rect(120.35, 36.07, 120.352, 36.072)},
	}
	for i := range 2 {
		for j := range 2 {
			x, y := 120.35+float64(i)*0.001, 36.07+float64(j)*0.001
			grids = append(grids, &grid.Grid{Code: fmt.Sprintf("G%d%d", i, j), Level: grid.LevelGrid, Parent: "S", Geometry: rect(x, y, x+0.001, y+0.001)})
		}
	}
	loc, err := grid.NewLocator(grids, nil, grid.LocatorOptions{PixelM: 20})
	if err != nil {
		tb.Fatal(err)
	}
	x := caseindex.New()
	rng := rand.New(rand.NewPCG(1, 2))
	for id := int64(1); id <= int64(n); id++ {
		e := caseindex.Entry{ID: id, Location: orb.Point{120.35 + rng.Float64()*0.002, 36.07 + rng.Float64()*0.002},
			ReportedAt: t0.Add(-time.Duration(id) * time.Minute), DueAt: t0.Add(time.Hour), Category: "E0101",
			Status: cases.StatusReported, Source: "patrol", Unit: "U1", Grid: "G00", Merged: id == 3}
		if _, err := x.Apply(e); err != nil {
			tb.Fatal(err)
		}
	}
	return loc, grids, x
}

var meta = Meta{Position: 1000, Database: "db-a", CellRes: grid.CellRes, CreatedAt: t0}

func expect() Expect {
	return Expect{Database: "db-a", CellRes: grid.CellRes, Oldest: 900, Head: 1200, Now: t0.Add(time.Hour)}
}

func ids(x *caseindex.Index) []int64 {
	var out []int64
	x.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(e caseindex.Entry) { out = append(out, e.ID) })
	return out
}

func write(tb testing.TB, dir string, m Meta, loc *grid.Locator, x *caseindex.Index) {
	tb.Helper()
	if _, err := Write(dir, m, loc, x.Freeze()); err != nil {
		tb.Fatal(err)
	}
}

func TestWriteLoad(t *testing.T) {
	dir := t.TempDir()
	loc, grids, x := fixture(t, 500)
	write(t, dir, meta, loc, x)
	s, err := Load(dir, expect())
	if err != nil {
		t.Fatal(err)
	}
	if s.Position != meta.Position || s.Database != meta.Database || s.CellRes != meta.CellRes || !s.CreatedAt.Equal(meta.CreatedAt) {
		t.Errorf("meta = %+v, want %+v", s.Meta, meta)
	}
	if got, want := fmt.Sprint(ids(s.Cases)), fmt.Sprint(ids(x)); got != want || s.Cases.Len() != 500 {
		t.Errorf("cases differ after a round trip")
	}
	if _, reason, err := grid.NewLocatorReusing(grids, nil, grid.LocatorOptions{PixelM: 20}, s.Grids); err != nil || reason != nil {
		t.Errorf("locator snapshot not reused: %v, %v", reason, err)
	}
	temps, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if len(temps) > 0 {
		t.Errorf("temporary files left: %v", temps)
	}
}

// TestLoadRefuses: every reason a snapshot cannot be used is its own
// error, and says so.
func TestLoadRefuses(t *testing.T) {
	loc, _, x := fixture(t, 200)
	good := t.TempDir()
	write(t, good, meta, loc, x)
	data, err := os.ReadFile(filepath.Join(good, FileName))
	if err != nil {
		t.Fatal(err)
	}
	damaged := func(f func(b []byte) []byte) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), f(bytes.Clone(data)), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	with := func(f func(*Expect)) Expect { e := expect(); f(&e); return e }
	headerLen := len(magic) + 8 + 20 + len(meta.Database) + 4
	tests := []struct {
		name string
		dir  string
		want Expect
		err  error
	}{
		{"missing", t.TempDir(), expect(), ErrMissing},
		{"a byte of the cases flipped", damaged(func(b []byte) []byte { b[len(b)-100] ^= 1; return b }), expect(), ErrCorrupt},
		{"a byte of the header flipped", damaged(func(b []byte) []byte { b[len(magic)+9] ^= 1; return b }), expect(), ErrCorrupt},
		{"the checksum flipped", damaged(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), expect(), ErrCorrupt},
		{"truncated", damaged(func(b []byte) []byte { return b[:len(b)/2] }), expect(), ErrCorrupt},
		{"truncated in the header", damaged(func(b []byte) []byte { return b[:headerLen-2] }), expect(), ErrCorrupt},
		{"empty file", damaged(func([]byte) []byte { return nil }), expect(), ErrCorrupt},
		{"not a snapshot", damaged(func([]byte) []byte { return []byte("hello, world, this is no snapshot at all") }), expect(), ErrCorrupt},
		{"other format version", damaged(func(b []byte) []byte { b[len(magic)] = 9; return b }), expect(), ErrVersion},
		{"other database", good, with(func(e *Expect) { e.Database = "db-b" }), ErrDatabase},
		{"other cell resolution", good, with(func(e *Expect) { e.CellRes = 10 }), ErrCellRes},
		{"older than the change log", good, with(func(e *Expect) { e.Oldest = 1001 }), ErrTooOld},
		{"older than the maximum age", good, with(func(e *Expect) { e.Oldest, e.Now = 0, t0.Add(25*time.Hour) }), ErrTooOld},
		{"ahead of a reset database", good, with(func(e *Expect) { e.Head = 17 }), ErrAhead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.dir, tt.want)
			if !errors.Is(err, tt.err) || s != nil {
				t.Fatalf("Load = %v, %v; want %v", s, err, tt.err)
			}
		})
	}
	if _, err := Load(good, with(func(e *Expect) { e.Oldest, e.Head = 0, 0 })); err != nil {
		t.Errorf("with no positions known, Load = %v", err)
	}
}

// TestKilledMidWrite: a process killed while writing leaves the previous
// snapshot usable, whether it died in the middle of the temporary file or
// between writing it and the rename; the next write clears the leftovers.
func TestKilledMidWrite(t *testing.T) {
	dir := t.TempDir()
	loc, _, x := fixture(t, 300)
	write(t, dir, meta, loc, x)
	// The next snapshot, as a killed writer leaves it: whole but not
	// renamed, and cut short.
	newer := t.TempDir()
	_, _, more := fixture(t, 400)
	write(t, newer, Meta{Position: 1100, Database: "db-a", CellRes: grid.CellRes, CreatedAt: t0}, loc, more)
	next, err := os.ReadFile(filepath.Join(newer, FileName))
	if err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, FileName+".tmp-111")
	partial := filepath.Join(dir, FileName+".tmp-222")
	if err := os.WriteFile(whole, next, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, next[:len(next)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir, expect())
	if err != nil {
		t.Fatalf("after a killed write, Load = %v; want the previous snapshot", err)
	}
	if s.Position != 1000 || s.Cases.Len() != 300 {
		t.Errorf("loaded position %d with %d cases; want the previous snapshot (1000, 300)", s.Position, s.Cases.Len())
	}
	// Leftovers an hour old are another write's no longer: removed.
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range []string{whole, partial} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(t, dir, Meta{Position: 1150, Database: "db-a", CellRes: grid.CellRes, CreatedAt: t0}, loc, more)
	if temps, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(temps) > 0 {
		t.Errorf("stale temporary files left: %v", temps)
	}
	if s, err := Load(dir, expect()); err != nil || s.Position != 1150 {
		t.Errorf("after the next write, Load = %v, %v; want position 1150", s, err)
	}
}

// restoreEnv is a Restore over fakes that record what it did, and its log.
type restoreEnv struct {
	Restore
	log      bytes.Buffer
	replayed []uint64
	full     int
	reused   bool
}

func newRestore(t *testing.T, dir string, grids []*grid.Grid, replayErr error) *restoreEnv {
	env := &restoreEnv{}
	env.Restore = Restore{
		Dir:    dir,
		Expect: expect(),
		Cases:  caseindex.New(),
		Grids: func(_ context.Context, built *grid.Built) (error, error) {
			_, reason, err := grid.NewLocatorReusing(grids, nil, grid.LocatorOptions{PixelM: 20}, built)
			env.reused = reason == nil
			return reason, err
		},
		FullLoad: func(context.Context) error { env.full++; return nil },
		ReplayFrom: func(_ context.Context, pos uint64) error {
			env.replayed = append(env.replayed, pos)
			return replayErr
		},
		Logger: slog.New(slog.NewTextHandler(&env.log, nil)),
	}
	return env
}

func TestRestore(t *testing.T) {
	loc, grids, x := fixture(t, 250)
	good := t.TempDir()
	write(t, good, meta, loc, x)
	corrupt := t.TempDir()
	write(t, corrupt, meta, loc, x)
	path := filepath.Join(corrupt, FileName)
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("from the snapshot and the tail", func(t *testing.T) {
		env := newRestore(t, good, grids, nil)
		res, err := env.Run(context.Background())
		if err != nil || !res.FromSnapshot || res.Position != 1000 {
			t.Fatalf("Run = %+v, %v; want from the snapshot at 1000", res, err)
		}
		if env.full != 0 || fmt.Sprint(env.replayed) != "[1000]" || !env.reused || env.Cases.Len() != 250 {
			t.Errorf("full loads %d, replayed %v, locator reused %v, %d cases; want 0, [1000], true, 250", env.full, env.replayed, env.reused, env.Cases.Len())
		}
	})
	tests := []struct {
		name      string
		dir       string
		database  string
		noFeed    bool
		replayErr error
		log       string
	}{
		{"missing", t.TempDir(), "db-a", false, nil, "no snapshot"},
		{"corrupt", corrupt, "db-a", false, nil, "snapshot damaged"},
		{"database reset since", good, "db-a-reset", false, nil, "snapshot of another database"},
		{"replay fails", good, "db-a", false, errors.New("position 1000 no longer in the change log"), "replaying the change feed from position 1000"},
		{"no change feed", good, "db-a", true, nil, "no change feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRestore(t, tt.dir, grids, tt.replayErr)
			env.Expect.Database = tt.database
			if tt.noFeed {
				env.ReplayFrom = nil
			}
			res, err := env.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.FromSnapshot || env.full != 1 {
				t.Fatalf("Run = %+v after %d full loads; want one full load", res, env.full)
			}
			line := env.log.String()
			if !strings.Contains(line, "full load from the database") || !strings.Contains(line, tt.log) {
				t.Errorf("log %q does not say %q", line, tt.log)
			}
		})
	}
}

func TestKeeper(t *testing.T) {
	dir := t.TempDir()
	loc, _, x := fixture(t, 100)
	gi := grid.NewIndex(grid.LocatorOptions{PixelM: 20})
	gi.Set(loc)
	pos := uint64(1000)
	var log bytes.Buffer
	k := &Keeper{Dir: dir, Database: "db-a", CellRes: grid.CellRes, Position: func() uint64 { return pos },
		Cases: x, Grids: gi, Check: 5 * time.Millisecond, Changes: 10, Logger: slog.New(slog.NewTextHandler(&log, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.Run(ctx, true); close(done) }()
	waitFor := func(want uint64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, err := Load(dir, Expect{Database: "db-a", CellRes: grid.CellRes})
			if err == nil && s.Position == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no snapshot at position %d: %v", want, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1000) // written at once
	k.mu.Lock()
	pos = 1010 // ten changes: due
	k.mu.Unlock()
	for id := int64(1000); id < 1010; id++ {
		if _, err := x.Apply(caseindex.Entry{ID: id, Location: orb.Point{120.351, 36.071}, Status: cases.StatusReported}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(1010)
	cancel()
	<-done
	// A graceful shutdown writes what changed since.
	k.mu.Lock()
	pos = 1011
	k.mu.Unlock()
	if err := k.Write(); err != nil {
		t.Fatal(err)
	}
	waitFor(1011)
	if !strings.Contains(log.String(), "snapshot written") {
		t.Errorf("log %q does not say a snapshot was written", log.String())
	}
}

// FuzzLoad: whatever the file holds, Load returns a snapshot or an error
// naming a reason, never panics.
func FuzzLoad(f *testing.F) {
	loc, _, x := fixture(f, 3)
	dir := f.TempDir()
	write(f, dir, meta, loc, x)
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	dir = f.TempDir() // each fuzzing process has its own, and runs one input at a time
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir, Expect{Database: "db-a", CellRes: grid.CellRes, Now: t0})
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrDatabase) &&
			!errors.Is(err, ErrCellRes) && !errors.Is(err, ErrTooOld) && !errors.Is(err, ErrAhead) {
			t.Fatalf("Load error %v names no reason", err)
		}
	})
}
