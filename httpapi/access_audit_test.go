package httpapi_test

import (
	"citygrid/postgres"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// auditRow is one entry of GET /v1/audit, as the store lists it.
type auditRow = postgres.AuditRow

// audit reads GET /v1/audit with query as the admin.
func (a *accessAPI) audit(query string) ([]auditRow, *string) {
	a.t.Helper()
	r := a.send(asAdmin, "GET", "/v1/audit?"+query, "")
	if r.status != http.StatusOK {
		a.t.Fatalf("GET /v1/audit?%s: %d %s", query, r.status, r.body)
	}
	var out struct {
		Entries []auditRow
		Next    *string
	}
	r.decode(a.t, &out)
	return out.Entries, out.Next
}

// TestAccessAudit: every change writes an audit row naming who, with which
// key, from where, in which request, what and which versions; every
// refused attempt writes a deny row; GET /v1/audit filters and pages.
func TestAccessAudit(t *testing.T) {
	a := newAccessAPI(t)
	n := 0
	// as makes a request with its own request id and client address.
	as := func(w caller, method, path, body string, header ...string) (reply, string, string) {
		t.Helper()
		n++
		id, addr := fmt.Sprintf("audit-%02d", n), fmt.Sprintf("203.0.113.%d", n)
		r := a.send(w, method, path, body, append([]string{"X-Request-Id", id, "X-Forwarded-For", addr}, header...)...)
		return r, id, addr
	}
	type expect struct {
		what                 string
		who                  caller
		reqID, addr          string
		action, objType, obj string
		outcome              string
		status               int // http_status of a refusal
		from, to             int // versions (0: none)
	}
	var expected []expect
	must := func(r reply, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
	}

	// Changes.
	r, id, addr := as(asDispatcher, "POST", "/v1/cases", reportJSON("patrol", "audited", inG1, ""))
	must(r, http.StatusCreated)
	var created struct{ Properties struct{ ID string } }
	r.decode(t, &created)
	c := created.Properties.ID
	expected = append(expected, expect{"create a case", asDispatcher, id, addr, "case.create", "case", c, "allow", 0, 0, 1})
	r, id, addr = as(asDispatcher, "PATCH", "/v1/cases/"+c, `{"status":"accepted","note":"受理"}`, "If-Match", `"1"`)
	must(r, http.StatusOK)
	expected = append(expected, expect{"accept it", asDispatcher, id, addr, "case.update", "case", c, "allow", 0, 1, 2})
	r, id, addr = as(asAdmin, "POST", "/v1/grids/import", changedDistrict(func([]any) {}))
	must(r, http.StatusOK)
	expected = append(expected, expect{"import grids", asAdmin, id, addr, "grids.import", "grids", "", "allow", 0, 0, 0})
	r, id, addr = as(asAdmin, "PUT", "/v1/calendar", `{"timezone":"Asia/Shanghai","day_start":"08:30","day_end":"17:30","weekend":[0,6]}`)
	must(r, http.StatusOK)
	expected = append(expected, expect{"replace the calendar", asAdmin, id, addr, "calendar.replace", "calendar", "", "allow", 0, 0, 0})
	r, id, addr = as(asAdmin, "PUT", "/v1/categories", tableJSON(t))
	must(r, http.StatusOK)
	expected = append(expected, expect{"replace the categories", asAdmin, id, addr, "categories.replace", "categories", "", "allow", 0, 0, 0})
	r, id, addr = as(asAdmin, "POST", "/v1/units", `{"code":"U3","name":"环卫所","kind":"bureau"}`)
	must(r, http.StatusOK)
	expected = append(expected, expect{"add a unit", asAdmin, id, addr, "units.upsert", "units", "", "allow", 0, 0, 0})
	r, id, addr = as(asAdmin, "POST", "/v1/keys", `{"name":"audited","role":"viewer"}`)
	must(r, http.StatusCreated)
	var key struct{ ID string }
	r.decode(t, &key)
	expected = append(expected, expect{"create a key", asAdmin, id, addr, "key.create", "key", key.ID, "allow", 0, 0, 0})
	r, id, addr = as(asAdmin, "DELETE", "/v1/keys/"+key.ID, "")
	must(r, http.StatusOK)
	expected = append(expected, expect{"revoke it", asAdmin, id, addr, "key.revoke", "key", key.ID, "allow", 0, 0, 0})
	r, id, addr = as(asIntegration, "POST", "/v1/cases/bulk", reportJSON("patrol", "bulk-audited", inG1, "")+"\n"+reportJSON("patrol", "bulk-outside", inG3, "")+"\n",
		"Content-Type", "application/x-ndjson")
	must(r, http.StatusOK)
	expected = append(expected, expect{"bulk ingest", asIntegration, id, addr, "cases.bulk", "cases", "", "allow", 0, 0, 0},
		expect{"bulk line outside the scope", asIntegration, id, addr, "authz_fail", "cases", "", "deny", 403, 0, 0})

	// Refusals.
	r, id, addr = as(asAnon, "GET", "/v1/cases/"+a.in, "")
	must(r, http.StatusUnauthorized)
	expected = append(expected, expect{"no credential", asAnon, id, addr, "authn_fail", "route", "GET /v1/cases/" + a.in, "deny", 401, 0, 0})
	r, id, addr = as(asAnon, "GET", "/v1/me", "", "Authorization", "Bearer cg_"+strings.Repeat("x", 43))
	must(r, http.StatusUnauthorized)
	expected = append(expected, expect{"an unknown key", asAnon, id, addr, "authn_fail", "route", "GET /v1/me", "deny", 401, 0, 0})
	r, id, addr = as(asViewer, "GET", "/v1/grids/topology", "")
	must(r, http.StatusForbidden)
	expected = append(expected, expect{"a route of another role", asViewer, id, addr, "authz_fail", "route", "GET /v1/grids/topology", "deny", 403, 0, 0})
	r, id, addr = as(asDispatcher, "GET", "/v1/cases/"+a.out, "")
	must(r, http.StatusNotFound)
	expected = append(expected, expect{"a case beside the scope", asDispatcher, id, addr, "authz_fail", "case", a.out, "deny", 404, 0, 0})
	r, id, addr = as(asDispatcher, "PATCH", "/v1/cases/"+a.out, `{"status":"accepted"}`, "If-Match", a.etag(a.out))
	must(r, http.StatusNotFound)
	expected = append(expected, expect{"a change beside the scope", asDispatcher, id, addr, "authz_fail", "case", a.out, "deny", 404, 0, 0})
	r, id, addr = as(asHandler, "PATCH", "/v1/cases/"+a.dispatched, `{"grid":"G2"}`, "If-Match", a.etag(a.dispatched))
	must(r, http.StatusForbidden)
	expected = append(expected, expect{"a field of another role", asHandler, id, addr, "authz_fail", "case", a.dispatched, "deny", 403, 0, 0})
	r, id, addr = as(asDispatcher, "GET", "/v1/grids/G3", "")
	must(r, http.StatusNotFound)
	expected = append(expected, expect{"a grid beside the scope", asDispatcher, id, addr, "authz_fail", "grid", "G3", "deny", 404, 0, 0})

	all, next := a.audit("limit=1000")
	if next != nil {
		t.Fatalf("more than 1000 audit rows")
	}
	for _, e := range expected {
		i := slices.IndexFunc(all, func(r auditRow) bool { return r.RequestID == e.reqID && r.Action == e.action })
		if i < 0 {
			t.Errorf("%s: no %s row with request id %s", e.what, e.action, e.reqID)
			continue
		}
		got := all[i]
		var wantKey *string
		if e.who != asAnon {
			k := strconv.FormatInt(a.keyID[e.who], 10)
			wantKey = &k
		}
		wantActor, wantRole := "", ""
		if e.who != asAnon {
			wantActor, wantRole = "test "+e.who.String(), e.who.String()
		}
		if got.Actor != wantActor || got.Role != wantRole || derefString(got.KeyID) != derefString(wantKey) || got.ClientAddr != e.addr ||
			got.ObjectType != e.objType || (e.obj != "" && got.ObjectID != e.obj) || got.Outcome != e.outcome ||
			intOrZero(got.HTTPStatus) != e.status || intOrZero(got.FromVersion) != e.from || intOrZero(got.ToVersion) != e.to {
			t.Errorf("%s: %+v (key %s, status %d, versions %d→%d); want %+v", e.what, got, derefString(got.KeyID), intOrZero(got.HTTPStatus),
				intOrZero(got.FromVersion), intOrZero(got.ToVersion), e)
		}
	}

	t.Run("filters", func(t *testing.T) {
		check := func(query string, keep func(auditRow) bool, atLeast int) {
			t.Helper()
			rows, _ := a.audit(query + "&limit=1000")
			if len(rows) < atLeast {
				t.Errorf("?%s: %d rows, want at least %d", query, len(rows), atLeast)
			}
			var want []string
			for _, r := range all {
				if keep(r) {
					want = append(want, r.ID)
				}
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("?%s: rows %v, want %v", query, got, want)
			}
		}
		check("action=case.create", func(r auditRow) bool { return r.Action == "case.create" }, 1)
		check("action=case.", func(r auditRow) bool { return strings.HasPrefix(r.Action, "case.") }, 2)
		check("action=case", func(r auditRow) bool { return r.Action == "case" }, 0)
		check("outcome=deny", func(r auditRow) bool { return r.Outcome == "deny" }, 8)
		check("outcome=allow", func(r auditRow) bool { return r.Outcome == "allow" }, 8)
		check("key_id="+strconv.FormatInt(a.keyID[asDispatcher], 10), func(r auditRow) bool {
			return derefString(r.KeyID) == strconv.FormatInt(a.keyID[asDispatcher], 10)
		}, 5)
		check("object_type=case&object_id="+c, func(r auditRow) bool { return r.ObjectType == "case" && r.ObjectID == c }, 2)
		check("object_type=case&object_id="+a.out+"&outcome=deny", func(r auditRow) bool {
			return r.ObjectType == "case" && r.ObjectID == a.out && r.Outcome == "deny"
		}, 2)
		check("from=2999-01-01T00:00:00Z", func(auditRow) bool { return false }, 0)

		for _, bad := range []string{"outcome=maybe", "cursor=abc", "cursor=-3", "limit=0", "limit=1001", "key_id=x", "from=yesterday", "actor=me"} {
			r := a.send(asAdmin, "GET", "/v1/audit?"+bad, "")
			checkProblem(t, r, http.StatusBadRequest)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var paged []string
		cursor := ""
		for page := 0; ; page++ {
			q := "limit=3"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			rows, next := a.audit(q)
			if len(rows) > 3 || page > len(all) {
				t.Fatalf("page %d: %d rows", page, len(rows))
			}
			for _, r := range rows {
				paged = append(paged, r.ID)
			}
			if next == nil {
				break
			}
			cursor = *next
		}
		var want []string
		for _, r := range all {
			want = append(want, r.ID)
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged: %v, want %v", paged, want)
		}
	})

	t.Run("no way to change it", func(t *testing.T) {
		for _, req := range []struct{ method, path string }{{"DELETE", "/v1/audit"}, {"POST", "/v1/audit"}, {"PUT", "/v1/audit"}, {"PATCH", "/v1/audit"}} {
			if r := a.send(asAdmin, req.method, req.path, `{}`); r.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", req.method, req.path, r.status)
			}
		}
		if r := a.send(asAdmin, "DELETE", "/v1/audit/"+all[0].ID, ""); r.status != http.StatusNotFound {
			t.Errorf("DELETE /v1/audit/{id}: %d, want 404", r.status)
		}
		ctx := context.Background()
		for _, stmt := range []string{
			`UPDATE audit_log SET actor = 'nobody'`,
			`UPDATE audit_log SET outcome = 'allow' WHERE outcome = 'deny'`,
			`DELETE FROM audit_log`,
			`DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`,
			`TRUNCATE audit_log`,
		} {
			sp, err := a.tx.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = sp.Exec(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", stmt, err)
			}
			if err := sp.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if rows, _ := a.audit("limit=1000"); len(rows) != len(all) {
			t.Errorf("the audit trail has %d rows, had %d", len(rows), len(all))
		}
	})
}

func intOrZero(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// TestAccessAuditInTheSameTransaction: a change whose audit row cannot be
// written stores nothing. The database is made to refuse every allow row
// for the length of a savepoint.
func TestAccessAuditInTheSameTransaction(t *testing.T) {
	a := newAccessAPI(t)
	ctx := context.Background()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := a.tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	state := func() string {
		return fmt.Sprintf("%s\ncases %d, events %d, keys %d, calendar %d, version of in %d", a.snapshot(),
			count(`SELECT count(*) FROM cases`), count(`SELECT count(*) FROM case_events`), count(`SELECT count(*) FROM api_keys`),
			count(`SELECT count(*) FROM settings WHERE key = 'calendar'`), count(`SELECT version FROM cases WHERE id = $1`, a.in))
	}
	sp, err := a.tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Rollback(ctx) //nolint:errcheck // releases the lock on audit_log
	if _, err := sp.Exec(ctx, `ALTER TABLE audit_log ADD CONSTRAINT test_no_allow CHECK (outcome <> 'allow') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	before := state()
	for _, c := range []struct {
		name               string
		who                caller
		method, path, body string
		header             []string
	}{
		{"create a case", asDispatcher, "POST", "/v1/cases", reportJSON("patrol", "unaudited", inG1, ""), nil},
		{"accept a case", asDispatcher, "PATCH", "/v1/cases/" + a.in, `{"status":"accepted"}`, []string{"If-Match", a.etag(a.in)}},
		{"bulk ingest", asIntegration, "POST", "/v1/cases/bulk", reportJSON("patrol", "unaudited-bulk", inG1, "") + "\n", []string{"Content-Type", "application/x-ndjson"}},
		{"import grids", asAdmin, "POST", "/v1/grids/import", changedDistrict(func([]any) {}), nil},
		{"add a unit", asAdmin, "POST", "/v1/units", `{"code":"U3","name":"环卫所","kind":"bureau"}`, nil},
		{"replace the calendar", asAdmin, "PUT", "/v1/calendar", `{"timezone":"UTC","day_start":"08:00","day_end":"16:00"}`, nil},
		{"make a key", asAdmin, "POST", "/v1/keys", `{"name":"unaudited","role":"viewer"}`, nil},
		{"revoke a key", asAdmin, "DELETE", "/v1/keys/" + strconv.FormatInt(a.keyID[asViewer], 10), "", nil},
	} {
		r := a.send(c.who, c.method, c.path, c.body, c.header...)
		if r.status < 500 {
			t.Errorf("%s without its audit row: %d %s, want a 5xx", c.name, r.status, truncateBody(r.body))
		}
		if after := state(); after != before {
			t.Errorf("%s without its audit row changed the database:\n%s\nwas\n%s", c.name, after, before)
		}
	}
	if r := a.send(asViewer, "GET", "/v1/me", ""); r.status != http.StatusOK {
		t.Errorf("the viewer key after a failed revocation: %d %s", r.status, r.body)
	}
}

// TestAccessAuditOddRequestIDs: the request id comes from the client
// (X-Request-Id); whatever it holds, a refused attempt is still written
// down and a change still succeeds. (Each request runs in a savepoint: a
// failed insert on the test's transaction would abort it.)
func TestAccessAuditOddRequestIDs(t *testing.T) {
	a := newAccessAPI(t)
	ctx := context.Background()
	odd := "\xff\xfe-" + strings.Repeat("x", 10)

	sp, err := a.tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := a.send(asViewer, "GET", "/v1/grids/topology", "", "X-Request-Id", odd)
	if r.status != http.StatusForbidden {
		t.Errorf("viewer: %d %s", r.status, r.body)
	}
	var n int
	err = sp.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE key_id = $1 AND outcome = 'deny'`, a.keyID[asViewer]).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("the refusal with an odd request id: %d deny rows (%v), want 1", n, err)
	}
	if err := sp.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	sp, err = a.tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Rollback(ctx) //nolint:errcheck
	r = a.send(asDispatcher, "POST", "/v1/cases", reportJSON("patrol", "odd-id", inG1, ""), "X-Request-Id", odd)
	if r.status != http.StatusCreated {
		t.Errorf("a report with an odd request id: %d %s, want 201", r.status, truncateBody(r.body))
	}
}
