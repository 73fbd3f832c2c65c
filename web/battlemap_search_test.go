package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// testSearchFlies is TestBattleMap's subtest "search flies to a case and a grid".
func testSearchFlies(t *testing.T, b *browser, srv *site) {
	b.t = t
	var fc struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	apiGet(t, srv, "/v1/cases?bbox=120.30,36.06,120.44,36.17&limit=1", &fc)
	id := fc.Features[0].ID
	b.do(chromedp.Click(`#search-input`), chromedp.SendKeys(`#search-input`, "#"+id+"\r"))
	poll[bool](b, "the searched case's panel", fmt.Sprintf(`(() => { const c = document.querySelector('#panel[data-state=done] .case'); return !!c && c.dataset.caseId === %q; })()`, id), 15*time.Second)
	b.clear(`#search-input`)
	b.do(chromedp.SendKeys(`#search-input`, "370203005\r"))
	poll[bool](b, "the grid panel", `(() => { const g = document.querySelector('#panel[data-state=done] .grid-panel'); return !!g && g.dataset.gridCode === '370203005'; })()`, 15*time.Second)
	b.do(chromedp.KeyEvent("\x1b")) // Escape closes the panel
	b.clear(`#search-input`)
	b.noConsoleErrors("searching")
}

// testLocateGCJ02 is TestBattleMap's subtest "locate a GCJ-02 coordinate".
func testLocateGCJ02(t *testing.T, b *browser, srv *site) {
	b.t = t
	b.do(chromedp.Click(`#locate-toggle`),
		chromedp.SendKeys(`#locate-lng`, "120.37"), chromedp.SendKeys(`#locate-lat`, "36.09"),
		chromedp.SetValue(`#locate-crs`, "gcj02"), chromedp.Click(`#locate-pop button[type=submit]`))
	got := poll[string](b, "the location panel", `(() => { const l = document.querySelector('#panel[data-state=done] .locate'); return l && l.dataset.grid; })()`, 15*time.Second)
	var want struct {
		Grid struct {
			Code string `json:"code"`
		} `json:"grid"`
	}
	apiGet(t, srv, "/v1/locate?lng=120.37&lat=36.09&crs=gcj02", &want)
	if got != want.Grid.Code {
		t.Errorf("located grid %q, API says %q", got, want.Grid.Code)
	}
	b.noConsoleErrors("locating")
}

// testAPIErrorsInWords is TestBattleMap's subtest "API errors are shown in words".
func testAPIErrorsInWords(t *testing.T, b *browser) {
	b.t = t
	b.do(chromedp.Click(`#tab-dispatch`))
	b.do(chromedp.Click(`#locate-toggle`))
	b.clear(`#locate-lng`)
	b.clear(`#locate-lat`)
	b.do(chromedp.SendKeys(`#locate-lng`, "500"), chromedp.SendKeys(`#locate-lat`, "36.09"), chromedp.Click(`#locate-pop button[type=submit]`))
	msg := poll[string](b, "an error in the panel", `(() => { const e = document.querySelector('#panel[data-state=error] .error-box'); return e && e.textContent; })()`, 15*time.Second)
	if !strings.Contains(msg, "HTTP 400") || !strings.Contains(strings.ToLower(msg), "lng") && !strings.Contains(strings.ToLower(msg), "longitude") {
		t.Errorf("error shown as %q, want the API's words and status", msg)
	}
	// A failed request is logged by the browser as an error: that one is
	// expected; nothing else may be.
	b.mu.Lock()
	b.errors = slices.DeleteFunc(b.errors, func(s string) bool { return strings.Contains(s, "/v1/locate") && strings.Contains(s, "400") })
	b.mu.Unlock()
	b.noConsoleErrors("after an API error")
}
