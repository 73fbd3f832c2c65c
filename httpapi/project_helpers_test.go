package httpapi_test

import (
	"fmt"
	"net/http"
)

// projectBody is a new project over the given unit grids, led by a name of
// unit U1, due in 2027 (the tests' clock is in November 2026).
func projectBody(grids ...string) string {
	list := ""
	for i, g := range grids {
		if i > 0 {
			list += ","
		}
		list += fmt.Sprintf("%q", g)
	}
	return `{"name":"背街小巷整治","kind":"environment","area":{"grids":[` + list + `]},"categories":["E01"],` +
		`"leader":{"name":"王队长","unit":"U1"},"units":["U1","U2"],"plan":"分段施工","budget":{"amount_cny":1250000.5,"source":"区财政"},` +
		`"deadline":"2027-03-31","milestones":[{"name":"摸排","working_days":5},{"name":"施工","working_days":20},{"name":"验收","working_days":3}]}`
}

// projectsAndDisputes stores, as the admin, a project in street S1 and one
// in S2, and a case on each side of the G1|G3 border, within the border
// tolerance: G1's unit is U1 (the district's), G3's for E01 is U2, so both
// are disputed. It returns the ids.
func (a *accessAPI) projectsAndDisputes() (pIn, pOut, dIn, dOut string) {
	a.t.Helper()
	return a.project(projectBody("G1")), a.project(projectBody("G3")),
		a.newCase("border-in", "patrol", "E0101", [2]float64{x0 + 0.01 - 0.00002, y0 + 0.005}, "dispatched"),
		a.newCase("border-out", "patrol", "E0101", [2]float64{x0 + 0.01 + 0.00002, y0 + 0.005}, "dispatched")
}

// project creates a project as the admin and returns its id.
func (a *api) project(body string) string {
	a.t.Helper()
	r := a.post("/v1/projects", body)
	if r.status != http.StatusCreated {
		a.t.Fatalf("create project: %d %s", r.status, r.body)
	}
	var p struct{ ID string }
	r.decode(a.t, &p)
	return p.ID
}
