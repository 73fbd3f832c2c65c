package caseindex

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// snapshotFixture is an index of n cases with every column varied: moves,
// merged duplicates (one merged then unmerged), stopped clocks, empty and
// repeated names.
func snapshotFixture(tb testing.TB, n int) *Index {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	x := New()
	entry := func(id int64) Entry {
		e := Entry{
			ID:         id,
			Location:   orb.Point{120.33 + rng.Float64()*0.08, 36.07 + rng.Float64()*0.06},
			ReportedAt: now.Add(-time.Duration(rng.IntN(100000)) * time.Second),
			Category:   []string{"E0101", "E0501", "C0203", ""}[rng.IntN(4)],
			Status:     cases.Statuses[rng.IntN(len(cases.Statuses))],
			Priority:   rng.IntN(3),
			Source:     []string{"hotline", "patrol", "app"}[rng.IntN(3)],
			Unit:       []string{"", "U1", "U2", "370203005-JD"}[rng.IntN(4)],
			Grid:       []string{"", "G1", "G2"}[rng.IntN(3)],
			Merged:     rng.IntN(10) == 0,
		}
		if rng.IntN(4) != 0 {
			e.DueAt = e.ReportedAt.Add(72 * time.Hour)
		}
		return e
	}
	for id := int64(1); id <= int64(n); id++ {
		if _, err := x.Apply(entry(id * 7)); err != nil {
			tb.Fatal(err)
		}
	}
	// Moves and re-merges: rows change bucket and merged count.
	for range n / 10 {
		e := entry(int64(1+rng.IntN(n)) * 7)
		if _, err := x.Apply(e); err != nil {
			tb.Fatal(err)
		}
	}
	return x
}

// sameIndex fails unless got holds exactly what want holds: every field
// of Index but its lock, version and reload state, so that a column added
// to the index and not to the snapshot fails here.
func sameIndex(t *testing.T, got, want *Index) {
	t.Helper()
	skip := map[string]bool{"mu": true, "version": true, "touched": true, "loading": true}
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		name := g.Type().Field(i).Name
		if skip[name] {
			continue
		}
		// Unexported fields cannot be read through reflect's Interface;
		// DeepEqual on the Values' addresses can.
		gf := reflect.NewAt(g.Field(i).Type(), g.Field(i).Addr().UnsafePointer()).Elem().Interface()
		wf := reflect.NewAt(w.Field(i).Type(), w.Field(i).Addr().UnsafePointer()).Elem().Interface()
		if name == "buckets" {
			gf, wf = comparableBuckets(got.buckets), comparableBuckets(want.buckets)
		}
		if !reflect.DeepEqual(gf, wf) {
			t.Errorf("%s differs after a round trip", name)
		}
	}
}

// comparableBuckets is buckets with their fine-cell aggregates told by
// cell rather than by place: a decoded index files its fine cells in the
// order it meets them, the original in the order they first had a case
// (and keeps emptied ones at zero), which answer every count alike.
func comparableBuckets(bs []bucket) []any {
	type fineView struct {
		counts map[geo.Cell]int32 // cells with cases
		rows   []geo.Cell         // each live row's cell, in live order
	}
	out := make([]any, len(bs))
	for i, b := range bs {
		var fine [MaxRes - BucketRes]fineView
		for r := range fine {
			fine[r].counts = map[geo.Cell]int32{}
			for _, c := range b.agg.fine[r] {
				if c.n != 0 {
					fine[r].counts[c.cell] = c.n
				}
			}
			for _, place := range b.agg.liveFine[r] {
				fine[r].rows = append(fine[r].rows, b.agg.fine[r][place].cell)
			}
		}
		due := b.agg.due
		for s := range due {
			if len(due[s]) == 0 {
				due[s] = nil
			}
		}
		live := b.live
		if len(live) == 0 {
			live = nil
		}
		out[i] = []any{b.cell, b.bound, b.rows, live, b.agg.byStatus, due, fine}
	}
	return out
}

func encode(tb testing.TB, x *Index) []byte {
	tb.Helper()
	var buf bytes.Buffer
	n, err := x.Freeze().WriteTo(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if f := x.Freeze(); n != int64(buf.Len()) || f.Size() != n {
		tb.Fatalf("WriteTo = %d bytes, wrote %d, Size %d", n, buf.Len(), f.Size())
	}
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3000} {
		x := snapshotFixture(t, n)
		if n > 100 && x.nMerged == 0 {
			t.Fatal("fixture has no merged case")
		}
		b := encode(t, x)
		got, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%d cases: %v", n, err)
		}
		sameIndex(t, got, x)
		// The decoded index takes changes as the original does.
		for _, idx := range []*Index{x, got} {
			if _, err := idx.Apply(Entry{ID: 7, Location: orb.Point{120.4, 36.1}, Category: "new", Status: cases.StatusReported}); err != nil {
				t.Fatal(err)
			}
		}
		sameIndex(t, got, x)
		// And swaps in as a reload does.
		live := New()
		live.Replace(got)
		sameIndex(t, live, x)
	}
}

// TestSnapshotDecodeRejects: damaged input of every kind is an error
// wrapping ErrSnapshot, never a panic or an index that lies.
func TestSnapshotDecodeRejects(t *testing.T) {
	good := encode(t, snapshotFixture(t, 200))
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"other version", mutate(func(b []byte) []byte { b[4] = 99; return b })},
		{"huge count", mutate(func(b []byte) []byte { b[15] = 0x7f; return b })},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"bucket row out of range", mutate(func(b []byte) []byte { copy(b[len(b)-4:], []byte{0xff, 0xff, 0, 0}); return b })},
		{"repeated bucket row", mutate(func(b []byte) []byte { copy(b[len(b)-4:], b[len(b)-8:len(b)-4]); return b })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(bytes.NewReader(tt.in), int64(len(tt.in))); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Decode = %v, want an ErrSnapshot", err)
			}
		})
	}
}

// FuzzSnapshotDecode: whatever the bytes, Decode returns an index or an
// error, never panics, and allocates no more than the input can fill.
func FuzzSnapshotDecode(f *testing.F) {
	f.Add(encode(f, snapshotFixture(f, 0)))
	f.Add(encode(f, snapshotFixture(f, 5)))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Decode error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		// What decodes is usable.
		x.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, Filter{}, func(Entry) {})
		x.Clusters(8, func(geo.Cell) bool { return true }, Filter{}, time.Now())
		x.ByGrid(time.Now())
	})
}
