package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"citygrid/cases"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestCategoriesRaceIsAConflict: of two PUT /v1/categories at once that
// share a code, the later one gets a 409 problem (it used to get a 500, the
// server's unique violation). The race runs on committed data, in a schema
// of its own (dbtest.Isolated).
func TestCategoriesRaceIsAConflict(t *testing.T) {
	pool := dbtest.Isolated(t, "categories")
	ctx := context.Background()
	srv := httptest.NewServer(httpapi.New(httpapi.Config{}, httpapi.Deps{
		Grids: postgres.NewGridStore(pool), Cases: postgres.NewCaseStore(pool), Index: grid.NewIndex(grid.LocatorOptions{}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	t.Cleanup(srv.Close)

	// The first replacement holds E0101 until the test commits it.
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if _, err := first.Exec(ctx, `INSERT INTO categories (code, name_zh, name_en, limit_value, limit_unit) VALUES ('E0101', '暴露垃圾', 'Exposed rubbish', 4, 'working_hours')`); err != nil {
		t.Fatal(err)
	}
	pid := dbtest.BackendPID(t, first)

	body, err := json.Marshal(map[string]any{"categories": cases.DefaultCategories()})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/categories", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{reply{status: resp.StatusCode, header: resp.Header, body: b}, err}
	}()
	dbtest.WaitBlocked(t, pid)
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	p := checkProblem(t, res.r, http.StatusConflict, "replaced by another request at the same time")
	if p.Code != "conflict" || p.Type != "urn:citygrid:problem:conflict" {
		t.Errorf("problem code %q type %q, want conflict", p.Code, p.Type)
	}
	if strings.Contains(string(res.r.body), "categories_pkey") || strings.Contains(string(res.r.body), "duplicate key") {
		t.Errorf("the reply shows the server's error: %s", res.r.body)
	}
}
