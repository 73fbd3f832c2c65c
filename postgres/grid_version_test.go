package postgres_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/grid"
	"citygrid/postgres"
)

// readDraft reads testdata/versions/<name>.geojson.
func readDraft(t *testing.T, name string) grid.DraftInput {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "versions", name+".geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := grid.ParseDraft(f)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// versioned imports the base map and returns a version store on the
// test's transaction.
func versioned(t *testing.T) (*postgres.VersionStore, *postgres.GridStore, pgx.Tx) {
	t.Helper()
	gs, tx := newStore(t)
	res, err := gs.ImportGrids(context.Background(), readDraft(t, "base").Grids, grid.ImportOptions{})
	if err != nil || !res.Committed {
		t.Fatalf("import base: %v %+v", err, res)
	}
	return postgres.NewVersionStore(tx), gs, tx
}

func draft(t *testing.T, vs *postgres.VersionStore, name string) *grid.Version {
	t.Helper()
	v, err := vs.CreateDraft(context.Background(), readDraft(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Rejected) > 0 {
		t.Fatalf("draft %s rejected: %+v", name, v.Rejected)
	}
	return v
}

func codes(refs []grid.GridRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, r.Code)
	}
	sort.Strings(out)
	return out
}

// TestVersionDiff diffs small drafts against the base map: each kind of
// change the diff names.
func TestVersionDiff(t *testing.T) {
	type want struct {
		added, removed, reshaped []string
		renamed                  []grid.Rename
		recoded                  []grid.Recode
		merges                   []grid.Merge
		splits                   []grid.Split
		successors               map[string]string
		unchanged                int
	}
	tests := []struct {
		draft string
		want  want
	}{
		{"merge", want{added: []string{"G12"}, removed: []string{"G1", "G2"}, merges: []grid.Merge{{Into: "G12", From: []string{"G1", "G2"}}},
			successors: map[string]string{"G1": "G12", "G2": "G12"}, unchanged: 7}},
		{"split", want{added: []string{"G3E", "G3W"}, removed: []string{"G3"}, splits: []grid.Split{{From: "G3", Into: []string{"G3E", "G3W"}}},
			successors: map[string]string{"G3": "G3E"}, unchanged: 8}},
		{"rename", want{renamed: []grid.Rename{{Code: "G4", From: "网格4", To: "新网格4"}}, successors: map[string]string{}, unchanged: 8}},
		{"recode", want{added: []string{"G1X"}, removed: []string{"G1"}, recoded: []grid.Recode{{From: "G1", To: "G1X", Level: grid.LevelGrid}},
			successors: map[string]string{"G1": "G1X"}, unchanged: 8}},
		{"reshape", want{reshaped: []string{"G1", "G2"}, successors: map[string]string{}, unchanged: 7}},
		{"retire", want{removed: []string{"G4"}, successors: map[string]string{"G4": ""}, unchanged: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.draft, func(t *testing.T) {
			t.Parallel()
			vs, _, _ := versioned(t)
			v := draft(t, vs, tt.draft)
			d, err := vs.VersionDiff(context.Background(), v.ID)
			if err != nil {
				t.Fatal(err)
			}
			var reshaped []string
			for _, r := range d.Reshaped {
				reshaped = append(reshaped, r.Code)
			}
			got := want{added: codes(d.Added), removed: codes(d.Removed), reshaped: reshaped, renamed: d.Renamed, recoded: d.Recoded,
				merges: d.Merges, splits: d.Splits, successors: d.Successors, unchanged: d.Unchanged}
			norm := func(w *want) {
				for _, s := range []*[]string{&w.added, &w.removed, &w.reshaped} {
					if *s == nil {
						*s = []string{}
					}
				}
				if w.renamed == nil {
					w.renamed = []grid.Rename{}
				}
				if w.recoded == nil {
					w.recoded = []grid.Recode{}
				}
				if w.merges == nil {
					w.merges = []grid.Merge{}
				}
				if w.splits == nil {
					w.splits = []grid.Split{}
				}
			}
			w := tt.want
			norm(&w)
			norm(&got)
			if !reflect.DeepEqual(w, got) {
				t.Errorf("diff of %s:\n got %+v\nwant %+v", tt.draft, got, w)
			}
		})
	}
	t.Run("reshape areas", func(t *testing.T) {
		vs, _, _ := versioned(t)
		d, err := vs.VersionDiff(context.Background(), draft(t, vs, "reshape").ID)
		if err != nil {
			t.Fatal(err)
		}
		// 0.01° × 0.002° at 36.07° N: about 900 m × 222 m.
		for _, r := range d.Reshaped {
			moved := r.GainedM2 + r.LostM2
			if moved < 180000 || moved > 220000 {
				t.Errorf("%s moved %.0f m², want about 200000", r.Code, moved)
			}
			if (r.Code == "G1") != (r.GainedM2 > 0 && r.LostM2 == 0) {
				t.Errorf("%s gained %.0f, lost %.0f: G1 grows, G2 shrinks", r.Code, r.GainedM2, r.LostM2)
			}
		}
	})
}

// TestGridHistoryRefusesOverlap: the database, not only Go, refuses two
// periods of one code that overlap, and an empty period.
func TestGridHistoryRefusesOverlap(t *testing.T) {
	_, _, tx := versioned(t)
	ctx := context.Background()
	for name, sql := range map[string]string{
		"overlap": `INSERT INTO grid_history (code, valid, name, level, units_by_category, geom, area_m2)
		            SELECT code, tstzrange(now() + interval '1 day', NULL), name, level, units_by_category, geom, area_m2 FROM grid_history WHERE code = 'G1'`,
		"empty": `INSERT INTO grid_history (code, valid, name, level, units_by_category, geom, area_m2)
		          SELECT 'NEW', 'empty', name, level, units_by_category, geom, area_m2 FROM grid_history WHERE code = 'G1'`,
	} {
		sp, err := tx.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sp.Exec(ctx, sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.ConstraintName == "" {
			t.Errorf("%s: err %v, want a constraint violation", name, err)
		}
		_ = sp.Rollback(ctx)
	}
}

func insertCase(t *testing.T, tx pgx.Tx, ext, category string, p orb.Point, g, unit, status string) int64 {
	t.Helper()
	var id int64
	err := tx.QueryRow(context.Background(), `INSERT INTO cases (source, external_id, category, geom, h3, grid, unit, status, reported_at, due_at, unit_rule)
VALUES ('t', $1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326), 0, $5, $6, $7, now() - interval '2 days', now() + interval '2 days', 'default')
RETURNING id`, ext, category, p[0], p[1], g, unit, status).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestVersionPreviewAndActivation previews the split of G3 with cases on
// either side, then activates it: the preview's counts equal the cases
// re-attributed, closed cases keep their grid, and each moved case has
// one event naming the version.
func TestVersionPreviewAndActivation(t *testing.T) {
	vs, _, tx := versioned(t)
	ctx := context.Background()
	v := draft(t, vs, "split")
	east := orb.Point{120.368, 36.075} // in G3, east half
	west := orb.Point{120.362, 36.075} // in G3, west half
	open1 := insertCase(t, tx, "o1", "E0101", east, "G3", "U2", "dispatched")
	open2 := insertCase(t, tx, "o2", "A01", west, "G3", "U1", "accepted")
	closed := insertCase(t, tx, "c1", "A01", east, "G3", "U1", "closed")
	insertCase(t, tx, "o3", "A01", orb.Point{120.355, 36.075}, "G1", "U1", "accepted") // G1: unchanged

	p, err := vs.Preview(ctx, v.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p.OpenCases != 3 || p.Moved != 2 {
		t.Fatalf("preview: %d open, %d moved; want 3 open, 2 moved", p.OpenCases, p.Moved)
	}
	wantMoves := map[int64]string{open1: "G3E", open2: "G3W"}
	for _, m := range p.Moves {
		if wantMoves[m.ID] != m.ToGrid || m.FromGrid != "G3" || m.FromStreet != "S2" || m.ToStreet != "S2" {
			t.Errorf("move %+v, want case %d to %s in street S2", m, m.ID, wantMoves[m.ID])
		}
	}
	if len(p.UnitMatrix) != 0 { // the units stay: C2's rule and D's default
		t.Errorf("unit matrix %+v, want none", p.UnitMatrix)
	}

	act, err := vs.Activate(ctx, v.ID, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if act.Reattributed != p.Moved || act.Version.Status != grid.VersionActive {
		t.Fatalf("activation re-attributed %d (want %d as previewed), status %s", act.Reattributed, p.Moved, act.Version.Status)
	}
	for id, want := range map[int64]string{open1: "G3E", open2: "G3W", closed: "G3"} {
		var g string
		var events int
		if err := tx.QueryRow(ctx, `SELECT grid, (SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'reattribute' AND e.data->>'version' = $2::bigint::text)
FROM cases c WHERE id = $1`, id, v.ID).Scan(&g, &events); err != nil {
			t.Fatal(err)
		}
		wantEvents := 1
		if id == closed {
			wantEvents = 0
		}
		if g != want || events != wantEvents {
			t.Errorf("case %d: grid %s with %d events, want %s with %d", id, g, events, want, wantEvents)
		}
	}
	if n := countGrids(t, tx); n != 10 {
		t.Errorf("%d grids in force, want 10", n)
	}
}

// TestVersionAsOf schedules the reshape for an hour from now, applies it
// at that time, and locates on both sides of the switch.
func TestVersionAsOf(t *testing.T) {
	vs, _, tx := versioned(t)
	ctx := context.Background()
	var now time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	v := draft(t, vs, "reshape")
	at := now.Add(time.Hour)
	act, err := vs.Activate(ctx, v.ID, at, now)
	if err != nil {
		t.Fatal(err)
	}
	if !act.Scheduled || act.Version.Status != grid.VersionScheduled {
		t.Fatalf("activation %+v, want scheduled", act)
	}
	if done, err := vs.ApplyDue(ctx, at.Add(-time.Second)); err != nil || len(done) != 0 {
		t.Fatalf("applied %d before the time (err %v)", len(done), err)
	}
	done, err := vs.ApplyDue(ctx, at.Add(time.Second))
	if err != nil || len(done) != 1 {
		t.Fatalf("applied %d at the time (err %v), want 1", len(done), err)
	}
	p := orb.Point{120.355, 36.0805} // between the old (36.08) and the new (36.082) edge of G1 and G2
	for _, tc := range []struct {
		at       time.Time
		grid     string
		version  int64
		previous bool
	}{
		{now.Add(30 * time.Minute), "G2", 0, true},
		{at, "G1", v.ID, false},
		{at.Add(24 * time.Hour), "G1", v.ID, false},
	} {
		grids, ver, err := vs.GridsAt(ctx, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if tc.previous && ver == v.ID || !tc.previous && ver != tc.version {
			t.Errorf("version at %s = %d", tc.at, ver)
		}
		l, err := grid.NewLocator(grids, nil, grid.LocatorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.Assign(p, "")
		if err != nil || a.Grid == nil || a.Grid.Code != tc.grid {
			t.Errorf("at %s: located in %v (err %v), want %s", tc.at, a.Grid, err, tc.grid)
		}
	}
	// As-of locate equals ST_Covers over that time's grid rows, for
	// random points and times on both sides of the switch.
	const n = 10000
	rng := rand.New(rand.NewPCG(19, 13))
	xs, ys, ts := make([]float64, n), make([]float64, n), make([]time.Time, n)
	locators := map[bool]*grid.Locator{}
	for _, after := range []bool{false, true} {
		when := now.Add(30 * time.Minute)
		if after {
			when = at.Add(time.Hour)
		}
		grids, _, err := vs.GridsAt(ctx, when)
		if err != nil {
			t.Fatal(err)
		}
		if locators[after], err = grid.NewLocator(grids, nil, grid.LocatorOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		xs[i], ys[i] = 120.349+rng.Float64()*0.022, 36.069+rng.Float64()*0.022
		ts[i] = now.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
	}
	rows, err := tx.Query(ctx, `SELECT COALESCE((SELECT h.code FROM grid_history h
    WHERE h.valid @> p.t AND ST_Covers(h.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)) ORDER BY h.level DESC, h.code LIMIT 1), '')
FROM unnest($1::float8[], $2::float8[], $3::timestamptz[]) WITH ORDINALITY AS p (x, y, t, i) ORDER BY p.i`, xs, ys, ts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	mismatches := 0
	for i := range n {
		a, err := locators[!ts[i].Before(at)].Assign(orb.Point{xs[i], ys[i]}, "")
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if a.Grid != nil {
			got = a.Grid.Code
		}
		if got != want[i] && mismatches < 5 {
			mismatches++
			t.Errorf("(%v, %v) at %s: locator %q, ST_Covers %q", xs[i], ys[i], ts[i], got, want[i])
		}
	}

	from, to, err := vs.Epoch(ctx, now.Add(30*time.Minute))
	if err != nil || !to.Equal(at) || from.After(now) {
		t.Errorf("epoch [%s, %s) (err %v), want up to %s", from, to, err, at)
	}
}

// TestVersionRefusals: bad requests change nothing and say why.
func TestVersionRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("retired code in a key's scope without successor", func(t *testing.T) {
		vs, _, tx := versioned(t)
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (name, role, scope, token_sha256) VALUES ('east', 'viewer', '{G4}', sha256('x'))`); err != nil {
			t.Fatal(err)
		}
		v := draft(t, vs, "retire")
		p, err := vs.Preview(ctx, v.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Blocking) != 1 || p.Blocking[0].Code != "G4" || p.Blocking[0].Name != "east" {
			t.Errorf("preview blocking %+v, want the key east on G4", p.Blocking)
		}
		_, err = vs.Activate(ctx, v.ID, time.Time{}, time.Now())
		assertCode(t, err, citygrid.CodeConflict)
		if n := countGrids(t, tx); n != 9 {
			t.Errorf("%d grids after a refused activation, want 9", n)
		}
		if got, _ := vs.FindVersion(ctx, v.ID); got.Status != grid.VersionDraft {
			t.Errorf("status %s after a refused activation", got.Status)
		}
	})
	t.Run("key scope rewritten through a successor", func(t *testing.T) {
		vs, _, tx := versioned(t)
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (name, role, scope, token_sha256) VALUES ('north', 'viewer', '{G1,G2,C2}', sha256('y'))`); err != nil {
			t.Fatal(err)
		}
		v := draft(t, vs, "merge")
		act, err := vs.Activate(ctx, v.ID, time.Time{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var scope []string
		var audited int
		if err := tx.QueryRow(ctx, `SELECT scope, (SELECT count(*) FROM audit_log WHERE action = 'key.scope_rewrite') FROM api_keys WHERE name = 'north'`).Scan(&scope, &audited); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(scope, []string{"C2", "G12"}) || audited != 1 || len(act.Rewritten) != 2 {
			t.Errorf("scope %v, %d audit rows, %d rewritten; want [C2 G12], 1, 2", scope, audited, len(act.Rewritten))
		}
	})
	t.Run("effective_at in the past", func(t *testing.T) {
		vs, _, _ := versioned(t)
		v := draft(t, vs, "rename")
		_, err := vs.Activate(ctx, v.ID, time.Now().Add(-time.Hour), time.Now())
		assertCode(t, err, citygrid.CodeUnprocessable)
	})
	t.Run("unknown version", func(t *testing.T) {
		vs, _, _ := versioned(t)
		_, err := vs.Activate(ctx, 987654, time.Time{}, time.Now())
		assertCode(t, err, citygrid.CodeNotFound)
	})
	t.Run("draft with rejected features", func(t *testing.T) {
		vs, _, tx := versioned(t)
		in := readDraft(t, "rename")
		in.Grids[len(in.Grids)-1].Parent = "NOPE"
		v, err := vs.CreateDraft(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Rejected) != 1 {
			t.Fatalf("rejected %+v, want one", v.Rejected)
		}
		_, err = vs.Activate(ctx, v.ID, time.Time{}, time.Now())
		assertCode(t, err, citygrid.CodeUnprocessable)
		if n := countGrids(t, tx); n != 9 {
			t.Errorf("%d grids, want 9", n)
		}
	})
	t.Run("successor that does not exist", func(t *testing.T) {
		vs, _, tx := versioned(t)
		in := readDraft(t, "merge")
		in.Successors = map[string]string{"G1": "NOWHERE"}
		_, err := vs.CreateDraft(ctx, in)
		assertCode(t, err, citygrid.CodeUnprocessable)
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM grid_versions WHERE kind = 'draft'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d drafts stored (err %v), want none", n, err)
		}
	})
	t.Run("activated twice", func(t *testing.T) {
		vs, _, _ := versioned(t)
		v := draft(t, vs, "rename")
		if _, err := vs.Activate(ctx, v.ID, time.Time{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := vs.Activate(ctx, v.ID, time.Time{}, time.Now())
		assertCode(t, err, citygrid.CodeConflict)
	})
}

func assertCode(t *testing.T, err error, want citygrid.Code) {
	t.Helper()
	var ce *citygrid.Error
	if !errors.As(err, &ce) || ce.Code != want {
		t.Errorf("err %v, want a %s error", err, want)
	}
}
