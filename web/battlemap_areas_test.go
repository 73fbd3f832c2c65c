package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testBoxListsAreaQuery is TestBattleMap's subtest "a box lists exactly the cases of the area query".
func testBoxListsAreaQuery(t *testing.T, b *browser, srv *site) {
	b.t = t
	b.jump(market[0], market[1], 16)
	b.do(chromedp.Click(`#tool-box`))
	rect := eval[map[string]float64](b, `(() => { const r = citygrid.map.getCanvas().getBoundingClientRect(); return {x: r.left + r.width * 0.42, y: r.top + r.height * 0.45}; })()`)
	x0, y0 := rect["x"], rect["y"]
	x1, y1 := x0+130, y0+110
	b.do(
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, x0+50, y0+40, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y1, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	)
	poll[bool](b, "the area list", `!!document.querySelector('#panel[data-kind=area][data-state=done] .area')`, 20*time.Second)
	bbox := eval[string](b, `document.querySelector('#panel .area').dataset.bbox`)
	shown := eval[[]string](b, `[...document.querySelectorAll('#panel .case-list [data-case-id]')].map((e) => e.dataset.caseId)`)
	count := eval[string](b, `document.querySelector('#panel .area').dataset.count`)
	if fmt.Sprint(len(shown)) != count {
		t.Fatalf("the list shows %d rows of %s cases; the box should hold fewer than a page of rows", len(shown), count)
	}
	params := eval[map[string]string](b, `citygrid.filterParams()`)
	q := "bbox=" + bbox + "&limit=10000"
	for k, v := range params {
		if v != "" {
			q += "&" + k + "=" + v
		}
	}
	var fc struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
		Next *string `json:"next"`
	}
	apiGet(t, srv, "/v1/cases?"+q, &fc)
	var want []string
	for _, f := range fc.Features {
		want = append(want, f.ID)
	}
	sort.Strings(want)
	sort.Strings(shown)
	if len(want) == 0 {
		t.Fatalf("the box %s holds no cases: draw it where there are some", bbox)
	}
	if !slices.Equal(shown, want) || fc.Next != nil {
		t.Errorf("box %s lists %d cases, the area query returns %d:\nlisted %v\nwant   %v", bbox, len(shown), len(want), shown, want)
	}
	t.Logf("box %s: %d cases, as GET /v1/cases?%s", bbox, len(shown), q)
	if csv := eval[string](b, `document.querySelector('#panel .area-summary button').textContent`); !strings.Contains(csv, "CSV") {
		t.Errorf("no CSV download next to the list: %q", csv)
	}
	b.screenshot("dispatcher-area.png")
	b.do(chromedp.Click(`#tool-clear`))
	b.noConsoleErrors("drawing a box")
}

// testPolygonListsSearch is TestBattleMap's subtest "a polygon lists exactly the cases of the polygon search".
func testPolygonListsSearch(t *testing.T, b *browser, srv *site) {
	b.t = t
	b.jump(market[0], market[1], 16)
	b.do(chromedp.Click(`#tool-polygon`))
	c := eval[map[string]float64](b, `(() => { const r = citygrid.map.getCanvas().getBoundingClientRect(); return {x: r.left + r.width * 0.4, y: r.top + r.height * 0.5}; })()`)
	x, y := c["x"], c["y"]
	for _, p := range [][2]float64{{x, y}, {x + 120, y - 30}, {x + 150, y + 90}, {x + 20, y + 110}} {
		b.do(chromedp.MouseClickXY(p[0], p[1]))
		time.Sleep(350 * time.Millisecond) // not a double-click
	}
	b.do(chromedp.KeyEvent("\r"))
	poll[bool](b, "the polygon's list", `!!document.querySelector('#panel[data-kind=area][data-state=done] .area')`, 20*time.Second)
	polygon := eval[json.RawMessage](b, `citygrid.state.area.polygon`)
	shown := eval[[]string](b, `[...document.querySelectorAll('#panel .case-list [data-case-id]')].map((e) => e.dataset.caseId)`)
	params := eval[map[string]string](b, `citygrid.filterParams()`)
	req := map[string]any{"polygon": polygon, "limit": 10000}
	if params["status"] != "" {
		req["status"] = strings.Split(params["status"], ",")
	}
	status, raw := srv.call(t, http.MethodPost, "/v1/cases/search", srv.admin, mustJSON(req))
	var fc struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	if status != 200 || json.Unmarshal(raw, &fc) != nil {
		t.Fatalf("POST /v1/cases/search = %d %s", status, raw)
	}
	var want []string
	for _, f := range fc.Features {
		want = append(want, f.ID)
	}
	sort.Strings(want)
	sort.Strings(shown)
	if len(want) == 0 || !slices.Equal(shown, want) {
		t.Errorf("polygon lists %d cases, the search returns %d:\nlisted %v\nwant   %v", len(shown), len(want), shown, want)
	}
	b.do(chromedp.Click(`#tool-clear`))
	b.noConsoleErrors("drawing a polygon")
}

// testClickGridOpensPanel is TestBattleMap's subtest "clicking a grid opens its panel".
func testClickGridOpensPanel(t *testing.T, b *browser, srv *site) {
	b.t = t
	// A point on the map with no case near it.
	at := eval[map[string]float64](b, `(() => {
		const m = citygrid.map, r = m.getCanvas().getBoundingClientRect();
		const pts = m.queryRenderedFeatures({layers: ['cases-points', 'cases-halo']}).map((f) => m.project(f.geometry.coordinates));
		for (let y = 140; y < r.height - 80; y += 17) for (let x = 60; x < r.width - 440; x += 17) {
			if (pts.every((p) => Math.hypot(p.x - x, p.y - y) > 20)) { const ll = m.unproject([x, y]); return {x: r.left + x, y: r.top + y, lng: ll.lng, lat: ll.lat}; }
		}
		return null;
	})()`)
	if at == nil {
		t.Fatal("no empty spot on the map")
	}
	b.do(chromedp.MouseClickXY(at["x"], at["y"]))
	code := poll[string](b, "the grid panel", `(() => { const g = document.querySelector('#panel[data-state=done] .grid-panel'); return g && g.dataset.gridCode; })()`, 15*time.Second)
	var loc struct {
		Grid struct {
			Code string `json:"code"`
		} `json:"grid"`
	}
	apiGet(t, srv, fmt.Sprintf("/v1/locate?lng=%v&lat=%v", at["lng"], at["lat"]), &loc)
	if code != loc.Grid.Code {
		t.Errorf("clicked at %v,%v: panel shows grid %s, locate says %s", at["lng"], at["lat"], code, loc.Grid.Code)
	}
	if open := eval[string](b, `document.querySelector('#panel .kpi .kpi-v').textContent`); open == "—" {
		t.Error("the grid panel shows no open-case count for a grid drawn on the map")
	}
	b.do(chromedp.Click(`#panel-close`))
	b.noConsoleErrors("opening a grid")
}
