package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
)

// BenchmarkScopedTiles compares a street-scoped key with the admin's in
// one run, on the same requests: cold cases tiles at z12 and z16 (a fresh
// server, empty cache, for every pass), warm ones (the same tiles again),
// and 1 km² area queries (GET /v1/cases?bbox=…&limit=100) inside the
// street. Each is measured in 5 runs alternating the keys; the figures are
// medians, and the ratios scoped/admin (time for cold tiles: at most 1.5;
// rate for warm tiles and area queries: at least 0.9).
//
//	go test ./internal/bench -run '^$' -bench ScopedTiles -benchtime 1x -timeout 30m
func BenchmarkScopedTiles(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	street, bound := e.busiestStreet()
	scoped := e.key(b, access.Key{Name: "bench street", Role: access.RoleDispatcher, Scope: []string{street}})
	keys := []struct{ name, token string }{{"admin", e.admin}, {"scoped", scoped}}
	b.Logf("scoped key: dispatcher of street %s (%.4f,%.4f – %.4f,%.4f)", street, bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1])
	const runs = 5
	for b.Loop() {
		for _, z := range []int{12, 16} {
			ts := geo.TilesCovering(bound, z)
			// Cold: enough passes for some 100 tiles a run, each on a
			// fresh server.
			passes := max(1, 100/len(ts))
			cold := map[string][]float64{}
			warm := map[string][]float64{}
			for range runs {
				// The keys take turns pass by pass, so that the machine's
				// moods (other processes, the collector) fall on both.
				coldTime := map[string]time.Duration{}
				warmTime := map[string]time.Duration{}
				apis := map[string]http.Handler{}
				for pass := range passes {
					for i := range keys {
						k := keys[(pass+i)%len(keys)]
						api := e.handler(httpapi.Config{}, httpapi.Deps{Index: e.index, App: app.New(e.index, e.caseIndex, nil, app.Config{})})
						// The key's look-up and its scope's resolution
						// are a new server's, once: not a tile's.
						serve(b, api, "/tiles/cases.json", k.token)
						coldTime[k.name] += fetchTiles(b, api, ts, k.token)
						apis[k.name] = api
					}
				}
				// Warm: the last pass's servers have them all.
				reps := max(1, 20000/len(ts))
				for rep := range reps {
					for i := range keys {
						k := keys[(rep+i)%len(keys)]
						warmTime[k.name] += fetchTiles(b, apis[k.name], ts, k.token)
					}
				}
				for _, k := range keys {
					cold[k.name] = append(cold[k.name], float64(coldTime[k.name].Microseconds())/float64(passes*len(ts))/1000)
					warm[k.name] = append(warm[k.name], float64(reps*len(ts))/warmTime[k.name].Seconds())
				}
			}
			c := report(b, fmt.Sprintf("z%d cold ms/tile", z), cold)
			w := report(b, fmt.Sprintf("z%d warm tiles/s", z), warm)
			b.ReportMetric(c, fmt.Sprintf("z%d-cold-time-ratio", z))
			b.ReportMetric(w, fmt.Sprintf("z%d-warm-rate-ratio", z))
		}
		// Area queries: the same random 1 km² boxes inside the street for
		// both keys.
		rng := rand.New(rand.NewPCG(12, 12))
		sg, _ := e.loc.Grid(street)
		const halfDegLat = 500.0 / 110574
		var boxes []string
		for len(boxes) < 100 {
			p := orb.Point{bound.Min[0] + rng.Float64()*(bound.Max[0]-bound.Min[0]), bound.Min[1] + rng.Float64()*(bound.Max[1]-bound.Min[1])}
			if !geo.Covers(sg.MultiPolygon(), p) {
				continue
			}
			dLon := halfDegLat / math.Cos(p[1]*math.Pi/180)
			boxes = append(boxes, fmt.Sprintf("/v1/cases?bbox=%f,%f,%f,%f&limit=100", p[0]-dLon, p[1]-halfDegLat, p[0]+dLon, p[1]+halfDegLat))
		}
		area := map[string][]float64{}
		for range runs {
			took := map[string]time.Duration{}
			for j, q := range boxes {
				for i := range keys {
					k := keys[(j+i)%len(keys)]
					start := time.Now()
					serve(b, e.srvHandler(), q, k.token)
					took[k.name] += time.Since(start)
				}
			}
			for _, k := range keys {
				area[k.name] = append(area[k.name], float64(len(boxes))/took[k.name].Seconds())
			}
		}
		b.ReportMetric(report(b, "area queries/s", area), "area-rate-ratio")
	}
}

// report logs the per-run figures and medians of both keys and returns
// the median ratio scoped/admin.
func report(b *testing.B, what string, runs map[string][]float64) float64 {
	med := map[string]float64{}
	for k, v := range runs {
		s := slices.Sorted(slices.Values(v))
		med[k] = s[len(s)/2]
	}
	ratio := med["scoped"] / med["admin"]
	fmtRuns := func(v []float64) string {
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprintf("%.3g", x)
		}
		return strings.Join(parts, " ")
	}
	b.Logf("%-20s admin %8.3g (runs %s)  scoped %8.3g (runs %s)  scoped/admin %.3f", what, med["admin"], fmtRuns(runs["admin"]), med["scoped"], fmtRuns(runs["scoped"]), ratio)
	return ratio
}

// serve GETs path through h as token, failing on any status but 200.
func serve(b *testing.B, h http.Handler, path, token string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
}

// fetchTiles serves the cases tile of every t through api as token, and
// returns the time taken.
func fetchTiles(b *testing.B, api http.Handler, ts []geo.Tile, token string) time.Duration {
	reqs := make([]*http.Request, len(ts))
	for i, t := range ts {
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/tiles/cases/%d/%d/%d.mvt", t.Z, t.X, t.Y), nil)
		reqs[i].Header.Set("Authorization", "Bearer "+token)
		reqs[i].Header.Set("Accept-Encoding", "gzip")
	}
	w := &statusDiscard{}
	start := time.Now()
	for _, r := range reqs {
		w.status, w.h = http.StatusOK, nil
		api.ServeHTTP(w, r)
		if w.status != http.StatusOK && w.status != http.StatusNoContent {
			b.Fatalf("%s: status %d", r.URL, w.status)
		}
	}
	return time.Since(start)
}

// statusDiscard keeps a reply's status only.
type statusDiscard struct {
	discard
	status int
}

func (d *statusDiscard) WriteHeader(code int) { d.status = code }

// busiestStreet returns the street with the most cases, and its bounds.
func (e *env) busiestStreet() (string, orb.Bound) {
	loads := e.caseIndex.ByGrid(time.Now())
	counts := map[string]int{}
	for code, l := range loads {
		for _, g := range e.loc.Path(code) {
			if g.Level == grid.LevelStreet {
				counts[g.Code] += l.Count
			}
		}
	}
	best := ""
	for code, n := range counts {
		if best == "" || n > counts[best] || n == counts[best] && code < best {
			best = code
		}
	}
	b, _ := e.loc.Bound(best)
	return best, b
}

// srvHandler is the setup server's handler (the bench database's stores).
func (e *env) srvHandler() http.Handler { return e.srv.Config.Handler }
