package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"citygrid/access"
	"citygrid/grid"
	"citygrid/internal/dbtest"
	"citygrid/internal/pglocal"
)

var tokenLine = regexp.MustCompile(`^cg_[A-Za-z0-9_-]{43}$`)

// runKeys runs citygrid keys with args, wants it to succeed and returns
// its stdout.
func runKeys(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), append([]string{"keys"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("keys %q = %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// createKey runs citygrid keys create with args (the database's flags and
// the key's) and returns the token and the id, checking that stdout holds
// exactly those two lines.
func createKey(t *testing.T, args ...string) (token, id string) {
	t.Helper()
	out := runKeys(t, append([]string{"create"}, args...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !tokenLine.MatchString(lines[0]) || !regexp.MustCompile(`^id: [1-9][0-9]*$`).MatchString(lines[1]) {
		t.Fatalf("keys create stdout = %q, want the token alone on the first line and \"id: ID\" on the second", out)
	}
	return lines[0], strings.TrimPrefix(lines[1], "id: ")
}

// adminKey makes an admin key on the database dbArgs name (-database-url
// URL), revoked when the test ends.
func adminKey(t *testing.T, dbArgs ...string) string {
	t.Helper()
	token, id := createKey(t, append(slices.Clone(dbArgs), "-role", "admin", "-name", "test "+t.Name())...)
	t.Cleanup(func() { runKeys(t, append(append([]string{"revoke"}, dbArgs...), id)...) })
	return token
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90d", 90 * 24 * time.Hour, ""},
		{"1d", 24 * time.Hour, ""},
		{"720h", 720 * time.Hour, ""},
		{"36h30m", 36*time.Hour + 30*time.Minute, ""},
		{"0d", 0, "above zero"},
		{"-5d", 0, "above zero"},
		{"-1h", 0, "above zero"},
		{"soon", 0, "want a Go duration"},
		{"1.5d", 0, "whole days"},
		{"d", 0, "whole days"},
		{"99999999d", 0, "whole days"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLifetime(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseLifetime(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseLifetime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSplitCodes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ", nil},
		{"370203005", []string{"370203005"}},
		{"A, B,,C ", []string{"A", "B", "C"}},
	}
	for _, tt := range tests {
		if got := splitCodes(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitCodes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestKeysUsageErrors: bad keys commands are refused before any database
// is opened (none is named here).
func TestKeysUsageErrors(t *testing.T) {
	t.Setenv("CITYGRID_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none") // reached only by a bug
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no action", []string{"keys"}, 2, "", "citygrid keys create -role ROLE"},
		{"unknown action", []string{"keys", "rotate"}, 2, "", `unknown action "rotate"`},
		{"help", []string{"keys", "help"}, 0, "citygrid keys revoke ID", ""},
		{"create without role and name", []string{"keys", "create"}, 1, "", "-role and -name are required"},
		{"unknown role", []string{"keys", "create", "-role", "boss", "-name", "x"}, 1, "", `unknown role "boss"`},
		{"handler without unit", []string{"keys", "create", "--role", "handler", "--name", "x"}, 1, "", "a handler key needs the unit"},
		{"integration without source", []string{"keys", "create", "-role", "integration", "-name", "x"}, 1, "", "needs the source"},
		{"unit on a viewer", []string{"keys", "create", "-role", "viewer", "-name", "x", "-unit", "U"}, 1, "", "only handler keys have a unit"},
		{"bad expiry", []string{"keys", "create", "-role", "viewer", "-name", "x", "-expires", "soon"}, 1, "", `expires "soon"`},
		{"past expiry", []string{"keys", "create", "-role", "viewer", "-name", "x", "-expires", "-2d"}, 1, "", "above zero"},
		{"bad scope code", []string{"keys", "create", "-role", "viewer", "-name", "x", "-scope", "A,b\tc"}, 1, "", "scope: code"},
		{"create with arguments", []string{"keys", "create", "-role", "viewer", "-name", "x", "extra"}, 1, "", "unexpected arguments"},
		{"list with arguments", []string{"keys", "list", "extra"}, 1, "", "unexpected arguments"},
		{"revoke without id", []string{"keys", "revoke"}, 1, "", "usage: citygrid keys revoke ID"},
		{"revoke of a word", []string{"keys", "revoke", "abc"}, 1, "", `key id "abc" is not a positive integer`},
		{"revoke of zero", []string{"keys", "revoke", "0"}, 1, "", "not a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			code := Run(ctx, tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("Run(%q) = %d, stdout %q, stderr %q; want %d, stdout with %q, stderr with %q",
					tt.args, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
			}
			if code != 0 && stdout.Len() > 0 {
				t.Errorf("stdout = %q after a failure, want nothing", stdout.String())
			}
		})
	}
}

// TestKeysCommand makes, lists and revokes a key on the shared test
// database: the token is shown once and never listed, the audit trail
// names the operating-system user, and unknown grids, units and ids are
// refused.
func TestKeysCommand(t *testing.T) {
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	db := []string{"-database-url", dbURL}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"keys"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	if code, out, errOut := run("create", "-database-url", dbURL, "-role", "viewer", "-name", "x", "-scope", "NO-SUCH-GRID"); code != 1 || out != "" || !strings.Contains(errOut, `no grid ["NO-SUCH-GRID"]`) {
		t.Errorf("create with an unknown grid = %d %q %q, want 1 naming the grid", code, out, errOut)
	}
	if code, _, errOut := run("create", "-database-url", dbURL, "-role", "handler", "-name", "x", "-unit", "NO-SUCH-UNIT"); code != 1 || !strings.Contains(errOut, `unit: "NO-SUCH-UNIT" is not registered`) {
		t.Errorf("create with an unknown unit = %d %q, want 1 naming the unit", code, errOut)
	}

	token, id := createKey(t, append(db, "--role", "integration", "--name", "test keys command", "--source", "hotline", "--expires", "30d")...)
	list := runKeys(t, append([]string{"list"}, db...)...)
	if strings.Contains(list, token) || strings.Contains(list, token[3:15]) {
		t.Errorf("keys list shows the token:\n%s", list)
	}
	var row string
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, id+" ") {
			row = l
		}
	}
	if !strings.HasPrefix(list, "ID  ") || !strings.Contains(row, "test keys command") || !strings.Contains(row, "integration") ||
		!strings.Contains(row, "hotline") || !strings.Contains(row, "whole district") {
		t.Errorf("keys list row of key %s = %q, want its name, role, source and scope\n%s", id, row, list)
	}
	if f := strings.Fields(row); f[len(f)-1] != "-" {
		t.Errorf("keys list shows key %s revoked before it was: %q", id, row)
	}

	var actor, addr string
	if err := pool.QueryRow(context.Background(), `SELECT actor, client_addr FROM audit_log WHERE action = 'key.create' AND object_id = $1`, id).Scan(&actor, &addr); err != nil {
		t.Fatalf("audit row of the key made: %v", err)
	}
	if !strings.HasPrefix(actor, "cli ") || len(actor) < 5 || !strings.HasPrefix(addr, "local") {
		t.Errorf("audit row: actor %q, address %q; want cli <user>, local", actor, addr)
	}

	if out := runKeys(t, append(append([]string{"revoke"}, db...), id)...); out != "key "+id+" (test keys command, integration) revoked\n" {
		t.Errorf("keys revoke stdout = %q", out)
	}
	if out := runKeys(t, append(append([]string{"revoke"}, db...), id)...); !strings.Contains(out, "was already revoked at") {
		t.Errorf("keys revoke again: stdout = %q, want already revoked", out)
	}
	if code, _, errOut := run("revoke", "-database-url", dbURL, "987654321"); code != 1 || !strings.Contains(errOut, "key 987654321 not found") {
		t.Errorf("revoke of an unknown key = %d %q, want 1, not found", code, errOut)
	}
}

// me asks r's GET /v1/me with token; zero fields when it is not 200.
type meReply struct {
	Role   string   `json:"role"`
	Scope  []string `json:"scope"`
	Unit   *string  `json:"unit"`
	Source *string  `json:"source"`
	KeyID  string   `json:"key_id"`
}

func (r *replica) me(token string) (int, meReply) {
	r.t.Helper()
	status, body := r.call(http.MethodGet, "/v1/me", "", "", "Authorization", "Bearer "+token)
	var me meReply
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &me); err != nil {
			r.t.Fatalf("%s /v1/me: %v in %s", r.name, err, body)
		}
	}
	return status, me
}

// readDemoKeys reads .citygrid/demo-keys.env: its variables, and checks
// its mode and that each has a comment line above it.
func readDemoKeys(t *testing.T) map[string]string {
	t.Helper()
	fi, err := os.Stat(demoKeysFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", demoKeysFile, fi.Mode().Perm())
	}
	data, err := os.ReadFile(demoKeysFile)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if name == "CG_DEMO_STREET" && ok {
			vars[name] = value
			continue
		}
		if strings.HasSuffix(name, "_USER") || strings.HasSuffix(name, "_PASSWORD") {
			continue // readDemoUsers
		}
		if !ok || !tokenLine.MatchString(value) {
			t.Errorf("%s line %d = %q, want NAME=token", demoKeysFile, i+1, l)
			continue
		}
		if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
			t.Errorf("%s: %s has no comment line above it", demoKeysFile, name)
		}
		vars[name] = value
	}
	return vars
}

// readDemoUsers reads the demo users' names and passwords from
// .citygrid/demo-keys.env: CG_X_USER and CG_X_PASSWORD by CG_X_KEY.
func readDemoUsers(t *testing.T) map[string][2]string {
	t.Helper()
	data, err := os.ReadFile(demoKeysFile)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if name, value, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			vars[name] = value
		}
	}
	users := map[string][2]string{}
	for _, v := range demoKeyVars {
		base := strings.TrimSuffix(v, "_KEY")
		if u, p := vars[base+"_USER"], vars[base+"_PASSWORD"]; u != "" && p != "" {
			users[v] = [2]string{u, p}
		}
	}
	return users
}

// signInStatus signs in on r as user and returns the status and the role
// of the reply.
func (r *replica) signInStatus(user [2]string) (int, string) {
	r.t.Helper()
	status, body := r.call(http.MethodPost, "/v1/session", "application/json", fmt.Sprintf(`{"user":%q,"password":%q}`, user[0], user[1]), "Authorization", "")
	var out struct{ Me struct{ Role string } }
	_ = json.Unmarshal(body, &out)
	return status, out.Me.Role
}

var demoKeyVars = []string{"CG_ADMIN_KEY", "CG_DISPATCHER_KEY", "CG_STREET_DISPATCHER_KEY", "CG_HANDLER_KEY",
	"CG_INSPECTOR_KEY", "CG_PLANNER_KEY", "CG_VIEWER_KEY", "CG_INTEGRATION_KEY"}

// keysGrids is a small district of two streets in the mid-Atlantic, away
// from the other tests' grids, with codes no other test uses.
const keysGrids = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"KEYS-D","name":"钥匙区","level":"district","unit":"KEYS-U"},
  "geometry":{"type":"Polygon","coordinates":[[[-34,14],[-33.99,14],[-33.99,14.01],[-34,14.01],[-34,14]]]}},
 {"type":"Feature","properties":{"code":"KEYS-S2","name":"钥匙二街道","level":"street","parent":"KEYS-D","unit":"KEYS-S2-JD"},
  "geometry":{"type":"Polygon","coordinates":[[[-33.995,14],[-33.99,14],[-33.99,14.01],[-33.995,14.01],[-33.995,14]]]}},
 {"type":"Feature","properties":{"code":"KEYS-S1","name":"钥匙一街道","level":"street","parent":"KEYS-D","unit":"KEYS-S1-JD"},
  "geometry":{"type":"Polygon","coordinates":[[[-34,14],[-33.995,14],[-33.995,14.01],[-34,14.01],[-34,14]]]}}]}`

// TestKeysReachRunningServers runs serve on a fresh private cluster of its
// own and checks, with more processes on the same database:
//   - citygrid keys create, run while serve runs on the same data dir,
//     attaches to its cluster: the first admin key of the fresh database;
//   - each serve -demo start (here on a district already stored, so that
//     nothing is loaded) issues a key for every role, cut to what the
//     database holds, prints them, writes demo-keys.env (0600), and revokes
//     the keys of the start before, on every process;
//   - a key made with keys create works on two running processes within
//     1 s, and keys revoke stops it on both within 1 s;
//   - with no serve running, keys create starts the cluster itself and
//     stops it again.
func TestKeysReachRunningServers(t *testing.T) {
	t.Setenv("CITYGRID_DATABASE_URL", "")
	t.Setenv("CITYGRID_DEMO", "")
	dir := t.TempDir()
	t.Chdir(dir) // serve -demo writes .citygrid/demo-keys.env here
	dataDir := filepath.Join(dir, "pgdata")

	a := startServe(t, "A", "-data-dir", dataDir, "-log-level", "warn")
	if status, _ := a.call("GET", "/v1/me", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /v1/me without a key = %d, want 401", status)
	}
	// The first admin key of a fresh database, made while serve runs.
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"keys", "create", "-data-dir", dataDir, "-role", "admin", "-name", "test first admin"}, &stdout, &stderr); code != 0 {
		t.Fatalf("keys create while serve runs = %d\nstderr: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "run by process") {
		t.Errorf("keys create stderr = %q, want it to say it used the running cluster", stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 || !tokenLine.MatchString(lines[0]) || !strings.HasPrefix(lines[1], "id: ") {
		t.Fatalf("keys create stdout = %q, want the token and the id alone", stdout.String())
	}
	a.token = lines[0]
	a.mustCall(200, "POST", "/v1/units", "application/json", `[{"code":"KEYS-U","name":"u","kind":"test"},{"code":"KEYS-S1-JD","name":"s1","kind":"street_office"},{"code":"KEYS-S2-JD","name":"s2","kind":"street_office"}]`)
	a.mustCall(200, "POST", "/v1/grids/import", "application/json", keysGrids)
	for i, src := range []string{"patrol", "hotline", "hotline"} {
		a.mustCall(201, "POST", "/v1/cases", "application/json", fmt.Sprintf(`{"source":%q,"external_id":"keys-%d","category":"E0101","location":[-33.998,14.005]}`, src, i))
	}

	// Two serve -demo starts on the same database; the district is there,
	// so they load nothing and only issue keys.
	local, err := pglocal.Attach(context.Background(), pglocal.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	demoStart := func(name string) (*replica, map[string]string) {
		t.Helper()
		r := startServe(t, name, "-demo", "-database-url", local.URL(), "-log-level", "warn")
		keys := readDemoKeys(t)
		if len(keys) != len(demoKeyVars)+1 {
			t.Errorf("demo-keys.env holds %d variables, want %d keys and CG_DEMO_STREET", len(keys), len(demoKeyVars))
		}
		for _, v := range demoKeyVars {
			if keys[v] == "" {
				t.Errorf("demo-keys.env has no %s", v)
			} else if !strings.Contains(r.stdout.String(), keys[v]) {
				t.Errorf("serve -demo did not print %s", v)
			}
		}
		if keys["CG_DEMO_STREET"] != "KEYS-S1" {
			t.Errorf("CG_DEMO_STREET = %q, want the first street, KEYS-S1", keys["CG_DEMO_STREET"])
		}
		return r, keys
	}
	str := func(s string) *string { return &s }
	want := map[string]meReply{
		"CG_ADMIN_KEY":             {Role: "admin"},
		"CG_DISPATCHER_KEY":        {Role: "dispatcher"},
		"CG_STREET_DISPATCHER_KEY": {Role: "dispatcher", Scope: []string{"KEYS-S1"}},
		"CG_HANDLER_KEY":           {Role: "handler", Scope: []string{"KEYS-S1"}, Unit: str("KEYS-S1-JD")},
		"CG_INSPECTOR_KEY":         {Role: "inspector", Scope: []string{"KEYS-S1"}},
		"CG_PLANNER_KEY":           {Role: "planner"},
		"CG_VIEWER_KEY":            {Role: "viewer"},
		"CG_INTEGRATION_KEY":       {Role: "integration", Source: str("hotline")}, // the commonest
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	checkDemoKeys := func(r *replica, keys map[string]string) {
		t.Helper()
		for v, w := range want {
			status, me := r.me(keys[v])
			if status != 200 || me.Role != w.Role || !slices.Equal(me.Scope, w.Scope) && len(me.Scope)+len(w.Scope) > 0 ||
				deref(me.Unit) != deref(w.Unit) || deref(me.Source) != deref(w.Source) {
				t.Errorf("%s /v1/me with %s = %d %+v (unit %q, source %q), want role %s, scope %v, unit %q, source %q",
					r.name, v, status, me, deref(me.Unit), deref(me.Source), w.Role, w.Scope, deref(w.Unit), deref(w.Source))
			}
		}
	}
	b, first := demoStart("B")
	checkDemoKeys(a, first)
	checkDemoKeys(b, first)
	firstUsers := readDemoUsers(t)
	if len(firstUsers) != len(demoKeyVars)-1 {
		t.Errorf("demo-keys.env names %d demo users, want one for every key but the integration's", len(firstUsers))
	}
	for v, u := range firstUsers {
		if status, role := a.signInStatus(u); status != http.StatusOK || role != string(want[v].Role) {
			t.Errorf("signing in as demo user %s (%s) = %d %s, want 200 %s", u[0], v, status, role, want[v].Role)
		}
		if !strings.Contains(b.stdout.String(), u[1]) {
			t.Errorf("serve -demo did not print the password of %s", u[0])
		}
	}
	b.stop()
	b, second := demoStart("B2")
	restarted := time.Now()
	for _, v := range demoKeyVars {
		if second[v] == first[v] {
			t.Errorf("%s is the same after a second serve -demo start", v)
		}
	}
	for _, r := range []*replica{a, b} {
		poll(t, time.Second, r.name+" refuses the first start's demo keys", func() bool {
			for _, v := range demoKeyVars {
				if status, _ := r.me(first[v]); status != http.StatusUnauthorized {
					return false
				}
			}
			return true
		})
		t.Logf("%s refused the earlier demo keys %s after the second start listened", r.name, time.Since(restarted).Round(time.Millisecond))
		checkDemoKeys(r, second)
	}
	secondUsers := readDemoUsers(t)
	u := secondUsers["CG_STREET_DISPATCHER_KEY"]
	if status, _ := a.signInStatus(firstUsers["CG_STREET_DISPATCHER_KEY"]); status != http.StatusUnauthorized {
		t.Errorf("the first start's password after the second start: %d, want 401", status)
	}
	if status, role := a.signInStatus(u); status != http.StatusOK || role != "dispatcher" {
		t.Errorf("the second start's street dispatcher: %d %s", status, role)
	}

	// A key made on the command line while both run works on both within
	// 1 s; revoked, it stops on both within 1 s.
	stdout.Reset()
	stderr.Reset()
	if code := Run(context.Background(), []string{"keys", "create", "-data-dir", dataDir, "--role", "viewer", "--name", "test running", "--scope", "KEYS-S2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("keys create while serve runs = %d\nstderr: %s", code, stderr.String())
	}
	made := time.Now()
	lines = strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 || !tokenLine.MatchString(lines[0]) || !strings.HasPrefix(lines[1], "id: ") {
		t.Fatalf("keys create stdout = %q, want the token and the id alone", stdout.String())
	}
	token, id := lines[0], strings.TrimPrefix(lines[1], "id: ")
	for _, r := range []*replica{a, b} {
		poll(t, time.Second-time.Since(made), r.name+" accepts the new key", func() bool {
			status, me := r.me(token)
			return status == http.StatusOK && me.Role == "viewer" && me.KeyID == id
		})
	}
	t.Logf("the new key worked on both processes %s after keys create returned", time.Since(made).Round(time.Millisecond))

	list := runKeys(t, "list", "-data-dir", dataDir)
	if !strings.Contains(list, "test running") || strings.Contains(list, token) || strings.Contains(list, second["CG_ADMIN_KEY"]) {
		t.Errorf("keys list = %s, want the key without any token", list)
	}
	runKeys(t, "revoke", "-data-dir", dataDir, id)
	revoked := time.Now()
	for _, r := range []*replica{a, b} {
		poll(t, time.Second-time.Since(revoked), r.name+" refuses the revoked key", func() bool {
			status, _ := r.me(token)
			return status == http.StatusUnauthorized
		})
	}
	t.Logf("the revoked key was refused by both processes %s after keys revoke returned", time.Since(revoked).Round(time.Millisecond))

	// Nothing runs: keys create starts the cluster and stops it again.
	b.stop()
	a.stop()
	createKey(t, "-data-dir", dataDir, "-role", "planner", "-name", "test offline")
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("keys create left the cluster it started running (postmaster.pid: %v)", err)
	}
}

// TestDemoKeys: one valid demo key per variable, every role among them,
// the scoped ones cut to the place's street.
func TestDemoKeys(t *testing.T) {
	for _, guess := range []bool{false, true} {
		p := &demoPlace{street: &grid.Grid{Code: "S1", Name: "一街道"}, unit: "S1-JD", source: "hotline", sourceGuess: guess}
		keys := demoKeys(p)
		var envs []string
		roles := map[access.Role]bool{}
		for _, k := range keys {
			envs = append(envs, k.env)
			roles[k.key.Role] = true
			if err := k.key.Validate(time.Now()); err != nil {
				t.Errorf("%s: %v", k.env, err)
			}
			if !k.key.Demo || k.what == "" || !strings.HasPrefix(k.key.Name, "demo ") {
				t.Errorf("%s = %+v (%q), want a demo key named demo … that says what it sees", k.env, k.key, k.what)
			}
			scoped := strings.Contains(k.env, "STREET") || k.key.Role == access.RoleHandler || k.key.Role == access.RoleInspector
			if scoped != slices.Equal(k.key.Scope, []string{"S1"}) || !scoped && len(k.key.Scope) > 0 {
				t.Errorf("%s scope = %v", k.env, k.key.Scope)
			}
		}
		if !slices.Equal(envs, demoKeyVars) {
			t.Errorf("demo key variables = %v, want %v", envs, demoKeyVars)
		}
		if len(roles) != len(access.Roles) {
			t.Errorf("demo keys cover roles %v, want all of %v", roles, access.Roles)
		}
		if got := keys[7].what; strings.Contains(got, "no cases stored yet") != guess {
			t.Errorf("integration key described as %q (source guessed: %v)", got, guess)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"370203005":   "370203005",
		"KEYS-S1_a.b": "KEYS-S1_a.b",
		"":            "''",
		"a b":         "'a b'",
		"it's":        `'it'\''s'`,
		"$(rm)":       "'$(rm)'",
		"街道":          "'街道'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
