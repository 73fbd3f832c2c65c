package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"citygrid/access"
)

// stored counts the cases stored under (source, external_id).
func (a *accessAPI) stored(source, ext string) int {
	a.t.Helper()
	var n int
	if err := a.tx.QueryRow(context.Background(), `SELECT count(*) FROM cases WHERE source = $1 AND external_id = $2`, source, ext).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func reportJSON(source, ext string, p [2]float64, extra string) string {
	return fmt.Sprintf(`{"source":%q,"external_id":%q,"category":"E0101","location":[%v,%v]%s}`, source, ext, p[0], p[1], extra)
}

// TestAccessIntegrationWrites: an integration writes cases of its own
// source inside its scope only; in a bulk ingest the other lines are
// rejected one by one and the good ones kept.
func TestAccessIntegrationWrites(t *testing.T) {
	a := newAccessAPI(t)

	r := a.send(asIntegration, "POST", "/v1/cases", reportJSON("hotline", "i-1", inG1, ""))
	checkProblem(t, r, http.StatusForbidden, "source")
	if f := problemField(t, r); f != "source" {
		t.Errorf("another source: field %q, want source", f)
	}
	r = a.send(asIntegration, "POST", "/v1/cases", reportJSON("patrol", "i-2", inG3, ""))
	checkProblem(t, r, http.StatusForbidden, "location")
	if f := problemField(t, r); f != "location" {
		t.Errorf("outside the scope: field %q, want location", f)
	}
	if a.stored("hotline", "i-1")+a.stored("patrol", "i-2") != 0 {
		t.Error("a refused report was stored")
	}
	if r := a.send(asIntegration, "POST", "/v1/cases", reportJSON("patrol", "i-3", inG1, "")); r.status != http.StatusCreated {
		t.Errorf("own source in scope: %d %s", r.status, r.body)
	}

	// A report re-sent under the (source, external_id) of a case beside the
	// scope: a conflict that shows nothing of that case.
	r = a.send(asIntegration, "POST", "/v1/cases", reportJSON("patrol", "out", inG1, ""))
	checkProblem(t, r, http.StatusConflict, "outside your scope")
	if strings.Contains(string(r.body), a.out) || strings.Contains(string(r.body), "G3") {
		t.Errorf("the conflict shows the case beside the scope: %s", r.body)
	}

	for _, format := range []struct{ name, contentType, body string }{
		{"ndjson", "application/x-ndjson", strings.Join([]string{
			reportJSON("patrol", "n-good-1", inG1, ""),
			reportJSON("hotline", "n-other-source", inG1, ""),
			reportJSON("patrol", "n-outside", inG3, ""),
			reportJSON("patrol", "n-good-2", pointInG2, ""),
		}, "\n") + "\n"},
		{"csv", "text/csv", "source,external_id,category,lng,lat\n" +
			fmt.Sprintf("patrol,c-good-1,E0101,%v,%v\n", inG1[0], inG1[1]) +
			fmt.Sprintf("hotline,c-other-source,E0101,%v,%v\n", inG1[0], inG1[1]) +
			fmt.Sprintf("patrol,c-outside,E0101,%v,%v\n", inG3[0], inG3[1]) +
			fmt.Sprintf("patrol,c-good-2,E0101,%v,%v\n", pointInG2[0], pointInG2[1])},
	} {
		t.Run(format.name, func(t *testing.T) {
			r := a.send(asIntegration, "POST", "/v1/cases/bulk", format.body, "Content-Type", format.contentType)
			var res struct {
				Accepted int
				Rejected []struct {
					Line  int
					Error string
				}
			}
			r.decode(t, &res)
			if r.status != http.StatusOK || res.Accepted != 2 || len(res.Rejected) != 2 {
				t.Fatalf("bulk: %d %s, want 2 accepted and 2 rejected", r.status, r.body)
			}
			// Lines count from 1; a CSV's header is line 1.
			first := 2
			if format.name == "csv" {
				first = 3
			}
			for i, want := range []string{"source", "location"} {
				if res.Rejected[i].Line != first+i || !strings.Contains(res.Rejected[i].Error, want) {
					t.Errorf("rejected line %d: %+v, want line %d naming %s", i, res.Rejected[i], first+i, want)
				}
			}
			p := format.name[:1]
			if a.stored("patrol", p+"-good-1") != 1 || a.stored("patrol", p+"-good-2") != 1 {
				t.Error("the good lines were not stored")
			}
			if a.stored("hotline", p+"-other-source")+a.stored("patrol", p+"-outside") != 0 {
				t.Error("a rejected line was stored")
			}
		})
	}
}

// TestAccessReassign: re-assigning a case needs scope over the old grid
// and the new one.
func TestAccessReassign(t *testing.T) {
	a := newAccessAPI(t)
	g1Dispatcher, _ := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleDispatcher, Scope: []string{"G1"}})
	grid := func(id string) (string, int) {
		var f struct {
			Properties struct {
				Grid    string
				Version int
			}
		}
		a.send(asAdmin, "GET", "/v1/cases/"+id, "").decode(t, &f)
		return f.Properties.Grid, f.Properties.Version
	}

	for _, step := range []struct {
		name       string
		auth       string
		id, body   string
		status     int
		field      string
		wantGrid   string
		wantChange bool
	}{
		{"S1 dispatcher, G1 to G3 (S2)", a.bearer(asDispatcher), a.in, `{"grid":"G3"}`, 403, "grid", "G1", false},
		{"S1 dispatcher, G1 to 网格 4 (S2)", a.bearer(asDispatcher), a.in, `{"grid":"网格 4"}`, 403, "grid", "G1", false},
		{"G1 dispatcher, G1 to G2 (same street, beside its scope)", "Bearer " + g1Dispatcher, a.in, `{"grid":"G2"}`, 403, "grid", "G1", false},
		{"S1 dispatcher, G1 to G2", a.bearer(asDispatcher), a.in, `{"grid":"G2"}`, 200, "", "G2", true},
		{"S1 dispatcher, G3 (S2) to G1", a.bearer(asDispatcher), a.out, `{"grid":"G1"}`, 404, "", "G3", false},
	} {
		_, before := grid(step.id)
		r := a.sendAuth(step.auth, "PATCH", "/v1/cases/"+step.id, step.body, "If-Match", fmt.Sprintf(`"%d"`, before))
		if r.status != step.status {
			t.Errorf("%s: %d %s, want %d", step.name, r.status, r.body, step.status)
		}
		if step.field != "" {
			if f := problemField(t, r); f != step.field {
				t.Errorf("%s: field %q, want %q", step.name, f, step.field)
			}
		}
		g, after := grid(step.id)
		if g != step.wantGrid || (after != before) != step.wantChange {
			t.Errorf("%s: the case is in %s at version %d (was %d), want %s, changed %t", step.name, g, after, before, step.wantGrid, step.wantChange)
		}
	}

	// Merging into a case beside the scope answers as merging into one that
	// does not exist.
	into := func(target string) reply {
		return a.try(asDispatcher, "PATCH", "/v1/cases/"+a.dispatched, `{"merge_into":"`+target+`"}`, "If-Match", a.etag(a.dispatched))
	}
	hidden, absent := into(a.out), into(notACase)
	if hidden.status != http.StatusUnprocessableEntity || notFoundBody(t, hidden, a.out) != notFoundBody(t, absent, notACase) {
		t.Errorf("merge into a case beside the scope: %d %s; into none: %d %s", hidden.status, hidden.body, absent.status, absent.body)
	}
}

// TestAccessFieldsNamed: a change the caller's role may not make is a 403
// naming the field; a field no one may send (actor, version, anything
// unknown) is a 400 naming it. No mass assignment.
func TestAccessFieldsNamed(t *testing.T) {
	a := newAccessAPI(t)
	inProgress := a.newCase("in-progress", "patrol", "E0101", inG1, "in_progress")
	for _, c := range []struct {
		name   string
		who    caller
		id     string
		body   string
		status int
		field  string // the problem's field member ("" for none)
		detail string // what the problem's detail names
	}{
		{"handler re-assigns the grid", asHandler, a.dispatched, `{"grid":"G2"}`, 403, "grid", "grid"},
		{"handler re-assigns the unit", asHandler, a.dispatched, `{"unit":"U2"}`, 403, "unit", "unit"},
		{"handler extends", asHandler, a.dispatched, `{"extend":{"value":1,"unit":"working_days"}}`, 403, "extend", "extend"},
		{"handler parks", asHandler, a.dispatched, `{"pause":true}`, 403, "pause", "pause"},
		{"handler merges", asHandler, a.dispatched, `{"merge_into":"` + a.in + `"}`, 403, "merge_into", "merge_into"},
		{"handler closes", asHandler, a.verified, `{"status":"closed"}`, 403, "status", "status"},
		{"handler resolves and re-assigns", asHandler, inProgress, `{"status":"resolved","grid":"G2"}`, 403, "grid", "grid"},
		{"inspector closes", asInspector, a.verified, `{"status":"closed"}`, 403, "status", "status"},
		{"inspector jumps to closed", asInspector, a.resolved, `{"status":"closed"}`, 422, "", "status"},
		{"inspector accepts", asInspector, a.in, `{"status":"accepted"}`, 403, "status", "status"},
		{"inspector re-assigns", asInspector, a.resolved, `{"grid":"G2"}`, 403, "grid", "grid"},
		{"dispatcher verifies", asDispatcher, a.resolved, `{"status":"verified"}`, 403, "status", "status"},
		{"dispatcher starts", asDispatcher, a.dispatched, `{"status":"in_progress"}`, 403, "status", "status"},
		{"dispatcher resolves", asDispatcher, inProgress, `{"status":"resolved"}`, 403, "status", "status"},
		{"dispatcher asks for an extension", asDispatcher, a.dispatched, `{"request_extension":{"value":2,"unit":"working_days"}}`, 403, "request_extension", "request_extension"},
		{"inspector asks to park", asInspector, a.dispatched, `{"request_pause":true}`, 403, "request_pause", "request_pause"},
		{"dispatcher returns", asDispatcher, a.dispatched, `{"status":"accepted","returned":true}`, 403, "returned", "returned"},
		{"handler approves", asHandler, a.dispatched, `{"approve":"1"}`, 403, "approve", "approve"},
		{"handler declines", asHandler, a.dispatched, `{"decline":"1"}`, 403, "decline", "decline"},
		{"dispatcher sends actor", asDispatcher, a.in, `{"status":"accepted","actor":"值班长"}`, 400, "", "actor"},
		{"handler sends actor", asHandler, a.dispatched, `{"status":"in_progress","actor":"someone"}`, 400, "", "actor"},
		{"admin sends version", asAdmin, a.in, `{"status":"accepted","version":1}`, 400, "", "version"},
		{"inspector sends an unknown field", asInspector, a.resolved, `{"status":"verified","verified_by":"me"}`, 400, "", "verified_by"},
		{"handler sends id", asHandler, a.dispatched, `{"status":"in_progress","id":"1"}`, 400, "", "id"},
	} {
		r := a.try(c.who, "PATCH", "/v1/cases/"+c.id, c.body, "If-Match", a.etag(c.id))
		if r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.status)
			continue
		}
		checkProblem(t, r, c.status, c.detail)
		if f := problemField(t, r); f != c.field {
			t.Errorf("%s: field %q, want %q", c.name, f, c.field)
		}
	}

	t.Run("reports", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			who   caller
			extra string
			field string
		}{
			{"grid", asInspector, `,"grid":"G2"`, "grid"},
			{"unit", asDispatcher, `,"unit":"U2"`, "unit"},
			{"id", asIntegration, `,"id":"5"`, "id"},
			{"version", asInspector, `,"version":4`, "version"},
			{"actor", asDispatcher, `,"actor":"someone"`, "actor"},
			{"due_at", asInspector, `,"due_at":"2030-01-01T00:00:00Z"`, "due_at"},
		} {
			r := a.try(c.who, "POST", "/v1/cases", reportJSON("patrol", "f-"+c.name, inG1, c.extra))
			checkProblem(t, r, http.StatusBadRequest, c.field)
		}
	})

	t.Run("reports in a later status", func(t *testing.T) {
		// The one who reports never verifies or closes: a report that
		// arrives verified or closed skips the dispatcher and the
		// inspector.
		for _, c := range []struct {
			who    caller
			status string
		}{{asInspector, "closed"}, {asInspector, "verified"}, {asDispatcher, "closed"}, {asDispatcher, "resolved"}} {
			r := a.try(c.who, "POST", "/v1/cases", reportJSON("patrol", "late-"+c.status, inG1, `,"status":"`+c.status+`"`))
			if r.status != http.StatusForbidden || problemField(t, r) != "status" {
				t.Errorf("%s reports a case %s: %d %s, want 403 naming status", c.who, c.status, r.status, r.body)
			}
		}
	})
}

// TestAccessFreeText: planners and viewers never read reporters' free
// text (title, description, properties), in any answer.
func TestAccessFreeText(t *testing.T) {
	a := newAccessAPI(t)
	secret := a.newCase("secret", "patrol", "E0101", inG1, "")
	if _, err := a.tx.Exec(context.Background(), `UPDATE cases SET description = '电话 13800000000', properties = '{"phone":"13800000000"}' WHERE id = $1`, secret); err != nil {
		t.Fatal(err)
	}
	for _, w := range []caller{asPlanner, asViewer} {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/v1/cases/" + secret, ""},
			{"GET", "/v1/cases?grid=G1", ""},
			{"GET", "/v1/cases?grid=G1&format=csv", ""},
			{"POST", "/v1/cases/search", fmt.Sprintf(`{"polygon":{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}}`,
				x0, y0, x0+0.01, y0, x0+0.01, y0+0.01, x0, y0)},
			{"GET", "/v1/cases/" + secret + "/history", ""},
		} {
			r := a.send(w, req.method, req.path, req.body)
			if r.status != http.StatusOK {
				t.Errorf("%s: %s %s = %d %s", w, req.method, req.path, r.status, r.body)
			}
			for _, text := range []string{"标题", "13800000000", `"title"`, `"description"`} {
				if strings.Contains(string(r.body), text) {
					t.Errorf("%s: %s %s shows %s: %s", w, req.method, req.path, text, truncateBody(r.body))
				}
			}
		}
	}
	// The report's possible duplicates, as a viewer would see them were
	// it to report: here an inspector, who may read titles, does.
	r := a.send(asInspector, "POST", "/v1/cases", reportJSON("patrol", "dup", inG1, `,"title":"又一个"`))
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), "标题") {
		t.Errorf("an inspector's report lists its possible duplicates with titles: %d %s", r.status, r.body)
	}
}
