package cases

import (
	"testing"
	"time"

	"citygrid"
	"citygrid/grid"
)

func TestReassign(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	// The case lies in S2 (default unit JD2); ownedDistrict sends E01 in C1
	// to JW and leaves the rest of S1 to the fallback, when there is one.
	open := func() *Case {
		return &Case{ID: 7, Category: "E0101", Status: StatusDispatched, Version: 2, Grid: "S2", Unit: "JD2", UnitRule: grid.RuleDefault}
	}
	tests := []struct {
		name     string
		fallback string
		grid     *string
		unit     *string
		want     string // grid/unit/rule after, or the error code
		events   int
	}{
		{"a new grid brings its unit", "", str("C1"), nil, "C1/JW/category", 2},
		{"a new grid without a unit on its path takes the fallback", "FB", str("S1"), nil, "S1/FB/fallback", 2},
		{"a new grid without any owner is refused", "", str("S1"), nil, string(citygrid.CodeUnprocessable), 0},
		{"an unknown grid is refused", "", str("NOPE"), nil, string(citygrid.CodeUnprocessable), 0},
		{"grid and unit both given: the unit stands", "", str("C1"), str("U9"), "C1/U9/manual", 2},
		{"a unit alone", "", nil, str("U9"), "S2/U9/manual", 1},
		{"the grid cannot be cleared", "", str(""), nil, string(citygrid.CodeUnprocessable), 0},
		{"the unit cannot be cleared", "", nil, str(""), string(citygrid.CodeUnprocessable), 0},
		{"the unit cannot be cleared with a grid either", "", str("C1"), str(""), string(citygrid.CodeUnprocessable), 0},
		{"the same grid again changes nothing", "", str("S2"), nil, string(citygrid.CodeInvalid), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open()
			events, err := ApplyUpdate(c, Update{Grid: tt.grid, Unit: tt.unit, IfVersion: 2, Now: now, Actor: "d",
				Calendar: DefaultCalendar(), Locator: ownedDistrict(t, tt.fallback)})
			if err != nil {
				if got := string(citygrid.ErrorCode(err)); got != tt.want {
					t.Fatalf("error = %v, want %s", err, tt.want)
				}
				if c.Grid != "S2" || c.Unit != "JD2" || c.UnitRule != grid.RuleDefault || c.Version != 2 {
					t.Errorf("a refused update changed the case: %+v", c)
				}
				return
			}
			if got := c.Grid + "/" + c.Unit + "/" + c.UnitRule; got != tt.want || len(events) != tt.events {
				t.Errorf("after update %s with %d events, want %s with %d", got, len(events), tt.want, tt.events)
			}
		})
	}
}
