package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"

	"github.com/jackc/pgx/v5"
)

// The scoped servers below serve requests concurrently (tiles for several
// keys at once; an event stream re-checking its key while other requests
// run) over one test transaction, which serves one statement at a time.
// So every request that may use the database holds dbTurn, and the key
// look-ups of those that do not (tiles, the stream) take it for
// themselves.

// holdsDB marks a request context whose request holds the database turn.
type holdsDB struct{}

// turnKeys is a key store whose calls take the database turn unless their
// request already holds it.
type turnKeys struct {
	keys *postgres.KeyStore
	turn *sync.Mutex
}

func (k turnKeys) lock(ctx context.Context) func() {
	if ctx.Value(holdsDB{}) != nil {
		return func() {}
	}
	k.turn.Lock()
	return k.turn.Unlock
}

func (k turnKeys) KeyByHash(ctx context.Context, hash []byte) (*access.Key, error) {
	defer k.lock(ctx)()
	return k.keys.KeyByHash(ctx, hash)
}

func (k turnKeys) CreateKey(ctx context.Context, key access.Key, hash []byte) (*access.Key, error) {
	defer k.lock(ctx)()
	return k.keys.CreateKey(ctx, key, hash)
}

func (k turnKeys) KeyByID(ctx context.Context, id int64) (*access.Key, error) {
	defer k.lock(ctx)()
	return k.keys.KeyByID(ctx, id)
}

func (k turnKeys) Keys(ctx context.Context) ([]*access.Key, error) {
	defer k.lock(ctx)()
	return k.keys.Keys(ctx)
}

func (k turnKeys) RevokeKey(ctx context.Context, id int64, now time.Time) (*access.Key, error) {
	defer k.lock(ctx)()
	return k.keys.RevokeKey(ctx, id, now)
}

// takingTurns makes every request but tiles and event streams hold the
// database turn.
func takingTurns(turn *sync.Mutex, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/tiles") || r.URL.Path == "/v1/events" {
			h.ServeHTTP(w, r)
			return
		}
		turn.Lock()
		defer turn.Unlock()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), holdsDB{}, true)))
	})
}

// scopedAPI is the tile server's district with keys of any role and scope
// (key), and requests that may run concurrently.
type scopedAPI struct {
	*tileAPI
	admin string // the admin's token
	turn  *sync.Mutex
}

func newScopedAPI(t *testing.T) *scopedAPI {
	t.Helper()
	turn := &sync.Mutex{}
	ta, _ := newTileServer(t,
		func(d *httpapi.Deps, tx pgx.Tx) { d.Keys = turnKeys{keys: postgres.NewKeyStore(tx), turn: turn} },
		func(h http.Handler) http.Handler { return takingTurns(turn, h) })
	return &scopedAPI{tileAPI: ta, admin: ta.admin, turn: turn}
}

// key makes a key (holding the database turn) and returns its token.
func (a *scopedAPI) key(k access.Key) string {
	a.t.Helper()
	a.turn.Lock()
	defer a.turn.Unlock()
	return makeKey(a.t, a.tx, k)
}

// as is the header pair that makes a request speak as token.
func as(token string) []string { return []string{"Authorization", "Bearer " + token} }

// request makes a request with the given header pairs and returns the
// reply; it may run in any goroutine (errors are returned, not fatal).
func (a *scopedAPI) request(method, path, body string, header ...string) (reply, error) {
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// must is request, failing the test on an error or an unexpected status.
func (a *scopedAPI) must(status int, method, path, body string, header ...string) reply {
	a.t.Helper()
	r, err := a.request(method, path, body, header...)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.status != status {
		a.t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

// stream is an open event stream.
type stream struct {
	*sse
	body io.ReadCloser
}

// openStream opens /v1/events with the given query and header pairs and
// reads its hello.
func (a *scopedAPI) openStream(query string, header ...string) *stream {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a.t.Cleanup(cancel) // before the server closes: a stream never ends by itself
	req, _ := http.NewRequestWithContext(ctx, "GET", a.url+"/v1/events"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		a.t.Fatalf("GET /v1/events%s = %d: %s", query, resp.StatusCode, b)
	}
	s := &stream{sse: &sse{t: a.t, r: bufio.NewReader(resp.Body)}, body: resp.Body}
	if name, _ := s.next(); name != "hello" {
		a.t.Fatalf("first event %q, want hello", name)
	}
	return s
}

// ticket gets a stream ticket for token.
func (a *scopedAPI) ticket(token string) string {
	a.t.Helper()
	var out struct{ Ticket string }
	a.must(http.StatusCreated, "POST", "/v1/events/ticket", "", as(token)...).decode(a.t, &out)
	return out.Ticket
}

// ends waits up to within for the stream to end, and returns the events
// it sent meanwhile (names).
func (s *stream) ends(within time.Duration) ([]string, bool) {
	type line struct {
		s   string
		err error
	}
	lines := make(chan line)
	go func() {
		for {
			l, err := s.r.ReadString('\n')
			lines <- line{l, err}
			if err != nil {
				return
			}
		}
	}()
	var names []string
	deadline := time.After(within)
	for {
		select {
		case l := <-lines:
			if l.err != nil {
				return names, true
			}
			if name, ok := strings.CutPrefix(strings.TrimSpace(l.s), "event: "); ok {
				names = append(names, name)
			}
		case <-deadline:
			s.body.Close()
			return names, false
		}
	}
}

// report stores a case at p, reported a day before the servers' clock (in
// the hotspots' default window), as the admin, and returns its id.
func (a *scopedAPI) report(extID string, p [2]float64, title string) string {
	a.t.Helper()
	body := fmt.Sprintf(`{"source":"patrol","external_id":%q,"category":"E0101","title":%q,"location":[%v,%v],"reported_at":%q}`,
		extID, title, p[0], p[1], tileNow.Add(-24*time.Hour).Format(time.RFC3339))
	return caseProps(a.t, a.must(http.StatusCreated, "POST", "/v1/cases", body))["id"].(string)
}

// caseProps decodes a case reply's properties.
func caseProps(t *testing.T, r reply) map[string]any {
	t.Helper()
	var f struct{ Properties map[string]any }
	if err := json.Unmarshal(r.body, &f); err != nil {
		t.Fatalf("case reply: %v: %s", err, r.body)
	}
	return f.Properties
}
