package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testPlannerView is TestBattleMap's subtest "planner view".
func testPlannerView(t *testing.T, b *browser, srv *site) {
	b.t = t
	b.do(chromedp.Click(`#tab-plan`))
	b.settle()
	poll[bool](b, "the indicators table", `document.querySelectorAll('#panel[data-kind=stats][data-state=done] .stats-table tbody tr').length > 0`, 20*time.Second)
	got := b.rendered("hotspots-fill")
	if got["hotspots-fill"] == 0 {
		t.Errorf("planner view draws no hotspot cells")
	}
	// Finer cells show the planted hotspots better at the district view.
	eval[bool](b, `(() => { const s = document.querySelector('#analysis-res'); s.value = '9'; s.dispatchEvent(new Event('change')); return true; })()`)
	poll[bool](b, "resolution 9 hotspot tiles", `citygrid.map.getSource('hotspots').tiles[0].includes('res=9')`, 10*time.Second)
	b.settle()
	rows := poll[int](b, "the indicators table", `document.querySelectorAll('#panel[data-kind=stats][data-state=done] .stats-table tbody tr').length`, 20*time.Second)
	var stats struct {
		Rows []map[string]any `json:"rows"`
	}
	from := eval[string](b, `(() => { const f = citygrid.filterParams(); return f.from; })()`)
	apiGet(t, srv, "/v1/stats?by=street&from="+from+"&to="+time.Now().UTC().Add(time.Hour).Truncate(time.Hour).Format(time.RFC3339), &stats)
	if rows != len(stats.Rows) {
		t.Errorf("indicators table has %d rows, /v1/stats by street %d", rows, len(stats.Rows))
	}
	b.screenshot("planner.png")

	// Clicking a hot cell shows it, and its cases are as many as it counts.
	cell := eval[*struct {
		H3    string  `json:"h3"`
		Count int     `json:"count"`
		X     float64 `json:"x"`
		Y     float64 `json:"y"`
	}](b, `(() => {
		const m = citygrid.map, r = m.getCanvas().getBoundingClientRect();
		const fs = m.queryRenderedFeatures({layers: ['hotspots-fill']}).filter((f) => f.properties.gi_class.startsWith('hot') && f.properties.count < 5000);
		for (const f of fs) {
			const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
			const c = ring.slice(1).reduce((a, p) => [a[0] + p[0] / (ring.length - 1), a[1] + p[1] / (ring.length - 1)], [0, 0]);
			const p = m.project(c);
			if (p.x < 40 || p.y < 120 || p.x > r.width - 520 || p.y > r.height - 40) continue;
			const hit = m.queryRenderedFeatures(p, {layers: ['hotspots-fill']})[0];
			if (hit && hit.properties.h3 === f.properties.h3) return {h3: f.properties.h3, count: f.properties.count, x: r.left + p.x, y: r.top + p.y};
		}
		return null;
	})()`)
	if cell == nil {
		t.Error("no hot cell to click in the planner view")
	} else {
		b.do(chromedp.MouseClickXY(cell.X, cell.Y))
		got := poll[string](b, "the cell panel", `(() => { const c = document.querySelector('#panel[data-state=done] .cell'); return c && c.dataset.h3; })()`, 15*time.Second)
		if got != cell.H3 {
			t.Fatalf("cell panel shows %s, clicked %s", got, cell.H3)
		}
		b.do(chromedp.Click(`#panel .cell .btn-primary`))
		n := poll[string](b, "the cell's cases", `(() => { const a = document.querySelector('#panel[data-kind=area][data-state=done] .area'); return a && a.dataset.count; })()`, 20*time.Second)
		params := eval[map[string]string](b, `citygrid.filterParams()`)
		q := "h3=" + cell.H3 + "&limit=10000"
		for k, v := range params {
			if v != "" {
				q += "&" + k + "=" + v
			}
		}
		var fc struct {
			Features []struct {
				Properties struct {
					MergedInto *string `json:"merged_into"`
				} `json:"properties"`
			} `json:"features"`
		}
		apiGet(t, srv, "/v1/cases?"+q, &fc)
		if n != fmt.Sprint(len(fc.Features)) {
			t.Errorf("cell %s lists %s cases, GET /v1/cases?%s returns %d", cell.H3, n, q, len(fc.Features))
		}
		// Hotspots and area queries put a case in the same cell
		// (caseindex.Cell): the map and the list agree, but for the
		// merged duplicates the list shows and no count counts.
		counted := 0
		for _, f := range fc.Features {
			if f.Properties.MergedInto == nil {
				counted++
			}
		}
		if cell.Count != counted {
			t.Errorf("cell %s counts %d cases in the hotspot tiles, %d (not merged) by the area query", cell.H3, cell.Count, counted)
		}
		b.do(chromedp.Click(`#panel-back`))
	}

	b.do(chromedp.Click(`#analysis-mode [data-value=emerging]`))
	poll[bool](b, "emerging patterns", `!!document.querySelector('#analysis-summary .legend, #analysis-summary p')  && !document.querySelector('#analysis-summary .spinner')`, 30*time.Second)
	if err := eval[string](b, `(document.querySelector('#analysis-summary .error-box') || {}).textContent || ''`); err != "" {
		t.Errorf("emerging hot spots: %s", err)
	}
	b.do(chromedp.Click(`#analysis-mode [data-value=change]`))
	poll[bool](b, "period comparison", `!!document.querySelector('#analysis-summary .kpis') || !!document.querySelector('#analysis-summary .error-box')`, 30*time.Second)
	if err := eval[string](b, `(document.querySelector('#analysis-summary .error-box') || {}).textContent || ''`); err != "" {
		t.Errorf("period comparison: %s", err)
	}
	b.settle()
	if n := b.rendered("analysis-fill")["analysis-fill"]; n == 0 {
		t.Error("period comparison draws no cells")
	}
	b.screenshot("planner-change.png")
	b.noConsoleErrors("in the planner view")
}
