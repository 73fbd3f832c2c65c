package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/internal/dbtest"
)

func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// smokeCleanup removes what the smoke test stores in the shared database.
func smokeCleanup(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `DELETE FROM grids WHERE code LIKE 'SMOKE-%'`); err != nil {
		t.Error("cleanup grids:", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM units WHERE code LIKE 'SMOKE-%'`); err != nil {
		t.Error("cleanup units:", err)
	}
}

// smokeGrids is a district and a street in the mid-Atlantic, where no other
// test puts grids, with codes no other test uses.
const smokeGrids = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"SMOKE-D","name":"烟雾区","level":"district","unit":"SMOKE-U1"},
  "geometry":{"type":"Polygon","coordinates":[[[-30,10],[-29.99,10],[-29.99,10.01],[-30,10.01],[-30,10]]]}},
 {"type":"Feature","properties":{"code":"SMOKE-S","name":"烟雾街道","level":"street","parent":"SMOKE-D"},
  "geometry":{"type":"Polygon","coordinates":[[[-30,10],[-29.99,10],[-29.99,10.01],[-30,10.01],[-30,10]]]}}]}`

var listening = regexp.MustCompile(`citygrid listening on http://(\S+)\n`)

// TestServeSmoke runs the real binary's serve command against the shared
// test database, uses the API over TCP and shuts it down.
func TestServeSmoke(t *testing.T) {
	t.Setenv("CITYGRID_DEMO", "")
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	smokeCleanup(t, pool) // leftovers of an interrupted run
	t.Cleanup(func() { smokeCleanup(t, pool) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-database-url", dbURL, "-snapshot-dir", t.TempDir(), "-shutdown-grace", "5s"}, &stdout, &stderr)
	}()

	var base string
	deadline := time.After(30 * time.Second)
	for base == "" {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve returned %d before listening\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
		case <-deadline:
			cancel()
			t.Fatalf("serve did not print its address in 30 s\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	client := &http.Client{Timeout: 10 * time.Second}
	token := adminKey(t, "-database-url", dbURL)
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, r)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}

	if status, body := call(http.MethodGet, "/healthz", ""); status != http.StatusOK || !bytes.Contains(body, []byte(`"status":"ok"`)) {
		t.Errorf("/healthz = %d %s", status, body)
	}
	if status, body := call(http.MethodGet, "/readyz", ""); status != http.StatusOK || !bytes.Contains(body, []byte(`"status":"ready"`)) {
		t.Errorf("/readyz = %d %s", status, body)
	}
	if status, body := call(http.MethodPost, "/v1/units", `{"code":"SMOKE-U1","name":"烟雾单位","kind":"test"}`); status != http.StatusOK {
		t.Fatalf("POST /v1/units = %d %s", status, body)
	}
	if status, body := call(http.MethodPost, "/v1/grids/import", smokeGrids); status != http.StatusOK || !bytes.Contains(body, []byte(`"inserted":2`)) {
		t.Fatalf("POST /v1/grids/import = %d %s, want 2 inserted", status, body)
	}
	status, body := call(http.MethodGet, "/v1/locate?lng=-29.995&lat=10.005", "")
	var loc struct {
		Grid *struct{ Code string }
		Path []struct{ Code string }
		Unit *struct{ Code, Name string }
		H3   string
	}
	if err := json.Unmarshal(body, &loc); status != http.StatusOK || err != nil {
		t.Fatalf("/v1/locate = %d %s", status, body)
	}
	if loc.Grid == nil || loc.Grid.Code != "SMOKE-S" || len(loc.Path) != 2 || loc.Path[1].Code != "SMOKE-D" ||
		loc.Unit == nil || loc.Unit.Code != "SMOKE-U1" || loc.Unit.Name != "烟雾单位" || len(loc.H3) != 15 {
		t.Errorf("/v1/locate = %s, want SMOKE-S under SMOKE-D, unit SMOKE-U1", body)
	}
	if status, body := call(http.MethodGet, "/v1/locate?lng=abc&lat=1", ""); status != http.StatusBadRequest || !bytes.Contains(body, []byte(`"status":400`)) {
		t.Errorf("/v1/locate?lng=abc = %d %s, want a 400 problem", status, body)
	}

	// Graceful shutdown: cancelling the context stops the server.
	start := time.Now()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve returned %d after cancel, want 0\nstderr: %s", code, stderr.String())
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("serve took %s to stop", el)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not return within 10 s of cancel\nstderr: %s", stderr.String())
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Errorf("server still answers after Run returned")
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.geojson")
	if err := os.WriteFile(badFile, []byte(`{"type":"Feature"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		code       int
		stdout     string // substring; "" = not checked
		stderr     string
		emptyError bool // stderr must be empty
	}{
		{name: "no command", args: nil, code: 2, stderr: "usage: citygrid <command>"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "flag instead of a command", args: []string{"-addr", ":80"}, code: 2, stderr: `unknown command "-addr"`},
		{name: "help", args: []string{"help"}, code: 0, stdout: "usage: citygrid <command>", emptyError: true},
		{name: "serve -h", args: []string{"serve", "-h"}, code: 0, stderr: "-h3-res"},
		{name: "h3-res 99", args: []string{"serve", "-h3-res", "99"}, code: 2, stderr: "h3-res 99: want 0 to 15"},
		{name: "h3-res -1", args: []string{"serve", "-h3-res", "-1"}, code: 2, stderr: "h3-res -1"},
		{name: "h3-res not a number", args: []string{"serve", "-h3-res", "nine"}, code: 2, stderr: "invalid value"},
		{name: "unknown flag", args: []string{"serve", "-no-such-flag"}, code: 2, stderr: "flag provided but not defined: -no-such-flag"},
		{name: "bad log format", args: []string{"serve", "-log-format", "xml"}, code: 2, stderr: `log-format "xml"`},
		{name: "bad log level", args: []string{"migrate", "-log-level", "loud"}, code: 2, stderr: `log-level "loud"`},
		{name: "several bad settings", args: []string{"serve", "-h3-res", "99", "-index-pixel-m", "0"}, code: 2, stderr: "index-pixel-m 0"},
		{name: "body limit too small", args: []string{"serve", "-max-body-bytes", "10"}, code: 2, stderr: "at least 1024 bytes"},
		{name: "bad environment", args: []string{"serve"}, env: map[string]string{"CITYGRID_H3_RES": "nine"}, code: 2, stderr: "CITYGRID_H3_RES: not an integer"},
		{name: "environment out of range", args: []string{"serve"}, env: map[string]string{"CITYGRID_H3_RES": "16"}, code: 2, stderr: "h3-res 16"},
		{name: "flag wins over environment", args: []string{"serve", "-h3-res", "99"}, env: map[string]string{"CITYGRID_H3_RES": "9"}, code: 2, stderr: "h3-res 99"},
		{name: "serve with arguments", args: []string{"serve", "extra"}, code: 1, stderr: `unexpected arguments ["extra"]`},
		{name: "migrate with arguments", args: []string{"migrate", "extra"}, code: 1, stderr: "unexpected arguments"},
		{name: "import without a file", args: []string{"import", "grids"}, code: 1, stderr: "usage: citygrid import grids FILE"},
		{name: "import of an unknown kind", args: []string{"import", "streets", "x.geojson"}, code: 1, stderr: "usage: citygrid import"},
		{name: "import of a missing file", args: []string{"import", "grids", filepath.Join(dir, "missing.geojson")}, code: 1, stderr: "no such file"},
		{name: "import of a Feature", args: []string{"import", "grids", badFile}, code: 1, stderr: "not a GeoJSON FeatureCollection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := Run(ctx, tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("Run(%q) = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.stderr)
			}
			if tt.emptyError && stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
		})
	}
}

func TestMigrateCommand(t *testing.T) {
	dbURL := dbtest.URL(t)
	for i := range 2 {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), []string{"migrate", "-database-url", dbURL}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("migrate #%d = %d\nstderr: %s", i+1, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "schema up to date") || !strings.Contains(stdout.String(), "(0 applied now)") {
			t.Errorf("migrate #%d stdout = %q, want schema up to date, 0 applied now", i+1, stdout.String())
		}
	}
}

// TestImportCommandRejects imports a file with a bad feature into the shared
// database: the command fails, names the feature, and stores nothing.
func TestImportCommandRejects(t *testing.T) {
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	file := filepath.Join(t.TempDir(), "grids.geojson")
	doc := strings.Replace(smokeGrids, `"parent":"SMOKE-D"`, `"parent":"SMOKE-NOPE"`, 1)
	doc = strings.Replace(doc, `,"unit":"SMOKE-U1"`, ``, 1)
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"import", "-database-url", dbURL, "grids", file}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("import = %d, want 1\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"feature 1 (SMOKE-S): parent SMOKE-NOPE does not exist", "1 of 2 features rejected; nothing stored"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM grids WHERE code LIKE 'SMOKE-%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d SMOKE- grids stored by a rejected import, want 0", n)
	}
}
