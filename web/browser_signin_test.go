package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citygrid/access"
)

// TestSignIn goes through the page as people with different keys would,
// in one tab: none, a wrong one, a planner's, a dispatcher's that is
// revoked while the page is open; then as people with user names and
// passwords (testPeople).
func TestSignIn(t *testing.T) {
	chromium(t)
	srv := server(t, demoCases)
	b := newBrowser(t, 1280, 800)

	b.open(srv, "")
	signedOut(t, b, "")
	// Nothing but the page's own files and GET /v1/me (is there a session
	// cookie?) was asked for: no other request needs a credential before
	// one is entered.
	if asked := eval[[]string](b, `performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => !p.startsWith('/static/') && !p.startsWith('/fonts/'))`); strings.Join(asked, " ") != "/v1/me" {
		t.Errorf("signed out, the page asked for %v, want /v1/me alone", asked)
	}
	if mode := eval[string](b, `document.querySelector('#signin-form').dataset.mode`); mode != "user" {
		t.Errorf("the form first asks by %q, want a user name and password", mode)
	}
	b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") })
	b.noConsoleErrors("signed out")

	t.Run("a wrong key gets the server's words", func(t *testing.T) {
		b.t = t
		wrong := "cg_" + strings.Repeat("x", 43)
		status, raw := srv.call(t, http.MethodGet, "/v1/me", wrong, "")
		var problem struct {
			Detail string `json:"detail"`
		}
		if status != 401 || json.Unmarshal(raw, &problem) != nil || problem.Detail == "" {
			t.Fatalf("GET /v1/me with a wrong key = %d %s, want 401 with a detail", status, raw)
		}
		enterKey(b, wrong)
		msg := poll[string](b, "the refusal in the form", `(() => { const m = document.querySelector('#signin-msg').textContent; return m.includes('HTTP') ? m : ''; })()`, 10*time.Second)
		if !strings.Contains(msg, problem.Detail) || !strings.Contains(msg, "401") {
			t.Errorf("form says %q, want the server's %q", msg, problem.Detail)
		}
		if eval[bool](b, `document.querySelector('#signin').hidden || sessionStorage.getItem('citygrid.key') !== null`) {
			t.Error("a refused key closed the form or was kept")
		}
		b.screenshot("signin.png")
		// The one refusal the browser logs is the key tried.
		b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") })
		b.noConsoleErrors("after a wrong key")
	})

	t.Run("a planner sees no status buttons and no reporters' text", func(t *testing.T) { testPlannerKey(t, b, srv) })
	t.Run("signing out shows the form", func(t *testing.T) {
		b.t = t
		b.reloading(chromedp.Click(`#sign-out`))
		signedOut(t, b, "")
		b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") }) // is there a session?
		b.noConsoleErrors("after signing out")
	})
	t.Run("a key revoked while the page is open", func(t *testing.T) { testRevokedKey(t, b, srv) })
	// People share the tab and the server: a browser and a server of their own would cost seconds.
	t.Run("people", func(t *testing.T) { testPeople(t, b, srv) })
}

// signedOut waits for the sign-in form and checks that no key is kept;
// with want, that the form says it.
func signedOut(t *testing.T, b *browser, want string) {
	t.Helper()
	poll[bool](b, "the sign-in form", `!document.querySelector('#signin').hidden && !!document.activeElement && document.activeElement.closest('#signin-form') !== null && document.activeElement.offsetParent !== null && document.activeElement.id !== 'signin-switch'`, 15*time.Second)
	if eval[bool](b, `sessionStorage.getItem('citygrid.key') !== null || !document.querySelector('#who').hidden`) {
		t.Error("signed out, the page still keeps a key or shows who it speaks as")
	}
	if msg := eval[string](b, `document.querySelector('#signin-msg').textContent`); !strings.Contains(msg, want) {
		t.Errorf("the form says %q, want %q", msg, want)
	}
}

// enterKey types key into the sign-in form and submits it.
func enterKey(b *browser, key string) {
	b.t.Helper()
	if eval[string](b, `document.querySelector('#signin-form').dataset.mode`) != "key" {
		b.do(chromedp.Click(`#signin-switch`))
	}
	b.clear(`#signin-key`)
	b.do(chromedp.SendKeys(`#signin-key`, key), chromedp.Click(`#signin-form button[type=submit]`))
}

// signedIn waits for the map after a key was entered and checks that the
// key is kept for the tab only, never in the address.
func signedIn(t *testing.T, b *browser, key, role string) {
	t.Helper()
	eval[map[string]float64](b, `citygrid.ready`)
	b.settle()
	if got := eval[string](b, `document.querySelector('#who').hidden ? '' : document.querySelector('#who').dataset.role`); got != role {
		t.Errorf("the header shows role %q, want %q", got, role)
	}
	if kept := eval[string](b, `sessionStorage.getItem('citygrid.key') || ''`); kept != key {
		t.Errorf("sessionStorage holds %q, want the key", kept)
	}
	if eval[bool](b, fmt.Sprintf(`location.href.includes(%[1]q) || localStorage.getItem('citygrid.key') !== null || performance.getEntriesByType('resource').some((e) => e.name.includes(%[1]q))`, key)) {
		t.Error("the key shows in an address or in localStorage")
	}
}

// reportedCase creates a case as admin, with a reporter's title and
// description, and returns its id.
func reportedCase(t *testing.T, srv *site, title, description string) string {
	t.Helper()
	body := mustJSON(map[string]any{"source": "hotline", "external_id": fmt.Sprintf("browser-signin-%d", time.Now().UnixNano()), "category": "E0101",
		"title": title, "description": description, "location": []float64{market[0], market[1]}})
	status, raw := srv.call(t, http.MethodPost, "/v1/cases", srv.admin, body)
	var c struct {
		ID         string `json:"id"`
		Properties struct {
			NextStatuses []string `json:"next_statuses"`
		} `json:"properties"`
	}
	if status != 201 || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("create = %d %s", status, raw)
	}
	if len(c.Properties.NextStatuses) == 0 {
		t.Fatalf("case %s has no next step: a key that may act would see no buttons either", c.ID)
	}
	return c.ID
}

// testPlannerKey is TestSignIn's subtest "a planner sees no status buttons and no reporters' text".
func testPlannerKey(t *testing.T, b *browser, srv *site) {
	b.t = t
	key, _ := srv.key(t, access.Key{Role: access.RolePlanner})
	enterKey(b, key)
	signedIn(t, b, key, "planner")
	if eval[bool](b, `document.querySelector('#tab-plan').offsetParent === null || document.querySelector('#open-stats').closest('[hidden]') !== null`) {
		t.Error("a planner key shows no planning view or no indicators")
	}
	// A report made while the planner watches: the activity list names it
	// by its category, never by the reporter's words.
	const title, desc = "门口垃圾堆了三天 (planner must not read this)", "reporter's own words, phone 138…"
	id := reportedCase(t, srv, title, desc)
	poll[bool](b, "the new case in the live list", fmt.Sprintf(`[...document.querySelectorAll('#live-list .row-sub')].some((e) => e.textContent.startsWith('#%s '))`, id), 15*time.Second)
	if eval[bool](b, fmt.Sprintf(`document.querySelector('#live-list').textContent.includes(%q)`, title)) {
		t.Error("the live list shows a planner the reporter's title")
	}
	eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id))
	poll[bool](b, "the case panel", fmt.Sprintf(`(() => { const c = document.querySelector('#panel[data-state=done] .case'); return !!c && c.dataset.caseId === %q; })()`, id), 15*time.Second)
	shown := eval[string](b, `document.querySelector('#panel .case').textContent`)
	if strings.Contains(shown, title) || strings.Contains(shown, desc) {
		t.Errorf("the case panel shows a planner the reporter's words: %q", truncate(shown, 300))
	}
	if n := eval[int](b, `document.querySelectorAll('#panel [data-action], #panel .actions').length`); n != 0 {
		t.Errorf("the case panel shows a planner %d action controls, want none", n)
	}
	b.do(chromedp.Click(`#panel-close`))
	b.noConsoleErrors("as a planner")
}

// testRevokedKey is TestSignIn's subtest "a key revoked while the page is open".
func testRevokedKey(t *testing.T, b *browser, srv *site) {
	b.t = t
	key, keyID := srv.key(t, access.Key{Role: access.RoleDispatcher})
	enterKey(b, key)
	signedIn(t, b, key, "dispatcher")
	id := reportedCase(t, srv, "dispatcher test", "")
	eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id))
	poll[bool](b, "the case panel", `!!document.querySelector('#panel[data-state=done] .case')`, 15*time.Second)
	// The dispatcher's steps for a new report, as the API lists them.
	if got := eval[[]string](b, `[...document.querySelectorAll('#panel [data-action][data-to]')].map((e) => e.dataset.to).sort()`); strings.Join(got, ",") != "accepted,rejected" {
		t.Errorf("a dispatcher gets the buttons %v on a new report, want accepted and rejected", got)
	}
	if _, err := srv.keys.RevokeKey(context.Background(), keyID, time.Now()); err != nil {
		t.Fatal(err)
	}
	status, raw := srv.call(t, http.MethodGet, "/v1/me", key, "")
	for deadline := time.Now().Add(3 * time.Second); status != 401 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // the authenticator's cache forgets within a second
		status, raw = srv.call(t, http.MethodGet, "/v1/me", key, "")
	}
	var problem struct {
		Detail string `json:"detail"`
	}
	if status != 401 || json.Unmarshal(raw, &problem) != nil {
		t.Fatalf("GET /v1/me with a revoked key = %d %s", status, raw)
	}
	eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id)) // any request
	signedOut(t, b, problem.Detail)
	b.dropErrors(func(s string) bool { return strings.Contains(s, "401") })
	b.noConsoleErrors("after the key was revoked")
}
