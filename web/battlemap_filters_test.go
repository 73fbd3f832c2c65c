package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// testFilterChangesRenderedCases is TestBattleMap's subtest "a filter changes the rendered cases".
func testFilterChangesRenderedCases(t *testing.T, b *browser) {
	b.t = t
	before := eval[map[string]int](b, `citygrid.map.queryRenderedFeatures({layers: ['cases-points']}).reduce((m, f) => (m[f.properties.status] = (m[f.properties.status] || 0) + 1, m), {})`)
	if len(before) < 2 {
		t.Fatalf("rendered statuses before filtering: %v, want several", before)
	}
	for _, s := range []string{"accepted", "dispatched", "in_progress"} {
		b.do(chromedp.Click(fmt.Sprintf(`#status-chips [data-status=%s]`, s)))
	}
	after := poll[map[string]int](b, "only reported cases on the map", `(() => {
		const fs = citygrid.map.queryRenderedFeatures({layers: ['cases-points']});
		if (!fs.length || !citygrid.map.areTilesLoaded()) return null;
		const m = fs.reduce((m, f) => (m[f.properties.status] = (m[f.properties.status] || 0) + 1, m), {});
		return Object.keys(m).length === 1 && m.reported ? m : null;
	})()`, 20*time.Second)
	if after["reported"] == 0 || after["reported"] == sum(before) {
		t.Errorf("after keeping only 'reported': %v (before %v)", after, before)
	}
	if q := eval[map[string]string](b, `citygrid.filterParams()`); q["status"] != "reported" {
		t.Errorf("filter status = %q, want reported", q["status"])
	}
	b.do(chromedp.Click(`.quick [data-statuses=open]`))
	poll[bool](b, "open cases back", `citygrid.map.areTilesLoaded() && new Set(citygrid.map.queryRenderedFeatures({layers: ['cases-points']}).map((f) => f.properties.status)).size > 1`, 20*time.Second)
	b.settle()
	b.noConsoleErrors("while filtering")
}

// testTimeSliderFilters is TestBattleMap's subtest "the time slider filters as it moves".
func testTimeSliderFilters(t *testing.T, b *browser) {
	b.t = t
	b.do(chromedp.Focus(`#time-from`))
	for range 300 { // keyboard: 300 days on from a year ago
		b.do(chromedp.KeyEvent(kb.ArrowRight))
	}
	from := eval[string](b, `citygrid.filterParams().from`)
	if from == "" {
		t.Fatal("moving the slider set no from time")
	}
	poll[bool](b, "the case tiles to follow", fmt.Sprintf(`citygrid.map.getSource('cases').tiles[0].includes('from=' + encodeURIComponent(%q))`, from), 10*time.Second)
	b.settle()
	b.do(chromedp.Click(`#time-presets [data-days=all]`))
	poll[bool](b, "the filter to go", `!citygrid.map.getSource('cases').tiles[0].includes('from=')`, 10*time.Second)
	b.settle()
	b.noConsoleErrors("moving the time slider")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
