package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"citygrid/httpapi"
)

func TestHealthReadyMetrics(t *testing.T) {
	a := newAPI(t, nil)

	r := a.get("/healthz")
	if r.status != http.StatusOK || !strings.HasPrefix(r.contentType(), "application/json") || !bytes.Contains(r.body, []byte(`"status":"ok"`)) {
		t.Errorf("/healthz = %d %s", r.status, r.body)
	}
	// Before the index is built.
	checkProblem(t, a.get("/readyz"), http.StatusServiceUnavailable, "index not built")
	checkProblem(t, a.get(locateQuery(x0+0.002, y0+0.002, "")), http.StatusServiceUnavailable, "index")
	checkProblem(t, a.post("/v1/locate", `{"points":[[120.352,36.072]]}`), http.StatusServiceUnavailable, "index")
	// Bad input is still a 400 while the index is being built.
	checkProblem(t, a.get("/v1/locate?lng=abc&lat=1"), http.StatusBadRequest, "lng")

	// Registering units builds the index (empty).
	a.mustOK(a.post("/v1/units", unitsJSON))
	var ready struct {
		Status     string `json:"status"`
		Grids      int    `json:"grids"`
		IndexCells int    `json:"index_cells"`
		BuiltAt    string `json:"index_built_at"`
	}
	a.mustOK(a.get("/readyz")).decode(t, &ready)
	if ready.Status != "ready" || ready.Grids != 0 || ready.BuiltAt == "" {
		t.Errorf("/readyz after units = %+v, want ready with 0 grids", ready)
	}
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	a.mustOK(a.get("/readyz")).decode(t, &ready)
	if ready.Status != "ready" || ready.Grids != 9 || ready.IndexCells == 0 {
		t.Errorf("/readyz after import = %+v, want 9 grids", ready)
	}
	a.mustOK(a.get(locateQuery(x0+0.002, y0+0.002, "")))
	a.mustOK(a.post("/v1/locate", `{"points":[[120.352,36.072],[120.353,36.073]]}`))
	a.get("/v1/nope-xyz")
	a.get("/nope-xyz")

	r = a.mustOK(a.get("/metrics"))
	// Unknown paths must not become label values (unbounded cardinality).
	if bytes.Contains(r.body, []byte("nope-xyz")) {
		t.Errorf("/metrics has a label with a requested path")
	}
	for _, want := range []string{
		"citygrid_http_request_duration_seconds",
		`route="/v1/locate"`,
		`route="/v1/grids/import"`,
		`route="unmatched"`,
		`status="503"`,
		"citygrid_locate_points_total 3",
		"citygrid_grid_index_grids 9",
	} {
		if !bytes.Contains(r.body, []byte(want)) {
			var lines []string
			for _, l := range strings.Split(string(r.body), "\n") {
				if strings.HasPrefix(l, "citygrid_http_request_duration_seconds_count") {
					lines = append(lines, l)
				}
			}
			t.Errorf("/metrics lacks %s:\n%s", want, strings.Join(lines, "\n"))
		}
	}

}

// TestReadyWithDatabaseDown checks that readiness reports a database that
// does not answer, without its error.
func TestReadyWithDatabaseDown(t *testing.T) {
	b := newAPI(t, func(d *httpapi.Deps) {
		d.Ready = func(context.Context) error { return errors.New("dial tcp 10.0.0.7:5432: secret-host refused") }
	})
	b.mustOK(b.post("/v1/units", unitsJSON))
	r := b.get("/readyz")
	checkProblem(t, r, http.StatusServiceUnavailable, "database not reachable")
	if bytes.Contains(r.body, []byte("secret-host")) {
		t.Errorf("/readyz leaks the database error: %s", r.body)
	}
	r = b.mustOK(b.get("/healthz"))
	if !bytes.Contains(r.body, []byte(`"status":"ok"`)) {
		t.Errorf("/healthz with the database down = %s, want ok (liveness only)", r.body)
	}
}
