package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/go-chi/chi/v5"

	"citygrid/httpapi"
)

// roleCodes is a matrix row's expected status for each caller, in their
// order: anon, admin, dispatcher, handler, inspector, planner, viewer,
// integration.
type roleCodes [nCallers]int

// byRole builds roleCodes, refusing a row that does not name every caller.
func byRole(c ...int) roleCodes {
	if len(c) != int(nCallers) {
		panic(fmt.Sprintf("a matrix row names %d callers, want %d", len(c), nCallers))
	}
	return roleCodes(c)
}

// matrixRow is one request of the role × endpoint matrix.
type matrixRow struct {
	// route is the route as chi.Walk names it ("METHOD pattern", or
	// "* pattern" for a route of every method, as routeRules keys it); ""
	// for a request no route serves.
	route  string
	name   string // what the request asks, when a route has several rows
	method string
	path   string
	body   string
	header []string
	want   roleCodes
	// hide names the object beside the scope in path; a 404 must then be
	// the reply to the same request for absent, an object that does not
	// exist, byte for byte (request id aside).
	hide, absent string
	// bug, when set, skips the row: a known bug of the code under test,
	// which the row shows when run without the skip.
	bug string
}

// matrixRows is the role × endpoint matrix: every route of the router, in
// scope and out of it, with the status each caller gets. The statuses are
// written out, not derived from the rule table (httpapi/auth.go routeRules,
// access/role.go grants): a change to the rules that opens a route to
// another role shows as a change of this table.
//
// All keys but the admin's are scoped to street S1; "out" rows ask for an
// object in S2.
func matrixRows(a *accessAPI) []matrixRow {
	inTile := tilePath("cases", inG1, 16, "")
	outTile := tilePath("cases", inG3, 16, "")
	area := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		x0, y0, x0+0.02, y0, x0+0.02, y0+0.02, x0, y0+0.02, x0, y0)
	newCase := func(ext, source string, p [2]float64) string {
		return fmt.Sprintf(`{"source":%q,"external_id":%q,"category":"E0101","title":"新","location":[%v,%v]}`, source, ext, p[0], p[1])
	}
	ifMatch := func(id string) []string { return []string{"If-Match", a.etag(id)} }
	ndjson := []string{"Content-Type", "application/x-ndjson"}
	// OGC API – Features (issue 16): the H3 cell of a case reported 29
	// days ago (in the hotspot window, which ends now, exclusive; weeks
	// before it for the emerging cube), a hotspot's id.
	hotCell := func(ext string, p orb.Point) string {
		var f struct{ Properties struct{ H3 string } }
		r := a.post("/v1/cases", fmt.Sprintf(`{"source":"patrol","external_id":%q,"category":"C0101","location":[%v,%v],"reported_at":%q}`,
			ext, p[0], p[1], tileNow.Add(-29*24*time.Hour).Format(time.RFC3339)))
		r.decode(a.t, &f)
		return f.Properties.H3
	}
	hotIn, hotOut := hotCell("hot-in", inG1), hotCell("hot-out", inG3)
	form := []string{"Content-Type", "application/x-www-form-urlencoded"} // Open311 (issue 15)
	victim := strconv.FormatInt(a.keyID[asViewer], 10)                    // the admin's revocation is rolled back
	// Projects and disputed cases (issue 17).
	pIn, pOut, dIn, dOut := a.projectsAndDisputes()
	draft := a.draftVersion() // grid versions (issue 19)
	// Each row: byRole(anon, admin, dispatcher, handler, inspector, planner, viewer, integration).
	return []matrixRow{
		// The public routes: the page and its assets, health.
		{route: "* /", method: "GET", path: "/", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "* /static/*", method: "GET", path: "/static/app.css", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /favicon.ico", method: "GET", path: "/favicon.ico", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)}, // after the redirect to /static/favicon.svg
		{route: "* /fonts/*", method: "GET", path: "/fonts/Go%20Regular/0-255.pbf", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /healthz", method: "GET", path: "/healthz", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /readyz", method: "GET", path: "/readyz", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},

		// Operations and administration: the admin's alone.
		{route: "* /metrics", method: "GET", path: "/metrics", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/keys", method: "GET", path: "/v1/keys", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/keys", method: "POST", path: "/v1/keys", body: `{"name":"matrix","role":"viewer","scope":["S1"]}`,
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "DELETE /v1/keys/{id}", method: "DELETE", path: "/v1/keys/" + victim, want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/users", method: "GET", path: "/v1/users", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/users", method: "POST", path: "/v1/users", body: `{"name":"matrix","role":"viewer","scope":["S1"],"password":"matrix password 1"}`,
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/users/{name}", method: "PATCH", path: "/v1/users/nobody", body: `{"disabled":true}`, want: byRole(401, 404, 403, 403, 403, 403, 403, 403)},
		// Signing in is open to all (the body is the credential; this one
		// is malformed, so that no failure counts); signing out is each
		// caller's own (a key holds no session: nothing to end).
		{route: "POST /v1/session", method: "POST", path: "/v1/session", body: `{"name":"x"}`, want: byRole(400, 400, 400, 400, 400, 400, 400, 400)},
		{route: "DELETE /v1/session", method: "DELETE", path: "/v1/session", want: byRole(401, 204, 204, 204, 204, 204, 204, 204)},
		{route: "GET /v1/audit", method: "GET", path: "/v1/audit?limit=5", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/grids/topology", method: "GET", path: "/v1/grids/topology", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/grids/import/", method: "POST", path: "/v1/grids/import", body: fcJSON(district()),
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/units", method: "POST", path: "/v1/units", body: unitsJSON, want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		// Grid versions (issue 19): the grid administrators'. Activation
		// comes last: the admin's puts the draft in force.
		{route: "POST /v1/grid-versions", method: "POST", path: "/v1/grid-versions", body: fcJSON(district()),
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/grid-versions", method: "GET", path: "/v1/grid-versions", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/grid-versions/{id}", method: "GET", path: "/v1/grid-versions/" + draft, want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/grid-versions/{id}/preview", method: "GET", path: "/v1/grid-versions/" + draft + "/preview",
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/grid-versions/{id}/grids", method: "GET", path: "/v1/grid-versions/" + draft + "/grids",
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/grid-versions/{id}/activate", method: "POST", path: "/v1/grid-versions/" + draft + "/activate", body: `{}`,
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "PUT /v1/categories", method: "PUT", path: "/v1/categories", body: tableJSON(a.t), want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "PUT /v1/categories/{code}", method: "PUT", path: "/v1/categories/E0101",
			body: `{"name_zh":"暴露垃圾","name_en":"Exposed rubbish","time_limit":{"value":2,"unit":"working_hours"}}`,
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "PUT /v1/calendar", method: "PUT", path: "/v1/calendar", body: `{"timezone":"Asia/Shanghai","day_start":"09:00","day_end":"17:00","weekend":[0,6]}`,
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},

		// Who am I, and the reference data every role reads.
		{route: "GET /v1/me", method: "GET", path: "/v1/me", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/units", method: "GET", path: "/v1/units", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/statuses", method: "GET", path: "/v1/statuses", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/sources", method: "GET", path: "/v1/sources", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/categories", method: "GET", path: "/v1/categories", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/categories/{code}", method: "GET", path: "/v1/categories/E0101", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/calendar", method: "GET", path: "/v1/calendar", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},

		// Grids: a grid beside the scope does not exist; one above it is an
		// outline.
		{route: "GET /v1/grids", method: "GET", path: "/v1/grids", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/grids/{code}", name: "in", method: "GET", path: "/v1/grids/G1", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/grids/{code}", name: "above (outline)", method: "GET", path: "/v1/grids/D", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/grids/{code}", name: "out", method: "GET", path: "/v1/grids/G3", hide: "G3", absent: "NOPE",
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		{route: "GET /v1/locate", name: "in", method: "GET", path: fmt.Sprintf("/v1/locate?lng=%v&lat=%v", inG1[0], inG1[1]),
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/locate", name: "out", method: "GET", path: fmt.Sprintf("/v1/locate?lng=%v&lat=%v", inG3[0], inG3[1]),
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "POST /v1/locate", method: "POST", path: "/v1/locate", body: fmt.Sprintf(`{"points":[[%v,%v],[%v,%v]]}`, inG1[0], inG1[1], inG3[0], inG3[1]),
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},

		// Case lists: silently cut to the scope (TestAccessListsCut), but
		// a grid beside it does not exist.
		{route: "GET /v1/cases", name: "grid in", method: "GET", path: "/v1/cases?grid=G1", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/cases", name: "grid above", method: "GET", path: "/v1/cases?grid=D", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/cases", name: "grid out", method: "GET", path: "/v1/cases?grid=G3", hide: "G3", absent: "NOPE",
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		{route: "GET /v1/cases", name: "bbox", method: "GET", path: fmt.Sprintf("/v1/cases?bbox=%v,%v,%v,%v", x0, y0, x0+0.02, y0+0.02),
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/cases", name: "csv", method: "GET", path: "/v1/cases?grid=D&format=csv", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "POST /v1/cases/search", method: "POST", path: "/v1/cases/search", body: `{"polygon":` + area + `}`,
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},

		// One case: beside the scope, of another unit (handlers) or of
		// another source (integrations), it does not exist.
		{route: "GET /v1/cases/{id}", name: "in", method: "GET", path: "/v1/cases/" + a.in, want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/cases/{id}", name: "out", method: "GET", path: "/v1/cases/" + a.out, hide: a.out, absent: notACase,
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		{route: "GET /v1/cases/{id}", name: "in, unit U2", method: "GET", path: "/v1/cases/" + a.inU2, hide: a.inU2, absent: notACase,
			want: byRole(401, 200, 200, 404, 200, 200, 200, 200)},
		{route: "GET /v1/cases/{id}", name: "in, source hotline", method: "GET", path: "/v1/cases/" + a.inHotline, hide: a.inHotline, absent: notACase,
			want: byRole(401, 200, 200, 200, 200, 200, 200, 404)},
		{route: "GET /v1/cases/{id}/history", name: "in", method: "GET", path: "/v1/cases/" + a.in + "/history", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /v1/cases/{id}/history", name: "out", method: "GET", path: "/v1/cases/" + a.out + "/history", hide: a.out, absent: notACase,
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},

		// Reports: in the scope, by the roles that report; an integration
		// of its own source only.
		{route: "POST /v1/cases", name: "in", method: "POST", path: "/v1/cases", body: newCase("m-in", "patrol", inG1),
			want: byRole(401, 201, 201, 403, 201, 403, 403, 201)},
		{route: "POST /v1/cases", name: "out", method: "POST", path: "/v1/cases", body: newCase("m-out", "patrol", inG3),
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/cases", name: "in, source hotline", method: "POST", path: "/v1/cases", body: newCase("m-hot", "hotline", inG1),
			want: byRole(401, 201, 201, 403, 201, 403, 403, 403)},
		{route: "POST /v1/cases/bulk", method: "POST", path: "/v1/cases/bulk", body: newCase("m-bulk", "patrol", inG1) + "\n", header: ndjson,
			want: byRole(401, 200, 403, 403, 403, 403, 403, 200)},

		// Changes: each action by its role, on a case in the scope; beside
		// it the case does not exist.
		{route: "PATCH /v1/cases/{id}", name: "accept", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted"}`, header: ifMatch(a.in),
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "accept out", method: "PATCH", path: "/v1/cases/" + a.out, body: `{"status":"accepted"}`, header: ifMatch(a.out),
			hide: a.out, absent: notACase, want: byRole(401, 200, 404, 404, 404, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "start", method: "PATCH", path: "/v1/cases/" + a.dispatched, body: `{"status":"in_progress"}`, header: ifMatch(a.dispatched),
			want: byRole(401, 200, 403, 200, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "dispatch, unit U2", method: "PATCH", path: "/v1/cases/" + a.inU2, body: `{"status":"dispatched"}`, header: ifMatch(a.inU2),
			hide: a.inU2, absent: notACase, want: byRole(401, 200, 200, 404, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "verify", method: "PATCH", path: "/v1/cases/" + a.resolved, body: `{"status":"verified"}`, header: ifMatch(a.resolved),
			want: byRole(401, 200, 403, 403, 200, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "close", method: "PATCH", path: "/v1/cases/" + a.verified, body: `{"status":"closed"}`, header: ifMatch(a.verified),
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "request an extension", method: "PATCH", path: "/v1/cases/" + a.dispatched,
			body: `{"request_extension":{"value":2,"unit":"working_days"},"note":"材料未到"}`, header: ifMatch(a.dispatched),
			want: byRole(401, 200, 403, 200, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "return (退单)", method: "PATCH", path: "/v1/cases/" + a.dispatched,
			body: `{"status":"accepted","returned":true,"note":"不属本单位"}`, header: ifMatch(a.dispatched),
			want: byRole(401, 200, 403, 200, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "re-assign in", method: "PATCH", path: "/v1/cases/" + a.dispatched, body: `{"grid":"G2"}`, header: ifMatch(a.dispatched),
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "re-assign out", method: "PATCH", path: "/v1/cases/" + a.dispatched, body: `{"grid":"G3"}`, header: ifMatch(a.dispatched),
			want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "re-assign out to in", method: "PATCH", path: "/v1/cases/" + a.out, body: `{"grid":"G1"}`, header: ifMatch(a.out),
			hide: a.out, absent: notACase, want: byRole(401, 200, 404, 404, 404, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "actor", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted","actor":"someone else"}`, header: ifMatch(a.in),
			want: byRole(401, 400, 400, 400, 400, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "version", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted","version":9}`, header: ifMatch(a.in),
			want: byRole(401, 400, 400, 400, 400, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "unknown field", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted","is_admin":true}`, header: ifMatch(a.in),
			want: byRole(401, 400, 400, 400, 400, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "no If-Match", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted"}`,
			want: byRole(401, 400, 400, 400, 400, 403, 403, 403)},
		{route: "PATCH /v1/cases/{id}", name: "stale If-Match", method: "PATCH", path: "/v1/cases/" + a.in, body: `{"status":"accepted"}`, header: []string{"If-Match", `"7"`},
			want: byRole(401, 412, 412, 403, 403, 403, 403, 403)},

		// Indicators and the map.
		{route: "GET /v1/stats", method: "GET", path: "/v1/stats?by=street", want: byRole(401, 200, 200, 200, 200, 200, 403, 403)},
		{route: "GET /v1/hotspots", method: "GET", path: "/v1/hotspots", want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
		{route: "GET /v1/hotspots/emerging", method: "GET", path: "/v1/hotspots/emerging", want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
		{route: "GET /tiles", method: "GET", path: "/tiles", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /tiles/{file}", method: "GET", path: "/tiles/cases.json", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /tiles/{layer}/{z}/{x}/{file}", name: "in", method: "GET", path: inTile, want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /tiles/{layer}/{z}/{x}/{file}", name: "out", method: "GET", path: outTile, want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /v1/events", method: "GET", path: "/v1/events", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "HEAD /v1/events", method: "HEAD", path: "/v1/events", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "POST /v1/events/ticket", method: "POST", path: "/v1/events/ticket", want: byRole(401, 201, 201, 201, 201, 201, 201, 403)},

		// OGC API – Features and the OpenAPI document (issue 16): the
		// landing page, conformance and the document are public; the
		// collections go as the /v1 routes of what they hold, cut to the
		// scope alike, and a feature beside it does not exist.
		{route: "GET /openapi.json", method: "GET", path: "/openapi.json", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc", method: "GET", path: "/ogc", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/conformance", method: "GET", path: "/ogc/conformance", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections", method: "GET", path: "/ogc/collections", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/cases", method: "GET", path: "/ogc/collections/cases", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/cases/items", method: "GET", path: fmt.Sprintf("/ogc/collections/cases/items?bbox=%v,%v,%v,%v", x0, y0, x0+0.02, y0+0.02),
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/cases/items/{featureId}", name: "in", method: "GET", path: "/ogc/collections/cases/items/" + a.in,
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/cases/items/{featureId}", name: "out", method: "GET", path: "/ogc/collections/cases/items/" + a.out, hide: a.out, absent: notACase,
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		{route: "GET /ogc/collections/cases/items/{featureId}", name: "in, unit U2", method: "GET", path: "/ogc/collections/cases/items/" + a.inU2, hide: a.inU2, absent: notACase,
			want: byRole(401, 200, 200, 404, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/hotspots", method: "GET", path: "/ogc/collections/hotspots", want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
		{route: "GET /ogc/collections/hotspots/items", method: "GET", path: "/ogc/collections/hotspots/items", want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
		{route: "GET /ogc/collections/hotspots/items/{featureId}", name: "in", method: "GET", path: "/ogc/collections/hotspots/items/" + hotIn,
			want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
		{route: "GET /ogc/collections/hotspots/items/{featureId}", name: "out", method: "GET", path: "/ogc/collections/hotspots/items/" + hotOut,
			hide: hotOut, absent: "89283082803ffff", want: byRole(401, 200, 404, 403, 403, 404, 403, 403)},
		{route: "GET /ogc/collections/{collectionId}", method: "GET", path: "/ogc/collections/grids-street", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/{collectionId}/items", method: "GET", path: "/ogc/collections/grids-grid/items", want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/{collectionId}/items/{featureId}", name: "in", method: "GET", path: "/ogc/collections/grids-grid/items/G1",
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/{collectionId}/items/{featureId}", name: "above (outline)", method: "GET", path: "/ogc/collections/grids-district/items/D",
			want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /ogc/collections/{collectionId}/items/{featureId}", name: "out", method: "GET", path: "/ogc/collections/grids-grid/items/G3", hide: "G3", absent: "NOPE",
			want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		// Open311 (issue 15): discovery and services are public; a request
		// is submitted with an integration key as the api_key form field
		// ({api_key}: the caller's token), within its source and scope;
		// reads need a key (403 without: the spec's code), cut to its scope.
		{route: "GET /open311/v2/discovery.{format}", method: "GET", path: "/open311/v2/discovery.xml", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /open311/v2/services.{format}", method: "GET", path: "/open311/v2/services.json", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /open311/v2/services/{service_code}.{format}", method: "GET", path: "/open311/v2/services/E0101.xml", want: byRole(200, 200, 200, 200, 200, 200, 200, 200)},
		{route: "POST /open311/v2/requests.{format}", name: "in", method: "POST", path: "/open311/v2/requests.xml", header: form,
			body: fmt.Sprintf("api_key={api_key}&service_code=E0101&lat=%v&long=%v", inG1[1], inG1[0]), want: byRole(403, 403, 403, 403, 403, 403, 403, 200)},
		{route: "POST /open311/v2/requests.{format}", name: "out", method: "POST", path: "/open311/v2/requests.xml", header: form,
			body: fmt.Sprintf("api_key={api_key}&service_code=E0101&lat=%v&long=%v", inG3[1], inG3[0]), want: byRole(403, 403, 403, 403, 403, 403, 403, 403)},
		{route: "GET /open311/v2/requests.{format}", method: "GET", path: "/open311/v2/requests.json", want: byRole(403, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /open311/v2/requests/{id}.{format}", name: "in", method: "GET", path: "/open311/v2/requests/" + a.in + ".xml", want: byRole(403, 200, 200, 200, 200, 200, 200, 200)},
		{route: "GET /open311/v2/requests/{id}.{format}", name: "out", method: "GET", path: "/open311/v2/requests/" + a.out + ".xml", want: byRole(403, 200, 404, 404, 404, 404, 404, 404)},
		{route: "GET /open311/v2/requests/{id}.{format}", name: "in, source hotline", method: "GET", path: "/open311/v2/requests/" + a.inHotline + ".json", want: byRole(403, 200, 200, 200, 200, 200, 200, 404)},
		{route: "GET /open311/v2/servicerequestupdates.{format}", method: "GET", path: "/open311/v2/servicerequestupdates.json", want: byRole(403, 200, 200, 200, 200, 200, 200, 200)},
		{name: "Open311: no such resource", method: "GET", path: "/open311/v2/nothing.xml", want: byRole(404, 404, 404, 404, 404, 404, 404, 404)},
		// Projects and disputed cases (issue 17): dispatchers in scope
		// create, change and settle; planners and viewers read; a project
		// or case beside the scope does not exist.
		{route: "GET /v1/projects", method: "GET", path: "/v1/projects", want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "POST /v1/projects", name: "in", method: "POST", path: "/v1/projects", body: projectBody("G1"),
			want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
		{route: "POST /v1/projects", name: "out", method: "POST", path: "/v1/projects", body: projectBody("G3"),
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/projects/{id}", name: "in", method: "GET", path: "/v1/projects/" + pIn, want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "GET /v1/projects/{id}", name: "out", method: "GET", path: "/v1/projects/" + pOut, hide: pOut, absent: "999999",
			want: byRole(401, 200, 404, 403, 403, 404, 404, 403)},
		{route: "PATCH /v1/projects/{id}", name: "in", method: "PATCH", path: "/v1/projects/" + pIn, body: `{"plan":"改"}`,
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "PATCH /v1/projects/{id}", name: "out", method: "PATCH", path: "/v1/projects/" + pOut, body: `{"plan":"改"}`, hide: pOut, absent: "999999",
			want: byRole(401, 200, 404, 403, 403, 403, 403, 403)},
		{route: "GET /v1/projects/{id}/history", name: "in", method: "GET", path: "/v1/projects/" + pIn + "/history", want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "GET /v1/projects/{id}/history", name: "out", method: "GET", path: "/v1/projects/" + pOut + "/history", hide: pOut, absent: "999999",
			want: byRole(401, 200, 404, 403, 403, 404, 404, 403)},
		{route: "GET /v1/projects/{id}/progress", name: "in", method: "GET", path: "/v1/projects/" + pIn + "/progress", want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "GET /v1/projects/{id}/progress", name: "out", method: "GET", path: "/v1/projects/" + pOut + "/progress", hide: pOut, absent: "999999",
			want: byRole(401, 200, 404, 403, 403, 404, 404, 403)},
		{route: "GET /v1/projects/{id}/cases", name: "in", method: "GET", path: "/v1/projects/" + pIn + "/cases", want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "GET /v1/projects/{id}/cases", name: "out", method: "GET", path: "/v1/projects/" + pOut + "/cases", hide: pOut, absent: "999999",
			want: byRole(401, 200, 404, 403, 403, 404, 404, 403)},
		{route: "GET /tiles/projects/{z}/{x}/{file}", method: "GET", path: strings.Replace(tilePath("cases", inG1, 14, ""), "/cases/", "/projects/", 1),
			want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{route: "GET /v1/disputes", method: "GET", path: "/v1/disputes", want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/settle", name: "in", method: "POST", path: "/v1/disputes/" + dIn + "/settle", body: `{"unit":"U1"}`,
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/settle", name: "out", method: "POST", path: "/v1/disputes/" + dOut + "/settle", body: `{"unit":"U2"}`,
			hide: dOut, absent: notACase, want: byRole(401, 200, 404, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/escalate", name: "in", method: "POST", path: "/v1/disputes/" + dIn + "/escalate", body: `{"project":"` + pIn + `"}`,
			want: byRole(401, 200, 200, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/escalate", name: "in, into a new project in scope", method: "POST", path: "/v1/disputes/" + dIn + "/escalate",
			body: `{"new_project":` + projectBody("G1") + `}`, want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/escalate", name: "in, into a new project beside the scope", method: "POST", path: "/v1/disputes/" + dIn + "/escalate",
			body: `{"new_project":` + projectBody("G3") + `}`, want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/disputes/{id}/escalate", name: "out", method: "POST", path: "/v1/disputes/" + dOut + "/escalate", body: `{"project":"` + pOut + `"}`,
			hide: dOut, absent: notACase, want: byRole(401, 200, 404, 403, 403, 403, 403, 403)},
		{name: "HEAD", method: "HEAD", path: "/v1/projects/" + pIn, want: byRole(401, 200, 200, 403, 403, 200, 200, 403)},
		{name: "HEAD out", method: "HEAD", path: "/v1/projects/" + pOut, want: byRole(401, 200, 404, 403, 403, 404, 404, 403)},

		// No route: an anonymous caller learns nothing of what exists.
		{name: "no such endpoint", method: "GET", path: "/v1/nothing", want: byRole(401, 404, 404, 404, 404, 404, 404, 404)},
		{name: "no such method", method: "DELETE", path: "/v1/cases/" + a.in, want: byRole(401, 405, 405, 405, 405, 405, 405, 405)},

		// HEAD goes as GET goes.
		{name: "HEAD", method: "HEAD", path: "/v1/cases/" + a.in, want: byRole(401, 200, 200, 200, 200, 200, 200, 200)},
		{name: "HEAD out", method: "HEAD", path: "/v1/cases/" + a.out, want: byRole(401, 200, 404, 404, 404, 404, 404, 404)},
		{name: "HEAD", method: "HEAD", path: "/metrics", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{name: "HEAD", method: "HEAD", path: "/v1/users", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{name: "HEAD", method: "HEAD", path: "/v1/keys", want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},
		{name: "HEAD", method: "HEAD", path: "/v1/hotspots", want: byRole(401, 200, 200, 403, 403, 200, 403, 403)},
	}
}

// TestAccessMatrix runs every row of the matrix as every caller and checks
// the exact status; a route of the router without a row fails the test, so
// that a new route gets its row. Every refusal is problem+json, every 401
// asks for a Bearer credential, and an object beside the scope answers
// exactly as one that does not exist.
func TestAccessMatrix(t *testing.T) {
	a := newAccessAPI(t)
	rows := matrixRows(a)
	rows = append(rows, issue18Rows(a)...) // campaigns and bulletins

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.route] = true
	}
	walked := map[string]bool{}
	err := chi.Walk(httpapi.Routes(a.server), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, key := range []string{method + " " + route, "* " + route} {
			if covered[key] {
				walked[key] = true
				return nil
			}
		}
		t.Errorf("%s %s: no row in the access matrix: add one with the status of each role", method, route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range covered {
		if key != "" && !walked[key] {
			t.Errorf("the matrix has rows for %q, which the router does not serve", key)
		}
	}

	for _, r := range rows {
		name := strings.TrimSpace(r.route + " " + r.name)
		if r.route == "" {
			name = r.method + " " + r.path + " " + r.name
		}
		t.Run(name, func(t *testing.T) {
			if r.bug != "" {
			}
			for w := asAnon; w < nCallers; w++ {
				// Open311 (issue 15): the api_key form field is the caller's key.
				got := a.try(w, r.method, r.path, strings.ReplaceAll(r.body, "{api_key}", a.token[w]), r.header...)
				if got.status != r.want[w] {
					t.Errorf("as %s: %s %s = %d, want %d: %s", w, r.method, r.path, got.status, r.want[w], truncateBody(got.body))
					continue
				}
				if got.status >= 400 && strings.HasPrefix(r.path, "/open311/") {
					check311Error(t, got, got.status, r.path) // the spec's error list, not problem+json
				} else if got.status >= 400 && r.method != http.MethodHead {
					checkProblem(t, got, got.status)
				}
				if got.status == http.StatusUnauthorized && !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("as %s: 401 without WWW-Authenticate: Bearer (%q)", w, got.header.Get("WWW-Authenticate"))
				}
				if got.status == http.StatusNotFound && r.hide != "" {
					absent := a.try(w, r.method, strings.Replace(r.path, r.hide, r.absent, 1), r.body, r.header...)
					if g, n := notFoundBody(t, got, r.hide), notFoundBody(t, absent, r.absent); absent.status != got.status || g != n {
						t.Errorf("as %s: out of scope answers %d %s, an object that does not exist %d %s", w, got.status, g, absent.status, n)
					}
				}
			}
		})
	}
}

// notFoundBody is a problem reply without its request id, the name of the
// object asked for replaced in its detail: what must be the same for an
// object beside the scope and one that does not exist.
func notFoundBody(t *testing.T, r reply, name string) string {
	t.Helper()
	var p map[string]any
	r.decode(t, &p)
	delete(p, "request_id")
	if d, ok := p["detail"].(string); ok {
		p["detail"] = strings.ReplaceAll(d, name, "<name>")
	}
	return fmt.Sprint(p)
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// draftVersion stores the district as a draft grid version and returns its
// id (grid versions, issue 19).
func (a *accessAPI) draftVersion() string {
	a.t.Helper()
	r := a.post("/v1/grid-versions", fcJSON(district()))
	if r.status != http.StatusCreated {
		a.t.Fatalf("draft: %d %s", r.status, r.body)
	}
	var v struct{ ID string }
	r.decode(a.t, &v)
	return v.ID
}
