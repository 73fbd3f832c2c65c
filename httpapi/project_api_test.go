package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// disputeIDs lists the ids in GET /v1/disputes: the list and the map layer.
func (a *tileAPI) disputeIDs() map[string][]string {
	a.t.Helper()
	r := a.mustOK(a.get("/v1/disputes"))
	var fc struct {
		Features []struct {
			Properties struct {
				ID      string
				Reasons []string
			}
		}
	}
	r.decode(a.t, &fc)
	out := map[string][]string{}
	for _, f := range fc.Features {
		out[f.Properties.ID] = f.Properties.Reasons
	}
	return out
}

func (a *tileAPI) caseVersion(id string) string {
	a.t.Helper()
	return a.mustOK(a.get("/v1/cases/" + id)).header.Get("ETag")
}

// TestDisputedOnSecondReturn: a case whose owner is clear is not
// disputed, nor after one return (退单); it is, in the list and on the map
// layer, the moment the second return is stored; settling it takes it off.
func TestDisputedOnSecondReturn(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	id := a.createCase("twice", "E0101", inG1)
	step := func(body string) {
		t.Helper()
		if r := a.patchCase(id, a.caseVersion(id), body); r.status != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", body, r.status, r.body)
		}
	}
	step(`{"status":"accepted"}`)
	step(`{"status":"dispatched"}`)
	if _, ok := a.disputeIDs()[id]; ok {
		t.Fatal("a case with a clear owner is disputed")
	}
	step(`{"status":"accepted","returned":true,"note":"不属本单位"}`)
	if _, ok := a.disputeIDs()[id]; ok {
		t.Fatal("disputed after one return")
	}
	step(`{"status":"dispatched"}`)
	step(`{"status":"accepted","returned":true,"note":"仍不属本单位"}`)
	reasons, ok := a.disputeIDs()[id]
	if !ok || !slices.Equal(reasons, []string{"returned_twice"}) {
		t.Fatalf("after the second return: listed %v with reasons %v, want returned_twice", ok, reasons)
	}
	if r := a.post("/v1/disputes/"+id+"/settle", `{"unit":"U2","note":"居委会负责"}`); r.status != http.StatusOK {
		t.Fatalf("settle: %d %s", r.status, r.body)
	}
	if _, ok := a.disputeIDs()[id]; ok {
		t.Fatal("still disputed after settling")
	}
	var c struct {
		Properties struct {
			Unit     string
			UnitRule string `json:"unit_rule"`
		}
	}
	a.mustOK(a.get("/v1/cases/"+id)).decode(t, &c)
	if c.Properties.Unit != "U2" || c.Properties.UnitRule != "manual" {
		t.Errorf("settled case: unit %q by %q, want U2 by manual", c.Properties.Unit, c.Properties.UnitRule)
	}
	if r := a.post("/v1/disputes/"+id+"/settle", `{"unit":"U1"}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("settling a settled case: %d, want 422", r.status)
	}
}

// TestDisputedByPlace: a case within the border tolerance of a grid of
// another unit is disputed; escalating it links it to a project.
func TestDisputedByPlace(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	border := a.createCase("border", "E0101", orb.Point{x0 + 0.01 - 0.00002, y0 + 0.005})
	inner := a.createCase("inner", "E0101", inG1)
	got := a.disputeIDs()
	if !slices.Contains(got[border], "unit_border") {
		t.Fatalf("border case reasons %v, want unit_border", got[border])
	}
	if _, ok := got[inner]; ok {
		t.Fatal("a case in the middle of its grid is disputed")
	}
	pid := a.project(projectBody("G1"))
	if r := a.post("/v1/disputes/"+border+"/escalate", `{"project":"`+pid+`"}`); r.status != http.StatusOK {
		t.Fatalf("escalate: %d %s", r.status, r.body)
	}
	if _, ok := a.disputeIDs()[border]; ok {
		t.Fatal("still disputed after escalating")
	}
	var p struct {
		LinkedCases []string `json:"linked_cases"`
	}
	a.mustOK(a.get("/v1/projects/"+pid)).decode(t, &p)
	if !slices.Contains(p.LinkedCases, border) {
		t.Errorf("linked cases %v, want %s among them", p.LinkedCases, border)
	}
	var h struct{ Events []struct{ Kind string } }
	a.mustOK(a.get("/v1/projects/"+pid+"/history")).decode(t, &h)
	if len(h.Events) != 2 || h.Events[1].Kind != "escalated" {
		t.Errorf("history %+v, want create then escalated", h.Events)
	}
}

// TestProjectBadInput: every kind of bad project is a clear problem naming
// the field, and nothing is stored.
func TestProjectBadInput(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	good := projectBody("G1")
	tests := []struct {
		name, old, new string
		status         int
		field, detail  string
	}{
		{"empty area", `"area":{"grids":["G1"]}`, `"area":{"grids":[]}`, 400, "area.grids", "empty"},
		{"no area", `"area":{"grids":["G1"]},`, ``, 400, "area", "empty"},
		{"self-intersecting polygon", `"area":{"grids":["G1"]}`,
			`"area":{"type":"Polygon","coordinates":[[[120.351,36.071],[120.359,36.079],[120.359,36.071],[120.351,36.079],[120.351,36.071]]]}`, 400, "area", "not a valid polygon"},
		{"a point is no area", `"area":{"grids":["G1"]}`, `"area":{"type":"Point","coordinates":[120.351,36.071]}`, 400, "area", "Point"},
		{"unknown grid", `"area":{"grids":["G1"]}`, `"area":{"grids":["NOPE"]}`, 422, "area.grids", "does not exist"},
		{"unknown leader unit", `"unit":"U1"}`, `"unit":"NOPE"}`, 422, "leader.unit", "unknown unit"},
		{"unknown user as leader", `"leader":{"name":"王队长","unit":"U1"}`, `"leader":{"user":"nobody"}`, 422, "leader.user", "no user"},
		{"a user and a unit as leader", `"leader":{"name":"王队长","unit":"U1"}`, `"leader":{"user":"x","unit":"U1"}`, 400, "leader", "not both"},
		{"unknown unit involved", `"units":["U1","U2"]`, `"units":["U1","NOPE"]`, 422, "units", "unknown unit"},
		{"past deadline", `"deadline":"2027-03-31"`, `"deadline":"2026-11-20"`, 422, "deadline", "in the past"},
		{"milestones do not fit", `"deadline":"2027-03-31"`, `"deadline":"2026-12-04"`, 422, "milestones[1]", "does not fit"},
		{"budget with fractions of a fen", `1250000.5`, `1250000.505`, 400, "budget.amount_cny", "two decimals"},
		{"unknown field", `"plan":`, `"owner":"x","plan":`, 400, "", "unknown field \"owner\""},
	}
	count := func() int {
		var n int
		if err := a.tx.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM project_milestones) + (SELECT count(*) FROM project_events)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(good, tt.old, tt.new, 1)
			if body == good {
				t.Fatalf("the case changes nothing of the body")
			}
			r := a.post("/v1/projects", body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			var p struct{ Detail, Field string }
			r.decode(t, &p)
			if p.Field != tt.field || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("field %q, detail %q; want field %q, detail with %q", p.Field, p.Detail, tt.field, tt.detail)
			}
			if n := count(); n != before {
				t.Errorf("a refused project stored rows: %d, were %d", n, before)
			}
		})
	}
	// Which milestone does not fit, and by how many working days: from
	// Monday 2026-11-23 to Friday 2026-12-04 there are 10 working days;
	// 验收 (3) fits, 施工 (20) would have to start 13 working days early.
	r := a.post("/v1/projects", strings.Replace(good, `"deadline":"2027-03-31"`, `"deadline":"2026-12-04"`, 1))
	var p struct {
		Milestone int `json:"milestone"`
		Short     int `json:"short_by_working_days"`
		Missing   int `json:"missing_working_days"`
	}
	r.decode(t, &p)
	if p.Milestone != 1 || p.Short != 13 || p.Missing != 18 {
		t.Errorf("not fitting: milestone %d short by %d, missing %d; want 1, 13, 18: %s", p.Milestone, p.Short, p.Missing, r.body)
	}
}

// TestProjectLifecycle: one leader per area, status steps, milestones
// done, linked cases and progress, late milestones in the list and on the
// projects layer.
func TestProjectLifecycle(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	pid := a.project(projectBody("G1"))
	other := strings.Replace(projectBody("G1"), `"leader":{"name":"王队长","unit":"U1"}`, `"leader":{"name":"李主任","unit":"U2"}`, 1)
	if r := a.post("/v1/projects", other); r.status != http.StatusConflict || !strings.Contains(string(r.body), "包片") {
		t.Fatalf("a second leader over the same area: %d %s, want 409", r.status, r.body)
	}
	if r := a.post("/v1/projects", strings.Replace(other, `"grids":["G1"]`, `"grids":["G3"]`, 1)); r.status != http.StatusCreated {
		t.Fatalf("another leader elsewhere: %d %s", r.status, r.body)
	}
	a.project(projectBody("G1", "G2")) // the same leader may lead another project over it
	// A user of citygrid as the leader: named by the user's display name.
	if r := a.post("/v1/users", `{"name":"wang","display_name":"王队长","role":"dispatcher","password":"a long password 1"}`); r.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	var byUser struct{ Leader struct{ User, Name string } }
	r := a.post("/v1/projects", strings.Replace(projectBody(g4), `"leader":{"name":"王队长","unit":"U1"}`, `"leader":{"user":"wang"}`, 1))
	if r.status != http.StatusCreated {
		t.Fatalf("a user as leader: %d %s", r.status, r.body)
	}
	r.decode(t, &byUser)
	if byUser.Leader.User != "wang" || byUser.Leader.Name != "王队长" {
		t.Errorf("leader %+v", byUser.Leader)
	}

	patch := func(body string, want int) reply {
		t.Helper()
		r := a.do(http.MethodPatch, "/v1/projects/"+pid, "application/json", strings.NewReader(body))
		if r.status != want {
			t.Fatalf("PATCH %s: %d %s, want %d", body, r.status, r.body, want)
		}
		return r
	}
	patch(`{"status":"done"}`, http.StatusUnprocessableEntity)
	patch(`{"status":"in_progress","complete_milestones":[0],"spent_cny":300000}`, http.StatusOK)
	patch(`{"deadline":"2027-06-30"}`, http.StatusUnprocessableEntity) // re-planning needs a suspended project

	in := a.createCase("in-area", "E0101", inG1)
	otherCat := a.createCase("other-category", "C0101", inG1)
	out := a.createCase("elsewhere", "E0101", inG3)
	patch(`{"link_cases":["`+out+`"]}`, http.StatusOK)
	var cases struct {
		Features []struct{ Properties struct{ ID string } }
	}
	a.mustOK(a.get("/v1/projects/"+pid+"/cases")).decode(t, &cases)
	var ids []string
	for _, f := range cases.Features {
		ids = append(ids, f.Properties.ID)
	}
	slices.Sort(ids)
	want := []string{in, out}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("linked cases %v, want %v (not %s, of another category)", ids, want, otherCat)
	}
	var pr struct {
		Milestones struct{ Total, Done, Late int }
		Cases      struct{ Linked, Auto, Manual, Open, Closed int }
		Money      struct {
			Spent json.Number `json:"spent_cny"`
			Share float64
		}
	}
	a.mustOK(a.get("/v1/projects/"+pid+"/progress")).decode(t, &pr)
	if pr.Milestones.Total != 3 || pr.Milestones.Done != 1 || pr.Milestones.Late != 0 || pr.Cases.Linked != 2 || pr.Cases.Auto != 1 ||
		pr.Cases.Manual != 1 || pr.Cases.Open != 2 || pr.Money.Spent != "300000.00" || pr.Money.Share < 0.239 || pr.Money.Share > 0.241 {
		t.Errorf("progress %+v", pr)
	}

	// A milestone due last week and not done is late (the clock is fixed,
	// so the plan is moved back in the database).
	if _, err := a.tx.Exec(context.Background(), `UPDATE project_milestones SET start_on = '2026-11-02', due_on = '2026-11-16' WHERE project_id = $1 AND ord = 1`, pid); err != nil {
		t.Fatal(err)
	}
	var list struct{ Projects []struct{ ID string } }
	a.mustOK(a.get("/v1/projects?late=true")).decode(t, &list)
	if len(list.Projects) != 1 || list.Projects[0].ID != pid {
		t.Errorf("late projects %+v, want only %s", list.Projects, pid)
	}
	a.mustOK(a.get("/v1/projects?leader="+"李主任")).decode(t, &list)
	if len(list.Projects) != 1 || list.Projects[0].ID == pid {
		t.Errorf("projects led by 李主任: %+v", list.Projects)
	}
	fs := features(t, a.tile(strings.Replace(tilePath("cases", inG1, 14, ""), "/cases/", "/projects/", 1)), "projects")
	late := map[string]bool{}
	for _, f := range fs {
		late[f.Properties.MustString("id")] = f.Properties.MustBool("late")
		if f.Properties.MustString("id") == pid && (f.Properties.MustString("leader") != "王队长" || f.Properties.MustString("status") != "in_progress") {
			t.Errorf("tile feature %v", f.Properties)
		}
	}
	if len(fs) != 4 || !late[pid] {
		t.Errorf("projects layer: %d features, late %v; want 4, %s late", len(fs), late, pid)
	}
	var h struct{ Events []struct{ Kind string } }
	a.mustOK(a.get("/v1/projects/"+pid+"/history")).decode(t, &h)
	var kinds []string
	for _, e := range h.Events {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "create,spent,milestone_done,status,link" {
		t.Errorf("history %v", kinds)
	}
	_ = strconv.Itoa
}
