package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"
)

const testPassword = "a long enough password"

// makeUser makes a user through the API as the admin.
func (a *accessAPI) makeUser(body string) {
	a.t.Helper()
	if r := a.send(asAdmin, "POST", "/v1/users", body); r.status != http.StatusCreated {
		a.t.Fatalf("POST /v1/users %s: %d %s", body, r.status, r.body)
	}
}

// signIn signs in and returns the session cookie and the CSRF token.
func signIn(t *testing.T, send func(method, path, body string, header ...string) reply, user, password string) (cookie, csrf string) {
	t.Helper()
	r := send("POST", "/v1/session", `{"user":"`+user+`","password":"`+password+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", user, r.status, r.body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	r.decode(t, &out)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			return httpapi.SessionCookie + "=" + c.Value, out.CSRF
		}
	}
	t.Fatalf("sign in as %s: no session cookie (%v)", user, r.header.Values("Set-Cookie"))
	return "", ""
}

// TestUsersAPI: only an admin manages users; bad bodies are refused naming
// the field; no reply ever holds a password hash; a password the server
// made is answered once; every change is audited.
func TestUsersAPI(t *testing.T) {
	a := newAccessAPI(t)
	for w := asDispatcher; w < nCallers; w++ {
		if r := a.try(w, "POST", "/v1/users", `{"name":"x","role":"viewer","password":"`+testPassword+`"}`); r.status != http.StatusForbidden {
			t.Errorf("as %s: POST /v1/users = %d, want 403", w, r.status)
		}
	}
	r := a.send(asAdmin, "POST", "/v1/users", `{"name":"li.wei","display_name":"李伟","role":"dispatcher","scope":["S1"]}`)
	var made struct{ ID, Name, Password string }
	r.decode(t, &made)
	if r.status != http.StatusCreated || made.Name != "li.wei" || len(made.Password) < access.MinPasswordLen {
		t.Fatalf("create li.wei: %d %s", r.status, r.body)
	}
	a.makeUser(`{"name":"h1","role":"handler","scope":["S1"],"unit":"U1","password":"` + testPassword + `"}`)
	for _, c := range []struct{ name, body, field string }{
		{"bad name", `{"name":"li wei","role":"viewer"}`, "name"},
		{"short password", `{"name":"p","role":"viewer","password":"short"}`, "password"},
		{"scoped admin", `{"name":"p","role":"admin","scope":["S1"]}`, "scope"},
		{"integration", `{"name":"p","role":"integration"}`, "role"},
		{"handler without unit", `{"name":"p","role":"handler"}`, "unit"},
		{"unknown role", `{"name":"p","role":"boss"}`, "role"},
		{"unknown field", `{"name":"p","role":"viewer","password_hash":"x"}`, ""},
	} {
		if r := a.try(asAdmin, "POST", "/v1/users", c.body); r.status != http.StatusBadRequest || problemField(t, r) != c.field {
			t.Errorf("%s: %d %s, want 400 naming %q", c.name, r.status, r.body, c.field)
		}
	}
	if r := a.try(asAdmin, "POST", "/v1/users", `{"name":"p","role":"viewer","scope":["NOPE"]}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("scope of no grid: %d %s, want 422", r.status, r.body)
	}
	if r := a.try(asAdmin, "POST", "/v1/users", `{"name":"h1","role":"viewer"}`); r.status != http.StatusConflict {
		t.Errorf("a second h1: %d %s, want 409", r.status, r.body)
	}
	r = a.send(asAdmin, "PATCH", "/v1/users/li.wei", `{"display_name":"李 伟","role":"planner","password":"another long password"}`)
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"role":"planner"`)) {
		t.Errorf("PATCH li.wei: %d %s", r.status, r.body)
	}
	if r := a.try(asAdmin, "PATCH", "/v1/users/li.wei", `{"role":"handler"}`); r.status != http.StatusBadRequest || problemField(t, r) != "unit" {
		t.Errorf("PATCH to a handler without unit: %d %s", r.status, r.body)
	}
	if r := a.try(asAdmin, "PATCH", "/v1/users/nobody", `{"disabled":true}`); r.status != http.StatusNotFound {
		t.Errorf("PATCH nobody: %d", r.status)
	}
	list := a.send(asAdmin, "GET", "/v1/users", "")
	for _, r := range []reply{list, r} {
		if bytes.Contains(r.body, []byte("argon2")) || bytes.Contains(r.body, []byte("hash")) || bytes.Contains(r.body, []byte(`"password"`)) {
			t.Errorf("a reply shows a password or its hash: %s", r.body)
		}
	}
	if !bytes.Contains(list.body, []byte(`"name":"h1"`)) || !bytes.Contains(list.body, []byte(`"unit":"U1"`)) {
		t.Errorf("GET /v1/users: %s", list.body)
	}
	audit := string(a.send(asAdmin, "GET", "/v1/audit?object_type=user", "").body)
	for _, want := range []string{`"action":"user.create","object_type":"user","object_id":"li.wei"`, `"action":"user.update","object_type":"user","object_id":"li.wei"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s: %s", want, audit)
		}
	}
}

// TestSignIn: a session cookie with the right attributes and a CSRF token;
// one answer for a wrong name and a wrong password, each audited; after
// five failures the name is refused with 429 and Retry-After; signing out
// ends the session.
func TestSignIn(t *testing.T) {
	a := newAccessAPI(t)
	a.makeUser(`{"name":"li.wei","role":"dispatcher","scope":["S1"],"password":"` + testPassword + `"}`)
	r := a.sendAuth(noKey, "POST", "/v1/session", `{"user":"li.wei","password":"`+testPassword+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
		Me   struct{ Role, Name string }
	}
	r.decode(t, &out)
	if out.CSRF == "" || out.Me.Role != "dispatcher" || out.Me.Name != "li.wei" {
		t.Errorf("sign-in reply %s", r.body)
	}
	set := r.header.Get("Set-Cookie")
	for _, want := range []string{httpapi.SessionCookie + "=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP", set)
	}
	if r := a.sendAuth(noKey, "POST", "/v1/session", `{"user":"li.wei","password":"`+testPassword+`"}`, "X-Forwarded-Proto", "https"); !strings.Contains(r.header.Get("Set-Cookie"), "Secure") {
		t.Errorf("behind TLS: Set-Cookie %q is not Secure", r.header.Get("Set-Cookie"))
	}

	wrong := a.sendAuth(noKey, "POST", "/v1/session", `{"user":"li.wei","password":"not the password"}`)
	unknown := a.sendAuth(noKey, "POST", "/v1/session", `{"user":"nobody","password":"not the password"}`)
	if wrong.status != 401 || unknown.status != 401 || notFoundBody(t, wrong, "") != notFoundBody(t, unknown, "") {
		t.Errorf("wrong password %d %s, unknown user %d %s: want one 401", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	audit := string(a.send(asAdmin, "GET", "/v1/audit?action=signin_fail", "").body)
	for _, want := range []string{`"object_id":"li.wei","outcome":"deny","http_status":401,"from_version":null,"to_version":null,"detail":"wrong password"`, `"object_id":"nobody"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s: %s", want, audit)
		}
	}
	for range 4 {
		a.sendAuth(noKey, "POST", "/v1/session", `{"user":"li.wei","password":"not the password"}`)
	}
	r = a.sendAuth(noKey, "POST", "/v1/session", `{"user":"li.wei","password":"`+testPassword+`"}`)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("after 5 failures, the right password: %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}

	cookie := "citygrid_session=" + strings.TrimPrefix(strings.Split(set, ";")[0], httpapi.SessionCookie+"=")
	if r := a.sendAuth(noKey, "DELETE", "/v1/session", "", "Cookie", cookie); r.status != http.StatusForbidden {
		t.Errorf("sign out without the CSRF token: %d, want 403", r.status)
	}
	if r := a.sendAuth(noKey, "DELETE", "/v1/session", "", "Cookie", cookie, "X-CSRF-Token", out.CSRF); r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign out: %d %q", r.status, r.header.Get("Set-Cookie"))
	}
	if r := a.sendAuth(noKey, "GET", "/v1/me", "", "Cookie", cookie); r.status != http.StatusUnauthorized {
		t.Errorf("after signing out: %d, want 401", r.status)
	}
}

// TestSignInSlowsAnAddress: 20 failures from one address, for any names,
// refuse the address.
func TestSignInSlowsAnAddress(t *testing.T) {
	a := newAccessAPI(t)
	for i := range 20 {
		a.sendAuth(noKey, "POST", "/v1/session", `{"user":"u`+string(rune('a'+i))+`","password":"not the password"}`)
	}
	if r := a.sendAuth(noKey, "POST", "/v1/session", `{"user":"fresh","password":"not the password"}`); r.status != http.StatusTooManyRequests {
		t.Errorf("the 21st failure from one address: %d, want 429", r.status)
	}
}

// TestSessionCookie: the cookie is a credential on every route, cut to the
// user's role and scope; a change through it needs the CSRF token, a
// change with a key none; audit rows and case histories name the user.
func TestSessionCookie(t *testing.T) {
	a := newAccessAPI(t)
	a.makeUser(`{"name":"li.wei","role":"dispatcher","scope":["S1"],"password":"` + testPassword + `"}`)
	cookie, csrf := signIn(t, func(m, p, b string, h ...string) reply { return a.sendAuth(noKey, m, p, b, h...) }, "li.wei", testPassword)
	as := func(method, path, body string, header ...string) reply {
		return a.sendAuth(noKey, method, path, body, append([]string{"Cookie", cookie}, header...)...)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/cases/" + a.in, 200},
		{"GET", "/v1/cases/" + a.out, 404}, // beside the scope
		{"GET", "/v1/keys", 403},
		{"GET", "/v1/users", 403},
		{"GET", "/v1/stats?by=street", 200},
		{"GET", "/metrics", 403},
		{"GET", tilePath("cases", inG1, 16, ""), 200},
	} {
		if r := as(c.method, c.path, ""); r.status != c.want {
			t.Errorf("cookie: %s %s = %d, want %d: %s", c.method, c.path, r.status, c.want, truncateBody(r.body))
		}
	}
	var me struct {
		CSRF string `json:"csrf_token"`
		User struct{ Name string }
	}
	as("GET", "/v1/me", "").decode(t, &me)
	if me.CSRF != csrf || me.User.Name != "li.wei" {
		t.Errorf("GET /v1/me with the cookie: %+v, want the CSRF token and the user", me)
	}

	patch := `{"status":"accepted"}`
	if r := as("PATCH", "/v1/cases/"+a.in, patch, "If-Match", a.etag(a.in)); r.status != 403 || !strings.Contains(string(r.body), "X-CSRF-Token") {
		t.Errorf("PATCH without the CSRF token: %d %s, want 403 naming X-CSRF-Token", r.status, r.body)
	}
	if r := as("PATCH", "/v1/cases/"+a.in, patch, "If-Match", a.etag(a.in), "X-CSRF-Token", csrf+"x"); r.status != 403 {
		t.Errorf("PATCH with a wrong CSRF token: %d, want 403", r.status)
	}
	if r := as("PATCH", "/v1/cases/"+a.in, patch, "If-Match", a.etag(a.in), "X-CSRF-Token", csrf); r.status != 200 {
		t.Errorf("PATCH with the CSRF token: %d %s", r.status, r.body)
	}
	if r := a.send(asDispatcher, "PATCH", "/v1/cases/"+a.inHotline, patch, "If-Match", a.etag(a.inHotline)); r.status != 200 {
		t.Errorf("PATCH with a key and no CSRF token: %d %s", r.status, r.body)
	}
	if h := string(as("GET", "/v1/cases/"+a.in+"/history", "").body); !strings.Contains(h, "li.wei") {
		t.Errorf("the history does not name the user: %s", h)
	}
	audit := string(a.send(asAdmin, "GET", "/v1/audit?object_type=case&object_id="+a.in, "").body)
	if !strings.Contains(audit, `"actor":"li.wei","role":"dispatcher","key_id":null,"user_id":"`) {
		t.Errorf("the case's audit row does not name the user: %s", audit)
	}
	if !strings.Contains(string(a.send(asAdmin, "GET", "/v1/audit?action=csrf_fail", "").body), `"actor":"li.wei"`) {
		t.Error("the refused PATCH without a token is not audited as csrf_fail")
	}
	// A Bearer key wins over a cookie, and a ticket is for keys.
	if r := a.sendAuth(a.bearer(asViewer), "GET", "/v1/users", "", "Cookie", cookie); r.status != 403 {
		t.Errorf("key and cookie: %d", r.status)
	}
	if r := as("POST", "/v1/events/ticket", "", "X-CSRF-Token", csrf); r.status != 400 {
		t.Errorf("a ticket for a session: %d, want 400", r.status)
	}
}

// turnUsers is a user store whose session look-ups take the database turn
// unless their request already holds it (a stream's re-check does not).
type turnUsers struct {
	*postgres.UserStore
	turn turnKeys
}

func (u turnUsers) SessionByHash(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (*access.Session, error) {
	defer u.turn.lock(ctx)()
	return u.UserStore.SessionByHash(ctx, hash, now, idle)
}

// TestDisabledUserLosesAccess: a user disabled through one server loses
// its session on another over the same database within a second, and its
// open event stream (opened with the cookie alone) ends as fast.
func TestDisabledUserLosesAccess(t *testing.T) {
	turn := &sync.Mutex{}
	ta, _ := newTileServer(t,
		func(d *httpapi.Deps, tx pgx.Tx) {
			keys := turnKeys{keys: postgres.NewKeyStore(tx), turn: turn}
			d.Keys, d.Users = keys, turnUsers{UserStore: postgres.NewUserStore(tx), turn: keys}
		},
		func(h http.Handler) http.Handler { return takingTurns(turn, h) })
	a := &scopedAPI{tileAPI: ta, admin: ta.admin, turn: turn}
	a.must(http.StatusCreated, "POST", "/v1/users", `{"name":"li.wei","role":"viewer","scope":["S1"],"password":"`+testPassword+`"}`, as(a.admin)...)
	cookie, _ := signIn(t, func(m, p, b string, h ...string) reply {
		r, err := a.request(m, p, b, append([]string{"Authorization", noKey}, h...)...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}, "li.wei", testPassword)
	stream := a.openStream("", "Authorization", noKey, "Cookie", cookie)

	// A second process: its own server over the same database.
	d := httpapi.Deps{Grids: postgres.NewGridStore(a.tx), Index: a.index}
	withKeys(t, a.tx, &d)
	d.Keys = turnKeys{keys: postgres.NewKeyStore(a.tx), turn: a.turn}
	other := httptest.NewServer(takingTurns(a.turn, httpapi.New(httpapi.Config{}, d)))
	t.Cleanup(other.Close)
	req, _ := http.NewRequest("PATCH", other.URL+"/v1/users/li.wei", strings.NewReader(`{"disabled":true}`))
	req.Header.Set("Authorization", "Bearer "+a.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("disable through the other server: %v %v", resp, err)
	}
	resp.Body.Close()
	disabled := time.Now()
	for {
		r, err := a.request("GET", "/v1/me", "", "Authorization", noKey, "Cookie", cookie)
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusUnauthorized {
			break
		}
		if time.Since(disabled) > time.Second {
			t.Fatalf("a disabled user's session still answers %d after 1 s", r.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	refused := time.Since(disabled)
	if _, ended := stream.ends(time.Second - refused); !ended {
		t.Error("a disabled user's event stream still open 1 s after the disabling")
	}
	t.Logf("requests refused %s, the stream ended %s after the disabling", refused.Round(10*time.Millisecond), time.Since(disabled).Round(10*time.Millisecond))
}
