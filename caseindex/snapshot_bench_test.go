package caseindex

import (
	"bufio"
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// syntheticIndex is an index of n cases built straight into the columns:
// real bucket cells (computed once per bucket, a few thousand H3 calls
// instead of 3n), random points and values. Its cells are not those of its
// points, which the snapshot format neither knows nor cares about: this is
// for measuring the format at sizes the database takes hours to fill.
func syntheticIndex(tb testing.TB, n int) *Index {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	const nb = 5000 // a district of 500 km²: its resolution-9 cells
	cells := make([]geo.Cell, 0, nb)
	seen := map[geo.Cell]bool{}
	for len(cells) < nb {
		c, err := geo.CellAt(orb.Point{120.2 + rng.Float64()*0.4, 36.0 + rng.Float64()*0.3}, BucketRes)
		if err != nil {
			tb.Fatal(err)
		}
		if !seen[c] {
			seen[c] = true
			cells = append(cells, c)
		}
	}
	x := New()
	x.id, x.loc, x.cell = make([]int64, n), make([]orb.Point, n), make([]caseCells, n)
	x.t, x.due = make([]int64, n), make([]int64, n)
	x.cat, x.status, x.priority, x.source = make([]uint16, n), make([]uint8, n), make([]uint8, n), make([]uint16, n)
	x.unit, x.grid, x.merged = make([]uint32, n), make([]uint32, n), make([]bool, n)
	x.byID = make(map[int64]int32, n)
	for i := range 120 {
		x.strs.cats.id(fmt.Sprintf("E%04d", i))
	}
	for _, s := range []string{"hotline", "patrol", "app", "sensor", "12345"} {
		x.strs.sources.id(s)
	}
	for i := range 300 {
		x.strs.units.id(fmt.Sprintf("U%03d", i))
	}
	for i := range 5000 {
		x.strs.grids.id(fmt.Sprintf("370203%06d", i))
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range n {
		b := rng.IntN(nb)
		x.id[i] = int64(i + 1)
		x.byID[int64(i+1)] = int32(i)
		x.loc[i] = orb.Point{120.2 + rng.Float64()*0.4, 36.0 + rng.Float64()*0.3}
		x.cell[i] = caseCells{cells[b], cells[b] + 1, cells[b] + 2}
		x.t[i] = now - rng.Int64N(3*365*86400)
		if rng.IntN(4) > 0 {
			x.due[i] = x.t[i] + 3*86400
		}
		x.cat[i] = uint16(rng.IntN(120))
		x.status[i] = uint8(rng.IntN(len(cases.Statuses)))
		x.priority[i] = uint8(rng.IntN(3))
		x.source[i] = uint16(rng.IntN(5))
		x.unit[i] = uint32(rng.IntN(300))
		x.grid[i] = uint32(rng.IntN(5000))
		if rng.IntN(50) == 0 {
			x.merged[i] = true
			x.nMerged++
		}
		bk := x.bucketFor(cells[b])
		bk.rows = append(bk.rows, int32(i))
		if len(bk.rows) == 1 {
			bk.bound = orb.Bound{Min: x.loc[i], Max: x.loc[i]}
		}
		bk.bound = bk.bound.Extend(x.loc[i])
	}
	for bi := range x.buckets {
		slices.SortFunc(x.buckets[bi].rows, func(a, b int32) int { return cmp.Compare(x.loc[a][1], x.loc[b][1]) })
	}
	return x
}

// BenchmarkSnapshot measures the snapshot format at 1 and 10 million
// cases: Freeze (and of it, the time under the read lock, which writers
// wait), writing to a file, and reading it
// back to a ready index, with the bytes per case. Compare its read figure
// with internal/bench's BenchmarkSnapshotVsDatabase (the same million read
// from PostgreSQL).
//
//	go test ./caseindex -run '^$' -bench Snapshot -benchtime 1x
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("cases=%d", n), func(b *testing.B) {
			x := syntheticIndex(b, n)
			path := filepath.Join(b.TempDir(), "cases.snapshot")
			var freeze, lock, write, read, readCPU time.Duration
			var size int64
			for b.Loop() {
				start := time.Now()
				f := x.frozenRoom()
				locked := time.Now()
				x.freezeInto(f)
				lock += time.Since(locked)
				freeze += time.Since(start)
				out, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				w := bufio.NewWriterSize(out, 1<<20)
				if size, err = f.WriteTo(w); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
				out.Close()
				write += time.Since(start)
				f = nil

				start = time.Now()
				cpu := cpuTime()
				in, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				got, err := Decode(bufio.NewReaderSize(in, 1<<20), size)
				in.Close()
				if err != nil {
					b.Fatal(err)
				}
				read += time.Since(start)
				readCPU += cpuTime() - cpu
				if got.Len() != n {
					b.Fatalf("decoded %d cases, want %d", got.Len(), n)
				}
			}
			per := float64(b.N)
			b.ReportMetric(float64(size)/float64(n), "bytes/case")
			b.ReportMetric(float64(freeze.Milliseconds())/per, "freeze-ms")
			b.ReportMetric(float64(lock.Milliseconds())/per, "read-locked-ms")
			b.ReportMetric(float64(write.Milliseconds())/per, "write-ms")
			b.ReportMetric(float64(read.Milliseconds())/per, "read-ms")
			// CPU time of every thread (the garbage collector's too): on a
			// busy machine, what the read would take on an idle one.
			b.ReportMetric(float64(readCPU.Milliseconds())/per, "read-cpu-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
