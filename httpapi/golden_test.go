package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden (go test ./httpapi -run Golden -update)")

// goldenDir holds one file per reply of TestGoldenReplies: the body,
// normalised (see normaliseReply) and indented.
var goldenDir = filepath.Join("testdata", "golden")

// goldenNow is the server's clock in TestGoldenReplies: a Monday, 11:00 in
// Shanghai.
var goldenNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// goldenStep is one request of TestGoldenReplies and the reply it expects;
// the body must match testdata/golden/<name>.json. In paths and bodies,
// {case1}, {case2}… stand for the ids of the cases created so far.
type goldenStep struct {
	name        string
	method      string // default GET
	path        string
	body        string
	header      []string // name, value, ...
	status      int
	contentType string // the reply's, up to any parameters
}

// TestGoldenReplies sends a fixed sequence of requests to the server on the
// test database (the small district of api_test.go, and the cases created
// on the way) and compares each reply's body with its golden file: the
// problem+json documents of bad requests of every kind, and the GeoJSON of
// grids, cases and locations. After a deliberate change to a reply, rewrite
// the files and review the diff:
//
//	go test ./httpapi -run Golden -update
func TestGoldenReplies(t *testing.T) {
	const problem, geo, plain = "application/problem+json", "application/geo+json", "application/json"
	caseJSON := func(externalID string, lng, lat float64) string {
		return fmt.Sprintf(`{"source":"hotline","external_id":%q,"category":"E0101","title":"垃圾","description":"路边堆放","priority":2,`+
			`"location":[%v,%v],"properties":{"caller":"anon"}}`, externalID, lng, lat)
	}
	steps := []goldenStep{
		// GeoJSON replies.
		{name: "grid-feature", path: "/v1/grids/G1", status: 200, contentType: geo},
		{name: "grids-streets", path: "/v1/grids?level=street", status: 200, contentType: geo},
		{name: "locate", path: "/v1/locate?lng=120.355&lat=36.075&category=E0101", status: 200, contentType: plain},
		{name: "locate-gcj02-outside", path: "/v1/locate?lng=120.40&lat=36.10&crs=gcj02", status: 200, contentType: plain},
		{name: "case-created", method: http.MethodPost, path: "/v1/cases", body: caseJSON("12345-1", 120.365, 36.075), status: 201, contentType: geo},
		{name: "case-created-near-another", method: http.MethodPost, path: "/v1/cases", body: caseJSON("12345-2", 120.3651, 36.0751), status: 201, contentType: geo},
		{name: "case-feature", path: "/v1/cases/{case1}", status: 200, contentType: geo},
		{name: "case-accepted", method: http.MethodPatch, path: "/v1/cases/{case1}", body: `{"status":"accepted","note":"ok"}`,
			header: []string{"If-Match", `"1"`}, status: 200, contentType: geo},

		// problem+json replies, one or more of each status.
		{name: "problem-query-not-a-number", path: "/v1/locate?lng=abc&lat=36.07", status: 400, contentType: problem},
		{name: "problem-unknown-query-parameter", path: "/v1/grids?bbbox=1,2,3,4", status: 400, contentType: problem},
		{name: "problem-malformed-json", method: http.MethodPost, path: "/v1/cases", body: `{"source":`, status: 400, contentType: problem},
		{name: "problem-unknown-field", method: http.MethodPost, path: "/v1/units", body: `{"code":"U9","name":"x","colour":"red"}`, status: 400, contentType: problem},
		{name: "problem-case-field", method: http.MethodPost, path: "/v1/cases", body: `{"source":"s","external_id":"e","category":"NOPE","location":[120.36,36.08]}`,
			status: 400, contentType: problem},
		{name: "problem-grid-not-found", path: "/v1/grids/NOPE", status: 404, contentType: problem},
		{name: "problem-case-not-found", path: "/v1/cases/999999999", status: 404, contentType: problem},
		{name: "problem-no-such-endpoint", path: "/v2/grids", status: 404, contentType: problem},
		{name: "problem-method-not-allowed", path: "/v1/grids/import", status: 405, contentType: problem},
		{name: "problem-stale-version", method: http.MethodPatch, path: "/v1/cases/{case1}", body: `{"status":"dispatched"}`,
			header: []string{"If-Match", `"1"`}, status: 412, contentType: problem},
		{name: "problem-body-too-large", method: http.MethodPost, path: "/v1/units", body: `{"code":"U9","name":"` + strings.Repeat("x", 5000) + `"}`,
			status: 413, contentType: problem},
		{name: "problem-illegal-transition", method: http.MethodPatch, path: "/v1/cases/{case2}", body: `{"status":"closed"}`,
			header: []string{"If-Match", `"1"`}, status: 422, contentType: problem},
		{name: "problem-import-rejected", method: http.MethodPost, path: "/v1/grids/import",
			body: changedDistrict(func(fs []any) { props(fs[5])["code"] = "import"; props(fs[6])["parent"] = "NOPE" }), status: 422, contentType: problem},
	}

	tx := dbtest.Tx(t)
	index := grid.NewIndex(grid.LocatorOptions{})
	caseStore := postgres.NewCaseStore(tx)
	d := httpapi.Deps{
		Grids: postgres.NewGridStore(tx), Cases: caseStore, Stats: caseStore, Index: index,
		App:    app.New(index, caseindex.New(), nil, app.Config{Now: func() time.Time { return goldenNow }}), // no store: a background reload would share the test's transaction
		Now:    func() time.Time { return goldenNow },
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	token := withKeys(t, tx, &d)
	srv := httptest.NewServer(authed(token, httpapi.New(httpapi.Config{MaxBodyBytes: 4 << 10, MaxImportBytes: maxImportBytes}, d)))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL, tx: tx, index: index}
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))

	n := &normaliser{ids: map[string]string{}}
	ran := map[string]bool{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			a := *a
			a.t = t
			ran[st.name+".json"] = true
			method := st.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL+n.expand(st.path), strings.NewReader(n.expand(st.body)))
			if err != nil {
				t.Fatal(err)
			}
			if st.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(st.header); i += 2 {
				req.Header.Set(st.header[i], st.header[i+1])
			}
			r := a.send(req)
			if r.status != st.status {
				t.Errorf("%s %s = %d, want %d: %s", method, req.URL.Path, r.status, st.status, r.body)
			}
			if ct, _, _ := strings.Cut(r.contentType(), ";"); ct != st.contentType {
				t.Errorf("Content-Type %q, want %q", r.contentType(), st.contentType)
			}
			got, err := n.normalise(r.body)
			if err != nil {
				t.Fatalf("reply is not JSON (%v): %s", err, r.body)
			}
			checkGolden(t, filepath.Join(goldenDir, st.name+".json"), got)
		})
	}

	// Files no step wrote are left over from renamed or removed steps.
	if len(ran) == len(steps) && !t.Failed() {
		files, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
		for _, f := range files {
			if ran[filepath.Base(f)] {
				continue
			}
			if *update {
				if err := os.Remove(f); err != nil {
					t.Error(err)
				}
				continue
			}
			t.Errorf("%s: no step of TestGoldenReplies writes it; remove it, or run with -update", f)
		}
	}
}

// send makes one request and reads the reply.
func (a *api) send(req *http.Request) reply {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		a.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
}

// normaliser replaces, in reply bodies, what legitimately differs from one
// run to the next, and nothing else:
//
//   - request_id (problem documents): chi's RequestID middleware makes it
//     from the host name, a random prefix and a counter;
//   - created_at and updated_at (of grids and cases): the database's now(),
//     the time the test's transaction began;
//   - case ids: "id" of a case Feature, of its properties and of its
//     possible duplicates, "merged_into", and "case N" in a problem's
//     detail. They come from the cases id sequence, which a rolled-back
//     transaction does not rewind; they become "<case 1>", "<case 2>"… in
//     the order the cases appear.
//
// Everything else is fixed by the test: the server's clock (reported_at,
// due_at, overdue_now and the deadlines derived from them), the geometry
// (areas, distances, H3 cells) and the data.
type normaliser struct {
	ids map[string]string // case id → "<case N>"
}

var caseInDetail = regexp.MustCompile(`\bcase (\d+)\b`)

// expand replaces {case1}, {case2}… with the ids of the cases seen so far.
func (n *normaliser) expand(s string) string {
	for id, label := range n.ids {
		num := strings.TrimSuffix(strings.TrimPrefix(label, "<case "), ">")
		s = strings.ReplaceAll(s, "{case"+num+"}", id)
	}
	return s
}

// normalise returns body, normalised, as indented JSON with sorted keys
// (so the golden files compare documents, not the order of their members);
// numbers keep their text.
func (n *normaliser) normalise(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	n.collect(v)
	v = n.replace("", v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep the placeholders' < and > readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// collect numbers the case ids of v in the order they appear: a case is an
// object with both "id" and "external_id", or a possible duplicate.
func (n *normaliser) collect(v any) {
	switch v := v.(type) {
	case map[string]any:
		id, isString := v["id"].(string)
		if _, isCase := v["external_id"]; isCase && isString {
			n.label(id)
		}
		if dups, ok := v["possible_duplicates"].([]any); ok {
			for _, d := range dups {
				if m, ok := d.(map[string]any); ok {
					if id, ok := m["id"].(string); ok {
						n.label(id)
					}
				}
			}
		}
		for _, k := range sortedKeys(v) {
			n.collect(v[k])
		}
	case []any:
		for _, e := range v {
			n.collect(e)
		}
	}
}

func (n *normaliser) label(id string) {
	if _, seen := n.ids[id]; !seen {
		n.ids[id] = fmt.Sprintf("<case %d>", len(n.ids)+1)
	}
}

func (n *normaliser) replace(key string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = n.replace(k, e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = n.replace(key, e)
		}
		return v
	case string:
		switch key {
		case "request_id":
			return "<request id>"
		case "created_at", "updated_at":
			return "<now of the database>"
		case "id", "merged_into":
			if label, ok := n.ids[v]; ok {
				return label
			}
		case "detail":
			return caseInDetail.ReplaceAllStringFunc(v, func(m string) string {
				if label, ok := n.ids[strings.TrimPrefix(m, "case ")]; ok {
					return "case " + label
				}
				return m
			})
		}
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkGolden compares got with the file at path, or rewrites the file
// with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./httpapi -run Golden -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("reply differs from %s (run with -update to accept it, then review the diff):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the lines of want and got that differ, with line numbers.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
