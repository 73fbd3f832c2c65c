package grid

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func writeBuilt(tb testing.TB, l *Locator) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := l.WriteBuilt(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func decodeBuilt(tb testing.TB, b []byte) *Built {
	tb.Helper()
	built, err := DecodeBuilt(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return built
}

// TestLocatorSnapshotRoundTrip: a locator with its cell index from a
// snapshot holds the same index and answers every point as a built one.
func TestLocatorSnapshotRoundTrip(t *testing.T) {
	grids := squareDistrict(6, 0.001)
	want, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := writeBuilt(t, want)
	if again := writeBuilt(t, want); !bytes.Equal(b, again) {
		t.Error("the same locator wrote different bytes")
	}
	got, reason, err := NewLocatorReusing(grids, nil, LocatorOptions{}, decodeBuilt(t, b))
	if err != nil || reason != nil {
		t.Fatalf("NewLocatorReusing: reason %v, err %v; want the snapshot used", reason, err)
	}
	if !reflect.DeepEqual(got.cells, want.cells) || !reflect.DeepEqual(got.rasters, want.rasters) || !reflect.DeepEqual(got.lists, want.lists) {
		t.Fatal("cell index differs after a round trip")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		p := orb.Point{120.349 + rng.Float64()*0.008, 36.069 + rng.Float64()*0.008}
		a, _ := got.Assign(p, "")
		w, _ := want.Assign(p, "")
		if code(a.Grid) != code(w.Grid) {
			t.Fatalf("Assign(%v) = %s, built %s", p, code(a.Grid), code(w.Grid))
		}
	}
}

// TestLocatorSnapshotStale: grids or options changed since the snapshot
// mean a fresh build, with the reason said.
func TestLocatorSnapshotStale(t *testing.T) {
	grids := squareDistrict(4, 0.001)
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	built := decodeBuilt(t, writeBuilt(t, l))
	moved := squareDistrict(4, 0.001)
	moved[5].Geometry.(orb.Polygon)[0][1][0] += 0.0001
	tests := []struct {
		name  string
		grids []*Grid
		opt   LocatorOptions
	}{
		{"a boundary moved", moved, LocatorOptions{}},
		{"a grid fewer", grids[:len(grids)-1], LocatorOptions{}},
		{"other pixel size", grids, LocatorOptions{PixelM: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, err := NewLocatorReusing(tt.grids, nil, tt.opt, built)
			if err != nil {
				t.Fatal(err)
			}
			if reason == nil {
				t.Fatal("snapshot reused, want a rebuild")
			}
			fresh, _ := NewLocator(tt.grids, nil, tt.opt)
			if !reflect.DeepEqual(got.cells, fresh.cells) {
				t.Fatal("rebuilt cell index differs from a fresh build")
			}
		})
	}
}

func TestDecodeBuiltRejects(t *testing.T) {
	l, err := NewLocator(squareDistrict(3, 0.001), nil, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good := writeBuilt(t, l)
	mutate := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	for name, in := range map[string][]byte{
		"empty":          nil,
		"bad magic":      mutate(func(b []byte) { b[1] = 'X' }),
		"other version":  mutate(func(b []byte) { b[4] = 7 }),
		"huge cells":     mutate(func(b []byte) { b[43] = 0x7f }),
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(bytes.Clone(good), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeBuilt(bytes.NewReader(in), int64(len(in))); !errors.Is(err, ErrBuiltSnapshot) {
				t.Fatalf("DecodeBuilt = %v, want an ErrBuiltSnapshot", err)
			}
		})
	}
}

// FuzzDecodeBuilt: whatever the bytes, DecodeBuilt errs or gives a cell
// index that NewLocatorReusing either refuses or answers points with.
func FuzzDecodeBuilt(f *testing.F) {
	// Coarse pixels keep the seed small (fine ones make it megabytes,
	// which the fuzzer crawls through).
	grids, opt := squareDistrict(2, 0.001), LocatorOptions{PixelM: 40}
	l, err := NewLocator(grids, nil, opt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(writeBuilt(f, l))
	f.Fuzz(func(t *testing.T, b []byte) {
		built, err := DecodeBuilt(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrBuiltSnapshot) {
				t.Fatalf("error %v does not wrap ErrBuiltSnapshot", err)
			}
			return
		}
		// The fuzzer cannot forge the fingerprint: check the references
		// as if it had.
		built.fingerprint = l.fingerprint()
		got, _, err := NewLocatorReusing(grids, nil, opt, built)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []orb.Point{{120.3505, 36.0705}, {120.351, 36.071}, {120.3515, 36.0715}} {
			_, _ = got.Assign(p, "")
		}
	})
}

// BenchmarkLocatorSnapshot compares building a locator's cell index with
// decoding it from a snapshot, over 1,600 unit grids.
func BenchmarkLocatorSnapshot(b *testing.B) {
	grids := squareDistrict(40, 0.001)
	l, err := NewLocator(grids, nil, LocatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	data := writeBuilt(b, l)
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewLocator(grids, nil, LocatorOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			built, err := DecodeBuilt(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			if _, reason, err := NewLocatorReusing(grids, nil, LocatorOptions{}, built); err != nil || reason != nil {
				b.Fatal(reason, err)
			}
		}
		b.ReportMetric(float64(len(data)), "bytes")
	})
}
