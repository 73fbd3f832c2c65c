package httpapi_test

import (
	"strings"
	"testing"

	"citygrid/grid"
)

// TestCasesAlwaysHaveAnOwner: a case outside the service area, or where no
// unit is responsible, is refused with a 422; the fallback unit (属地兜底)
// takes what no grid names a unit for, and /v1/locate shows the same
// decision.
func TestCasesAlwaysHaveAnOwner(t *testing.T) {
	// No district default: G1 (in C1, S1) has no unit on its path; C2
	// sends E01 to U2.
	const inG1, inG3 = "[120.355,36.075]", "[120.365,36.075]"
	post := func(t *testing.T, url, id, category, location string) (int, map[string]any) {
		t.Helper()
		code, body, _ := do(t, "POST", url+"/v1/cases", "application/json",
			`{"source":"s","external_id":"`+id+`","category":"`+category+`","location":`+location+`}`)
		return code, body
	}
	locate := func(t *testing.T, url, query string) map[string]any {
		t.Helper()
		code, body, _ := do(t, "GET", url+"/v1/locate?"+query, "", "")
		if code != 200 {
			t.Fatalf("locate %s = %d %v", query, code, body)
		}
		return body
	}

	t.Run("with a fallback unit", func(t *testing.T) {
		srv, _ := ownedCaseServer(t, "", grid.LocatorOptions{FallbackUnit: "U1"})
		code, f := post(t, srv.URL, "fb-1", "E0501", inG1)
		props, _ := f["properties"].(map[string]any)
		if code != 201 || props["grid"] != "G1" || props["unit"] != "U1" || props["unit_rule"] != "fallback" {
			t.Fatalf("case where no grid names a unit = %d %v, want G1, U1 by the fallback", code, f)
		}
		loc := locate(t, srv.URL, "lng=120.355&lat=36.075&category=E0501")
		rule, _ := loc["rule"].(map[string]any)
		unit, _ := loc["unit"].(map[string]any)
		if loc["in_service_area"] != true || unit["code"] != "U1" || rule["kind"] != "fallback" || rule["grid"] != "D" || rule["level"] != "district" {
			t.Errorf("locate = %v, want U1 by the fallback of district D", loc)
		}
		if code, f := post(t, srv.URL, "fb-2", "E0101", inG3); code != 201 || f["properties"].(map[string]any)["unit_rule"] != "category" {
			t.Errorf("case with a category rule = %d %v", code, f)
		}
	})
	t.Run("without one", func(t *testing.T) {
		srv, count := ownedCaseServer(t, "", grid.LocatorOptions{})
		before := count()
		code, p := post(t, srv.URL, "no-1", "E0501", inG1)
		if code != 422 || p["field"] != "location" || !strings.Contains(p["detail"].(string), "no unit is responsible") {
			t.Errorf("case nobody owns = %d %v, want 422", code, p)
		}
		if loc := locate(t, srv.URL, "lng=120.355&lat=36.075&category=E0501"); loc["unit"] != nil || loc["rule"] != nil {
			t.Errorf("locate = %v, want no unit", loc)
		}
		if count() != before {
			t.Error("a refused case was stored")
		}
	})
	t.Run("outside the service area", func(t *testing.T) {
		srv, count := caseServer(t)
		before := count()
		for _, location := range []string{"[0,0]", "[120.3499,36.08]"} {
			code, p := post(t, srv.URL, "out", "E0101", location)
			if code != 422 || p["field"] != "location" || !strings.Contains(p["detail"].(string), "outside the service area") {
				t.Errorf("case at %s = %d %v, want 422", location, code, p)
			}
		}
		if loc := locate(t, srv.URL, "lng=0&lat=0"); loc["in_service_area"] != false || loc["grid"] != nil {
			t.Errorf("locate (0, 0) = %v, want outside the service area", loc)
		}
		code, res, _ := do(t, "POST", srv.URL+"/v1/cases/bulk", "application/x-ndjson",
			`{"source":"b","external_id":"1","category":"E0101","location":[120.36,36.08]}`+"\n"+
				`{"source":"b","external_id":"2","category":"E0101","location":[0,0]}`+"\n")
		rejected, _ := res["rejected"].([]any)
		if code != 200 || res["accepted"] != 1.0 || len(rejected) != 1 || rejected[0].(map[string]any)["line"] != 2.0 ||
			!strings.Contains(rejected[0].(map[string]any)["error"].(string), "outside the service area") {
			t.Errorf("bulk = %d %v, want line 2 rejected", code, res)
		}
		if count() != before+1 {
			t.Errorf("%d rows stored, want the one good case", count()-before)
		}
	})
}

// TestCaseReassignment: a new grid brings the unit the ownership rule gives
// there, and neither the grid nor the unit can be cleared.
func TestCaseReassignment(t *testing.T) {
	srv, count := caseServer(t)
	code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"m-1","category":"E0101","location":[120.355,36.075]}`)
	if code != 201 {
		t.Fatalf("create = %d %v", code, f)
	}
	props := f["properties"].(map[string]any)
	id := props["id"].(string)
	if props["grid"] != "G1" || props["unit"] != "U1" || props["unit_rule"] != "default" {
		t.Fatalf("created in %v, unit %v by %v; want G1, U1 by default", props["grid"], props["unit"], props["unit_rule"])
	}
	patch := func(version, body string) (int, map[string]any) {
		code, out, _ := do(t, "PATCH", srv.URL+"/v1/cases/"+id, "application/json", body, "If-Match", version)
		return code, out
	}
	for _, tt := range []struct{ body, detail string }{
		{`{"unit":""}`, "unit cannot be cleared"},
		{`{"grid":""}`, "grid cannot be cleared"},
		{`{"grid":"G3","unit":""}`, "unit cannot be cleared"},
		{`{"grid":"NOPE"}`, `grid "NOPE" does not exist`},
	} {
		before := count()
		if code, p := patch(`"1"`, tt.body); code != 422 || !strings.Contains(p["detail"].(string), tt.detail) {
			t.Errorf("PATCH %s = %d %v, want 422 saying %q", tt.body, code, p, tt.detail)
		}
		if count() != before {
			t.Errorf("PATCH %s changed the database", tt.body)
		}
	}
	// G3 lies in community C2, which sends E01 to U2.
	code, f = patch(`"1"`, `{"grid":"G3"}`)
	props, _ = f["properties"].(map[string]any)
	if code != 200 || props["grid"] != "G3" || props["unit"] != "U2" || props["unit_rule"] != "category" {
		t.Fatalf("moved to G3 = %d %v, want unit U2 by category", code, f)
	}
	code, f = patch(`"2"`, `{"grid":"G1","unit":"U2"}`)
	props, _ = f["properties"].(map[string]any)
	if code != 200 || props["grid"] != "G1" || props["unit"] != "U2" || props["unit_rule"] != "manual" {
		t.Errorf("moved with a unit named = %d %v, want G1, U2 by manual", code, f)
	}
}
