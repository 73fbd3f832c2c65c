package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"
)

// makeKey stores a key in db and returns its token.
func makeKey(t *testing.T, db postgres.DBTX, k access.Key) string {
	t.Helper()
	if k.Name == "" {
		k.Name = "test " + string(k.Role)
	}
	token, hash := access.NewToken()
	if _, err := postgres.NewKeyStore(db).CreateKey(context.Background(), k, hash); err != nil {
		t.Fatalf("make %s key: %v", k.Role, err)
	}
	return token
}

// withKeys gives d the key store, audit trail and user store on db and returns an
// admin token.
func withKeys(t *testing.T, db postgres.DBTX, d *httpapi.Deps) string {
	t.Helper()
	d.Keys = postgres.NewKeyStore(db)
	d.Audit = postgres.NewAuditStore(db)
	d.Users = postgres.NewUserStore(db)
	d.Versions = postgres.NewVersionStore(db) // grid versions (issue 19)
	return makeKey(t, db, access.Key{Role: access.RoleAdmin})
}

// noKey is the Authorization value with which a request through authed
// goes without a credential.
const noKey = "-"

// authed wraps h so that a request with no Authorization header carries
// token: the tests written before access control speak as an admin. One
// with Authorization: - (noKey) goes with none.
func authed(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "":
			r.Header.Set("Authorization", "Bearer "+token)
		case noKey:
			r.Header.Del("Authorization")
		}
		h.ServeHTTP(w, r)
	})
}

// staticAuthn accepts one token as an admin: for servers without a
// database.
type staticAuthn string

func (s staticAuthn) Authenticate(_ context.Context, token string) (*access.Principal, error) {
	if token != string(s) {
		return nil, access.ErrUnauthenticated
	}
	return &access.Principal{KeyID: 1, Name: "test admin", Role: access.RoleAdmin}, nil
}

// keyedServer is a server whose requests speak as an admin (see authed).
type keyedServer struct {
	*httpapi.Server
	token string
}

func (k keyedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authed(k.token, k.Server).ServeHTTP(w, r)
}
