package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"citygrid/access"
	"citygrid/demo"
	"citygrid/internal/dbtest"
)

// TestProjects opens the battle map as a dispatcher over the demo's
// pain-point project whose first milestone ran late: the projects layer
// draws it marked late with its leader's name, and its panel lists the
// milestones (the late one marked), the progress and the linked cases.
func TestProjects(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	srv := server(t, demoCases)
	// The demo's projects, as serve -demo stores them: one of them under
	// way with its first milestone late.
	if _, err := demo.LoadProjects(context.Background(), dbtest.Pool(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	var late struct {
		Projects []struct {
			ID     string
			Leader struct{ Name string }
			Area   struct{ Coordinates [][][][2]float64 }
		}
	}
	apiGet(t, srv, "/v1/projects?late=true&status=in_progress", &late)
	if len(late.Projects) == 0 {
		t.Fatal("the demo has no late project")
	}
	p := late.Projects[0]
	ring := p.Area.Coordinates[0][0]
	var at [2]float64
	for _, pt := range ring[:len(ring)-1] {
		at[0] += pt[0] / float64(len(ring)-1)
		at[1] += pt[1] / float64(len(ring)-1)
	}
	leader := p.Leader.Name

	key, _ := srv.key(t, access.Key{Role: access.RoleDispatcher})
	b.open(srv, key)
	eval[bool](b, `citygrid.ready.then(() => true)`)
	b.jump(at[0], at[1], 15)
	got := poll[map[string]any](b, "the project drawn", fmt.Sprintf(`(() => {
		const f = citygrid.map.queryRenderedFeatures({layers: ['projects-fill']}).find((f) => f.properties.id === %q);
		return f ? f.properties : null;
	})()`, p.ID), 20*time.Second)
	if got["late"] != true || got["leader"] != leader || got["status"] != "in_progress" {
		t.Errorf("drawn project %v, want late, led by %s, in progress", got, leader)
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
	if panel["late"] != float64(1) || panel["milestones"] != float64(3) || panel["mark"] == "" {
		t.Errorf("panel %v: want 3 milestones, 1 late and marked", panel)
	}
	if pr, _ := panel["progress"].([]any); len(pr) != 3 || pr[0] != "0 of 3 milestones done, 1 late" {
		t.Errorf("progress %v", panel["progress"])
	}
	if want := leader + ", "; len(panel["leader"].(string)) < len(want) || panel["leader"].(string)[:len(want)] != want {
		t.Errorf("leader %q", panel["leader"])
	}
	b.screenshot("project-late.png")
	b.noConsoleErrors("showing a late project")
}
