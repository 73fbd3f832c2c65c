package httpapi_test

import (
	"bytes"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"citygrid/access"
)

var apiKeyForm = regexp.MustCompile(`^cg_[A-Za-z0-9_-]{43}$`)

// TestAccessKeysAPI: POST /v1/keys makes a key of each role and answers
// its token once; bad bodies are refused naming the field; GET /v1/keys
// never shows a token; DELETE revokes, and the key is refused at once;
// GET /v1/me tells each key what it is.
func TestAccessKeysAPI(t *testing.T) {
	a := newAccessAPI(t)
	type made struct {
		ID     string
		Token  string
		Name   string
		Role   string
		Scope  []string
		Unit   string
		Source string
	}
	create := func(body string) (reply, made) {
		t.Helper()
		r := a.send(asAdmin, "POST", "/v1/keys", body)
		var m made
		if r.status == http.StatusCreated {
			r.decode(t, &m)
		}
		return r, m
	}

	tokens := map[string]string{} // role → token
	for _, c := range []struct {
		role, body string
		scope      []string
		unit       string
		source     string
	}{
		{"admin", `{"name":"区管理员","role":"admin"}`, nil, "", ""},
		{"dispatcher", `{"name":"西街道值班长","role":"dispatcher","scope":["S1"]}`, []string{"S1"}, "", ""},
		{"handler", `{"name":"城管局","role":"handler","scope":["S1"],"unit":"U1"}`, []string{"S1"}, "U1", ""},
		{"inspector", `{"name":"网格员","role":"inspector","scope":["G1","网格 4"]}`, []string{"G1", "网格 4"}, "", ""},
		{"planner", `{"name":"规划","role":"planner","expires_at":"2027-01-01T00:00:00Z"}`, nil, "", ""},
		{"viewer", `{"name":"大屏","role":"viewer","scope":["C2"]}`, []string{"C2"}, "", ""},
		{"integration", `{"name":"12345 热线","role":"integration","source":"hotline"}`, nil, "", "hotline"},
	} {
		r, m := create(c.body)
		if r.status != http.StatusCreated {
			t.Errorf("create %s: %d %s", c.role, r.status, r.body)
			continue
		}
		if !apiKeyForm.MatchString(m.Token) || m.ID == "" || m.Role != c.role || !slices.Equal(m.Scope, emptyIfNil(c.scope)) || m.Unit != c.unit || m.Source != c.source {
			t.Errorf("create %s: %s", c.role, r.body)
		}
		if loc := r.header.Get("Location"); loc != "/v1/keys/"+m.ID {
			t.Errorf("create %s: Location %q", c.role, loc)
		}
		tokens[c.role] = m.Token

		var me struct {
			KeyID        string   `json:"key_id"`
			Name         string   `json:"name"`
			Role         string   `json:"role"`
			Scope        []string `json:"scope"`
			Unit         *string  `json:"unit"`
			Source       *string  `json:"source"`
			Permissions  []string `json:"permissions"`
			CaseActions  []string `json:"case_actions"`
			SeesFreeText bool     `json:"sees_free_text"`
		}
		mr := a.sendAuth("Bearer "+m.Token, "GET", "/v1/me", "")
		mr.decode(t, &me)
		role := access.Role(c.role)
		var perms []string
		for _, p := range role.Permissions() {
			perms = append(perms, string(p))
		}
		actions := []string{}
		for _, act := range access.RoleCaseActions(role) {
			actions = append(actions, string(act))
		}
		if mr.status != http.StatusOK || me.KeyID != m.ID || me.Role != c.role || !slices.Equal(me.Scope, c.scope) ||
			derefString(me.Unit) != c.unit || derefString(me.Source) != c.source || !slices.Equal(me.Permissions, perms) ||
			!slices.Equal(me.CaseActions, actions) || me.SeesFreeText != role.SeesFreeText() {
			t.Errorf("GET /v1/me as the new %s key: %d %s", c.role, mr.status, mr.body)
		}
		if bytes.Contains(mr.body, []byte("cg_")) {
			t.Errorf("GET /v1/me shows a token: %s", mr.body)
		}
	}
	// The separation of duties, as /v1/me tells it.
	for role, want := range map[string][]string{
		"dispatcher": {"accept", "reject", "dispatch", "rework", "close", "reassign", "merge", "extend", "pause", "resume", "approve", "decline"},
		"handler":    {"start", "resolve", "return", "request_extension", "request_pause"},
		"inspector":  {"verify", "send_back"},
		"planner":    {},
		"viewer":     {},
	} {
		var me struct {
			CaseActions []string `json:"case_actions"`
		}
		a.sendAuth("Bearer "+tokens[role], "GET", "/v1/me", "").decode(t, &me)
		if !slices.Equal(me.CaseActions, want) {
			t.Errorf("%s may %v, want %v", role, me.CaseActions, want)
		}
	}

	t.Run("bad bodies", func(t *testing.T) {
		for _, c := range []struct {
			name, body string
			status     int
			field      string // the problem's field member ("" for none)
			detail     string
		}{
			{"unknown role", `{"name":"x","role":"superuser"}`, 400, "role", "superuser"},
			{"no role", `{"name":"x"}`, 400, "role", "role"},
			{"no name", `{"role":"viewer"}`, 400, "name", "name"},
			{"handler without unit", `{"name":"x","role":"handler","scope":["S1"]}`, 400, "unit", "unit"},
			{"integration without source", `{"name":"x","role":"integration"}`, 400, "source", "source"},
			{"unit on a dispatcher", `{"name":"x","role":"dispatcher","unit":"U1"}`, 400, "unit", "unit"},
			{"source on a viewer", `{"name":"x","role":"viewer","source":"hotline"}`, 400, "source", "source"},
			{"unknown grid in scope", `{"name":"x","role":"viewer","scope":["S1","NOPE"]}`, 422, "scope", "NOPE"},
			{"malformed grid code in scope", `{"name":"x","role":"viewer","scope":["a\u0000b"]}`, 400, "scope", "scope"},
			{"unknown unit", `{"name":"x","role":"handler","unit":"U9"}`, 422, "unit", "U9"},
			{"expires in the past", `{"name":"x","role":"viewer","expires_at":"2020-01-01T00:00:00Z"}`, 400, "expires_at", "expires_at"},
			{"expires now", `{"name":"x","role":"viewer","expires_at":"` + tileNow.Format("2006-01-02T15:04:05Z07:00") + `"}`, 400, "expires_at", "expires_at"},
			{"unknown field", `{"name":"x","role":"viewer","admin":true}`, 400, "", "admin"},
			{"a chosen token", `{"name":"x","role":"viewer","token":"cg_` + strings.Repeat("A", 43) + `"}`, 400, "", "token"},
			{"a chosen id", `{"name":"x","role":"viewer","id":"1"}`, 400, "", "id"},
			{"demo", `{"name":"x","role":"viewer","demo":true}`, 400, "", "demo"},
			{"revoked_at", `{"name":"x","role":"viewer","revoked_at":null}`, 400, "", "revoked_at"},
			{"not JSON", `role=admin`, 400, "", "JSON"},
		} {
			r, _ := create(c.body)
			if r.status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.status)
				continue
			}
			checkProblem(t, r, c.status, c.detail)
			if f := problemField(t, r); f != c.field {
				t.Errorf("%s: field %q, want %q", c.name, f, c.field)
			}
			if bytes.Contains(r.body, []byte("cg_")) && c.name != "a chosen token" {
				t.Errorf("%s: the refusal shows a token: %s", c.name, r.body)
			}
		}
	})

	t.Run("list shows no token", func(t *testing.T) {
		r := a.send(asAdmin, "GET", "/v1/keys", "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /v1/keys: %d %s", r.status, r.body)
		}
		if bytes.Contains(r.body, []byte("cg_")) || bytes.Contains(r.body, []byte("token")) || bytes.Contains(r.body, []byte("sha256")) {
			t.Errorf("GET /v1/keys shows a token or its hash: %s", truncateBody(r.body))
		}
		var list struct {
			Keys []struct {
				ID   string
				Role string
			}
		}
		r.decode(t, &list)
		if len(list.Keys) < 7+int(nCallers)-1 {
			t.Errorf("GET /v1/keys lists %d keys, want every one made", len(list.Keys))
		}
	})

	t.Run("revoke", func(t *testing.T) {
		r, m := create(`{"name":"to revoke","role":"dispatcher","scope":["S1"]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		key := "Bearer " + m.Token
		if r := a.sendAuth(key, "GET", "/v1/cases/"+a.in, ""); r.status != http.StatusOK {
			t.Fatalf("the new key, before: %d %s", r.status, r.body)
		}
		r = a.send(asAdmin, "DELETE", "/v1/keys/"+m.ID, "")
		var revoked struct {
			ID        string  `json:"id"`
			RevokedAt *string `json:"revoked_at"`
		}
		r.decode(t, &revoked)
		if r.status != http.StatusOK || revoked.ID != m.ID || revoked.RevokedAt == nil || bytes.Contains(r.body, []byte("cg_")) {
			t.Errorf("DELETE: %d %s", r.status, r.body)
		}
		for _, path := range []string{"/v1/cases/" + a.in, "/v1/me"} {
			if r := a.sendAuth(key, "GET", path, ""); r.status != http.StatusUnauthorized {
				t.Errorf("the revoked key, right after, GET %s: %d %s", path, r.status, r.body)
			}
		}
		if r := a.send(asAdmin, "DELETE", "/v1/keys/"+m.ID, ""); r.status != http.StatusOK {
			t.Errorf("revoke again: %d %s, want 200 (a no-op)", r.status, r.body)
		}
		checkProblem(t, a.send(asAdmin, "DELETE", "/v1/keys/"+notACase, ""), http.StatusNotFound, notACase)
		checkProblem(t, a.send(asAdmin, "DELETE", "/v1/keys/abc", ""), http.StatusBadRequest, "abc")
		checkProblem(t, a.send(asAdmin, "DELETE", "/v1/keys/-1", ""), http.StatusBadRequest, "-1")
	})
}

// TestAccessScopedAdminMintsNoWiderKey: a key never makes a key that
// reaches beyond its own scope; otherwise a street's admin (a key the API
// makes) is the district's admin one request later.
func TestAccessScopedAdminMintsNoWiderKey(t *testing.T) {
	a := newAccessAPI(t)
	r := a.send(asAdmin, "POST", "/v1/keys", `{"name":"西街道管理员","role":"admin","scope":["S1"]}`)
	if r.status != http.StatusCreated {
		return // no scoped admins: nothing to escalate
	}
	var s1Admin struct{ Token string }
	r.decode(t, &s1Admin)
	for _, body := range []string{
		`{"name":"wider","role":"admin"}`,
		`{"name":"wider","role":"dispatcher"}`,
		`{"name":"beside","role":"dispatcher","scope":["S2"]}`,
		`{"name":"above","role":"viewer","scope":["D"]}`,
	} {
		r := a.sendAuth("Bearer "+s1Admin.Token, "POST", "/v1/keys", body)
		if r.status != http.StatusForbidden {
			t.Errorf("the S1 admin makes %s: %d %s, want 403", body, r.status, truncateBody(r.body))
		}
	}
}

func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
