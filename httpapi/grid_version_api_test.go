package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"citygrid/postgres"
)

// mergedDistrict is the district with G1 and G2 merged into G12.
func mergedDistrict() string {
	fs := district()
	kept := fs[:0]
	for _, f := range fs {
		if c := props(f)["code"]; c != "G1" && c != "G2" {
			kept = append(kept, f)
		}
	}
	kept = append(kept, feat("G12", "网格12", "grid", "C1", polygon(rectCoords(x0, y0, x0+0.01, y0+0.02))))
	return fcJSON(kept)
}

func versionCount(t *testing.T, a *tileAPI) int {
	t.Helper()
	var n int
	if err := a.tx.QueryRow(context.Background(), `SELECT count(*) FROM grid_versions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGridVersionFlow drafts a merge, previews it, schedules it, applies
// it at its time, and reads the grids, locations and statistics on either
// side of the switch.
func TestGridVersionFlow(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	caseID := a.createCase("v1", "E0101", inG1)

	r := a.post("/v1/grid-versions", mergedDistrict())
	if r.status != http.StatusCreated {
		t.Fatalf("draft: %d %s", r.status, r.body)
	}
	var draft struct {
		ID     string
		Status string
		Diff   struct {
			Removed []struct{ Code string }
			Merges  []struct {
				Into string
				From []string
			}
			Successors map[string]string
		}
	}
	r.decode(t, &draft)
	if draft.Status != "draft" || len(draft.Diff.Merges) != 1 || draft.Diff.Merges[0].Into != "G12" || draft.Diff.Successors["G1"] != "G12" {
		t.Fatalf("draft reply %s", r.body)
	}
	base := "/v1/grid-versions/" + draft.ID

	r = a.get(base + "/preview")
	var pv struct {
		Preview struct {
			Moved int
			Moves []struct {
				ID       string
				FromGrid string `json:"from_grid"`
				ToGrid   string `json:"to_grid"`
			}
		}
		Indicators struct{ Rebased []struct{ Key string } }
	}
	r.decode(t, &pv)
	if r.status != http.StatusOK || pv.Preview.Moved != 1 || pv.Preview.Moves[0].ID != caseID || pv.Preview.Moves[0].ToGrid != "G12" {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}

	statsPath := "/v1/stats?by=grid&from=2026-11-22T00:00:00Z&to=2026-11-24T00:00:00Z"
	before := a.get(statsPath)
	if before.status != http.StatusOK {
		t.Fatalf("stats: %d %s", before.status, before.body)
	}

	effective := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	r = a.post(base+"/activate", fmt.Sprintf(`{"effective_at":%q}`, effective.Format(time.RFC3339)))
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"scheduled":true`)) {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	// At its time, the process holding the lock applies it.
	ctx := context.Background()
	acts, err := postgres.NewVersionStore(a.tx).ApplyDue(ctx, effective.Add(time.Second))
	if err != nil || len(acts) != 1 || acts[0].Reattributed != 1 {
		t.Fatalf("apply: %v %+v", err, acts)
	}
	if err := a.index.Rebuild(ctx, postgres.NewGridStore(a.tx)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		at, grid string
		version  bool
	}{
		{effective.Add(-30 * time.Minute).Format(time.RFC3339), "G1", false},
		{effective.Add(time.Hour).Format(time.RFC3339), "G12", true},
	} {
		r := a.get(fmt.Sprintf("/v1/locate?lng=%v&lat=%v&at=%s", inG1[0], inG1[1], url.QueryEscape(tc.at)))
		var loc struct {
			Grid        struct{ Code string }
			GridVersion string `json:"grid_version"`
		}
		r.decode(t, &loc)
		if r.status != http.StatusOK || loc.Grid.Code != tc.grid || (loc.GridVersion == draft.ID) != tc.version {
			t.Errorf("locate at %s: %d %s, want %s", tc.at, r.status, r.body, tc.grid)
		}
		r = a.post("/v1/locate", fmt.Sprintf(`{"points":[[%v,%v]],"at":%q}`, inG1[0], inG1[1], tc.at))
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"code":"`+tc.grid+`"`)) {
			t.Errorf("POST locate at %s: %d %s", tc.at, r.status, r.body)
		}
		r = a.get("/v1/grids?level=grid&at=" + url.QueryEscape(tc.at))
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"code":"`+tc.grid+`"`)) {
			t.Errorf("grids at %s: %d %s", tc.at, r.status, r.body)
		}
		// The grids tile layer: MVT keeps a string value as its length
		// and its bytes.
		r = a.tile(tilePath("grids", inG1, 15, "at="+url.QueryEscape(tc.at)))
		mvtString := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
		other := map[string]string{"G1": "G12", "G12": "G1"}[tc.grid]
		if r.status != http.StatusOK || !bytes.Contains(r.body, mvtString(tc.grid)) || bytes.Contains(r.body, mvtString(other)) {
			t.Errorf("grids tile at %s: %d, want %s in it and not %s", tc.at, r.status, tc.grid, other)
		}
		r = a.get("/v1/grids/" + tc.grid + "?at=" + url.QueryEscape(tc.at))
		if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"path"`)) {
			t.Errorf("grid %s at %s: %d %s", tc.grid, tc.at, r.status, r.body)
		}
	}
	if r := a.get("/v1/grids/G1"); r.status != http.StatusNotFound {
		t.Errorf("retired G1 now: %d, want 404", r.status)
	}

	// The past period reads the same, byte for byte, as recorded; re-based
	// on today's boundaries, the case counts in G12.
	after := a.get(statsPath)
	if !bytes.Contains(before.body, []byte(`"key":"G1"`)) {
		t.Errorf("recorded stats before: %s, want the case in G1", before.body)
	}
	if !bytes.Equal(before.body, after.body) {
		t.Errorf("recorded stats changed across the activation:\nbefore %s\nafter  %s", before.body, after.body)
	}
	rebased := a.get(statsPath + "&basis=current")
	var rows struct{ Rows []struct{ Key string } }
	rebased.decode(t, &rows)
	if rebased.status != http.StatusOK || len(rows.Rows) != 1 || rows.Rows[0].Key != "G12" {
		t.Errorf("basis=current: %d %s", rebased.status, rebased.body)
	}
	// The history starts with the grid the case arrived in.
	if h := a.get("/v1/cases/" + caseID + "/history"); h.status != http.StatusOK || !bytes.Contains(h.body, []byte(`"grid":"G1"`)) ||
		!bytes.Contains(h.body, []byte(`"reattribute"`)) {
		t.Errorf("history: %d %s", h.status, h.body)
	}
	var events int
	if err := a.tx.QueryRow(ctx, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'reattribute'`, caseID).Scan(&events); err != nil || events != 1 {
		t.Errorf("%d re-attribution events (err %v), want 1", events, err)
	}
}

// TestGridVersionBadInput: every bad request is a clear problem and
// changes nothing.
func TestGridVersionBadInput(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	r := a.post("/v1/grid-versions", mergedDistrict())
	var draft struct{ ID string }
	r.decode(t, &draft)
	base := "/v1/grid-versions/" + draft.ID
	rejected := func() string {
		fs := district()
		props(fs[len(fs)-1])["parent"] = "NOPE"
		r := a.post("/v1/grid-versions", fcJSON(fs))
		var v struct {
			ID       string
			Rejected []any
		}
		r.decode(t, &v)
		if r.status != http.StatusCreated || len(v.Rejected) != 1 {
			t.Fatalf("draft with a bad feature: %d %s", r.status, r.body)
		}
		return v.ID
	}()
	n := versionCount(t, a)
	grids := a.get("/v1/grids").body
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"not JSON", "POST", "/v1/grid-versions", `{"type":`, 400},
		{"not a FeatureCollection", "POST", "/v1/grid-versions", `{"type":"Feature"}`, 400},
		{"invalid geometry", "POST", "/v1/grid-versions", fcJSON([]any{feat("D", "区", "district", "", map[string]any{"type": "Point", "coordinates": []float64{1, 2}})}), 201},
		{"successors not an object", "POST", "/v1/grid-versions", `{"type":"FeatureCollection","features":[],"successors":[1]}`, 400},
		{"successor that does not exist", "POST", "/v1/grid-versions", mergedDistrict()[:len(mergedDistrict())-1] + `,"successors":{"G1":"NOWHERE"}}`, 422},
		{"unknown version", "GET", "/v1/grid-versions/987654", "", 404},
		{"bad id", "GET", "/v1/grid-versions/x", "", 400},
		{"activate unknown", "POST", "/v1/grid-versions/987654/activate", `{}`, 404},
		{"effective_at in the past", "POST", base + "/activate", `{"effective_at":"2020-01-01T00:00:00Z"}`, 422},
		{"effective_at not a time", "POST", base + "/activate", `{"effective_at":"soon"}`, 400},
		{"unknown member", "POST", base + "/activate", `{"when":"now"}`, 400},
		{"rejected features", "POST", "/v1/grid-versions/" + rejected + "/activate", `{}`, 422},
		{"at not a time", "GET", "/v1/locate?lng=120.355&lat=36.075&at=yesterday", "", 400},
		{"grids at not a time", "GET", "/v1/grids?at=x", "", 400},
		{"stats basis", "GET", "/v1/stats?by=grid&basis=future", "", 400},
	} {
		var r reply
		if tc.method == "GET" {
			r = a.get(tc.path)
		} else {
			r = a.post(tc.path, tc.body)
		}
		if r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
			continue
		}
		if tc.want >= 400 {
			var p map[string]any
			if err := json.Unmarshal(r.body, &p); err != nil || p["detail"] == "" {
				t.Errorf("%s: not a problem: %s", tc.name, r.body)
			}
		}
	}
	// The stored draft with a rejected geometry is the only new version.
	if got := versionCount(t, a); got != n+1 {
		t.Errorf("%d versions after bad requests, want %d", got, n+1)
	}
	if got := a.get("/v1/grids").body; !bytes.Equal(got, grids) {
		t.Errorf("grids changed by bad requests")
	}
}
