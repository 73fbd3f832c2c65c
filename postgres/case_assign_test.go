package postgres_test

import (
	"context"
	"encoding/json"
	"testing"

	"citygrid"
	"citygrid/cases"
	"citygrid/grid"
)

// TestCaseUnitRule stores how each case's unit was chosen: at intake (one
// case, and in bulk), and on re-assignment by grid, which re-derives the
// unit by the ownership rule.
func TestCaseUnitRule(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	byDefault, _, err := e.cases.CreateCase(ctx, e.prepare(t, input("app", "r-1", "E0101", 120.355, 36.075)), "")
	if err != nil {
		t.Fatal(err)
	}
	// The same district without the district's default unit, and U2 as the
	// fallback (属地兜底).
	gs, err := e.grids.FindGrids(ctx, grid.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Code == "D" {
			g.Unit = ""
		}
	}
	fallback, err := grid.NewLocator(gs, nil, grid.LocatorOptions{FallbackUnit: "U2"})
	if err != nil {
		t.Fatal(err)
	}
	in := input("app", "r-2", "E0501", 120.355, 36.075)
	c, err := in.Prepare(e.cats, e.cal, fallback, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cases.InsertCases(ctx, []*cases.Case{c}); err != nil {
		t.Fatal(err)
	}
	var byFallback *cases.Case
	if err := e.tx.QueryRow(ctx, `SELECT id FROM cases WHERE external_id = 'r-2'`).Scan(&c.ID); err != nil {
		t.Fatal(err)
	}
	if byFallback, err = e.cases.FindCaseByID(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		c                *cases.Case
		unit, rule, what string
	}{{byDefault, "U1", grid.RuleDefault, "a case of the district's default"}, {byFallback, "U2", grid.RuleFallback, "a bulk case of the fallback"}} {
		if tt.c.Unit != tt.unit || tt.c.UnitRule != tt.rule {
			t.Errorf("%s: unit %s by %q, want %s by %s", tt.what, tt.c.Unit, tt.c.UnitRule, tt.unit, tt.rule)
		}
	}

	// Moved to G3 (community C2 sends E01 to U2): the unit follows.
	g3 := "G3"
	moved, err := e.cases.UpdateCase(ctx, byDefault.ID, cases.Update{Grid: &g3, IfVersion: 1, Now: testNow, Actor: "d", Calendar: e.cal, Locator: e.loc})
	if err != nil {
		t.Fatal(err)
	}
	if moved.Grid != "G3" || moved.Unit != "U2" || moved.UnitRule != grid.RuleCategory {
		t.Errorf("moved case: grid %s unit %s by %s, want G3, U2 by category", moved.Grid, moved.Unit, moved.UnitRule)
	}
	stored, _ := e.cases.FindCaseByID(ctx, byDefault.ID)
	if stored.Unit != "U2" || stored.UnitRule != grid.RuleCategory {
		t.Errorf("stored after the move: unit %s by %s", stored.Unit, stored.UnitRule)
	}
	events, _ := e.cases.CaseHistory(ctx, byDefault.ID)
	var last map[string]string
	if len(events) > 0 {
		_ = json.Unmarshal(events[len(events)-1].Data, &last)
	}
	if last["field"] != "unit" || last["from"] != "U1" || last["to"] != "U2" || last["rule"] != grid.RuleCategory {
		t.Errorf("last event data = %v, want the unit U1 → U2 by category", last)
	}
	empty := ""
	if _, err := e.cases.UpdateCase(ctx, byDefault.ID, cases.Update{Unit: &empty, IfVersion: 2, Now: testNow, Calendar: e.cal, Locator: e.loc}); citygrid.ErrorCode(err) != citygrid.CodeUnprocessable {
		t.Errorf("clearing the unit: %v, want unprocessable", err)
	}
	u1 := "U1"
	manual, err := e.cases.UpdateCase(ctx, byDefault.ID, cases.Update{Unit: &u1, IfVersion: 2, Now: testNow, Calendar: e.cal, Locator: e.loc})
	if err != nil || manual.Unit != "U1" || manual.UnitRule != cases.RuleManual {
		t.Errorf("naming the unit: %+v, %v; want U1 by manual", manual, err)
	}
}
