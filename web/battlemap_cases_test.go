package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citygrid/cases"
	"citygrid/grid"
)

// testClickCaseOpensPanel is TestBattleMap's subtest "clicking a case opens its panel".
func testClickCaseOpensPanel(t *testing.T, b *browser, srv *site) {
	b.t = t
	// A case point with no other within 14 px, away from the tools.
	target := eval[*struct {
		ID string  `json:"id"`
		X  float64 `json:"x"`
		Y  float64 `json:"y"`
	}](b, `(() => {
		const m = citygrid.map;
		const r = m.getCanvas().getBoundingClientRect();
		const pts = m.queryRenderedFeatures({layers: ['cases-points']}).map((f) => ({id: String(f.properties.id), p: m.project(f.geometry.coordinates)}));
		for (const a of pts) {
			if (a.p.x < 40 || a.p.y < 120 || a.p.x > r.width - 420 || a.p.y > r.height - 60) continue;
			if (pts.every((o) => o.id === a.id || Math.hypot(a.p.x - o.p.x, a.p.y - o.p.y) > 14)) return {id: a.id, x: r.left + a.p.x, y: r.top + a.p.y};
		}
		return null;
	})()`)
	if target == nil {
		t.Fatal("no isolated case point to click")
	}
	b.do(chromedp.MouseClickXY(target.X, target.Y))
	id := poll[string](b, "the case panel", `(() => { const c = document.querySelector('#panel[data-state=done] .case'); return c && c.dataset.caseId; })()`, 15*time.Second)
	if id != target.ID {
		t.Fatalf("panel shows case %s, clicked case %s", id, target.ID)
	}
	var c struct {
		Properties struct {
			Unit   string `json:"unit"`
			Status string `json:"status"`
			DueAt  string `json:"due_at"`
		} `json:"properties"`
	}
	apiGet(t, srv, "/v1/cases/"+id, &c)
	var units struct {
		Units []grid.Unit `json:"units"`
	}
	apiGet(t, srv, "/v1/units", &units)
	want := ""
	for _, u := range units.Units {
		if u.Code == c.Properties.Unit {
			want = u.Name
		}
	}
	owner := eval[string](b, `document.querySelector('#panel .owner-name').textContent`)
	if want == "" || owner != want {
		t.Errorf("panel owner %q, want %q (unit %s)", owner, want, c.Properties.Unit)
	}
	if title := eval[string](b, `document.querySelector('#panel-title').textContent`); title != "Case #"+id {
		t.Errorf("panel title %q", title)
	}
	if st := eval[string](b, `document.querySelector('#panel .case').dataset.status`); st != c.Properties.Status {
		t.Errorf("panel status %q, API %q", st, c.Properties.Status)
	}
	if n := eval[int](b, `document.querySelectorAll('#panel .timeline li').length`); n == 0 {
		t.Error("the panel shows no history")
	}
	b.noConsoleErrors("opening a case")
}

// testStatusActionPatches is TestBattleMap's subtest "a status action goes through PATCH with the version".
func testStatusActionPatches(t *testing.T, b *browser, srv *site) {
	b.t = t
	id := eval[string](b, `document.querySelector('#panel .case').dataset.caseId`)
	from := eval[string](b, `document.querySelector('#panel .case').dataset.status`)
	// The first button that moves the case to another status.
	step := eval[map[string]string](b, `(() => { const e = document.querySelector('#panel [data-action][data-to]'); return e ? {action: e.dataset.action, to: e.dataset.to} : {}; })()`)
	action, to := step["action"], step["to"]
	if action == "" {
		t.Skipf("case %s (%s) has no next step", id, from)
	}
	b.do(chromedp.SendKeys(`#action-note`, "checked on site"), chromedp.Click(fmt.Sprintf(`#panel [data-action=%s]`, action)))
	poll[bool](b, "the panel to show the new status", fmt.Sprintf(`(() => { const c = document.querySelector('#panel[data-state=done] .case'); return !!c && c.dataset.status === %q; })()`, to), 15*time.Second)
	var hist struct {
		Events []cases.Event `json:"events"`
	}
	apiGet(t, srv, "/v1/cases/"+id+"/history", &hist)
	last := hist.Events[len(hist.Events)-1]
	if last.Kind != "status" || last.From != from || last.To != to || last.Note != "checked on site" {
		t.Errorf("last event %+v, want status %s → %s (%s) with the note", last, from, to, action)
	}
	b.do(chromedp.Click(`#panel-close`))
	b.noConsoleErrors("changing a status")
}

// testLiveCaseAppears is TestBattleMap's subtest "a case created through the API appears live".
func testLiveCaseAppears(t *testing.T, b *browser, srv *site) {
	b.t = t
	// EventSource cannot send the key: the stream is opened with a ticket.
	if url := eval[string](b, `citygrid.live.es ? citygrid.live.es.url : ''`); !strings.Contains(url, "/v1/events?ticket=") || strings.Contains(url, srv.admin) {
		t.Errorf("the event stream is %q, want /v1/events with a ticket and without the key", url)
	}
	b.jump(market[0]+0.004, market[1]-0.002, 16.5)
	center := eval[[]float64](b, `citygrid.map.getCenter().toArray()`)
	body := fmt.Sprintf(`{"source":"hotline","external_id":"browser-live-%d","category":"E0101","title":"暴露垃圾 (live test)","location":[%v,%v]}`,
		time.Now().UnixNano(), center[0], center[1])
	status, raw := srv.call(t, http.MethodPost, "/v1/cases", srv.admin, body)
	var created struct {
		ID string `json:"id"`
	}
	if status != 201 || json.Unmarshal(raw, &created) != nil {
		t.Fatalf("create = %d %s", status, raw)
	}
	since := time.Now()
	poll[bool](b, "the new case on the map", fmt.Sprintf(`citygrid.map.queryRenderedFeatures({layers: ['cases-points']}).some((f) => String(f.properties.id) === %q)`, created.ID), 15*time.Second)
	t.Logf("case %s drawn %v after it was created", created.ID, time.Since(since).Round(time.Millisecond))
	if row := eval[bool](b, fmt.Sprintf(`[...document.querySelectorAll('#live-list .row-sub')].some((e) => e.textContent.startsWith('#%s '))`, created.ID)); !row {
		t.Error("the live activity list does not show the new case")
	}
	b.noConsoleErrors("after a live case")
}
