package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"citygrid/internal/open311check"
)

// TestOpen311BothFormats asks every resource in XML and in JSON: the XML
// holds the spec's element names in its order, and the JSON the same data
// in the same order.
func TestOpen311BothFormats(t *testing.T) {
	a := newOpen311API(t, false)
	id := submitted(t, a.submit(a.integration, report(inG1, "attribute[smell][]", "rot", "external_id", "b1")))
	other := submitted(t, a.submit(a.integration, report(inG3)))
	a.patchCase(id, `{"status":"accepted","note":"立案"}`)
	for _, tt := range []struct{ path, root string }{
		{"/open311/v2/discovery", "discovery"},
		{"/open311/v2/services", "services"},
		{"/open311/v2/services/E0101", "service_definition"},
		{"/open311/v2/services/E0103", "service_definition"},
		{"/open311/v2/requests", "service_requests"},
		{"/open311/v2/requests?extensions=true", "service_requests"},
		{"/open311/v2/requests?service_request_id=" + other + "," + id, "service_requests"},
		{"/open311/v2/requests/" + id, "service_requests"},
		{"/open311/v2/requests/" + id + "?extensions=true", "service_requests"},
		{"/open311/v2/servicerequestupdates", "service_request_updates"},
		{"/open311/v2/requests/0", "errors"},
		{"/open311/v2/services/NOPE", "errors"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			path, query, _ := strings.Cut(tt.path, "?")
			if query != "" {
				query = "?" + query
			}
			xr := a.call("", http.MethodGet, path+".xml"+query, "", "")
			jr := a.call("", http.MethodGet, path+".json"+query, "", "")
			if xr.status != jr.status || (tt.root != "errors") != (xr.status == http.StatusOK) {
				t.Fatalf("XML %d, JSON %d: %s", xr.status, jr.status, xr.body)
			}
			if ct := jr.contentType(); ct != "application/json; charset=utf-8" {
				t.Errorf("JSON Content-Type %q", ct)
			}
			x := parse311(t, xr, tt.root)
			if err := open311check.SameData(x, jr.body); err != nil {
				t.Fatalf("%v\nXML %s\nJSON %s", err, xr.body, jr.body)
			}
		})
	}
	// A re-sent submission answers the stored request: the same data in
	// both formats.
	xr := a.submit(a.integration, report(inG1, "external_id", "b1"))
	form := report(inG1, "external_id", "b1")
	form.Set("api_key", a.integration)
	jr := a.call(noKey, http.MethodPost, "/open311/v2/requests.json", "application/x-www-form-urlencoded", form.Encode())
	if err := open311check.SameData(parse311(t, xr, "service_requests"), jr.body); err != nil || !strings.Contains(string(jr.body), `"service_request_id":"`+id+`"`) {
		t.Fatalf("re-sent: %v\nXML %s\nJSON %s", err, xr.body, jr.body)
	}
}

// patchCase changes a case through /v1 as the admin.
func (a *open311API) patchCase(id, body string) {
	a.t.Helper()
	r := a.call("", http.MethodGet, "/v1/cases/"+id, "", "")
	if r.status != http.StatusOK {
		a.t.Fatalf("GET case %s: %d %s", id, r.status, r.body)
	}
	r = a.call("", http.MethodPatch, "/v1/cases/"+id, "application/json", body, "If-Match", r.header.Get("ETag"))
	if r.status != http.StatusOK {
		a.t.Fatalf("PATCH case %s %s: %d %s", id, body, r.status, r.body)
	}
}

// requests GETs requests.xml as token and returns the requests by id, in
// order.
func (a *open311API) requests(token, query string) ([]string, map[string]*open311check.Node) {
	a.t.Helper()
	r := a.call(token, http.MethodGet, "/open311/v2/requests.xml?"+query, "", "")
	if r.status != http.StatusOK {
		a.t.Fatalf("GET requests?%s: %d %s", query, r.status, r.body)
	}
	x := parse311(a.t, r, "service_requests")
	var ids []string
	byID := map[string]*open311check.Node{}
	for _, c := range x.Children {
		id := c.Value("service_request_id")
		ids = append(ids, id)
		byID[id] = c
	}
	return ids, byID
}

func TestOpen311Submit(t *testing.T) {
	a := newOpen311API(t, false)
	id := submitted(t, a.submit(a.integration, report(inG1, "attribute[smell][]", "rot", "media_url", "https://example.org/p.jpg")))
	// service_request_id is the case's id, and the case is the key's source's.
	r := a.call("", http.MethodGet, "/v1/cases/"+id, "", "")
	var f struct {
		Properties struct {
			ID, Source, Category, Description string
			Properties                        map[string]map[string]any
		}
	}
	r.decode(t, &f)
	if f.Properties.ID != id || f.Properties.Source != "app" || f.Properties.Category != "E0101" || f.Properties.Description != "垃圾 by the gate" {
		t.Fatalf("GET /v1/cases/%s = %s", id, r.body)
	}
	stored := f.Properties.Properties["open311"]
	if stored["media_url"] != "https://example.org/p.jpg" || stored["contact"].(map[string]any)["email"] != "reporter@example.org" {
		t.Errorf("stored properties %v", f.Properties.Properties)
	}
	if attrs := stored["attributes"].(map[string]any); attrs["size"] != "s" || attrs["smell"].([]any)[0] != "rot" {
		t.Errorf("stored attributes %v", stored["attributes"])
	}

	// The client's own id makes a re-sent request return the stored one.
	first := submitted(t, a.submit(a.integration, report(inG1), "Idempotency-Key", "k-1"))
	if again := submitted(t, a.submit(a.integration, report(inG1), "Idempotency-Key", "k-1")); again != first {
		t.Errorf("re-sent with Idempotency-Key: %s, want %s", again, first)
	}
	if again := submitted(t, a.submit(a.integration, report(inG1, "external_id", "k-1"))); again != first {
		t.Errorf("re-sent with external_id: %s, want %s", again, first)
	}
	if other := submitted(t, a.submit(a.integration, report(inG1))); other == first {
		t.Error("a request without an id of the client's returned another's")
	}

	path := "/open311/v2/requests.xml"
	for _, tt := range []struct {
		name   string
		key    string
		form   url.Values
		header []string
		status int
		says   string
	}{
		{"no api_key", "", report(inG1), nil, 403, "api_key is missing"},
		{"bad api_key", "cg_nope", report(inG1), nil, 403, "not a valid key"},
		{"a dispatcher's key", a.dispatcher, report(inG1), nil, 403, "integration key"},
		{"out of the key's scope", a.scopedApp, report(inG3), nil, 403, "outside your scope"},
		{"unknown service", a.integration, report(inG1, "service_code", "E9999"), nil, 404, "E9999"},
		{"hidden service", a.integration, report(inG1, "service_code", "E0102"), nil, 404, "E0102"},
		{"a branch", a.integration, report(inG1, "service_code", "E01"), nil, 404, "E01"},
		{"address", a.integration, url.Values{"service_code": {"E0101"}, "address_string": {"1 Main St"}, "attribute[size]": {"s"}}, nil, 400, "address_string and address_id are not supported"},
		{"no location", a.integration, url.Values{"service_code": {"E0101"}}, nil, 400, "lat and long"},
		{"outside the district", a.integration, report([2]float64{0, 0}), nil, 400, "outside the service area"},
		{"required attribute", a.integration, report(inG1, "attribute[size]", ""), nil, 400, "attribute[size] is required"},
		{"not a key of the list", a.integration, report(inG1, "attribute[size]", "xl"), nil, 400, "not one of its values"},
		{"ids differ", a.integration, report(inG1, "external_id", "a"), []string{"Idempotency-Key", "b"}, 400, "differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			says := check311Error(t, a.submit(tt.key, tt.form, tt.header...), tt.status, path)
			if !strings.Contains(says, tt.says) {
				t.Errorf("says %q, want %q", says, tt.says)
			}
		})
	}
	// api_key in the Authorization header only, or in the URL: not the
	// spec's way.
	r = a.call(a.integration, http.MethodPost, path, "application/x-www-form-urlencoded", report(inG1).Encode())
	check311Error(t, r, 403, path)
	r = a.call(noKey, http.MethodPost, path+"?api_key="+a.integration, "application/x-www-form-urlencoded", report(inG1).Encode())
	check311Error(t, r, 403, path)
	// Not a form.
	r = a.call(noKey, http.MethodPost, path, "application/json", `{"service_code":"E0101"}`)
	if says := check311Error(t, r, 400, path); !strings.Contains(says, "form") {
		t.Errorf("a JSON body: %q", says)
	}
}

func TestOpen311Requests(t *testing.T) {
	a := newOpen311API(t, false)
	in := submitted(t, a.submit(a.integration, report(inG1)))
	out := submitted(t, a.submit(a.integration, report(inG3)))
	rejected := submitted(t, a.submit(a.integration, report(inG1)))
	merged := submitted(t, a.submit(a.integration, report(inG1)))
	resolved := submitted(t, a.submit(a.integration, report(inG1, "service_code", "E0103", "attribute[size]", "")))
	a.patchCase(rejected, `{"status":"rejected","note":"不属于城管范围"}`)
	a.patchCase(merged, `{"merge_into":"`+in+`"}`)
	for _, st := range []string{"accepted", "dispatched", "in_progress", "resolved"} {
		a.patchCase(resolved, `{"status":"`+st+`"}`)
	}

	ids, byID := a.requests("", "")
	if len(ids) != 5 {
		t.Fatalf("requests: %v", ids)
	}
	for id, want := range map[string]string{in: "open", out: "open", rejected: "closed", merged: "closed", resolved: "open"} {
		if got := byID[id].Value("status"); got != want {
			t.Errorf("request %s status %s, want %s", id, got, want)
		}
	}
	if got := byID[merged].Value("status_notes"); got != "Duplicate: merged into service request "+in+"." {
		t.Errorf("merged status_notes %q", got)
	}
	if got := byID[rejected].Value("status_notes"); got != `Rejected: "不属于城管范围"` {
		t.Errorf("rejected status_notes %q", got)
	}
	n := byID[in]
	if n.Value("agency_responsible") != "U1" || n.Value("service_code") != "E0101" || n.Value("service_name") != "暴露垃圾" ||
		n.Value("expected_datetime") == "" || n.Value("lat") == "" || n.Value("description") != "垃圾 by the gate" {
		t.Errorf("request %s: %+v", in, n)
	}
	for _, k := range []string{"requested_datetime", "updated_datetime", "expected_datetime"} {
		v := n.Value(k)
		if _, err := time.Parse(time.RFC3339, v); err != nil || !(strings.HasSuffix(v, "Z") || strings.Contains(v[10:], "+") || strings.Contains(v[10:], "-")) {
			t.Errorf("%s %q is no W3C datetime with a zone", k, v)
		}
	}
	if strings.Contains(n.Value("description"), "reporter@") {
		t.Error("contact details shown")
	}

	count := func(token, query string) int {
		ids, _ := a.requests(token, query)
		return len(ids)
	}
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"status=open", 3},
		{"status=closed", 2},
		{"status=open,closed", 5},
		{"service_code=E0103", 1},
		{"service_code=E0101,E0103&status=open", 3},
		{"service_request_id=" + out + ",999999999," + in + "&status=closed", 2}, // overrides the others; unknown ids left out
		{"start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00.5%2B08:00", 0},
		{"end_date=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339Nano)), 5},
		{"lat=" + ftoa(inG3[1]) + "&long=" + ftoa(inG3[0]) + "&radius=100", 1},
		{"page_size=2", 2},
		{"page_size=2&page=3", 1},
		{"page_size=2&page=4", 0},
		{"updated_after=2000-01-01T00:00:00Z", 5},
		{"updated_before=2000-01-01T00:00:00Z", 0},
		{"status=&service_code=&page=", 5}, // empty as absent
	} {
		if got := count("", tt.query); got != tt.want {
			t.Errorf("requests?%s: %d requests, want %d", tt.query, got, tt.want)
		}
	}
	// Pages partition the list in its order.
	all, _ := a.requests("", "")
	var paged []string
	for p := 1; p <= 3; p++ {
		ids, _ := a.requests("", "page_size=2&page="+itoa(p))
		paged = append(paged, ids...)
	}
	if strings.Join(paged, ",") != strings.Join(all, ",") {
		t.Errorf("pages %v, list %v", paged, all)
	}
	// Cut to the reader's scope: a street's dispatcher does not see S2's.
	if ids, _ := a.requests(a.dispatcher, ""); len(ids) != 4 || contains(ids, out) {
		t.Errorf("dispatcher of S1 sees %v", ids)
	}
	if ids, _ := a.requests(a.dispatcher, "service_request_id="+out); len(ids) != 0 {
		t.Errorf("dispatcher of S1 finds %v by id", ids)
	}
	// A viewer does not read reporters' text.
	if _, byID := a.requests(a.viewer, ""); byID[in].Value("description") != "" {
		t.Error("a viewer reads the description")
	}
	// extensions=true: the internal status and a note per event.
	_, byID = a.requests("", "extensions=true")
	if got := byID[resolved].Child("extended_attributes").Value("detailed_status"); got != "resolved" {
		t.Errorf("detailed_status %q", got)
	}
	if got := byID[merged].Child("extended_attributes").Value("detailed_status"); got != "merged" {
		t.Errorf("merged detailed_status %q", got)
	}
	notes := byID[resolved].Child("notes")
	if notes == nil || len(notes.Children) != 4 || notes.Children[3].Value("summary") != "status: in_progress → resolved" {
		t.Errorf("notes %+v", notes)
	}
	if byID[in].Child("extended_attributes") != nil {
		// (asked with extensions: every request has them)
	} else {
		t.Error("no extended_attributes with extensions=true")
	}
	// updated_datetime moves with every change.
	_, before := a.requests("", "service_request_id="+in)
	time.Sleep(1100 * time.Millisecond) // datetimes go to the second
	a.patchCase(in, `{"status":"accepted"}`)
	_, after := a.requests("", "service_request_id="+in)
	if b, c := before[in].Value("updated_datetime"), after[in].Value("updated_datetime"); c <= b {
		t.Errorf("updated_datetime %s then %s", b, c)
	}
	since := after[in].Value("updated_datetime")
	ids, byID = a.requests("", "updated_after="+url.QueryEscape(before[in].Value("updated_datetime")))
	if !contains(ids, in) {
		t.Errorf("updated_after: %v", ids)
	}
	if ids, _ := a.requests("", "updated_before="+url.QueryEscape(since)); contains(ids, in) {
		t.Errorf("updated_before %s: %v", since, ids)
	}
}

func TestOpen311Errors(t *testing.T) {
	a := newOpen311API(t, false)
	id := submitted(t, a.submit(a.integration, report(inG3)))
	for _, tt := range []struct {
		name, token, method, path string
		status                    int
	}{
		{"unknown id", "", "GET", "/open311/v2/requests/999999999.xml", 404},
		{"unknown id json", "", "GET", "/open311/v2/requests/999999999.json", 404},
		{"not an id", "", "GET", "/open311/v2/requests/abc.json", 404},
		{"out of scope", a.dispatcher, "GET", "/open311/v2/requests/" + id + ".xml", 404},
		{"unknown service", "", "GET", "/open311/v2/services/E9999.json", 404},
		{"hidden service", "", "GET", "/open311/v2/services/E0102.xml", 404},
		{"unknown service filter", "", "GET", "/open311/v2/requests.xml?service_code=E9999", 404},
		{"bad format", "", "GET", "/open311/v2/services.html", 400},
		{"no such resource", "", "GET", "/open311/v2/tokens/1.xml", 404},
		{"no such resource json", noKey, "GET", "/open311/v2/nothing.json", 404},
		{"wrong method", "", "DELETE", "/open311/v2/requests.json", 400},
		{"window", "", "GET", "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400},
		{"no zone", "", "GET", "/open311/v2/requests.xml?start_date=2026-01-01T00:00:00", 400},
		{"bad status", "", "GET", "/open311/v2/requests.xml?status=fixed", 400},
		{"radius alone", "", "GET", "/open311/v2/requests.xml?radius=5", 400},
		{"no key", noKey, "GET", "/open311/v2/requests.xml", 403},
		{"bad key", "cg_nope", "GET", "/open311/v2/requests.json", 403},
		{"key in the URL", noKey, "GET", "/open311/v2/requests.xml?api_key=" + a.integration, 403},
		{"updates without a key", noKey, "GET", "/open311/v2/servicerequestupdates.json", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call(tt.token, tt.method, tt.path, "", "")
			check311Error(t, r, tt.status, tt.path)
			if strings.Contains(string(r.body), "<html") || strings.Contains(string(r.body), "problem") {
				t.Errorf("%s", r.body)
			}
		})
	}
	// A wrong method: a 400 whose error says 405, and Allow.
	r := a.call("", "DELETE", "/open311/v2/requests.xml", "", "")
	if x := parse311(t, r, "errors"); x.Children[0].Value("code") != "405" || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE requests.xml: Allow %q, %s", r.header.Get("Allow"), r.body)
	}
	// Out of scope answers exactly as unknown.
	hidden := a.call(a.dispatcher, "GET", "/open311/v2/requests/"+id+".json", "", "")
	absent := a.call(a.dispatcher, "GET", "/open311/v2/requests/999999999.json", "", "")
	if strings.ReplaceAll(string(hidden.body), id, "N") != strings.ReplaceAll(string(absent.body), "999999999", "N") {
		t.Errorf("out of scope %s, unknown %s", hidden.body, absent.body)
	}
	// The discovery and the services need no key.
	for _, p := range []string{"/open311/v2/discovery.xml", "/open311/v2/services.json", "/open311/v2/services/E0101.xml"} {
		if r := a.call(noKey, "GET", p, "", ""); r.status != http.StatusOK {
			t.Errorf("anonymous %s: %d %s", p, r.status, r.body)
		}
	}
}

// TestOpen311PublicRead: with -open311-public-read, anonymous clients read
// the requests of public categories, and never reporters' contact details.
func TestOpen311PublicRead(t *testing.T) {
	a := newOpen311API(t, true)
	pub := submitted(t, a.submit(a.integration, report(inG1)))
	private := submitted(t, a.submit(a.integration, report(inG1, "service_code", "E0103", "attribute[size]", "")))
	a.patchCase(pub, `{"status":"accepted","note":"已立案"}`)
	ids, byID := a.requests(noKey, "")
	if len(ids) != 1 || ids[0] != pub {
		t.Fatalf("anonymous reads %v, want [%s]", ids, pub)
	}
	if byID[pub].Value("description") == "" {
		t.Error("anonymous: no description of a public request")
	}
	for _, q := range []string{"service_request_id=" + private, "service_code=E0103"} {
		if ids, _ := a.requests(noKey, q); len(ids) != 0 {
			t.Errorf("anonymous ?%s: %v", q, ids)
		}
	}
	check311Error(t, a.call(noKey, "GET", "/open311/v2/requests/"+private+".xml", "", ""), 404, ".xml")
	for _, p := range []string{"/open311/v2/requests.json?extensions=true", "/open311/v2/requests/" + pub + ".xml?extensions=true", "/open311/v2/servicerequestupdates.json"} {
		r := a.call(noKey, "GET", p, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("anonymous %s: %d %s", p, r.status, r.body)
		}
		for _, secret := range []string{"reporter@example.org", "13800000000", "Li"} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("anonymous %s shows %q: %s", p, secret, r.body)
			}
		}
	}
	if r := a.call(noKey, "GET", "/open311/v2/servicerequestupdates.json", "", ""); !strings.Contains(string(r.body), `"service_request_id":"`+pub+`"`) {
		t.Errorf("anonymous updates: %s", r.body)
	}
	// Without the flag anonymous reads are refused (TestOpen311Errors).
}

// TestOpen311Updates: every event is an update whose update_id is the
// event's id in the case's history, and stays the same.
func TestOpen311Updates(t *testing.T) {
	a := newOpen311API(t, false)
	id := submitted(t, a.submit(a.integration, report(inG1)))
	a.patchCase(id, `{"status":"accepted"}`)
	a.patchCase(id, `{"status":"dispatched","note":"派遣"}`)
	r := a.call("", "GET", "/open311/v2/servicerequestupdates.xml", "", "")
	x := parse311(t, r, "service_request_updates")
	if len(x.Children) != 2 {
		t.Fatalf("updates: %s", r.body)
	}
	h := a.call("", "GET", "/v1/cases/"+id+"/history", "", "")
	var hist struct {
		Events []struct{ ID, Kind string }
	}
	h.decode(t, &hist)
	var eventIDs []string
	for _, e := range hist.Events {
		if e.ID != "" {
			eventIDs = append(eventIDs, e.ID)
		}
	}
	u := x.Children[1]
	if u.Value("update_id") != eventIDs[len(eventIDs)-1] || u.Value("service_request_id") != id || u.Value("status") != "ACTION_SCHEDULED" ||
		u.Value("external_status_code") != "dispatched" || u.Value("description") != "派遣" {
		t.Errorf("update %+v, history %s", u, h.body)
	}
	again := parse311(t, a.call("", "GET", "/open311/v2/servicerequestupdates.xml?start_date="+url.QueryEscape(x.Children[0].Value("updated_datetime")), "", ""), "service_request_updates")
	if len(again.Children) != 2 || again.Children[0].Value("update_id") != x.Children[0].Value("update_id") {
		t.Errorf("asked again: %+v", again.Children)
	}
	if got := parse311(t, a.call("", "GET", "/open311/v2/servicerequestupdates.xml?end_date=2001-01-01T00:00:00Z", "", ""), "service_request_updates"); len(got.Children) != 0 {
		t.Errorf("an old window: %d updates", len(got.Children))
	}
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
