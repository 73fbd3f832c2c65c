package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/demo"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
)

var hotspotNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// hotspotServer serves hotspots over the demo district with the given cases
// in memory: no database is involved.
func hotspotServer(t *testing.T, fill func(x *caseindex.Index, district orb.MultiPolygon, loc *grid.Locator)) *httptest.Server {
	t.Helper()
	district, err := demo.District()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := grid.NewLocator([]*grid.Grid{{Code: "370203", Name: "市北区", Level: grid.LevelDistrict, Unit: "SB-CGJ", Geometry: district}}, nil, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	index := grid.NewIndex(grid.LocatorOptions{})
	index.Set(loc)
	x := caseindex.New()
	fill(x, district, loc)
	srv := httptest.NewServer(authed("cg_hotspot-test", httpapi.New(httpapi.Config{}, httpapi.Deps{
		Index: index, App: app.New(index, x, nil, app.Config{Now: func() time.Time { return hotspotNow }}), Now: func() time.Time { return hotspotNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Authn: staticAuthn("cg_hotspot-test"),
	})))
	t.Cleanup(srv.Close)
	return srv
}

type hotspotReply struct {
	N        int     `json:"n"`
	Mean     float64 `json:"mean"`
	Features []struct {
		Properties struct {
			H3      string  `json:"h3"`
			Count   float64 `json:"count"`
			GiZ     float64 `json:"gi_z"`
			GiClass string  `json:"gi_class"`
			Pattern string  `json:"pattern"`
		} `json:"properties"`
	} `json:"features"`
	Patterns map[string]int `json:"patterns"`
}

func getHotspots(t *testing.T, url string) hotspotReply {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, body)
	}
	var r hotspotReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func fillDemo(n int) func(x *caseindex.Index, district orb.MultiPolygon, loc *grid.Locator) {
	return func(x *caseindex.Index, district orb.MultiPolygon, loc *grid.Locator) {
		cats, _ := cases.NewCategories(cases.DefaultCategories())
		gen := demo.NewCaseGenerator(district, cats, cases.DefaultCalendar(), loc, hotspotNow, 7)
		for i := range n {
			c, err := gen.Case(i)
			if err != nil {
				panic(err)
			}
			c.ID = int64(i + 1)
			if _, err := x.Apply(caseindex.EntryOf(c)); err != nil {
				panic(err)
			}
		}
	}
}

// TestGiStarFindsPlantedHotspots: the cells at the heart of every planted
// hotspot (centre within one spread of it) must come out hot at 95% or more.
func TestGiStarFindsPlantedHotspots(t *testing.T) {
	srv := hotspotServer(t, fillDemo(60000))
	r := getHotspots(t, srv.URL+"/v1/hotspots?res=9&from=2026-01-01T00:00:00Z&include_zero=true")
	class := map[string]string{}
	for _, f := range r.Features {
		class[f.Properties.H3] = f.Properties.GiClass
	}
	planted, found := 0, 0
	for _, h := range demo.Hotspots {
		c, _ := geo.CellAt(h.Center, 9)
		for _, n := range c.Disk(1) {
			if geo.DistanceM(n.Center(), h.Center) > h.SigmaM && n != c {
				continue
			}
			if _, inStudy := class[n.String()]; !inStudy {
				continue
			}
			planted++
			if cl := class[n.String()]; cl == "hot_95" || cl == "hot_99" {
				found++
			}
		}
	}
	if planted < len(demo.Hotspots) {
		t.Fatalf("only %d planted cells in the study area", planted)
	}
	recall := float64(found) / float64(planted)
	t.Logf("planted cells %d, flagged hot_95+ %d: recall %.2f; study area %d cells", planted, found, recall, r.N)
	if recall < 0.9 {
		t.Errorf("recall %.2f, want at least 0.90", recall)
	}
}

// TestGiStarOnUniformCases: with no real concentration, the FDR-corrected
// classes flag hardly anything.
func TestGiStarOnUniformCases(t *testing.T) {
	srv := hotspotServer(t, func(x *caseindex.Index, district orb.MultiPolygon, _ *grid.Locator) {
		rng := rand.New(rand.NewPCG(11, 13))
		b := district.Bound()
		for i := 0; i < 30000; {
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			if !geo.Covers(district, p) {
				continue
			}
			i++
			_, _ = x.Apply(caseindex.Entry{ID: int64(i), Location: p, ReportedAt: hotspotNow.Add(-time.Duration(i) * time.Minute), Category: "E0101", Status: cases.StatusReported, Source: "patrol"})
		}
	})
	for _, res := range []int{8, 9} {
		r := getHotspots(t, srv.URL+fmt.Sprintf("/v1/hotspots?res=%d&from=2026-01-01T00:00:00Z&include_zero=true", res))
		hot := 0
		for _, f := range r.Features {
			if f.Properties.GiClass == "hot_95" || f.Properties.GiClass == "hot_99" {
				hot++
			}
		}
		rate := float64(hot) / float64(r.N)
		t.Logf("res %d: %d of %d cells flagged hot_95+ (%.3f)", res, hot, r.N, rate)
		if rate > 0.05 {
			t.Errorf("res %d: %.3f of uniform cells flagged hot, want at most the FDR rate 0.05", res, rate)
		}
	}
}

func TestEmergingHotspots(t *testing.T) {
	srv := hotspotServer(t, fillDemo(30000))
	r := getHotspots(t, srv.URL+"/v1/hotspots/emerging?res=9&step=week&from=2026-06-01T00:00:00Z&to=2026-11-23T00:00:00Z")
	if r.N == 0 || len(r.Patterns) == 0 {
		t.Fatalf("emerging reply = %+v", r)
	}
	hotPatterns := 0
	for pat, n := range r.Patterns {
		if pat != "no_pattern" {
			hotPatterns += n
		}
	}
	t.Logf("patterns: %v", r.Patterns)
	if hotPatterns == 0 {
		t.Error("planted hotspots show no emerging pattern at all")
	}
}

func TestHotspotBadInput(t *testing.T) {
	srv := hotspotServer(t, fillDemo(100))
	for _, q := range []string{
		"res=6", "res=12", "res=x", "k=0", "k=99", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
		"colour=red", "status=done", "fdr=maybe", "compare_from=2026-01-01T00:00:00Z",
	} {
		resp, err := http.Get(srv.URL + "/v1/hotspots?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("/v1/hotspots?%s = %d, want 400", q, resp.StatusCode)
		}
	}
	for _, q := range []string{"step=hour", "step=day&from=2020-01-01T00:00:00Z", "step=week&from=2026-11-10T00:00:00Z"} {
		resp, err := http.Get(srv.URL + "/v1/hotspots/emerging?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("/v1/hotspots/emerging?%s = %d, want 400", q, resp.StatusCode)
		}
	}
}
