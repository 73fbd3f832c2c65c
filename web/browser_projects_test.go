package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"citygrid/access"
	"citygrid/internal/dbtest"
)

// TestProjects opens the battle map as a dispatcher over a pain-point
// project by the market whose first milestone ran late: the projects layer
// draws it marked late with its leader's name, and its panel lists the
// milestones (the late one marked) and its linked cases.
func TestProjects(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	srv := server(t, demoCases)
	var units struct {
		Units []struct{ Code string } `json:"units"`
	}
	apiGet(t, srv, "/v1/units", &units)
	if len(units.Units) == 0 {
		t.Fatal("the demo district has no units")
	}
	const d = 0.0015
	area := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		market[0]-d, market[1]-d, market[0]+d, market[1]-d, market[0]+d, market[1]+d, market[0]-d, market[1]+d, market[0]-d, market[1]-d)
	deadline := time.Now().AddDate(0, 4, 0).Format("2006-01-02")
	body := `{"name":"市场周边综合整治","kind":"environment","area":` + area + `,"leader":{"name":"赵包片","unit":"` + units.Units[0].Code + `"},` +
		`"budget":{"amount_cny":800000,"source":"区财政"},"deadline":"` + deadline + `",` +
		`"milestones":[{"name":"摸排","working_days":3},{"name":"整治","working_days":10},{"name":"验收","working_days":2}]}`
	status, raw := srv.call(t, "POST", "/v1/projects", srv.admin, body)
	if status != 201 {
		t.Fatalf("create project: %d %s", status, raw)
	}
	var p struct{ ID string }
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	// The survey should have been done last week: late.
	if _, err := dbtest.Pool(t).Exec(context.Background(),
		`UPDATE project_milestones SET start_on = current_date - 10, due_on = current_date - 3 WHERE project_id = $1 AND ord = 0`, p.ID); err != nil {
		t.Fatal(err)
	}

	key, _ := srv.key(t, access.Key{Role: access.RoleDispatcher})
	b.open(srv, key)
	eval[bool](b, `citygrid.ready.then(() => true)`)
	b.jump(market[0], market[1], 16)
	got := poll[map[string]any](b, "the project drawn", fmt.Sprintf(`(() => {
		const f = citygrid.map.queryRenderedFeatures({layers: ['projects-fill']}).find((f) => f.properties.id === %q);
		return f ? f.properties : null;
	})()`, p.ID), 20*time.Second)
	if got["late"] != true || got["leader"] != "赵包片" || got["status"] != "planned" {
		t.Errorf("drawn project %v, want late, led by 赵包片, planned", got)
	}
	if n := b.rendered("projects-label")["projects-label"]; n == 0 {
		t.Error("no label with the leader's name")
	}

	eval[bool](b, fmt.Sprintf(`citygrid.openProject(%q), true`, p.ID))
	poll[bool](b, "the project panel", `document.querySelector('#panel').dataset.state === 'done' && document.querySelector('#panel').dataset.kind === 'project'`, 15*time.Second)
	panel := eval[map[string]any](b, `({
		late: document.querySelectorAll('#panel .milestones li[data-state="late"]').length,
		milestones: document.querySelectorAll('#panel .milestones li').length,
		mark: (document.querySelector('#panel .late-mark') || {}).textContent || '',
		leader: document.querySelector('#panel .project-leader').textContent,
		linked: document.querySelectorAll('#panel .linked-cases li').length,
		progress: [...document.querySelectorAll('#panel .project-progress li')].map((li) => li.textContent),
	})`)
	if panel["late"] != float64(1) || panel["milestones"] != float64(3) || panel["mark"] == "" || panel["linked"] == float64(0) {
		t.Errorf("panel %v: want 3 milestones, 1 late and marked, linked cases listed", panel)
	}
	if pr, _ := panel["progress"].([]any); len(pr) != 3 || pr[0] != "0 of 3 milestones done, 1 late" {
		t.Errorf("progress %v", panel["progress"])
	}
	if want := "赵包片, "; len(panel["leader"].(string)) < len(want) || panel["leader"].(string)[:len(want)] != want {
		t.Errorf("leader %q", panel["leader"])
	}
	b.screenshot("project-late.png")
	b.noConsoleErrors("showing a late project")
}
