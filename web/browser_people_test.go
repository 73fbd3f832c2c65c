package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citygrid/access"
	"citygrid/httpapi"
)

// testPeople is TestSignIn's subtest "people": it goes through the page
// as people signing in with user names and passwords would, in the same
// tab: a street's dispatcher (the map holds only that street; a change
// without the CSRF token is refused), a handler (its unit's cases, a
// handler's actions), a planner (no reporters' text), and a user disabled
// while the page is open.
func testPeople(t *testing.T, b *browser, srv *site) {
	b.t = t
	// The street the market lies in, and its street office.
	var loc struct {
		Path []struct {
			Code  string `json:"code"`
			Level string `json:"level"`
		} `json:"path"`
	}
	apiGet(t, srv, fmt.Sprintf("/v1/locate?lng=%v&lat=%v", market[0], market[1]), &loc)
	street := ""
	for _, g := range loc.Path {
		if g.Level == "street" {
			street = g.Code
		}
	}
	if street == "" {
		t.Fatalf("the market lies in no street: %+v", loc.Path)
	}

	signedOut(t, b, "")

	t.Run("a street's dispatcher sees only the street", func(t *testing.T) {
		b.t = t
		person(t, b, srv, access.User{Name: "browser.dispatcher", Role: access.RoleDispatcher, Scope: []string{street}})
		b.jump(market[0], market[1], 15)
		grids, cases := drawn(b)
		if len(cases) == 0 {
			t.Fatal("the map draws no case near the market")
		}
		for _, c := range cases {
			if !strings.HasPrefix(c["grid"], street) {
				t.Errorf("the map draws case %s of grid %s, outside the street %s", c["id"], c["grid"], street)
			}
		}
		for _, g := range grids {
			if !strings.HasPrefix(g["code"], street) && !strings.HasPrefix(street, g["code"]) {
				t.Errorf("the map draws grid %s, neither in nor above the street %s", g["code"], street)
			}
		}
		// What the page leaves out is there: the admin's view of the same
		// place holds cases of other streets.
		bbox := eval[string](b, `citygrid.map.getBounds().toArray().flat().join(',')`)
		var all struct {
			Features []struct {
				Properties struct {
					Grid string `json:"grid"`
				} `json:"properties"`
			} `json:"features"`
		}
		apiGet(t, srv, "/v1/cases?limit=2000&bbox="+bbox, &all)
		if !slices.ContainsFunc(all.Features, func(f struct {
			Properties struct {
				Grid string `json:"grid"`
			} `json:"properties"`
		}) bool {
			return !strings.HasPrefix(f.Properties.Grid, street)
		}) {
			t.Logf("no case of another street in view (%s): the scope is checked on grids only", bbox)
		}

		// CSRF: the same change by the same cookie, without and with the
		// session's token.
		id := reportedCase(t, srv, "csrf test", "")
		patch := func(withToken bool) int {
			return eval[int](b, fmt.Sprintf(`fetch('/v1/cases/%[1]s').then((r) => fetch('/v1/cases/%[1]s', {method: 'PATCH', body: '{"status": "accepted"}',
			  headers: Object.assign({'Content-Type': 'application/json', 'If-Match': r.headers.get('ETag')}, %[2]v ? {'X-CSRF-Token': citygrid.me.csrf} : {})})).then((r) => r.status)`, id, withToken))
		}
		if got := patch(false); got != http.StatusForbidden {
			t.Errorf("a PATCH by the cookie without X-CSRF-Token = %d, want 403", got)
		}
		if got := patch(true); got != http.StatusOK {
			t.Errorf("a PATCH by the cookie with the page's token = %d, want 200", got)
		}
		b.dropErrors(func(s string) bool { return strings.Contains(s, "403") })
		b.noConsoleErrors("as a street dispatcher")

		b.reloading(chromedp.Click(`#sign-out`))
		signedOut(t, b, "")
		if got := eval[int](b, `fetch('/v1/me').then((r) => r.status)`); got != http.StatusUnauthorized {
			t.Errorf("after signing out, GET /v1/me by the page = %d, want 401", got)
		}
		b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") })
	})

	t.Run("a handler sees its unit's cases and a handler's actions", func(t *testing.T) {
		b.t = t
		id := reportedCase(t, srv, "handler test", "")
		for _, to := range []string{"accepted", "dispatched"} {
			advance(t, srv, id, to)
		}
		// The handler is the unit the case went to.
		var c struct {
			Properties struct {
				Unit string `json:"unit"`
			} `json:"properties"`
		}
		apiGet(t, srv, "/v1/cases/"+id, &c)
		if c.Properties.Unit == "" {
			t.Fatalf("case %s was dispatched to no unit", id)
		}
		unit := c.Properties.Unit
		person(t, b, srv, access.User{Name: "browser.handler", Role: access.RoleHandler, Scope: []string{street}, Unit: unit})
		b.jump(market[0], market[1], 15)
		_, cases := drawn(b)
		if len(cases) == 0 {
			t.Fatal("the map draws a handler no case near the market")
		}
		for _, c := range cases {
			if c["unit"] != unit {
				t.Errorf("the map draws a handler of %s case %s of unit %q", unit, c["id"], c["unit"])
			}
		}
		eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id))
		poll[bool](b, "the case panel", fmt.Sprintf(`(() => { const c = document.querySelector('#panel[data-state=done] .case'); return !!c && c.dataset.caseId === %q; })()`, id), 15*time.Second)
		got := eval[[]string](b, `[...document.querySelectorAll('#panel [data-action]')].map((e) => e.dataset.action)`)
		handlers := []string{"start", "resolve", "return", "request_extension", "request_pause"}
		if len(got) == 0 {
			t.Error("a handler gets no action on a case dispatched to its unit")
		}
		for _, a := range got {
			if !slices.Contains(handlers, a) {
				t.Errorf("a handler's case panel offers %q (all: %v)", a, got)
			}
		}
		b.do(chromedp.Click(`#panel-close`))
		b.noConsoleErrors("as a handler")
		b.reloading(chromedp.Click(`#sign-out`))
		signedOut(t, b, "")
		b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") })
	})

	t.Run("a planner reads no reporter's text, and a disabled user loses the page", func(t *testing.T) {
		b.t = t
		name := person(t, b, srv, access.User{Name: "browser.planner", Role: access.RolePlanner})
		const title, desc = "楼道堆物 (a planner must not read this)", "reporter's words, phone 139…"
		id := reportedCase(t, srv, title, desc)
		// The live stream, opened by the cookie, brings the report.
		poll[bool](b, "the new case in the live list", fmt.Sprintf(`[...document.querySelectorAll('#live-list .row-sub')].some((e) => e.textContent.startsWith('#%s '))`, id), 15*time.Second)
		eval[bool](b, fmt.Sprintf(`citygrid.openCase(%q), true`, id))
		poll[bool](b, "the case panel", fmt.Sprintf(`(() => { const c = document.querySelector('#panel[data-state=done] .case'); return !!c && c.dataset.caseId === %q; })()`, id), 15*time.Second)
		if page := eval[string](b, `document.documentElement.outerHTML`); strings.Contains(page, title) || strings.Contains(page, desc) {
			t.Error("the page holds a reporter's words for a planner")
		}
		b.noConsoleErrors("as a planner")

		start := time.Now()
		if status, raw := srv.call(t, http.MethodPatch, "/v1/users/"+name, srv.admin, `{"disabled": true}`); status != 200 {
			t.Fatalf("disabling %s = %d %s", name, status, raw)
		}
		poll[bool](b, "the sign-in form", `!document.querySelector('#signin').hidden && document.querySelector('#live').dataset.state !== 'live'`, 5*time.Second)
		if took := time.Since(start); took > time.Second {
			t.Errorf("a disabled user's page showed the sign-in form after %v, want within 1 s", took.Round(time.Millisecond))
		} else {
			t.Logf("a disabled user's page showed the sign-in form after %v", took.Round(time.Millisecond))
		}
		signedOut(t, b, "")
		b.dropErrors(func(s string) bool { return strings.Contains(s, "401") })
		b.noConsoleErrors("after the user was disabled")
	})
}

// person makes u (with a password of its own) and signs in as u through
// the form, waiting for the map: by session, with no key kept and the
// cookie out of the page's reach.
func person(t *testing.T, b *browser, srv *site, u access.User) string {
	t.Helper()
	// The signed-out page asked GET /v1/me whether a session exists: the
	// browser logs its 401, which may arrive late.
	time.Sleep(150 * time.Millisecond)
	b.dropErrors(func(s string) bool { return strings.Contains(s, "401") && strings.Contains(s, "/v1/me") })
	u.Name = fmt.Sprintf("%s.%d", u.Name, time.Now().UnixNano())
	u.DisplayName = "Browser " + string(u.Role)
	const password = "correct horse battery staple"
	if _, _, err := httpapi.CreateUser(context.Background(), srv.users, u, password); err != nil {
		t.Fatalf("creating %s: %v", u.Name, err)
	}
	poll[bool](b, "the sign-in form", `!document.querySelector('#signin').hidden`, 15*time.Second)
	if eval[string](b, `document.querySelector('#signin-form').dataset.mode`) != "user" {
		b.do(chromedp.Click(`#signin-switch`))
	}
	b.clear(`#signin-user`)
	b.clear(`#signin-password`)
	b.do(chromedp.SendKeys(`#signin-user`, u.Name), chromedp.SendKeys(`#signin-password`, password))
	// A page built for someone else (a key refused while open) reloads once signed in.
	if submit := chromedp.Click(`#signin-form button[type=submit]`); eval[bool](b, `!!citygrid.map`) {
		b.reloading(submit)
	} else {
		b.do(submit)
	}
	poll[bool](b, "the page", `!!window.citygrid`, 15*time.Second)
	eval[map[string]float64](b, `citygrid.ready`)
	b.settle()
	got := eval[map[string]string](b, `(() => { const w = document.querySelector('#who'); return {role: w.hidden ? '' : w.dataset.role, by: w.dataset.by || '', user: (document.querySelector('#who-user') || {}).textContent || ''}; })()`)
	if got["role"] != string(u.Role) || got["by"] != "session" || got["user"] != u.DisplayName {
		t.Errorf("the header shows %v, want role %s by session for %q", got, u.Role, u.DisplayName)
	}
	if eval[bool](b, `sessionStorage.getItem('citygrid.key') !== null || localStorage.length > 0 || document.cookie.includes('citygrid_session')`) {
		t.Error("signed in by session, the page keeps a key, or can read the session cookie")
	}
	poll[bool](b, "the live stream", `document.querySelector('#live').dataset.state === 'live'`, 10*time.Second)
	return u.Name
}

// advance moves case id to status to, as admin.
func advance(t *testing.T, srv *site, id, to string) {
	t.Helper()
	get, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/cases/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	get.Header.Set("Authorization", "Bearer "+srv.admin)
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, err := http.NewRequest(http.MethodPatch, srv.URL+"/v1/cases/"+id, strings.NewReader(`{"status": "`+to+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.admin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH %s to %s = %d", id, to, resp.StatusCode)
	}
}

// drawn returns the grid and case features the map draws now, with the
// properties the scope decides (a grid's code; a case's id, grid and
// unit). Clusters carry none and are left out.
func drawn(b *browser) (grids, cases []map[string]string) {
	b.t.Helper()
	const js = `(() => {
	  const m = citygrid.map;
	  const layers = (src) => m.getStyle().layers.filter((l) => l.source === src).map((l) => l.id);
	  const props = (src, keys) => m.queryRenderedFeatures({layers: layers(src)})
	    .filter((f) => !f.properties.cluster && !f.properties.point_count)
	    .map((f) => Object.fromEntries(keys.map((k) => [k, f.properties[k] == null ? '' : String(f.properties[k])])));
	  return {grids: props('grids', ['code']), cases: props('cases', ['id', 'grid', 'unit'])};
	})()`
	got := eval[map[string][]map[string]string](b, js)
	return got["grids"], got["cases"]
}
