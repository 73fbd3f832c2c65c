package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"citygrid/cases"
)

// tableJSON is the default category table without the codes in drop, as a
// PUT /v1/categories body.
func tableJSON(t *testing.T, drop ...string) string {
	t.Helper()
	var list []cases.Category
	for _, c := range cases.DefaultCategories() {
		if !strings.Contains(" "+strings.Join(drop, " ")+" ", " "+c.Code+" ") {
			list = append(list, c)
		}
	}
	b, err := json.Marshal(map[string]any{"categories": list})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCategoriesAPI(t *testing.T) {
	srv, count := caseServer(t)
	categories := func() []any {
		t.Helper()
		code, body, _ := do(t, "GET", srv.URL+"/v1/categories", "", "")
		if code != 200 {
			t.Fatalf("GET /v1/categories = %d %v", code, body)
		}
		return body["categories"].([]any)
	}
	all := len(categories())
	if code, _, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"1","category":"E0101","location":[120.365,36.075]}`); code != 201 {
		t.Fatalf("case of E0101 = %d", code)
	}

	t.Run("GET gives each code's parent, and takes it back", func(t *testing.T) {
		code, c, _ := do(t, "GET", srv.URL+"/v1/categories/E0101", "", "")
		if code != 200 || c["parent"] != "E01" || c["name_zh"] != "暴露垃圾" {
			t.Errorf("GET /v1/categories/E0101 = %d %v", code, c)
		}
		if _, c, _ := do(t, "GET", srv.URL+"/v1/categories/E", "", ""); c["parent"] != nil {
			t.Errorf("E has parent %v, want none", c["parent"])
		}
		table, _ := json.Marshal(map[string]any{"categories": categories()})
		if code, body, _ := do(t, "PUT", srv.URL+"/v1/categories", "application/json", string(table)); code != 200 {
			t.Errorf("PUT of the table as read = %d %v", code, body)
		}
	})
	t.Run("a table that drops a code in use is refused, listing it", func(t *testing.T) {
		code, p, _ := do(t, "PUT", srv.URL+"/v1/categories", "application/json", tableJSON(t, "E0101", "E0102"))
		inUse, _ := p["in_use"].([]any)
		if code != 409 || len(inUse) != 1 || !strings.Contains(p["detail"].(string), "E0101 (1 case)") {
			t.Fatalf("PUT without E0101 = %d %v, want 409 listing E0101 with 1 case", code, p)
		}
		if u := inUse[0].(map[string]any); u["code"] != "E0101" || u["cases"] != 1.0 {
			t.Errorf("in_use = %v", inUse)
		}
		if n := len(categories()); n != all {
			t.Errorf("the refused table left %d categories, want %d", n, all)
		}
	})
	t.Run("a table may drop codes no case uses", func(t *testing.T) {
		if code, body, _ := do(t, "PUT", srv.URL+"/v1/categories", "application/json", tableJSON(t, "E0102")); code != 200 {
			t.Errorf("PUT without E0102 = %d %v", code, body)
		}
		all = len(categories())
	})
	t.Run("one category added, changed, then used", func(t *testing.T) {
		body := `{"name_zh":"垃圾满溢","name_en":"Overflowing bin","time_limit":{"value":6,"unit":"working_hours"}}`
		code, c, h := do(t, "PUT", srv.URL+"/v1/categories/E0106", "application/json", body)
		if code != 201 || c["code"] != "E0106" || c["parent"] != "E01" || h.Get("Location") != "/v1/categories/E0106" {
			t.Fatalf("adding E0106 = %d %v (Location %q)", code, c, h.Get("Location"))
		}
		code, c, _ = do(t, "PUT", srv.URL+"/v1/categories/E0106", "application/json", `{"code":"E0106","name_zh":"垃圾满溢","time_limit":{"value":8,"unit":"working_hours"}}`)
		if code != 200 || c["time_limit"].(map[string]any)["value"] != 8.0 {
			t.Errorf("changing E0106 = %d %v", code, c)
		}
		if n := len(categories()); n != all+1 {
			t.Errorf("%d categories, want %d", n, all+1)
		}
		if code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"s","external_id":"2","category":"E0106","location":[120.365,36.075]}`); code != 201 {
			t.Errorf("case of the new E0106 = %d %v", code, f)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		ok := `{"name_zh":"类","time_limit":{"value":1,"unit":"working_days"}}`
		tests := []struct {
			name, method, path, body string
			status                   int
			detail                   string
		}{
			{"a table of one category", "PUT", "/v1/categories", `{"categories":[{"code":"E0101","name_zh":"暴露垃圾","name_en":"x","time_limit":{"value":4,"unit":"working_hours"}}]}`, 400, `"E0101" has no parent: add "E01" first`},
			{"a table with a wrong parent", "PUT", "/v1/categories", `{"categories":[{"code":"E","name_zh":"事件","time_limit":{"value":4,"unit":"working_hours"}},{"code":"E01","parent":"C","name_zh":"市容","time_limit":{"value":4,"unit":"working_hours"}}]}`, 400, `its parent is "E"`},
			{"one category without its parent", "PUT", "/v1/categories/E0901", ok, 422, `add "E09" first`},
			{"one category whose body names another", "PUT", "/v1/categories/E0107", `{"code":"E0108","name_zh":"类","time_limit":{"value":1,"unit":"working_days"}}`, 400, "differs"},
			{"one category with a bad code", "PUT", "/v1/categories/E-1", ok, 400, "only letters and digits"},
			{"one category without a name", "PUT", "/v1/categories/E0107", `{"time_limit":{"value":1,"unit":"working_days"}}`, 400, "no name"},
			{"one category with an unknown field", "PUT", "/v1/categories/E0107", `{"name_zh":"类","colour":"red"}`, 400, "unknown field"},
			{"an unknown category", "GET", "/v1/categories/NOPE", "", 404, "NOPE"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, n := count(), len(categories())
				code, p, h := do(t, tt.method, srv.URL+tt.path, "application/json", tt.body)
				if code != tt.status || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
					t.Fatalf("status = %d (%s), want %d problem: %v", code, h.Get("Content-Type"), tt.status, p)
				}
				if d, _ := p["detail"].(string); !strings.Contains(d, tt.detail) {
					t.Errorf("detail = %q, want it to mention %q", d, tt.detail)
				}
				if count() != before || len(categories()) != n {
					t.Error("a refused request changed the database")
				}
			})
		}
	})
}
