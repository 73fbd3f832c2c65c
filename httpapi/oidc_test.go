package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// testIssuer is an OpenID Connect provider the test serves itself: its own
// RSA key, a discovery document, a JWKS and a token endpoint that checks
// the PKCE verifier and answers an ID token made by mint for the code.
type testIssuer struct {
	t    *testing.T
	srv  *httptest.Server
	key  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey // a second key of the JWKS, kid e1: ES256
	mu   sync.Mutex
	code map[string]issuedCode
}

type issuedCode struct {
	challenge, nonce string
	mint             func(iss *testIssuer, nonce string) string
}

func newTestIssuer(t *testing.T) *testIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{t: t, key: key, ec: ec, code: map[string]issuedCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
			"issuer": iss.srv.URL, "authorization_endpoint": iss.srv.URL + "/authorize", "token_endpoint": iss.srv.URL + "/token",
			"jwks_uri": iss.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256", "ES256", "RS512", "HS256"}, // more than citygrid takes
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}, {Key: &ec.PublicKey, KeyID: "e1", Algorithm: "ES256", Use: "sig"}}}) //nolint:errcheck
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		c, ok := iss.code[r.FormValue("code")]
		delete(iss.code, r.FormValue("code"))
		iss.mu.Unlock()
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`) //nolint:errcheck
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": c.mint(iss, c.nonce)}) //nolint:errcheck
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// sign makes a compact JWS of claims with key (RS256, kid k1).
func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	return signWith(t, jose.RS256, key, "k1", claims)
}

func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// claims are a good ID token's claims for nonce, changed by edit.
func (iss *testIssuer) claims(nonce string, edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": iss.srv.URL, "sub": "u-42", "aud": "citygrid", "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": nonce, "name": "王芳", "citygrid_role": "dispatcher", "citygrid_scope": []string{"S1"}}
	if edit != nil {
		edit(c)
	}
	return c
}

func good(edit func(map[string]any)) func(*testIssuer, string) string {
	return func(iss *testIssuer, nonce string) string { return sign(iss.t, iss.key, iss.claims(nonce, edit)) }
}

// oidcAPI is a server with OpenID Connect sign-in at iss, the small
// district imported.
type oidcAPI struct {
	t      *testing.T
	tx     pgx.Tx
	admin  string
	url    string
	iss    *testIssuer
	client *http.Client
}

func newOIDCAPI(t *testing.T) *oidcAPI {
	t.Helper()
	iss := newTestIssuer(t)
	tx := dbtest.Tx(t)
	d := httpapi.Deps{Grids: postgres.NewGridStore(tx), Index: grid.NewIndex(grid.LocatorOptions{}),
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	admin := withKeys(t, tx, &d)
	s := httpapi.New(httpapi.Config{OIDC: &httpapi.OIDCConfig{Issuer: iss.srv.URL, ClientID: "citygrid", ClientSecret: "s3cret",
		Claims: access.ClaimMapping{RoleClaim: "citygrid_role", ScopeClaim: "citygrid_scope", UnitClaim: "citygrid_unit"}}}, d)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a := &oidcAPI{t: t, tx: tx, admin: admin, url: srv.URL, iss: iss, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, pb := range [][2]string{{"/v1/units", unitsJSON}, {"/v1/grids/import", fcJSON(district())}} {
		path, body := pb[0], pb[1]
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		if r := a.do(req); r.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", path, r.StatusCode)
		}
	}
	return a
}

func (a *oidcAPI) do(req *http.Request) *http.Response {
	a.t.Helper()
	res, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body) //nolint:errcheck
	res.Body.Close()
	return res
}

// signIn runs the flow up to the provider and back with an ID token made
// by mint, changed by tamper (nil: as the provider meant it), and returns
// the callback's answer.
func (a *oidcAPI) signIn(mint func(*testIssuer, string) string, tamper func(q url.Values, cookie *http.Cookie)) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.url+"/v1/oidc/login", nil)
	res := a.do(req)
	if res.StatusCode != http.StatusFound {
		a.t.Fatalf("GET /v1/oidc/login: %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), a.iss.srv.URL+"/authorize?") {
		a.t.Fatalf("login redirects to %q", res.Header.Get("Location"))
	}
	aq := loc.Query()
	if aq.Get("code_challenge_method") != "S256" || aq.Get("code_challenge") == "" || aq.Get("nonce") == "" || aq.Get("state") == "" ||
		aq.Get("client_id") != "citygrid" || aq.Get("redirect_uri") != a.url+"/v1/oidc/callback" {
		a.t.Fatalf("authorization request %v", aq)
	}
	var flow *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "citygrid_oidc" {
			flow = c
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode {
		a.t.Fatalf("login sets no HttpOnly Lax flow cookie: %v", res.Header.Values("Set-Cookie"))
	}
	code := rand.Text()
	a.iss.mu.Lock()
	a.iss.code[code] = issuedCode{challenge: aq.Get("code_challenge"), nonce: aq.Get("nonce"), mint: mint}
	a.iss.mu.Unlock()
	q := url.Values{"code": {code}, "state": {aq.Get("state")}}
	if tamper != nil {
		tamper(q, flow)
	}
	req, _ = http.NewRequest("GET", a.url+"/v1/oidc/callback?"+q.Encode(), nil)
	req.AddCookie(flow)
	return a.do(req)
}

// audited counts the audit rows of action (and outcome).
func (a *oidcAPI) audited(action, outcome string) int {
	a.t.Helper()
	var n int
	if err := a.tx.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2`, action, outcome).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func sessionFrom(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == httpapi.SessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

// TestOIDCSignIn: the whole flow signs in as the user the claims make, and
// the session cookie works on /v1/me.
func TestOIDCSignIn(t *testing.T) {
	a := newOIDCAPI(t)
	// A refused caller learns that it may sign in at the provider.
	if r, err := a.client.Get(a.url + "/v1/me"); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"sign_in":["key","password","oidc"]`) {
			t.Errorf("refusal: %d %s, want sign_in with oidc", r.StatusCode, body)
		}
	}
	res := a.signIn(good(nil), nil)
	c := sessionFrom(res)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || c == nil {
		t.Fatalf("callback: %d %q, session %v", res.StatusCode, res.Header.Get("Location"), c)
	}
	req, _ := http.NewRequest("GET", a.url+"/v1/me", nil)
	req.AddCookie(c)
	r, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var me struct {
		Name, Role string
		Scope      []string
	}
	if err := json.NewDecoder(r.Body).Decode(&me); err != nil || r.StatusCode != 200 {
		t.Fatalf("GET /v1/me: %d %v", r.StatusCode, err)
	}
	if me.Name != "oidc.u-42" || me.Role != "dispatcher" || len(me.Scope) != 1 || me.Scope[0] != "S1" {
		t.Fatalf("me = %+v", me)
	}
	// The provider changes the grant (and signs with its ES256 key): the
	// next sign-in takes it.
	res = a.signIn(func(iss *testIssuer, n string) string {
		return signWith(t, jose.ES256, iss.ec, "e1", iss.claims(n, func(c map[string]any) { c["citygrid_role"] = []string{"staff", "planner"} }))
	}, nil)
	if res.StatusCode != http.StatusSeeOther || sessionFrom(res) == nil {
		t.Fatalf("second sign-in: %d", res.StatusCode)
	}
	if n := a.audited("session.create", "allow"); n != 2 {
		t.Errorf("%d session.create rows, want 2", n)
	}
	if a.audited("user.create", "allow") != 1 || a.audited("user.update", "allow") != 1 {
		t.Errorf("user.create %d, user.update %d: want 1 each", a.audited("user.create", "allow"), a.audited("user.update", "allow"))
	}
	// Disabled here, the user stays out whatever the provider says.
	req, _ = http.NewRequest("PATCH", a.url+"/v1/users/oidc.u-42", strings.NewReader(`{"disabled":true}`))
	req.Header.Set("Authorization", "Bearer "+a.admin)
	req.Header.Set("Content-Type", "application/json")
	if r := a.do(req); r.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if res := a.signIn(good(nil), nil); res.StatusCode != http.StatusForbidden || sessionFrom(res) != nil {
		t.Fatalf("a disabled user signs in: %d", res.StatusCode)
	}
	// A person's user of the name a subject would get is never taken over.
	req, _ = http.NewRequest("POST", a.url+"/v1/users", strings.NewReader(`{"name":"oidc.u-43","role":"viewer","password":"`+testPassword+`"}`))
	req.Header.Set("Authorization", "Bearer "+a.admin)
	req.Header.Set("Content-Type", "application/json")
	if r := a.do(req); r.StatusCode != http.StatusCreated {
		t.Fatalf("create oidc.u-43: %d", r.StatusCode)
	}
	if res := a.signIn(good(func(c map[string]any) { c["sub"] = "u-43" }), nil); res.StatusCode != http.StatusForbidden || sessionFrom(res) != nil {
		t.Fatalf("a password user taken over: %d", res.StatusCode)
	}
	if n := a.audited("signin_fail", "deny"); n != 2 {
		t.Errorf("%d signin_fail rows, want 2", n)
	}
}

// TestOIDCRefusals: forged or unfit tokens and broken flows are refused,
// never with a 5xx and never with a session.
func TestOIDCRefusals(t *testing.T) {
	a := newOIDCAPI(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(v any) string { j, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(j) }
	cases := []struct {
		name   string
		mint   func(*testIssuer, string) string
		tamper func(url.Values, *http.Cookie)
	}{
		{"alg none", func(iss *testIssuer, n string) string {
			return b64(map[string]any{"alg": "none", "kid": "k1"}) + "." + b64(iss.claims(n, nil)) + "."
		}, nil},
		{"alg HS256 with the public key", func(iss *testIssuer, n string) string {
			return b64(map[string]any{"alg": "HS256", "kid": "k1"}) + "." + b64(iss.claims(n, nil)) + ".c2ln"
		}, nil},
		{"RS512: a right key, an alg not allowed", func(iss *testIssuer, n string) string {
			return signWith(iss.t, jose.RS512, iss.key, "k1", iss.claims(n, nil))
		}, nil},
		{"wrong key", func(iss *testIssuer, n string) string { return sign(iss.t, otherKey, iss.claims(n, nil)) }, nil},
		{"expired", good(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), nil},
		{"wrong audience", good(func(c map[string]any) { c["aud"] = "another-app" }), nil},
		{"wrong issuer", good(func(c map[string]any) { c["iss"] = "https://evil.example" }), nil},
		{"wrong nonce", good(func(c map[string]any) { c["nonce"] = "not-the-nonce" }), nil},
		{"oversized header", func(iss *testIssuer, n string) string {
			return b64(map[string]any{"alg": "RS256", "kid": strings.Repeat("k", 64<<10)}) + "." + b64(iss.claims(n, nil)) + ".c2ln"
		}, nil},
		{"garbage", func(*testIssuer, string) string { return "not.a.jwt" }, nil},
		{"no role", good(func(c map[string]any) { c["citygrid_role"] = []string{"staff"} }), nil},
		{"integration role", good(func(c map[string]any) { c["citygrid_role"] = "integration" }), nil},
		{"unknown grid in scope", good(func(c map[string]any) { c["citygrid_scope"] = "NOPE" }), nil},
		{"handler without a unit", good(func(c map[string]any) { c["citygrid_role"] = "handler" }), nil},
		{"wrong state", good(nil), func(q url.Values, _ *http.Cookie) { q.Set("state", "forged") }},
		{"wrong PKCE verifier", good(nil), func(_ url.Values, c *http.Cookie) {
			p := strings.Split(c.Value, ".")
			c.Value = p[0] + "." + p[1] + "." + strings.Repeat("v", 43)
		}},
		{"provider error", good(nil), func(q url.Values, _ *http.Cookie) { q.Del("code"); q.Set("error", "access_denied") }},
		{"no subject", good(func(c map[string]any) { delete(c, "sub") }), nil},
		{"no flow cookie", good(nil), func(_ url.Values, c *http.Cookie) { c.Value = "x" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := a.signIn(tc.mint, tc.tamper)
			if res.StatusCode < 400 || res.StatusCode >= 500 || sessionFrom(res) != nil {
				t.Fatalf("callback: %d, session %v", res.StatusCode, sessionFrom(res))
			}
		})
	}
	if n := a.audited("signin_fail", "deny"); n != len(cases) {
		t.Errorf("%d signin_fail rows, want one a refusal: %d", n, len(cases))
	}
	if n := a.audited("session.create", "allow"); n != 0 {
		t.Errorf("%d sessions made", n)
	}
}
