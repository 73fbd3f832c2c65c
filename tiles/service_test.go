package tiles_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/tiles"
)

// TestFeaturesInsideBufferedTile: every coordinate of every layer lies in
// [-64, 4160]², and polygons have valid winding.
func TestFeaturesInsideBufferedTile(t *testing.T) {
	f := newFixture(t, 3000, tiles.Options{})
	for z := 8; z <= 17; z++ {
		for _, tile := range f.districtTiles(z) {
			layers, _ := f.decode(t, tiles.LayerBattlemap, tile, tiles.Params{})
			for _, l := range layers {
				if l.Extent != tiles.Extent || l.Version != 2 {
					t.Fatalf("%s %s: extent %d version %d", tile, l.Name, l.Extent, l.Version)
				}
				for _, feat := range l.Features {
					if feat.ID == nil {
						t.Fatalf("%s %s: feature without id", tile, l.Name)
					}
					b := feat.Geometry.Bound()
					if b.Min[0] < -tiles.Buffer || b.Min[1] < -tiles.Buffer || b.Max[0] > tiles.Extent+tiles.Buffer || b.Max[1] > tiles.Extent+tiles.Buffer {
						t.Fatalf("%s %s: feature %v outside the buffered tile: %v", tile, l.Name, feat.ID, b)
					}
				}
			}
		}
	}
}

// tileOf is the tile at z whose own extent (no buffer) holds p.
func tileOf(p orb.Point, z int) geo.Tile {
	for _, t := range geo.TilesAt(p, z, tiles.Extent, 0) {
		return t
	}
	return geo.Tile{}
}

// TestPointsAreExactlyTheCasesInTheTile compares point tiles with a brute
// force pass over every case.
func TestPointsAreExactlyTheCasesInTheTile(t *testing.T) {
	f := newFixture(t, 5000, tiles.Options{})
	var all []caseindex.Entry
	f.cases.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(c caseindex.Entry) { all = append(all, c) })
	filters := map[string]tiles.Params{
		"none":       {},
		"open":       {Filter: caseindex.Filter{Statuses: []cases.Status{cases.StatusReported, cases.StatusDispatched}}},
		"category":   {Filter: caseindex.Filter{Categories: []string{"E05"}, Source: "patrol"}},
		"categories": {Filter: caseindex.Filter{Categories: []string{"E05", "C01"}}},
		"window":     {Filter: caseindex.Filter{From: testNow.Add(-10 * 24 * time.Hour), To: testNow.Add(-2 * 24 * time.Hour)}},
	}
	for name, p := range filters {
		for _, z := range []int{14, 16} {
			for _, tile := range f.districtTiles(z) {
				b := tile.Bound(tiles.Extent, tiles.Buffer)
				var want []int64
				for _, c := range all {
					if b.Contains(c.Location) && matches(c, p.Filter) {
						want = append(want, c.ID)
					}
				}
				layers, _ := f.decode(t, tiles.LayerCases, tile, p)
				var got []int64
				if l := layerNamed(layers, tiles.LayerCases); l != nil {
					for _, feat := range l.Features {
						got = append(got, int64(feat.Properties["id"].(float64)))
						if feat.Properties["status"] == nil || feat.Properties["unit"] == nil || feat.Properties["age_hours"] == nil {
							t.Fatalf("case feature lacks properties: %v", feat.Properties)
						}
					}
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("%s z%d %s: %d cases in tile, want %d", name, z, tile, len(got), len(want))
				}
			}
		}
	}
}

func matches(c caseindex.Entry, f caseindex.Filter) bool {
	if (!f.From.IsZero() && c.ReportedAt.Before(f.From)) || (!f.To.IsZero() && !c.ReportedAt.Before(f.To)) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status) {
		return false
	}
	if len(f.Categories) > 0 && !slices.ContainsFunc(f.Categories, func(p string) bool { return strings.HasPrefix(c.Category, p) }) {
		return false
	}
	return (f.Source == "" || f.Source == c.Source) && (f.Unit == "" || f.Unit == c.Unit)
}

// TestClusterCountsAddUp: below the point zoom, the clusters whose centre
// lies in a tile count exactly the cases whose cluster cell that is, and
// over all tiles of a zoom they count every case once.
func TestClusterCountsAddUp(t *testing.T) {
	f := newFixture(t, 5000, tiles.Options{})
	var all []caseindex.Entry
	f.cases.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(c caseindex.Entry) { all = append(all, c) })
	for z := 6; z < 14; z++ {
		res := tiles.ClusterRes(uint32(z))
		perTile := map[geo.Tile]int{}
		for _, c := range all {
			cell, _ := caseindex.Cell(c.Location, res)
			perTile[tileOf(cell.Center(), z)]++
		}
		total := 0
		for tile, want := range perTile {
			layers, _ := f.decode(t, tiles.LayerCases, tile, tiles.Params{})
			got := 0
			for _, feat := range layerNamed(layers, tiles.LayerCases).Features {
				cell, err := geo.ParseCell(feat.Properties["h3"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if tileOf(cell.Center(), z) != tile {
					continue // in the buffer: counted by its own tile
				}
				n := int(feat.Properties["count"].(float64))
				sum := 0
				for _, st := range cases.Statuses {
					sum += int(feat.Properties[string(st)].(float64))
				}
				if sum != n {
					t.Fatalf("z%d %s: status counts sum to %d, count is %d", z, tile, sum, n)
				}
				got += n
			}
			if got != want {
				t.Errorf("z%d %s: clusters count %d cases, want %d", z, tile, got, want)
			}
			total += got
		}
		if total != len(all) {
			t.Errorf("z%d: clusters over all tiles count %d, want %d", z, total, len(all))
		}
	}
}

// TestInvalidationIsExact: changing a case gives its tiles a new ETag at
// every zoom and leaves a far tile's entry (and ETag) as it was.
func TestInvalidationIsExact(t *testing.T) {
	f := newFixture(t, 2000, tiles.Options{})
	var c caseindex.Entry
	f.cases.Within(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, caseindex.Filter{}, func(ic caseindex.Entry) {
		if c.ID == 0 || ic.ID == 17 {
			c = ic
		}
	})
	moved := c
	moved.Location = orb.Point{c.Location[0] + 0.004, c.Location[1] + 0.003}
	moved.Status = cases.StatusClosed
	if c.Status == cases.StatusClosed {
		moved.Status = cases.StatusReported
	}
	type probe struct {
		layer string
		tile  geo.Tile
		want  bool // ETag must change
	}
	var probes []probe
	b, _ := f.idx.Locator().Bound("D")
	for _, z := range []int{10, 12, 13, 14, 15, 17} {
		at := func(p orb.Point) geo.Tile {
			if z < 14 {
				cell, _ := caseindex.Cell(p, tiles.ClusterRes(uint32(z)))
				p = cell.Center()
			}
			return tileOf(p, z)
		}
		probes = append(probes, probe{tiles.LayerCases, at(c.Location), true}, probe{tiles.LayerCases, at(moved.Location), true})
		// A tile of the district at the far corner from the case.
		far := b.Min
		if c.Location[0] < b.Center()[0] {
			far = b.Max
		}
		if ft := tileOf(far, z); ft != at(c.Location) && ft != at(moved.Location) && z >= 14 {
			probes = append(probes, probe{tiles.LayerCases, ft, false})
		}
	}
	before := map[probe]string{}
	for _, pr := range probes {
		_, enc := f.decode(t, pr.layer, pr.tile, tiles.Params{})
		before[pr] = enc.ETag
	}
	ch, err := f.cases.Apply(moved)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.CaseChanged(ch)
	for _, pr := range probes {
		enc, hit, err := f.svc.Tile(context.Background(), pr.layer, pr.tile, tiles.Params{})
		if err != nil {
			t.Fatal(err)
		}
		if changed := enc.ETag != before[pr]; changed != pr.want {
			t.Errorf("%s %s: ETag changed %t, want %t", pr.layer, pr.tile, changed, pr.want)
		}
		if !pr.want && !hit {
			t.Errorf("%s %s: untouched tile was dropped from the cache", pr.layer, pr.tile)
		}
	}
}

// TestOverdueExpires: a tile showing an open case before its deadline is
// re-rendered once the deadline passes, without any case change.
func TestOverdueExpires(t *testing.T) {
	idx := district(t)
	x := caseindex.New()
	now := testNow
	svc := tiles.New(idx, x, nil, tiles.Options{}, func() time.Time { return now })
	p := orb.Point{120.35, 36.08}
	gridCode, unit := assign(t, idx.Locator(), p)
	_, _ = x.Apply(caseindex.Entry{ID: 1, Location: p, ReportedAt: now.Add(-time.Hour), DueAt: now.Add(10 * time.Minute), Category: "E01", Status: cases.StatusDispatched, Priority: 2, Source: "patrol", Unit: unit, Grid: gridCode})
	tile := tileOf(p, 16)
	overdue := func() bool {
		enc, _, err := svc.Tile(context.Background(), tiles.LayerCases, tile, tiles.Params{})
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := mvtUnmarshal(enc.Raw)
		return ls[0].Features[0].Properties["overdue_now"].(bool)
	}
	if overdue() {
		t.Fatal("overdue before the deadline")
	}
	now = now.Add(11 * time.Minute)
	if !overdue() {
		t.Error("still not overdue 11 minutes later: the cached tile went stale")
	}
}

// TestConcurrentMissesRenderOnce: many requests for one missing tile run
// one render.
func TestConcurrentMissesRenderOnce(t *testing.T) {
	idx := district(t)
	x := caseindex.New()
	fillCases(t, idx, x, 1000, 3)
	var renders atomic.Int32
	release := make(chan struct{})
	hot := func(ctx context.Context, q tiles.HotspotQuery) ([]tiles.HotCell, error) {
		renders.Add(1)
		<-release
		return fakeHotspots(x)(ctx, q)
	}
	svc := tiles.New(idx, x, hot, tiles.Options{}, func() time.Time { return testNow })
	tile := tileOf(orb.Point{120.37, 36.09}, 12)
	var wg sync.WaitGroup
	etags := make([]string, 20)
	for i := range etags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc, _, err := svc.Tile(context.Background(), tiles.LayerHotspots, tile, tiles.Params{})
			if err != nil {
				t.Error(err)
				return
			}
			etags[i] = enc.ETag
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("%d renders for one tile, want 1", n)
	}
	for _, e := range etags {
		if e != etags[0] {
			t.Fatal("waiters got different tiles")
		}
	}
}
