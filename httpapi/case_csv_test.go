package httpapi_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestCSVExportOpensInSpreadsheets: the export is UTF-8 with a byte order
// mark (Excel and WPS on Chinese Windows read it as GBK without one), has a
// file name, and no cell from the public is a formula (CSV injection); a
// negative longitude stays a number.
func TestCSVExportOpensInSpreadsheets(t *testing.T) {
	srv, _ := caseServer(t)
	titles := map[string]string{
		"f1": "=HYPERLINK(\"http://evil\",\"点我\")",
		"f2": "+1+1",
		"f3": "-2+3",
		"f4": "@SUM(A1)",
		"f5": "\t=1",
		"f6": "路边垃圾 = 2 袋",
		"f7": "\r=1",
	}
	for ext, title := range titles {
		body := `{"source":"hotline","external_id":"` + ext + `","category":"E0101","title":` + jsonString(title) + `,"location":[120.365,36.075]}`
		if code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", body); code != 201 {
			t.Fatalf("create %s = %d %v", ext, code, f)
		}
	}
	// An external id from the public too, elsewhere in the district.
	if code, f, _ := do(t, "POST", srv.URL+"/v1/cases", "application/json", `{"source":"app","external_id":"=cmd|' /C calc'!A0","category":"E0101","location":[120.3551,36.0851]}`); code != 201 {
		t.Fatalf("create = %d %v", code, f)
	}
	resp, raw := rawDo(t, "GET", srv.URL+"/v1/cases?grid=D&format=csv", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("export = %d %s", resp.StatusCode, raw)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="cases-20261123T030000Z.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body, ok := strings.CutPrefix(string(raw), "\ufeff")
	if !ok {
		t.Fatalf("no UTF-8 byte order mark: % x", raw[:min(len(raw), 8)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	want := map[string]string{
		"f1": "'=HYPERLINK(\"http://evil\",\"点我\")", "f2": "'+1+1", "f3": "'-2+3", "f4": "'@SUM(A1)",
		"f5": "'\t=1", "f6": "路边垃圾 = 2 袋", "f7": "'\r=1",
	}
	if len(rows) != 2+len(want) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(want))
	}
	for _, row := range rows[1:] {
		if row[col["source"]] == "app" {
			continue // the external id's case, below
		}
		if got := row[col["title"]]; got != want[row[col["external_id"]]] {
			t.Errorf("%s: title %q, want %q", row[col["external_id"]], got, want[row[col["external_id"]]])
		}
	}
	// Found by its box.
	_, raw = rawDo(t, "GET", srv.URL+"/v1/cases?bbox=120.355,36.085,120.3552,36.0852&format=csv", nil)
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if got := rows[1][col["external_id"]]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("external_id %q, want it neutralised", got)
	}
	if got := rows[1][col["lng"]]; got != "120.3551" {
		t.Errorf("lng %q, want 120.3551: numbers are not neutralised", got)
	}
}

func jsonString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\t", `\t`, "\r", `\r`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
