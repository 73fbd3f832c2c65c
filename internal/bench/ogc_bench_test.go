package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// BenchmarkOGCItems compares an OGC API – Features page of 1,000 cases
// (/ogc/collections/cases/items, with numberMatched and links) with the
// equivalent /v1/cases query (the same box and limit) in the same run, the
// two taking turns on the same random 1 km² boxes; it logs the median of
// each and their ratio (target: within 2×).
//
//	go test ./internal/bench -run '^$' -bench OGCItems -benchtime 100x
func BenchmarkOGCItems(b *testing.B) {
	e := setup(b)
	e.loadMillion(b)
	api := e.srvHandler()
	rng := rand.New(rand.NewPCG(16, 16))
	box := e.bounds.Bound()
	const halfDegLat = 500.0 / 110574
	randomBox := func() string {
		for {
			p := orb.Point{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
			if geo.Covers(e.bounds, p) {
				dLon := halfDegLat / math.Cos(p[1]*math.Pi/180)
				return fmt.Sprintf("%f,%f,%f,%f", p[0]-dLon, p[1]-halfDegLat, p[0]+dLon, p[1]+halfDegLat)
			}
		}
	}
	get := func(path string) time.Duration {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+e.admin)
		w := &statusDiscard{}
		w.status = http.StatusOK
		start := time.Now()
		api.ServeHTTP(w, req)
		d := time.Since(start)
		if w.status != http.StatusOK {
			b.Fatalf("%s: status %d", path, w.status)
		}
		return d
	}
	var ogc, v1 []float64
	for b.Loop() {
		bbox := randomBox()
		v1 = append(v1, get("/v1/cases?limit=1000&bbox="+bbox).Seconds()*1000)
		ogc = append(ogc, get("/ogc/collections/cases/items?limit=1000&bbox="+bbox).Seconds()*1000)
	}
	median := func(v []float64) float64 { s := slices.Sorted(slices.Values(v)); return s[len(s)/2] }
	ratio := median(ogc) / median(v1)
	b.ReportMetric(median(v1), "v1-p50-ms")
	b.ReportMetric(median(ogc), "ogc-p50-ms")
	b.ReportMetric(ratio, "ogc/v1")
	b.Logf("a page of 1,000 in a 1 km² box: /v1/cases p50 %.2f ms, OGC items p50 %.2f ms, ratio %.2f", median(v1), median(ogc), ratio)
}
