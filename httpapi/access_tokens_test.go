package httpapi_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"citygrid/access"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestAccessTokensForged: every forged, malformed, misplaced, revoked or
// expired credential is refused with 401, the same body for every reason,
// and WWW-Authenticate: Bearer; never a 5xx, on any kind of route.
func TestAccessTokensForged(t *testing.T) {
	a := newAPI(t, nil)
	valid, _ := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleAdmin, Name: "forgery test"})
	unknown, _ := access.NewToken()
	revoked, revokedID := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleViewer})
	past := time.Now().Add(-time.Hour)
	expired, _ := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleViewer, ExpiresAt: &past})
	future := time.Now().Add(time.Hour)
	expiring, _ := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleViewer, ExpiresAt: &future})

	call := func(authorization, method, path string) reply {
		t.Helper()
		req, err := http.NewRequest(method, a.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", authorization)
		return a.send(req)
	}
	// The key works where it is sent right, before and after the forgeries.
	if r := call("Bearer "+valid, "GET", "/v1/me"); r.status != http.StatusOK {
		t.Fatalf("the valid key: %d %s", r.status, r.body)
	}
	if r := call("Bearer "+revoked, "GET", "/v1/me"); r.status != http.StatusOK {
		t.Fatalf("the key to revoke, before: %d %s", r.status, r.body)
	}
	if r := call("Bearer "+valid, "DELETE", "/v1/keys/"+strconv.FormatInt(revokedID, 10)); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}

	body := strings.Repeat("A", 43)
	forged := []struct{ name, authorization, query string }{
		{"no credential", noKey, ""},
		{"wrong prefix", "Bearer xx_" + body, ""},
		{"no prefix", "Bearer " + valid[len(access.TokenPrefix):], ""},
		{"prefix only", "Bearer cg_", ""},
		{"right prefix, short", "Bearer cg_" + body[:42], ""},
		{"right prefix, long", "Bearer " + valid + "A", ""},
		{"the key cut short", "Bearer " + valid[:len(valid)-1], ""},
		{"standard base64", "Bearer cg_" + strings.Repeat("+/", 21) + "A", ""},
		{"not base64", "Bearer cg_" + strings.Repeat("!", 43), ""},
		{"non-ASCII", "Bearer cg_" + strings.Repeat("é", 21) + "A", ""},
		{"valid-looking, unknown", "Bearer " + unknown, ""},
		{"the key, upper-cased", "Bearer " + strings.ToUpper(valid), ""},
		{"two keys", "Bearer " + valid + ", Bearer " + valid, ""},
		{"the key and more", "Bearer " + valid + " x", ""},
		{"10 KB", "Bearer " + strings.Repeat("A", 10<<10), ""},
		{"10 KB starting with the key", "Bearer " + valid + strings.Repeat("A", 10<<10), ""},
		{"100,000 dots", "Bearer " + strings.Repeat(".", 100_000), ""},
		{"100,000 dots, no scheme", strings.Repeat(".", 100_000), ""},
		{"a JWT", "Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.", ""},
		{"Basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+valid)), ""},
		{"Basic with the key", "Basic " + valid, ""},
		{"another scheme", "Token " + valid, ""},
		{"no scheme", valid, ""},
		{"empty Bearer", "Bearer", ""},
		{"empty Bearer with spaces", "Bearer    ", ""},
		{"access_token in the query", noKey, "access_token=" + valid},
		{"api_key in the query", noKey, "api_key=" + valid},
		{"key in the query", noKey, "key=" + valid},
		{"token in the query", noKey, "token=" + valid},
		{"the key as a stream ticket", noKey, "ticket=" + valid},
		{"access_token in the query, and a valid header", "Bearer " + valid, "access_token=" + valid},
		{"api_key in the query, and a valid header", "Bearer " + valid, "api_key=" + valid},
		{"key in the query, and a valid header", "Bearer " + valid, "key=" + valid},
		{"an empty key= beside a valid header", "Bearer " + valid, "key="},
		{"revoked", "Bearer " + revoked, ""},
		{"expired", "Bearer " + expired, ""},
	}
	routes := []struct{ method, path string }{
		{"GET", "/v1/me"},
		{"GET", "/v1/grids/G1"},
		{"GET", "/metrics"},
		{"POST", "/v1/grids/import"},
		{"DELETE", "/v1/keys/1"},
		{"GET", "/v1/no-such-endpoint"},
	}
	var first string
	for _, f := range forged {
		for _, rt := range routes {
			path := rt.path
			if f.query != "" {
				path += "?" + f.query
			}
			r := call(f.authorization, rt.method, path)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s: %s %s = %d, want 401: %s", f.name, rt.method, rt.path, r.status, truncateBody(r.body))
				continue
			}
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q, want Bearer", f.name, h)
			}
			checkProblem(t, r, http.StatusUnauthorized)
			// One body for every reason: a refusal tells nothing of keys.
			b := notFoundBody(t, r, "")
			if first == "" {
				first = b
			} else if b != first {
				t.Errorf("%s: 401 body %s differs from another's %s", f.name, b, first)
			}
		}
	}

	for _, ok := range []struct{ name, authorization string }{
		{"lower-case scheme", "bearer " + valid},
		{"upper-case scheme", "BEARER " + valid},
		{"spaces around the key", "Bearer   " + valid + "  "},
		{"a key that expires later", "Bearer " + expiring},
	} {
		if r := call(ok.authorization, "GET", "/v1/me"); r.status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", ok.name, r.status, r.body)
		}
	}
}

// FuzzAuthorization: whatever the Authorization header holds, the answer
// is 401 or the route's normal answer (200 from /v1/me), never a 5xx; and
// only a header that carries the key gets in.
func FuzzAuthorization(f *testing.F) {
	tx := dbtest.Tx(f)
	index := grid.NewIndex(grid.LocatorOptions{})
	keys := postgres.NewKeyStore(tx)
	token, hash := access.NewToken()
	if _, err := keys.CreateKey(context.Background(), access.Key{Name: "fuzz", Role: access.RoleViewer}, hash); err != nil {
		f.Fatal(err)
	}
	s := httpapi.New(httpapi.Config{}, httpapi.Deps{Grids: postgres.NewGridStore(tx), Index: index, Keys: keys, Audit: postgres.NewAuditStore(tx),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "Bearer " + token, "bearer " + token, "Bearer  " + token + " ", token,
		"Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+token)), "Bearer cg_", "Bearer cg_" + strings.Repeat("A", 43),
		"Bearer cg_" + strings.Repeat("\xff", 43), "Bearer " + token + "\x00", "Bearer\t" + token, "Bearer " + strings.Repeat(".", 2000),
		"Bearer " + token[:len(token)-1] + "=", "Bearer " + strings.Repeat("A", 10<<10),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req.Header.Set("Authorization", h)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if !strings.Contains(h, token) {
				t.Fatalf("Authorization %q got in without the key", h)
			}
		case http.StatusUnauthorized:
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("Authorization %q: 401 without WWW-Authenticate: Bearer", h)
			}
		default:
			t.Fatalf("Authorization %q: %d %s, want 200 or 401", h, rec.Code, rec.Body)
		}
	})
}

// TestAccessStreamTickets: a stream ticket opens the event stream once,
// and is no credential anywhere else.
func TestAccessStreamTickets(t *testing.T) {
	a := newAccessAPI(t)
	ticket := func() string {
		t.Helper()
		r := a.send(asViewer, "POST", "/v1/events/ticket", "")
		var out struct{ Ticket string }
		r.decode(t, &out)
		if r.status != http.StatusCreated || out.Ticket == "" {
			t.Fatalf("POST /v1/events/ticket: %d %s", r.status, r.body)
		}
		return out.Ticket
	}
	tk := ticket()
	if r := a.send(asAnon, "GET", "/v1/events?ticket="+tk, ""); r.status != http.StatusOK {
		t.Errorf("the stream with a ticket: %d %s", r.status, r.body)
	}
	if r := a.send(asAnon, "GET", "/v1/events?ticket="+tk, ""); r.status != http.StatusUnauthorized {
		t.Errorf("the ticket again: %d %s, want 401", r.status, r.body)
	}
	if r := a.send(asAnon, "GET", "/v1/events?ticket=nope", ""); r.status != http.StatusUnauthorized {
		t.Errorf("an unknown ticket: %d %s, want 401", r.status, r.body)
	}
	t.Run("elsewhere", func(t *testing.T) {
		for _, path := range []string{"/v1/cases/" + a.in, "/v1/units", "/v1/categories", "/tiles"} {
			if r := a.send(asAnon, "GET", path+"?ticket="+ticket(), ""); r.status != http.StatusUnauthorized {
				t.Errorf("GET %s with a stream ticket: %d, want 401: %s", path, r.status, truncateBody(r.body))
			}
		}
	})
}
