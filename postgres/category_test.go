package postgres_test

import (
	"context"
	"errors"
	"testing"

	"citygrid"
	"citygrid/cases"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// withExtra is the default table plus the branch X ▸ X01, which no other
// test uses: cases of X01 are this test's alone, even among committed ones.
func withExtra(t *testing.T) *cases.Categories {
	t.Helper()
	list := cases.DefaultCategories()
	for _, code := range []string{"X", "X01"} {
		list = append(list, cases.Category{Code: code, NameZH: "测", NameEN: "test", TimeLimit: cases.TimeLimit{Value: 1, Unit: cases.WorkingDays}})
	}
	cs, err := cases.NewCategories(list)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func defaultTable(t *testing.T) *cases.Categories {
	t.Helper()
	cs, err := cases.NewCategories(cases.DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// caseOf prepares a case of category in the small district.
func caseOf(t *testing.T, cats *cases.Categories, id, category string) *cases.Case {
	t.Helper()
	district := &grid.Grid{Code: "D", Name: "区", Level: grid.LevelDistrict, Unit: "U1", Geometry: rect(120.35, 36.07, 120.37, 36.09)}
	loc, err := grid.NewLocator([]*grid.Grid{district}, nil, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := input("cat-test", id, category, 120.36, 36.08)
	c, err := in.Prepare(cats, cases.DefaultCalendar(), loc, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func inUse(t *testing.T, err error) []postgres.CategoryUse {
	t.Helper()
	var e *citygrid.Error
	if !errors.As(err, &e) || e.Code != citygrid.CodeConflict {
		t.Fatalf("error = %v, want a conflict", err)
	}
	list, _ := e.Details["in_use"].([]postgres.CategoryUse)
	return list
}

func TestReplaceCategoriesKeepsCodesInUse(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	extra := withExtra(t)
	if err := e.cases.ReplaceCategories(ctx, extra); err != nil {
		t.Fatal(err)
	}
	var batch []*cases.Case
	for _, id := range []string{"a", "b", "c"} {
		batch = append(batch, caseOf(t, extra, id, "X01"))
	}
	if _, err := e.cases.InsertCases(ctx, batch); err != nil {
		t.Fatal(err)
	}
	err := e.cases.ReplaceCategories(ctx, defaultTable(t))
	if got := inUse(t, err); len(got) != 1 || got[0] != (postgres.CategoryUse{Code: "X01", Cases: 3}) {
		t.Errorf("in use = %+v, want X01 with 3 cases", got)
	}
	if cats, _ := e.cases.Categories(ctx); len(cats.List()) != len(extra.List()) {
		t.Errorf("the refused replacement left %d categories, want the %d before", len(cats.List()), len(extra.List()))
	}
	// A table that keeps X01 may drop what no case uses.
	keep := withExtra(t)
	list := []cases.Category{}
	for _, c := range keep.List() {
		if c.Code != "E06" {
			list = append(list, c)
		}
	}
	fewer, err := cases.NewCategories(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cases.ReplaceCategories(ctx, fewer); err != nil {
		t.Errorf("dropping an unused code: %v", err)
	}
}

// TestReplaceCategoriesWaitsForCasesBeingStored races a replacement that
// drops X01 with a case of X01 being stored (committed data, in a schema of
// its own): the replacement waits for the case, sees it, and refuses.
func TestReplaceCategoriesWaitsForCasesBeingStored(t *testing.T) {
	pool := dbtest.Isolated(t, "categories", "cases", "case_events")
	ctx := context.Background()
	store := postgres.NewCaseStore(pool)
	extra := withExtra(t)
	if err := store.ReplaceCategories(ctx, extra); err != nil {
		t.Fatal(err)
	}
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if _, _, err := postgres.NewCaseStore(first).CreateCase(ctx, caseOf(t, extra, "in-flight", "X01"), ""); err != nil {
		t.Fatal(err)
	}
	pid := dbtest.BackendPID(t, first)
	done := make(chan error, 1)
	go func() { done <- store.ReplaceCategories(ctx, defaultTable(t)) }()
	dbtest.WaitBlocked(t, pid) // the replacement waits for the case
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := inUse(t, <-done); len(got) != 1 || got[0].Code != "X01" || got[0].Cases != 1 {
		t.Errorf("in use = %+v, want X01 with the case stored meanwhile", got)
	}
}

// TestCasesWaitForReplacement races a case of X01 with a replacement that
// drops X01 and is about to commit: the case waits, then is refused.
func TestCasesWaitForReplacement(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		name := map[bool]string{false: "one case", true: "bulk"}[bulk]
		t.Run(name, func(t *testing.T) {
			pool := dbtest.Isolated(t, "categories", "cases", "case_events")
			ctx := context.Background()
			store := postgres.NewCaseStore(pool)
			extra := withExtra(t)
			if err := store.ReplaceCategories(ctx, extra); err != nil {
				t.Fatal(err)
			}
			c := caseOf(t, extra, "late", "X01") // validated against the table with X01
			first, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Rollback(ctx) //nolint:errcheck
			if err := postgres.NewCaseStore(first).ReplaceCategories(ctx, defaultTable(t)); err != nil {
				t.Fatal(err)
			}
			pid := dbtest.BackendPID(t, first)
			done := make(chan error, 1)
			go func() {
				if bulk {
					_, err := store.InsertCases(ctx, []*cases.Case{c})
					done <- err
					return
				}
				_, _, err := store.CreateCase(ctx, c, "")
				done <- err
			}()
			dbtest.WaitBlocked(t, pid) // the case waits for the replacement
			if err := first.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-done; citygrid.ErrorCode(err) != citygrid.CodeConflict {
				t.Errorf("storing a case of a code dropped meanwhile: %v, want a conflict", err)
			}
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d cases stored (%v), want none", n, err)
			}
		})
	}
}

func TestPutCategory(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	limit := cases.TimeLimit{Value: 6, Unit: cases.WorkingHours}
	added, err := e.cases.PutCategory(ctx, cases.Category{Code: "E0106", NameZH: "垃圾满溢", NameEN: "Overflowing bin", TimeLimit: limit})
	if err != nil || !added {
		t.Fatalf("adding E0106 = %v, %v", added, err)
	}
	cats, _ := e.cases.Categories(ctx)
	if len(cats.List()) != len(cases.DefaultCategories())+1 {
		t.Errorf("%d categories, want the default table (stored now) and E0106", len(cats.List()))
	}
	changed := limit
	changed.Value = 8
	if added, err := e.cases.PutCategory(ctx, cases.Category{Code: "E0106", NameZH: "垃圾满溢", TimeLimit: changed}); err != nil || added {
		t.Errorf("changing E0106 = %v, %v; want a change", added, err)
	}
	cats, _ = e.cases.Categories(ctx)
	if c, _ := cats.Find("E0106"); c.TimeLimit != changed || c.NameEN != "" || c.Parent != "E01" {
		t.Errorf("E0106 = %+v, want the change stored", c)
	}
	before := len(cats.List())
	if _, err := e.cases.PutCategory(ctx, cases.Category{Code: "E0901", NameZH: "无父", TimeLimit: limit}); citygrid.ErrorCode(err) != citygrid.CodeUnprocessable {
		t.Errorf("adding E0901 without E09: %v, want unprocessable", err)
	}
	if cats, _ = e.cases.Categories(ctx); len(cats.List()) != before {
		t.Errorf("a refused category changed the table: %d entries, want %d", len(cats.List()), before)
	}
}

// TestPutCategoryTakesTurns runs two single changes at once: the later
// waits and keeps the earlier one's change.
func TestPutCategoryTakesTurns(t *testing.T) {
	pool := dbtest.Isolated(t, "categories", "cases")
	ctx := context.Background()
	store := postgres.NewCaseStore(pool)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	limit := cases.TimeLimit{Value: 1, Unit: cases.WorkingDays}
	if _, err := postgres.NewCaseStore(first).PutCategory(ctx, cases.Category{Code: "E07", NameZH: "一", TimeLimit: limit}); err != nil {
		t.Fatal(err)
	}
	pid := dbtest.BackendPID(t, first)
	done := make(chan error, 1)
	go func() {
		_, err := store.PutCategory(ctx, cases.Category{Code: "E08", NameZH: "二", TimeLimit: limit})
		done <- err
	}()
	dbtest.WaitBlocked(t, pid)
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cats, err := store.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, has7 := cats.Find("E07")
	_, has8 := cats.Find("E08")
	if !has7 || !has8 {
		t.Errorf("E07 kept %v, E08 added %v: want both", has7, has8)
	}
}
