package tiles_test

import (
	"context"
	"fmt"
	"testing"

	"citygrid/tiles"
)

// BenchmarkRender renders cold cases tiles over the test district with
// 500,000 cases (about the demo district's density at a million), a fresh
// cache each time.
//
//	go test ./tiles -run '^$' -bench Render -cpuprofile cpu.out
func BenchmarkRender(b *testing.B) {
	f := newFixture(b, 500000, tiles.Options{CacheBytes: 1 << 20})
	for _, z := range []int{10, 13, 14, 16, 17} {
		ts := f.districtTiles(z)
		b.Run(fmt.Sprintf("cases/z%d", z), func(b *testing.B) {
			i := 0
			for b.Loop() {
				svc := tiles.New(f.idx, f.cases, nil, tiles.Options{}, nil)
				if _, _, err := svc.Tile(context.Background(), tiles.LayerCases, ts[i%len(ts)], tiles.Params{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
