package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/demo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// The browser tests drive the battle map in headless Chromium (Debian's
// chromium package; scripts/install-deps.sh --browser installs it) against
// a server on the test database with the demo district and demo cases.
// Without Chromium they skip and say so; everything else is a failure.

// The screenshots of the dispatcher and planner views go to
// $TMPDIR/citygrid-screens on every run (the test log names the files), and
// with -update (go test ./web -args -update) to testdata/screens, where they
// are committed as pictures for people. They are not golden files: no test
// compares a screenshot with anything (testdata/screens/README.md).
var update = flag.Bool("update", false, "write the battle map screenshots to testdata/screens")

func screensDir() string {
	if *update {
		return filepath.Join("testdata", "screens")
	}
	return filepath.Join(os.TempDir(), "citygrid-screens")
}

// demoCases is how many demo cases the browser tests load.
const demoCases = 20000

func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}

// chromium returns the browser's path, or skips the test.
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CITYGRID_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser tests skipped: no chromium found (run scripts/install-deps.sh --browser, or set CITYGRID_CHROMIUM)")
	return ""
}

var (
	demoOnce sync.Once
	demoErr  error

	// The grid index of the demo district takes seconds to build, and no
	// browser test changes a grid: one index serves them all.
	indexOnce sync.Once
	gridIndex *grid.Index
	indexErr  error
)

// site is a test server of the battle map and its API, with an admin key
// for the tests' own API calls.
type site struct {
	*httptest.Server
	api   *httpapi.Server
	keys  *postgres.KeyStore
	users *postgres.UserStore
	admin string // an admin key's token
}

// key makes a key (named for its role unless k names it) and returns its
// token and id.
func (s *site) key(t testing.TB, k access.Key) (string, int64) {
	t.Helper()
	if k.Name == "" {
		k.Name = "browser test " + string(k.Role)
	}
	stored, token, err := httpapi.CreateKey(context.Background(), s.keys, k, time.Now())
	if err != nil {
		t.Fatalf("creating a %s key: %v", k.Role, err)
	}
	return token, stored.ID
}

// server serves the demo district with at least n demo cases from the
// shared test database, as `citygrid serve -demo` does.
func server(t testing.TB, n int) *site {
	t.Helper()
	pool := dbtest.Pool(t)
	ctx := context.Background()
	demoOnce.Do(func() {
		_, demoErr = demo.Load(ctx, pool, nil)
	})
	if demoErr != nil {
		t.Fatal("demo district:", demoErr)
	}
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	if have < n {
		start := time.Now()
		if _, err := demo.LoadCases(ctx, pool, n-have, time.Now(), nil); err != nil {
			t.Fatal("demo cases:", err)
		}
		t.Logf("loaded %d demo cases in %v", n-have, time.Since(start).Round(time.Millisecond))
	}
	grids := postgres.NewGridStore(pool)
	indexOnce.Do(func() {
		gridIndex = grid.NewIndex(grid.LocatorOptions{})
		indexErr = gridIndex.Rebuild(ctx, grids)
	})
	if indexErr != nil {
		t.Fatal("grid index:", indexErr)
	}
	index := gridIndex
	caseStore := postgres.NewCaseStore(pool)
	caseIndex := caseindex.New()
	if err := caseStore.LoadCaseIndex(ctx, caseIndex); err != nil {
		t.Fatal(err)
	}
	keys := postgres.NewKeyStore(pool)
	users := postgres.NewUserStore(pool)
	api := httpapi.New(httpapi.Config{}, httpapi.Deps{
		Grids: grids, Cases: caseStore, Stats: caseStore, Index: index, App: app.New(index, caseIndex, caseStore, app.Config{}), Ready: pool.Ping,
		Keys: keys, Audit: postgres.NewAuditStore(pool), Users: users,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),

		Projects: postgres.NewProjectStore(pool), // issue 17
	})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		api.CloseStreams() // the page's event stream would keep Close waiting
		srv.CloseClientConnections()
		srv.Close()
	})
	s := &site{Server: srv, api: api, keys: keys, users: users}
	s.admin, _ = s.key(t, access.Key{Role: access.RoleAdmin})
	return s
}

// browser is a headless Chromium tab that records what the page writes to
// its console as errors (console.error, uncaught exceptions, failed
// requests in the browser log).
type browser struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T, width, height int64) *browser {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(int(width), int(height)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A document other than the page (open's first stop) makes
			// the browser ask for /favicon.ico, which needs a key; the
			// page names its own icon (TestPage).
			if strings.HasSuffix(m.URL, "/favicon.ico") && !m.IsException() {
				continue
			}
			if m.Type == "error" || m.IsException() {
				b.mu.Lock()
				msg := m.String()
				if m.URL != "" && !strings.Contains(msg, m.URL) {
					msg += " [" + m.URL + "]"
				}
				b.errors = append(b.errors, msg)
				b.mu.Unlock()
			}
		}
	}()
	b.do(chromedp.EmulateViewport(width, height))
	return b
}

// open loads the battle map signed in with key, as the sign-in form
// leaves it: the key in the tab's sessionStorage (set on a public page of
// the same origin first, so that the map's first load is measured as a
// returning person's). An empty key opens the page signed out.
func (b *browser) open(srv *site, key string) {
	b.t.Helper()
	if key != "" {
		b.do(chromedp.Navigate(srv.URL + "/static/favicon.svg"))
		eval[bool](b, fmt.Sprintf(`sessionStorage.setItem('citygrid.key', %q), true`, key))
	}
	b.do(chromedp.Navigate(srv.URL + "/"))
}

// reloading runs action, which reloads the page, and waits for the new
// document (a poll would fail while the old one goes).
func (b *browser) reloading(action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	eval[bool](b, `window.citygridOldDocument = true`)
	b.do(action)
	for deadline := time.Now().Add(15 * time.Second); ; {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.citygridOldDocument && document.readyState !== 'loading'`))
		cancel()
		if err == nil && fresh {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page did not reload (last: %v, %v)", fresh, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dropErrors forgets the console errors keep matches: failures the test
// caused on purpose (the browser logs every refused request).
func (b *browser) dropErrors(keep func(string) bool) {
	b.mu.Lock()
	b.errors = slices.DeleteFunc(b.errors, keep)
	b.mu.Unlock()
}

// do runs actions with a time limit.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression (promises awaited) into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", truncate(expr, 200), err)
	}
	return v
}

// poll waits until the expression is truthy and returns its value.
func poll[T any](b *browser, what, expr string, limit time.Duration) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
	return v
}

// clear empties an input the page may have typed into (chromedp.Clear
// only resets the attribute).
func (b *browser) clear(sel string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, sel))
}

// consoleErrors returns the errors the page wrote so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.errors)
}

func (b *browser) noConsoleErrors(when string) {
	b.t.Helper()
	// Console events travel separately from command replies: give the
	// last ones a moment to arrive.
	time.Sleep(150 * time.Millisecond)
	if errs := b.consoleErrors(); len(errs) > 0 {
		b.t.Fatalf("console errors %s:\n%s", when, strings.Join(errs, "\n"))
	}
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	dir := screensDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d KB)", p, len(png)/1024)
}

// settle waits until the map has loaded what it shows, with the filters
// applied, and is still.
const settleJS = `new Promise((resolve) => {
  const m = citygrid.map;
  const check = () => (m.loaded() && m.areTilesLoaded() && !m.isMoving()) ? resolve(true) : m.once('idle', check);
  setTimeout(check, 300); // the filters apply after a short debounce
})`

func (b *browser) settle() { eval[bool](b, settleJS) }

// jump moves the map and waits for it to settle.
func (b *browser) jump(lng, lat, zoom float64) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`citygrid.map.jumpTo({center: [%v, %v], zoom: %v}), true`, lng, lat, zoom))
	b.settle()
}

// rendered counts the features the map draws in each layer.
func (b *browser) rendered(layers ...string) map[string]int {
	b.t.Helper()
	js := fmt.Sprintf(`Object.fromEntries(%s.map((l) => [l, citygrid.map.queryRenderedFeatures({layers: [l]}).length]))`, mustJSON(layers))
	return eval[map[string]int](b, js)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// apiGet decodes a GET of the API, as admin, into v.
func apiGet(t *testing.T, srv *site, path string, v any) {
	t.Helper()
	status, body := srv.call(t, http.MethodGet, path, srv.admin, "")
	if status != 200 {
		t.Fatalf("GET %s = %d: %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// call makes a request of the API with key (none when empty) and a JSON
// body (none when empty), and returns the status and the body.
func (s *site) call(t *testing.T, method, path, key, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}
