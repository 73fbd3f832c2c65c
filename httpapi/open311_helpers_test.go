package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/internal/open311check"
	"citygrid/postgres"
)

// open311API is the small district behind the Open311 façade: E0101 is
// public and asks for a size, E0102 is hidden (open311: false), and keys of
// several kinds.
type open311API struct {
	*api
	integration string // source "app", the whole district
	scopedApp   string // source "app", street S1
	dispatcher  string // street S1
	viewer      string // street S1
}

// e0101 is the category E0101 as the fixture stores it.
const e0101 = `{"name_zh":"暴露垃圾","name_en":"Exposed garbage","time_limit":{"value":4,"unit":"working_hours"},"public":true,
"attributes":[{"code":"size","datatype":"singlevaluelist","required":true,"description":"How much?","values":[{"key":"s","name":"a bag"},{"key":"l","name":"a heap"}]},
{"code":"smell","datatype":"multivaluelist","description":"What smells?","values":[{"key":"rot","name":"rot"},{"key":"oil","name":"oil"}]}]}`

func newOpen311API(t *testing.T, publicRead bool) *open311API {
	t.Helper()
	a := &open311API{}
	a.api = newAPIWith(t, httpapi.Config{Open311PublicRead: publicRead}, func(d *httpapi.Deps, tx pgx.Tx) {
		cs := postgres.NewCaseStore(tx)
		d.Cases, d.Stats = cs, cs
	})
	a.mustOK(a.post("/v1/units", unitsJSON))
	a.mustOK(a.post("/v1/grids/import", fcJSON(district())))
	for code, body := range map[string]string{"E0101": e0101,
		"E0102": `{"name_zh":"积存垃圾渣土","name_en":"Accumulated garbage","time_limit":{"value":8,"unit":"working_hours"},"open311":false}`} {
		if r := a.do(http.MethodPut, "/v1/categories/"+code, "application/json", strings.NewReader(body)); r.status >= 300 {
			t.Fatalf("PUT category %s: %d %s", code, r.status, r.body)
		}
	}
	s1 := []string{"S1"}
	a.integration = makeKey(t, a.tx, access.Key{Role: access.RoleIntegration, Source: "app"})
	a.scopedApp = makeKey(t, a.tx, access.Key{Role: access.RoleIntegration, Source: "app", Scope: s1})
	a.dispatcher = makeKey(t, a.tx, access.Key{Role: access.RoleDispatcher, Scope: s1})
	a.viewer = makeKey(t, a.tx, access.Key{Role: access.RoleViewer, Scope: s1})
	return a
}

// call sends a request with the token as Bearer ("" for the admin's, noKey
// for none) and the header pairs given.
func (a *open311API) call(token, method, path, contentType, body string, header ...string) reply {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch token {
	case "":
	case noKey:
		req.Header.Set("Authorization", noKey)
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// submit POSTs a form to requests.xml with the api_key given ("" for none)
// and returns the reply.
func (a *open311API) submit(apiKey string, form url.Values, header ...string) reply {
	a.t.Helper()
	if apiKey != "" {
		form.Set("api_key", apiKey)
	}
	return a.call(noKey, http.MethodPost, "/open311/v2/requests.xml", "application/x-www-form-urlencoded", form.Encode(), header...)
}

// submitted is the service_request_id of a 200 reply to a submission.
func submitted(t *testing.T, r reply) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	x := parse311(t, r, "service_requests")
	if len(x.Children) != 1 || x.Children[0].Value("service_request_id") == "" {
		t.Fatalf("submit reply: %s", r.body)
	}
	return x.Children[0].Value("service_request_id")
}

// report is a valid submission at p.
func report(p [2]float64, extra ...string) url.Values {
	v := url.Values{"service_code": {"E0101"}, "lat": {fmt.Sprint(p[1])}, "long": {fmt.Sprint(p[0])}, "attribute[size]": {"s"},
		"description": {"垃圾 by the gate"}, "email": {"reporter@example.org"}, "phone": {"13800000000"}, "first_name": {"Li"}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

// parse311 parses an XML reply and checks it against the spec's element
// names, with root as its root element.
func parse311(t *testing.T, r reply, root string) *open311check.Node {
	t.Helper()
	if ct := r.contentType(); ct != "text/xml; charset=utf-8" {
		t.Fatalf("Content-Type %q, want text/xml; charset=utf-8: %s", ct, r.body)
	}
	x, err := open311check.ParseXML(r.body)
	if err != nil {
		t.Fatalf("reply is not XML: %v: %s", err, r.body)
	}
	if err := open311check.CheckXML(x, root); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return x
}

// check311Error checks that a reply is the spec's error list with the
// HTTP status given, in the format of its path, and returns the first
// error's description.
func check311Error(t *testing.T, r reply, status int, path string) string {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", path, r.status, status, r.body)
	}
	if strings.HasSuffix(strings.SplitN(path, "?", 2)[0], ".json") {
		if ct := r.contentType(); ct != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		var list []struct {
			Code        int
			Description string
		}
		r.decode(t, &list)
		if len(list) == 0 || list[0].Code < 400 || list[0].Description == "" {
			t.Errorf("%s: not an error list: %s", path, r.body)
			return ""
		}
		return list[0].Description
	}
	x := parse311(t, r, "errors")
	if len(x.Children) == 0 || x.Children[0].Value("code") == "" || x.Children[0].Value("description") == "" {
		t.Errorf("%s: not an error list: %s", path, r.body)
		return ""
	}
	return x.Children[0].Value("description")
}
