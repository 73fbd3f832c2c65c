package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"
)

// caller is one column of the access matrix.
type caller int

const (
	asAnon        caller = iota // no credential
	asAdmin                     // the whole district
	asDispatcher                // scoped to street S1, as every key below
	asHandler                   // unit U1
	asInspector                 //
	asPlanner                   //
	asViewer                    //
	asIntegration               // source "patrol"
	nCallers
)

var callerNames = [nCallers]string{"anon", "admin", "dispatcher", "handler", "inspector", "planner", "viewer", "integration"}

func (w caller) String() string { return callerNames[w] }

// A point in unit grid G2 (S1, north-west); inG1 and inG3 are in
// scope_api_test.go.
var pointInG2 = orb.Point{x0 + 0.005, y0 + 0.015}

// notACase is a case id no case has: an object out of scope must answer as
// it does.
const notACase = "999999999"

// accessAPI is the small district with a key for every column of the
// matrix and cases for each kind of access question, all made by an admin:
//
//	in          S1 (G1), unit U1, source patrol, reported
//	out         S2 (G3), unit U1, source patrol, reported: beside the scope only
//	inU2        S1 (G2), unit U2 (re-assigned), source patrol, accepted
//	inHotline   S1 (G1), unit U1, source hotline, reported
//	dispatched, resolved, verified: S1 (G1), unit U1, source patrol
type accessAPI struct {
	*tileAPI
	server  *httpapi.Server
	token   [nCallers]string
	keyID   [nCallers]int64
	version map[string]int // case id → version

	in, out, inU2, inHotline, dispatched, resolved, verified string
}

func newAccessAPI(t *testing.T) *accessAPI {
	t.Helper()
	a := &accessAPI{version: map[string]int{}}
	a.tileAPI, a.server = newAccessServer(t)
	s1 := []string{"S1"}
	keys := [nCallers]access.Key{
		asAdmin:       {Role: access.RoleAdmin},
		asDispatcher:  {Role: access.RoleDispatcher, Scope: s1},
		asHandler:     {Role: access.RoleHandler, Scope: s1, Unit: "U1"},
		asInspector:   {Role: access.RoleInspector, Scope: s1},
		asPlanner:     {Role: access.RolePlanner, Scope: s1},
		asViewer:      {Role: access.RoleViewer, Scope: s1},
		asIntegration: {Role: access.RoleIntegration, Scope: s1, Source: "patrol"},
	}
	for w := asAdmin; w < nCallers; w++ {
		a.token[w], a.keyID[w] = makeKeyWithID(t, a.tx, keys[w])
	}
	a.in = a.newCase("in", "patrol", "E0101", inG1, "")
	a.out = a.newCase("out", "patrol", "C0101", inG3, "") // C01 has no rule in C2: unit U1, like in
	a.inU2 = a.newCase("in-u2", "patrol", "E0101", pointInG2, "accepted")
	a.patch(a.inU2, `{"unit":"U2"}`)
	a.inHotline = a.newCase("in-hotline", "hotline", "E0101", inG1, "")
	a.dispatched = a.newCase("dispatched", "patrol", "E0101", inG1, "dispatched")
	a.resolved = a.newCase("resolved", "patrol", "E0101", inG1, "resolved")
	a.verified = a.newCase("verified", "patrol", "E0101", inG1, "verified")
	return a
}

// newAccessServer is newTileAPI that keeps its server, for the tests that
// walk its routes.
func newAccessServer(t *testing.T) (*tileAPI, *httpapi.Server) {
	t.Helper()
	return newTileServer(t, nil, nil)
}

// makeKeyWithID is makeKey that also returns the key's id.
func makeKeyWithID(t *testing.T, db postgres.DBTX, k access.Key) (string, int64) {
	t.Helper()
	if k.Name == "" {
		k.Name = "test " + string(k.Role)
	}
	token, hash := access.NewToken()
	stored, err := postgres.NewKeyStore(db).CreateKey(context.Background(), k, hash)
	if err != nil {
		t.Fatalf("make %s key: %v", k.Role, err)
	}
	return token, stored.ID
}

// newCase stores a case as the admin and returns its id.
func (a *accessAPI) newCase(ext, source, category string, p orb.Point, status string) string {
	a.t.Helper()
	st := ""
	if status != "" {
		st = fmt.Sprintf(`,"status":%q`, status)
	}
	r := a.post("/v1/cases", fmt.Sprintf(`{"source":%q,"external_id":%q,"category":%q,"title":"标题 %s","location":[%v,%v]%s}`,
		source, ext, category, ext, p[0], p[1], st))
	if r.status != http.StatusCreated {
		a.t.Fatalf("create case %s: %d %s", ext, r.status, r.body)
	}
	var f struct {
		Properties struct {
			ID      string
			Version int
		}
	}
	r.decode(a.t, &f)
	a.version[f.Properties.ID] = f.Properties.Version
	return f.Properties.ID
}

// patch changes a case as the admin, for the fixtures.
func (a *accessAPI) patch(id, body string) {
	a.t.Helper()
	r := a.send(asAdmin, http.MethodPatch, "/v1/cases/"+id, body, "If-Match", a.etag(id))
	if r.status != http.StatusOK {
		a.t.Fatalf("PATCH case %s %s: %d %s", id, body, r.status, r.body)
	}
	var f struct{ Properties struct{ Version int } }
	r.decode(a.t, &f)
	a.version[id] = f.Properties.Version
}

// etag is the If-Match value of a fixture case's current version.
func (a *accessAPI) etag(id string) string { return strconv.Quote(strconv.Itoa(a.version[id])) }

// bearer is the Authorization header value of a column (noKey for anon).
func (a *accessAPI) bearer(w caller) string {
	if w == asAnon {
		return noKey
	}
	return "Bearer " + a.token[w]
}

// send makes one request as w and keeps what it changes. JSON bodies go
// as application/json unless the header pairs name a Content-Type. An
// event stream is answered with its headers only.
func (a *accessAPI) send(w caller, method, path, body string, header ...string) reply {
	a.t.Helper()
	return a.sendAuth(a.bearer(w), method, path, body, header...)
}

// sendAuth is send with any Authorization header value.
func (a *accessAPI) sendAuth(authorization, method, path, body string, header ...string) reply {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", authorization)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return reply{status: resp.StatusCode, header: resp.Header}
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// try makes one request as w in a savepoint rolled back after it: every
// request of a table meets the same data.
func (a *accessAPI) try(w caller, method, path, body string, header ...string) reply {
	a.t.Helper()
	ctx := context.Background()
	sp, err := a.tx.Begin(ctx)
	if err != nil {
		a.t.Fatal("savepoint:", err)
	}
	r := a.send(w, method, path, body, header...)
	if err := sp.Rollback(ctx); err != nil {
		a.t.Fatal("rollback to savepoint:", err)
	}
	return r
}

// problemField is the "field" member of a problem reply ("" without one).
func problemField(t *testing.T, r reply) string {
	t.Helper()
	var p struct{ Field string }
	r.decode(t, &p)
	return p.Field
}

// caseIDs are the ids of a FeatureCollection reply's cases.
func replyCaseIDs(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	var fc struct {
		Features []struct{ Properties struct{ ID string } }
	}
	r.decode(t, &fc)
	ids := []string{}
	for _, f := range fc.Features {
		ids = append(ids, f.Properties.ID)
	}
	return ids
}
