package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testEveryLayerRenders is TestBattleMap's subtest "every layer renders".
func testEveryLayerRenders(t *testing.T, b *browser) {
	b.t = t
	got := b.rendered("grids-load", "grids-line", "cases-clusters", "labels-street")
	for layer, n := range got {
		if n == 0 {
			t.Errorf("layer %s draws nothing at the district view (%v)", layer, got)
		}
	}
	// Hotspots are off for dispatchers: switch them on as a person would.
	b.do(chromedp.Click(`label:has(#layer-hotspots)`))
	b.settle()
	if n := b.rendered("hotspots-fill")["hotspots-fill"]; n == 0 {
		t.Error("hotspot layer switched on but draws nothing")
	}
	if on := eval[bool](b, `document.querySelector('#layer-hotspots').checked`); !on {
		t.Error("hotspot switch is not on after a click")
	}
	b.do(chromedp.Click(`label:has(#layer-hotspots)`))
	b.jump(market[0], market[1], 16)
	if got := b.rendered("cases-points", "grids-load", "cases-halo"); got["cases-points"] == 0 || got["grids-load"] == 0 {
		t.Errorf("at zoom 16: %v, want case points and unit grids", got)
	} else if got["cases-halo"] == 0 {
		t.Errorf("at zoom 16: %v, no case ringed as overdue (the tiles' overdue_now) at the market", got)
	}
	// Unit grids are labelled once each, not once per tile they cross.
	labels := poll[[]string](b, "unit grid labels", `(() => { const l = citygrid.map.queryRenderedFeatures({layers: ['labels-grid']}).map((f) => f.properties.code); return l.length ? l : null; })()`, 10*time.Second)
	seen := map[string]bool{}
	for _, code := range labels {
		if seen[code] {
			t.Errorf("unit grid %s is labelled twice", code)
		}
		seen[code] = true
	}
	b.noConsoleErrors("while rendering layers")
}

// testDispatcherScreenshot is TestBattleMap's subtest "dispatcher screenshot".
func testDispatcherScreenshot(t *testing.T, b *browser) {
	b.t = t
	b.jump(market[0]+0.003, market[1], 15.2)
	// An overdue case near the middle, opened as a click would.
	id := eval[string](b, `(() => {
		const m = citygrid.map, c = m.getCanvas(), mid = [c.clientWidth * 0.4, c.clientHeight / 2];
		const fs = m.queryRenderedFeatures({layers: ['cases-points']}).filter((f) => f.properties.overdue_now);
		const d = (f) => { const p = m.project(f.geometry.coordinates); return Math.hypot(p.x - mid[0], p.y - mid[1]); };
		return fs.length ? String(fs.reduce((a, b) => (d(b) < d(a) ? b : a)).properties.id) : '';
	})()`)
	if id != "" {
		eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id))
		poll[bool](b, "the case panel", `!!document.querySelector('#panel[data-state=done] .case')`, 15*time.Second)
		if !eval[bool](b, `!!document.querySelector('#panel .case-head .tag-overdue')`) {
			t.Errorf("case %s is drawn as overdue, but its panel has no Overdue badge (the reply's overdue_now)", id)
		}
	} else {
		t.Error("no overdue case drawn near the market")
	}
	b.settle()
	b.screenshot("dispatcher.png")
}
