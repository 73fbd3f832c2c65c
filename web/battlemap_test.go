package web_test

import (
	"testing"
	"time"
)

// Market is the centre of the demo's planted vendor hotspot: dense with cases.
var market = [2]float64{120.3655, 36.0890}

// TestBattleMap goes through the page as a dispatcher and a planner would,
// in one tab, checking each step against the API.
func TestBattleMap(t *testing.T) {
	chromium(t)
	srv := server(t, demoCases)
	b := newBrowser(t, 1280, 800)

	start := time.Now()
	b.open(srv, srv.admin)
	metrics := eval[map[string]float64](b, `citygrid.ready`)
	t.Logf("first load to an idle map: %.0f ms after navigation (%v wall clock, %d cases)", metrics["firstIdleSinceNavigationMs"], time.Since(start).Round(time.Millisecond), demoCases)
	b.settle()
	b.noConsoleErrors("on load")

	t.Run("every layer renders", func(t *testing.T) { testEveryLayerRenders(t, b) })
	t.Run("a filter changes the rendered cases", func(t *testing.T) { testFilterChangesRenderedCases(t, b) })
	t.Run("clicking a case opens its panel", func(t *testing.T) { testClickCaseOpensPanel(t, b, srv) })
	t.Run("a status action goes through PATCH with the version", func(t *testing.T) { testStatusActionPatches(t, b, srv) })
	t.Run("a box lists exactly the cases of the area query", func(t *testing.T) { testBoxListsAreaQuery(t, b, srv) })
	t.Run("a polygon lists exactly the cases of the polygon search", func(t *testing.T) { testPolygonListsSearch(t, b, srv) })
	t.Run("clicking a grid opens its panel", func(t *testing.T) { testClickGridOpensPanel(t, b, srv) })
	t.Run("the time slider filters as it moves", func(t *testing.T) { testTimeSliderFilters(t, b) })
	t.Run("a case created through the API appears live", func(t *testing.T) { testLiveCaseAppears(t, b, srv) })
	t.Run("search flies to a case and a grid", func(t *testing.T) { testSearchFlies(t, b, srv) })
	t.Run("locate a GCJ-02 coordinate", func(t *testing.T) { testLocateGCJ02(t, b, srv) })
	t.Run("dispatcher screenshot", func(t *testing.T) { testDispatcherScreenshot(t, b) })
	t.Run("planner view", func(t *testing.T) { testPlannerView(t, b, srv) })
	t.Run("API errors are shown in words", func(t *testing.T) { testAPIErrorsInWords(t, b) })
}
