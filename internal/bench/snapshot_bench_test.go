package bench

import (
	"context"
	"testing"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/snapshot"
)

// BenchmarkSnapshotVsDatabase readies the case index of the million demo
// cases twice in one run: read from PostgreSQL (what a start without a
// snapshot does) and from a snapshot on local disk (with the grid
// locator's cell index, checksum checked), and reports both and their
// ratio. CITYGRID_BENCH_CASES sets another count.
func BenchmarkSnapshotVsDatabase(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	ctx := context.Background()
	dir := b.TempDir()
	meta := snapshot.Meta{Position: 1, Database: "bench", CellRes: grid.CellRes, CreatedAt: time.Now()}
	start := time.Now()
	size, err := snapshot.Write(dir, meta, e.loc, e.caseIndex.Freeze())
	if err != nil {
		b.Fatal(err)
	}
	writeMS := float64(time.Since(start).Milliseconds())
	var fromDB, fromSnap time.Duration
	for b.Loop() {
		start := time.Now()
		x := caseindex.New()
		if err := e.cases.LoadCaseIndex(ctx, x); err != nil {
			b.Fatal(err)
		}
		fromDB += time.Since(start)

		start = time.Now()
		s, err := snapshot.Load(dir, snapshot.Expect{Database: "bench", CellRes: grid.CellRes})
		if err != nil {
			b.Fatal(err)
		}
		y := caseindex.New()
		y.Replace(s.Cases)
		fromSnap += time.Since(start)
		if x.Len() != y.Len() {
			b.Fatalf("database gives %d cases, snapshot %d", x.Len(), y.Len())
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(e.caseIndex.Len()), "cases")
	b.ReportMetric(float64(size)/float64(e.caseIndex.Len()), "bytes/case")
	b.ReportMetric(writeMS, "write-ms")
	b.ReportMetric(float64(fromDB.Milliseconds())/n, "database-ms")
	b.ReportMetric(float64(fromSnap.Milliseconds())/n, "snapshot-ms")
	b.ReportMetric(float64(fromDB)/float64(fromSnap), "database/snapshot")
	b.ReportMetric(0, "ns/op")
}
