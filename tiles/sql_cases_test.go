package tiles_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/tiles"
)

// TestTilesAgainstSQL checks every layer's tiles, drawn from memory,
// against independent PostGIS queries over the stored demo district and
// demo cases.
func TestTilesAgainstSQL(t *testing.T) {
	f := newSQLFixture(t)
	t.Run("points", f.testPoints)
	t.Run("clusters", f.testClusters)
	t.Run("grids", f.testGrids)
	t.Run("no cracks", f.testNoCracks)
}

// testPoints: at point zooms the case ids in a tile are exactly those SQL
// finds in the buffered tile envelope, for every filter.
func (f *sqlFixture) testPoints(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 14))
	byID := map[int64]sqlCase{}
	for _, c := range f.cases {
		byID[c.id] = c
	}
	checked, nonEmpty := 0, 0
	for _, z := range []int{14, 15, 17} {
		for _, tile := range f.pointTiles(z, rng) {
			for _, flt := range sqlFilters {
				rows, err := f.tx.Query(ctx, casesInTileSQL, tile.Z, tile.X, tile.Y, flt.statuses, flt.prefix)
				if err != nil {
					t.Fatal(err)
				}
				want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				if l := f.layer(t, tiles.LayerCases, tile, flt.params()); l != nil {
					for _, feat := range l.Features {
						id := int64(feat.Properties["id"].(float64))
						if feat.ID == nil || int64(feat.ID.(float64)) != id {
							t.Errorf("%s: feature id %v, property id %d", tile, feat.ID, id)
						}
						c := byID[id]
						if feat.Properties["status"] != c.status || feat.Properties["category"] != c.category {
							t.Errorf("%s: case %d drawn as %v/%v, stored %s/%s", tile, id, feat.Properties["status"], feat.Properties["category"], c.status, c.category)
						}
						got = append(got, id)
					}
				}
				slices.Sort(got)
				checked++
				if len(want) > 0 {
					nonEmpty++
				}
				if !slices.Equal(got, want) {
					t.Errorf("z%d %s filter %s: %d cases in the tile, SQL finds %d; %s",
						z, tile, flt.name, len(got), len(want), f.describeDiff(tile, got, want, byID))
				}
			}
		}
	}
	if nonEmpty < checked/2 {
		t.Errorf("only %d of %d tile/filter pairs had cases: the check says little", nonEmpty, checked)
	}
	t.Logf("%d tile/filter pairs at z14, z15, z17 equal to SQL (%d with cases)", checked, nonEmpty)
}

// describeDiff names the cases only one side has, with where they lie in
// tile units.
func (f *sqlFixture) describeDiff(tile geo.Tile, got, want []int64, byID map[int64]sqlCase) string {
	pr := geo.NewProjector(tile, tiles.Extent)
	where := func(ids []int64) string {
		var parts []string
		for _, id := range ids {
			x, y := pr.Project(byID[id].loc)
			parts = append(parts, fmt.Sprintf("%d at (%.6f, %.6f)", id, x, y))
			if len(parts) == 5 {
				parts = append(parts, "...")
				break
			}
		}
		return strings.Join(parts, ", ")
	}
	var extra, missing []int64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("only in the tile: [%s]; only in SQL: [%s]", where(extra), where(missing))
}

// clusterCentresInTileSQL picks, of the cases given with their cluster
// cells' centres, those whose centre lies in the buffered tile envelope,
// with their stored status; $7 filters on status as tiles do.
const clusterCentresInTileSQL = `
SELECT c.id, c.status
FROM unnest($1::bigint[], $2::float8[], $3::float8[]) AS cc (id, lng, lat)
JOIN cases c ON c.id = cc.id
WHERE ST_Intersects(ST_Transform(ST_SetSRID(ST_MakePoint(cc.lng, cc.lat), 4326), 3857),
                    ST_TileEnvelope($4::int, $5::int, $6::int, margin => 64.0 / 4096))
  AND ($7::text[] IS NULL OR c.status = ANY ($7))`

// clusterLoad is one cluster's counts.
type clusterLoad struct {
	count    int
	byStatus map[string]int
}

// testClusters: at cluster zooms every tile's clusters count exactly the
// cases whose cluster cell (caseindex.Cell at ClusterRes(z)) has its centre in the buffered tile, SQL deciding the
// "in"; each cell is drawn with the same counts in every tile showing it;
// and the cells of a zoom count every case once.
func (f *sqlFixture) testClusters(t *testing.T) {
	ctx := context.Background()
	for _, flt := range []sqlFilter{sqlFilters[0], sqlFilters[1]} {
		var total int
		if err := f.tx.QueryRow(ctx, `SELECT count(*) FROM cases WHERE $1::text[] IS NULL OR status = ANY ($1)`, flt.statuses).Scan(&total); err != nil {
			t.Fatal(err)
		}
		for z := 10; z <= 13; z++ {
			res := tiles.ClusterRes(uint32(z))
			ids := make([]int64, len(f.cases))
			lngs := make([]float64, len(f.cases))
			lats := make([]float64, len(f.cases))
			cellOf := map[int64]geo.Cell{}
			set := map[geo.Tile]bool{}
			for _, tl := range geo.TilesCovering(f.bound, z) {
				set[tl] = true
			}
			for i, c := range f.cases {
				cell, err := caseindex.Cell(c.loc, res)
				if err != nil {
					t.Fatal(err)
				}
				centre := cell.Center()
				ids[i], lngs[i], lats[i], cellOf[c.id] = c.id, centre[0], centre[1], cell
				for _, tl := range geo.TilesAt(centre, z, tiles.Extent, tiles.Buffer) {
					set[tl] = true
				}
			}
			seen := map[string]int{} // cell → count, over the zoom
			for tile := range set {
				rows, err := f.tx.Query(ctx, clusterCentresInTileSQL, ids, lngs, lats, tile.Z, tile.X, tile.Y, flt.statuses)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]*clusterLoad{}
				var id int64
				var status string
				if _, err := pgx.ForEachRow(rows, []any{&id, &status}, func() error {
					cell := cellOf[id].String()
					if want[cell] == nil {
						want[cell] = &clusterLoad{byStatus: map[string]int{}}
					}
					want[cell].count++
					want[cell].byStatus[status]++
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				got := map[string]*clusterLoad{}
				if l := f.layer(t, tiles.LayerCases, tile, flt.params()); l != nil {
					for _, feat := range l.Features {
						cell := feat.Properties["h3"].(string)
						if feat.Properties["cluster"] != true {
							t.Fatalf("z%d %s: feature %v is not a cluster", z, tile, feat.Properties)
						}
						load := &clusterLoad{count: int(feat.Properties["count"].(float64)), byStatus: map[string]int{}}
						sum := 0
						for _, st := range cases.Statuses {
							if n := int(feat.Properties[string(st)].(float64)); n > 0 {
								load.byStatus[string(st)] = n
								sum += n
							}
						}
						if sum != load.count {
							t.Errorf("z%d %s cell %s: statuses sum to %d, count %d", z, tile, cell, sum, load.count)
						}
						if n, ok := seen[cell]; ok && n != load.count {
							t.Errorf("z%d cell %s: count %d in %s, %d in another tile", z, cell, load.count, tile, n)
						}
						seen[cell] = load.count
						got[cell] = load
					}
				}
				gotSum, wantSum := 0, 0
				for _, l := range got {
					gotSum += l.count
				}
				for _, l := range want {
					wantSum += l.count
				}
				if gotSum != wantSum {
					t.Errorf("filter %s z%d %s: the clusters count %d cases, SQL %d", flt.name, z, tile, gotSum, wantSum)
				}
				for cell, w := range want {
					if g := got[cell]; g == nil || g.count != w.count || !maps.Equal(g.byStatus, w.byStatus) {
						t.Errorf("filter %s z%d %s cell %s: drawn %+v, SQL %+v", flt.name, z, tile, cell, g, w)
					}
				}
				for cell := range got {
					if want[cell] == nil {
						t.Errorf("filter %s z%d %s: cell %s drawn, but SQL puts none of its cases' centres in the tile", flt.name, z, tile, cell)
					}
				}
			}
			sum := 0
			for _, n := range seen {
				sum += n
			}
			if sum != total {
				t.Errorf("filter %s z%d: the clusters of all %d tiles count %d cases, SQL %d", flt.name, z, len(set), sum, total)
			}
		}
	}
}

// gridsInTileSQL is the independent answer for a grids tile: the grids of
// the given levels meeting the buffered tile envelope.
