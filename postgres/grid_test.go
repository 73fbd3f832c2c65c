package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// rect is a rectangle polygon in degrees, counter-clockwise.
func rect(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

// smallDistrict is a district of 0.02° × 0.02° with two streets (west and
// east halves), one community per street and two unit grids per community.
func smallDistrict() []grid.GridInput {
	const x0, y0 = 120.35, 36.07
	in := []grid.GridInput{
		{Code: "D", Name: "区", Level: grid.LevelDistrict, Unit: "U1", Geometry: rect(x0, y0, x0+0.02, y0+0.02)},
		{Code: "S1", Name: "西街道", Level: grid.LevelStreet, Parent: "D", Geometry: rect(x0, y0, x0+0.01, y0+0.02)},
		{Code: "S2", Name: "东街道", Level: grid.LevelStreet, Parent: "D", Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.02)},
		{Code: "C1", Name: "社区一", Level: grid.LevelCommunity, Parent: "S1", Geometry: rect(x0, y0, x0+0.01, y0+0.02)},
		{Code: "C2", Name: "社区二", Level: grid.LevelCommunity, Parent: "S2", UnitsByCategory: map[string]string{"E01": "U2"}, Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.02)},
		{Code: "G1", Name: "网格1", Level: grid.LevelGrid, Parent: "C1", Geometry: rect(x0, y0, x0+0.01, y0+0.01)},
		{Code: "G2", Name: "网格2", Level: grid.LevelGrid, Parent: "C1", Geometry: rect(x0, y0+0.01, x0+0.01, y0+0.02)},
		{Code: "G3", Name: "网格3", Level: grid.LevelGrid, Parent: "C2", Geometry: rect(x0+0.01, y0, x0+0.02, y0+0.01)},
		{Code: "G4", Name: "网格4", Level: grid.LevelGrid, Parent: "C2", Geometry: rect(x0+0.01, y0+0.01, x0+0.02, y0+0.02)},
	}
	for i := range in {
		in[i].Index = i
	}
	return in
}

func newStore(t *testing.T) (*postgres.GridStore, pgx.Tx) {
	t.Helper()
	tx := dbtest.Tx(t)
	s := postgres.NewGridStore(tx)
	if _, _, err := s.UpsertUnits(context.Background(), []grid.Unit{{Code: "U1", Name: "城管局", Kind: "bureau"}, {Code: "U2", Name: "居委会", Kind: "committee"}}); err != nil {
		t.Fatal(err)
	}
	return s, tx
}

func countGrids(t *testing.T, tx pgx.Tx) int {
	t.Helper()
	var n int
	if err := tx.QueryRow(context.Background(), `SELECT count(*) FROM grids`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportGridsInsertThenUpdate(t *testing.T) {
	t.Parallel()
	s, tx := newStore(t)
	ctx := context.Background()
	res, err := s.ImportGrids(ctx, smallDistrict(), grid.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Inserted != 9 || res.Updated != 0 || len(res.Rejected) != 0 {
		t.Fatalf("first import = %+v, want 9 inserted", res)
	}
	if n := len(res.Topology.Overlaps) + len(res.Topology.Gaps); n != 0 {
		t.Errorf("topology of a clean tiling = %+v, want nothing", res.Topology)
	}
	res, err = s.ImportGrids(ctx, smallDistrict(), grid.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != 9 {
		t.Errorf("second import = %d inserted, %d updated; want 0, 9", res.Inserted, res.Updated)
	}
	g, err := s.FindGridByCode(ctx, "C2")
	if err != nil {
		t.Fatal(err)
	}
	if g.Level != grid.LevelCommunity || g.Parent != "S2" || g.UnitsByCategory["E01"] != "U2" || g.Name != "社区二" {
		t.Errorf("FindGridByCode(C2) = %+v", g)
	}
	if g.AreaM2 < 0.9e6 || g.AreaM2 > 2.1e6 {
		t.Errorf("C2 area = %g m², want about 1.8 km²", g.AreaM2)
	}
	if _, ok := g.Geometry.(orb.Polygon); !ok {
		t.Errorf("C2 geometry is %T, want the imported Polygon", g.Geometry)
	}
	if _, err := s.FindGridByCode(ctx, "nope"); citygrid.ErrorCode(err) != citygrid.CodeNotFound {
		t.Errorf("FindGridByCode(nope) error = %v, want not found", err)
	}
	if n := countGrids(t, tx); n != 9 {
		t.Errorf("stored %d grids, want 9", n)
	}
}

func TestFindGrids(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.ImportGrids(ctx, smallDistrict(), grid.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	west := orb.Bound{Min: orb.Point{120.351, 36.071}, Max: orb.Point{120.352, 36.072}}
	tests := []struct {
		name string
		f    grid.Filter
		want string
	}{
		{"all", grid.Filter{}, "D S1 S2 C1 C2 G1 G2 G3 G4"},
		{"level", grid.Filter{Level: grid.LevelGrid}, "G1 G2 G3 G4"},
		{"parent", grid.Filter{Parent: "C2"}, "G3 G4"},
		{"bbox", grid.Filter{Bound: &west, Level: grid.LevelGrid}, "G1"},
		{"limit", grid.Filter{Limit: 2}, "D S1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := s.FindGrids(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, g := range gs {
				codes = append(codes, g.Code)
			}
			if got := strings.Join(codes, " "); got != tt.want {
				t.Errorf("FindGrids(%+v) = %s, want %s", tt.f, got, tt.want)
			}
		})
	}
}

func TestImportGridsRejects(t *testing.T) {
	t.Parallel()
	bowtie := orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.08}, {120.36, 36.07}, {120.35, 36.08}, {120.35, 36.07}}}
	holeOutside := orb.Polygon{rect(120.35, 36.07, 120.36, 36.08)[0], rect(120.37, 36.07, 120.38, 36.08)[0]}
	tests := []struct {
		name   string
		mutate func(in []grid.GridInput) []grid.GridInput
		index  int
		reason string
	}{
		{"missing code", func(in []grid.GridInput) []grid.GridInput { in[5].Code = ""; return in }, 5, "code is missing"},
		{"duplicate code", func(in []grid.GridInput) []grid.GridInput { in[6].Code = "G1"; return in }, 5, "duplicate code"},
		{"unknown level", func(in []grid.GridInput) []grid.GridInput { in[5].Level = 0; return in }, 5, "level"},
		{"parent missing", func(in []grid.GridInput) []grid.GridInput { in[5].Parent = "NOPE"; return in }, 5, "parent NOPE does not exist"},
		{"parent of wrong level", func(in []grid.GridInput) []grid.GridInput { in[5].Parent = "S1"; return in }, 5, "parent S1 is a street"},
		{"self-intersection", func(in []grid.GridInput) []grid.GridInput { in[0].Geometry = bowtie; return in }, 0, "self-intersect"},
		{"unclosed ring", func(in []grid.GridInput) []grid.GridInput {
			in[5].Geometry = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.36, 36.08}, {120.35, 36.08}}}
			return in
		}, 5, "not closed"},
		{"too few points", func(in []grid.GridInput) []grid.GridInput {
			in[5].Geometry = orb.Polygon{orb.Ring{{120.35, 36.07}, {120.36, 36.07}, {120.35, 36.07}}}
			return in
		}, 5, "point"},
		{"latitude out of range", func(in []grid.GridInput) []grid.GridInput {
			in[5].Geometry = rect(120.35, 36.07, 120.36, 91)
			return in
		}, 5, "latitude"},
		{"hole outside shell", func(in []grid.GridInput) []grid.GridInput { in[5].Geometry = holeOutside; return in }, 5, "hole"},
		{"unit not registered", func(in []grid.GridInput) []grid.GridInput { in[5].Unit = "GHOST"; return in }, 5, "unit GHOST is not registered"},
		{"category unit not registered", func(in []grid.GridInput) []grid.GridInput {
			in[5].UnitsByCategory = map[string]string{"E": "GHOST"}
			return in
		}, 5, "unit GHOST is not registered"},
		{"not inside its parent", func(in []grid.GridInput) []grid.GridInput {
			in[5].Geometry = rect(120.35, 36.07, 120.365, 36.08)
			return in
		}, 5, "not inside its parent C1"},
		{"district with a parent", func(in []grid.GridInput) []grid.GridInput { in[0].Parent = "X"; return in }, 0, "a district has no parent"},
		{"sql-looking code", func(in []grid.GridInput) []grid.GridInput { in[5].Parent = "C1'; DROP TABLE grids; --"; return in }, 5, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, tx := newStore(t)
			res, err := s.ImportGrids(context.Background(), tt.mutate(smallDistrict()), grid.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Committed {
				t.Fatalf("import with a bad feature committed: %+v", res)
			}
			var found bool
			for _, r := range res.Rejected {
				if r.Index == tt.index && strings.Contains(r.Reason, tt.reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("rejected = %+v, want feature %d with reason containing %q", res.Rejected, tt.index, tt.reason)
			}
			if n := countGrids(t, tx); n != 0 {
				t.Errorf("%d grids stored after a rejected import, want 0", n)
			}
		})
	}
}

func TestImportGridsPartialAndCascade(t *testing.T) {
	t.Parallel()
	s, tx := newStore(t)
	in := smallDistrict()
	in[2].Parent = "MISSING" // street S2: its community and grids must go too
	res, err := s.ImportGrids(context.Background(), in, grid.ImportOptions{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range res.Rejected {
		codes = append(codes, r.Code)
	}
	if got := strings.Join(codes, " "); got != "S2 C2 G3 G4" {
		t.Errorf("rejected %s, want S2 C2 G3 G4", got)
	}
	if !res.Committed || res.Inserted != 5 {
		t.Errorf("partial import = %+v, want 5 inserted", res)
	}
	if n := countGrids(t, tx); n != 5 {
		t.Errorf("stored %d grids, want 5", n)
	}
	// The gap where S2 should be is reported.
	var gap bool
	for _, g := range res.Topology.Gaps {
		if g.Parent == "D" && g.Share > 0.45 && g.Share < 0.55 {
			gap = true
		}
	}
	if !gap {
		t.Errorf("topology gaps = %+v, want half of D uncovered", res.Topology.Gaps)
	}
}

func TestTopologyReportsOverlaps(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	in := smallDistrict()
	in[5].Geometry = rect(120.35, 36.07, 120.36, 36.0801) // G1 pokes 0.0001° into G2
	res, err := s.ImportGrids(context.Background(), in, grid.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed {
		t.Fatalf("import rejected: %+v", res.Rejected)
	}
	if len(res.Topology.Overlaps) != 1 {
		t.Fatalf("overlaps = %+v, want one", res.Topology.Overlaps)
	}
	o := res.Topology.Overlaps[0]
	// 0.01° × 0.0001° at 36°N is about 900 m × 11 m.
	if o.A != "G1" || o.B != "G2" || o.AreaM2 < 8000 || o.AreaM2 > 11000 {
		t.Errorf("overlap = %+v, want G1/G2 about 10,000 m²", o)
	}
}

func TestUnits(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ins, upd, err := s.UpsertUnits(context.Background(), []grid.Unit{{Code: "U1", Name: "新名", Kind: "bureau"}, {Code: "U3", Name: "三"}})
	if err != nil {
		t.Fatal(err)
	}
	if ins != 1 || upd != 1 {
		t.Errorf("UpsertUnits = %d inserted, %d updated; want 1, 1", ins, upd)
	}
	units, err := s.FindUnits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 || units[0].Name != "新名" || units[2].Code != "U3" {
		t.Errorf("FindUnits = %+v", units)
	}
}
