package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/internal/pglocal"
)

// TestClusterOnLoopback runs the shipped arrangement on loopback — three
// citygrid processes behind HAProxy with deploy/haproxy.cfg, a PostgreSQL
// primary and a streaming replica — and drives mixed load through it while
// the replica's replay is paused, the primary restarts and a citygrid
// process is killed. No request fails but those in flight on the killed
// process, nothing is lost, every process converges, and a client that
// sends back its position reads its own writes every time.
func TestClusterOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a cluster: not with -short")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy is not installed: scripts/install-deps.sh --browser installs it (make test runs it)")
	}
	c := startCluster(t, haproxy)
	run := c.drive(t, loadPlan{clients: 6, maxCases: 5000, length: 24 * time.Second})
	c.checkConverged(t, run)
}

// loadPlan shapes the mixed load.
type loadPlan struct {
	clients  int
	maxCases int
	length   time.Duration
}

type cluster struct {
	bin     string
	primary *pglocal.Cluster
	standby *pglocal.Cluster
	procs   []*process
	lb      string // http://host:port of HAProxy
	stats   string
	admin   string // an admin key's token
	points  [][2]float64
}

// process is one citygrid serve.
type process struct {
	name string
	addr string
	args []string
	dir  string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

func startCluster(t *testing.T, haproxy string) *cluster {
	ctx := context.Background()
	dir := t.TempDir()
	c := &cluster{bin: buildCitygrid(t, dir)}
	var err error
	c.primary, err = pglocal.Start(ctx, pglocal.Config{DataDir: filepath.Join(dir, "primary"), Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.primary.Stop(context.Background()) })
	// The demo district's grids and units, and an admin key, made by the
	// binary as an operator would.
	c.citygrid(t, "demo", "-database-url", c.primary.URL())
	c.admin = strings.Fields(c.citygrid(t, "keys", "create", "-role", "admin", "-name", "load", "-database-url", c.primary.URL()))[0]

	c.standby, err = pglocal.StartStandby(ctx, c.primary, pglocal.Config{DataDir: filepath.Join(dir, "standby"), Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.standby.Stop(context.Background()) })

	for i := 1; i <= 3; i++ {
		p := &process{name: fmt.Sprintf("citygrid%d", i), addr: freeAddr(t), dir: filepath.Join(dir, fmt.Sprintf("p%d", i))}
		p.args = []string{"serve", "-addr", p.addr, "-database-url", c.primary.URL(), "-replica-urls", c.standby.URL(),
			"-data-dir", filepath.Join(p.dir, "data"), "-rate-limit", "0", "-log-level", "warn", "-shutdown-grace", "2s"}
		c.procs = append(c.procs, p)
	}
	for _, p := range c.procs {
		p.start(t, c.bin)
	}
	t.Cleanup(func() {
		for _, p := range c.procs {
			p.kill()
		}
	})
	for _, p := range c.procs {
		p.waitReady(t)
	}

	lb, stats := freeAddr(t), freeAddr(t)
	c.lb, c.stats = "http://"+lb, "http://"+stats
	cmd := exec.Command(haproxy, "-db", "-f", "haproxy.cfg")
	cmd.Env = append(os.Environ(), "CITYGRID_LISTEN="+lb, "CITYGRID_STATS="+stats,
		"CITYGRID_1="+c.procs[0].addr, "CITYGRID_2="+c.procs[1].addr, "CITYGRID_3="+c.procs[2].addr)
	var lbOut lockedBuffer
	cmd.Stdout, cmd.Stderr = &lbOut, &lbOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy:\n%s", lbOut.String())
		}
	})
	c.waitBackends(t, 3)
	c.points = c.pointsInDistrict(t, 200)
	return c
}

// buildCitygrid builds the binary the way an operator would, once.
func buildCitygrid(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "citygrid")
	out, err := exec.Command("go", "build", "-o", bin, "citygrid/cmd/citygrid").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// citygrid runs a command of the binary to its end and returns its output.
func (c *cluster) citygrid(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("citygrid %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (p *process) start(t *testing.T, bin string) {
	t.Helper()
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.out = &lockedBuffer{}
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Dir = p.dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(p.cmd, p.done)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s:\n%s", p.name, p.out.String())
		}
	})
}

// kill ends the process at once (SIGKILL): no shutdown, no snapshot.
func (p *process) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, p.out.String())
		default:
		}
		if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60 s:\n%s", p.name, p.out.String())
}

// waitBackends waits until HAProxy counts n processes up.
func (c *cluster) waitBackends(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		up := 0
		if resp, err := http.Get(c.stats + "/;csv"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(string(body), "\n") {
				f := strings.Split(line, ",")
				if len(f) > 17 && f[0] == "citygrid" && strings.HasPrefix(f[1], "citygrid") && f[17] == "UP" {
					up++
				}
			}
		}
		if up == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy counts %d processes up after 20 s, want %d", up, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pointsInDistrict finds n points the district's grids own, by asking.
func (c *cluster) pointsInDistrict(t *testing.T, n int) [][2]float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][2]float64
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		p := [2]float64{120.33 + rng.Float64()*0.1, 36.06 + rng.Float64()*0.07}
		code, reply, _ := c.do("GET", c.lb, fmt.Sprintf("/v1/locate?lng=%.6f&lat=%.6f", p[0], p[1]), "", "", nil)
		if code == 200 && bytes.Contains(reply, []byte(`"in_service_area":true`)) {
			out = append(out, p)
		}
	}
	if len(out) < n {
		t.Fatalf("found %d points in the district, want %d", len(out), n)
	}
	return out
}

// do sends one request as the admin; the reply's body and
// Citygrid-Position come back.
func (c *cluster) do(method, base, path, body, position string, header map[string]string) (int, []byte, string) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, ""
	}
	req.Header.Set("Authorization", "Bearer "+c.admin)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if position != "" {
		req.Header.Set("Citygrid-Position", position)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error()), ""
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header.Get("Citygrid-Position")
}

var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}

// written is what a client knows it wrote: a case and its last version.
type written struct {
	id      string
	version int
	status  string
}

// loadRun is what the load did.
type loadRun struct {
	mu       sync.Mutex
	cases    map[string]*written // by id
	failed   []failure
	inFlight int // failures in flight at the kill: allowed
	killAt   time.Time
	position string // the last position any write returned
	latency  map[string][]time.Duration
}

type failure struct {
	what       string
	start, end time.Time
}

// drive runs the mixed load and the events against it.
func (c *cluster) drive(t *testing.T, plan loadPlan) *loadRun {
	run := &loadRun{cases: map[string]*written{}}
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := 0; k < plan.clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c.client(t, k, run, &created, int64(plan.maxCases), stop)
		}(k)
	}
	c.events(t, run, plan.length)
	close(stop)
	wg.Wait()
	t.Logf("load: %d cases written, %d requests cut off by the kill;%s", len(run.cases), run.inFlight, run.latencies())
	if len(run.cases) < 50 {
		t.Errorf("only %d cases written: the load did not run", len(run.cases))
	}
	for _, f := range run.failed {
		if !f.start.After(run.killAt) && !f.end.Before(run.killAt) {
			run.inFlight++
			continue
		}
		t.Errorf("failed at %s–%s (not in flight at the kill, %s): %s", f.start.Format("05.000"), f.end.Format("05.000"), run.killAt.Format("15:04:05.000"), f.what)
	}
	return run
}

// events pauses the replica's replay, restarts the primary and kills (and
// later restarts) a citygrid process while the load runs.
func (c *cluster) events(t *testing.T, run *loadRun, length time.Duration) {
	ctx := context.Background()
	begin := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(begin.Add(d))) }

	at(length * 2 / 10)
	exec1(t, c.standby.URL(), `SELECT pg_wal_replay_pause()`)
	t.Logf("%s replica: replay paused", time.Now().Format("05.000"))
	at(length * 4 / 10)
	exec1(t, c.standby.URL(), `SELECT pg_wal_replay_resume()`)
	t.Logf("%s replica: replay resumed", time.Now().Format("05.000"))

	at(length * 5 / 10)
	t0 := time.Now()
	if err := c.primary.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s primary restarted in %v", time.Now().Format("05.000"), time.Since(t0).Round(time.Millisecond))

	at(length * 7 / 10)
	victim := c.procs[2]
	run.mu.Lock()
	run.killAt = time.Now()
	run.mu.Unlock()
	victim.kill()
	t.Logf("%s killed", victim.name)
	at(length * 8 / 10)
	victim.start(t, c.bin)
	victim.waitReady(t)
	t.Logf("%s back", victim.name)
	at(length)
}

// client writes cases and reads each write back, through the load
// balancer, sending the position the write returned.
func (c *cluster) client(t *testing.T, k int, run *loadRun, created *atomic.Int64, maxCases int64, stop chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(k), 7))
	fail := func(start time.Time, format string, args ...any) {
		run.mu.Lock()
		defer run.mu.Unlock()
		run.failed = append(run.failed, failure{what: fmt.Sprintf(format, args...), start: start, end: time.Now()})
	}
	// rw is one request that must work; ok false: it failed (recorded).
	rw := func(method, path, body, position string, header map[string]string, want int) ([]byte, string, bool) {
		start := time.Now()
		code, out, pos := c.do(method, c.lb, path, body, position, header)
		run.took(method, time.Since(start))
		if code != want {
			fail(start, "%s %s (position %s) = %d %s", method, path, position, code, truncate(out))
			return nil, "", false
		}
		return out, pos, true
	}
	var mine []*written
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if created.Add(1) > maxCases {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		p := c.points[rng.IntN(len(c.points))]
		body := fmt.Sprintf(`{"source":"loadtest","external_id":"c%d-%d","category":"E0101","location":[%.6f,%.6f]}`, k, n, p[0], p[1])
		out, pos, ok := rw("POST", "/v1/cases", body, "", nil, 201)
		if !ok {
			continue
		}
		var f struct {
			ID         string `json:"id"`
			Properties struct {
				Version int    `json:"version"`
				Status  string `json:"status"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(out, &f); err != nil || f.ID == "" {
			fail(time.Now(), "POST /v1/cases: reply %s", truncate(out))
			continue
		}
		w := &written{id: f.ID, version: f.Properties.Version, status: f.Properties.Status}
		run.record(w, pos)
		mine = append(mine, w)
		c.readBack(t, run, w, pos, rw)

		switch {
		case n%3 == 1 && len(mine) > 1:
			// Change an earlier case, and read the change back.
			w := mine[rng.IntN(len(mine)-1)]
			if w.status != "reported" {
				break
			}
			out, pos, ok := rw("PATCH", "/v1/cases/"+w.id, `{"status":"accepted","note":"load"}`, "", map[string]string{"If-Match": strconv.Quote(strconv.Itoa(w.version))}, 200)
			if !ok {
				break
			}
			var g struct {
				Properties struct {
					Version int `json:"version"`
				} `json:"properties"`
			}
			json.Unmarshal(out, &g)
			w.version, w.status = g.Properties.Version, "accepted"
			run.record(w, pos)
			c.readBack(t, run, w, pos, rw)
		case n%5 == 2:
			// An area query around the new case (read from the replica
			// once it has replayed the write, else from the primary).
			out, _, ok := rw("GET", fmt.Sprintf("/v1/cases?near=%.6f,%.6f&radius=5&limit=100", p[0], p[1]), "", pos, nil, 200)
			if ok && !bytes.Contains(out, []byte(`"id":"`+f.ID+`"`)) {
				fail(time.Now(), "area query after writing case %s (position %s) misses it", f.ID, pos)
			}
		}
	}
}

// readBack reads w through the load balancer with the write's position:
// whichever process answers has applied it.
func (c *cluster) readBack(t *testing.T, run *loadRun, w *written, pos string, rw func(string, string, string, string, map[string]string, int) ([]byte, string, bool)) {
	out, _, ok := rw("GET", "/v1/cases/"+w.id, "", pos, nil, 200)
	if !ok {
		return
	}
	var f struct {
		Properties struct {
			Version int `json:"version"`
		} `json:"properties"`
	}
	if json.Unmarshal(out, &f); f.Properties.Version != w.version {
		run.mu.Lock()
		run.failed = append(run.failed, failure{what: fmt.Sprintf("case %s read back at version %d after writing version %d (position %s)", w.id, f.Properties.Version, w.version, pos), start: time.Now(), end: time.Now()})
		run.mu.Unlock()
	}
}

// took notes how long a request took.
func (r *loadRun) took(method string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.latency == nil {
		r.latency = map[string][]time.Duration{}
	}
	r.latency[method] = append(r.latency[method], d)
}

// latencies says, per method, how many requests ran and their p50, p99
// and max.
func (r *loadRun) latencies() string {
	var b strings.Builder
	for _, m := range []string{"POST", "GET", "PATCH"} {
		ds := r.latency[m]
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		q := func(f float64) time.Duration {
			return ds[min(len(ds)-1, int(f*float64(len(ds))))].Round(time.Millisecond)
		}
		fmt.Fprintf(&b, " %s n=%d p50=%v p99=%v max=%v;", m, len(ds), q(0.5), q(0.99), ds[len(ds)-1].Round(time.Millisecond))
	}
	return b.String()
}

func (r *loadRun) record(w *written, position string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cases[w.id] = w
	if later(position, r.position) {
		r.position = position
	}
}

// later compares two positions (decimal numbers).
func later(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	return errA == nil && (errB != nil || x > y)
}

// checkConverged: the database holds every write acknowledged (and no
// more than the cut-off ones besides), and every process's case index
// holds what the database holds.
func (c *cluster) checkConverged(t *testing.T, run *loadRun) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.primary.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stored := map[string]int{}
	rows, err := conn.Query(ctx, `SELECT id::text, version FROM cases WHERE source = 'loadtest'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		stored[id] = v
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for id, w := range run.cases {
		if v, ok := stored[id]; !ok || v < w.version {
			t.Errorf("case %s: acknowledged at version %d, stored %v (%d)", id, w.version, ok, v)
		}
	}
	if extra := len(stored) - len(run.cases); extra < 0 || extra > run.inFlight {
		t.Errorf("%d cases stored, %d acknowledged, %d cut off", len(stored), len(run.cases), len(run.failed))
	}
	// Every process, asked directly with the last position, has them all.
	for _, p := range c.procs {
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, out, _ := c.do("GET", "http://"+p.addr, "/v1/sources", "", run.position, nil)
			var got struct {
				Sources []struct {
					Source string `json:"source"`
					Count  int    `json:"count"`
				} `json:"sources"`
			}
			json.Unmarshal(out, &got)
			n := -1
			for _, s := range got.Sources {
				if s.Source == "loadtest" {
					n = s.Count
				}
			}
			if code == 200 && n == len(stored) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: /v1/sources = %d, loadtest %d cases, want %d", p.name, code, n, len(stored))
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func exec1(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
