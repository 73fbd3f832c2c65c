package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// newCampaign makes a campaign as the admin and returns its id.
func (a *tileAPI) newCampaign(body string) string {
	a.t.Helper()
	r := a.post("/v1/campaigns", body)
	if r.status != http.StatusCreated {
		a.t.Fatalf("make campaign: %d %s", r.status, r.body)
	}
	var k struct{ ID string }
	r.decode(a.t, &k)
	return k.ID
}

// TestCampaignFlow: a campaign over street S1 and category E01; an
// inspection list refused row by row (nothing stored), then taken; a
// failed inspection reports a case that the campaign holds; the case list
// and the statistics by street and unit cut to the campaign; progress.
func TestCampaignFlow(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	// Cases of the campaign's first days: one of it, one of another
	// category, one in the other street.
	in := a.reportAt("c-in", "E0101", inG1, tileNow.Add(-48*time.Hour), "accepted")
	a.reportAt("c-cat", "C0101", inG1, tileNow.Add(-48*time.Hour), "accepted")
	a.reportAt("c-out", "E0101", inG3, tileNow.Add(-48*time.Hour), "accepted")
	id := a.newCampaign(`{"name":"暴露垃圾专项整治","categories":["E01"],"grids":["S1"],"starts_at":"2026-11-16T00:00:00+08:00",
		"ends_at":"2026-12-01T00:00:00+08:00","target":{"kind":"inspect_sites","value":0.5}}`)
	base := "/v1/campaigns/" + id

	count := func() int {
		return a.count(`SELECT count(*) FROM campaign_sites`)
	}
	bad := fmt.Sprintf("ref,name,lng,lat\ns1,东门,%v,%v\ns2,桥下,%v,%v\n,无编号,%v,%v\ns4,坏,east,36\n",
		inG1[0], inG1[1], inG3[0], inG3[1], inG1[0], inG1[1])
	r := a.do("POST", base+"/sites", "text/csv", strings.NewReader(bad))
	if r.status != http.StatusUnprocessableEntity || count() != 0 {
		t.Fatalf("a list with bad rows: %d %s (%d stored), want 422 and nothing stored", r.status, r.body, count())
	}
	var problem struct {
		Rejected []struct {
			Row   int
			Error string
		}
	}
	r.decode(t, &problem)
	if len(problem.Rejected) != 3 || problem.Rejected[0].Row != 3 || !strings.Contains(problem.Rejected[0].Error, "outside the campaign's area") ||
		problem.Rejected[1].Row != 4 || problem.Rejected[2].Row != 5 {
		t.Errorf("rejected rows %+v, want rows 3 (outside), 4 (no ref), 5 (coordinates)", problem.Rejected)
	}
	good := fmt.Sprintf(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"ref":"s1","name":"东门"},"geometry":{"type":"Point","coordinates":[%v,%v]}},
		{"type":"Feature","properties":{"ref":"s2","name":"西门"},"geometry":{"type":"Point","coordinates":[%v,%v]}}]}`,
		inG1[0], inG1[1], pointInG2[0], pointInG2[1])
	good = strings.ReplaceAll(good, `"name":`, `"category":"E0101","name":`)
	if r := a.do("POST", base+"/sites", "application/geo+json", strings.NewReader(good)); r.status != http.StatusCreated || count() != 2 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if r := a.do("POST", base+"/sites", "application/geo+json", strings.NewReader(good)); r.status != http.StatusConflict || count() != 2 {
		t.Errorf("import again: %d %s, want 409", r.status, r.body)
	}

	// s1 fails: a case at the site; s2 passes.
	r = a.post(base+"/sites/s1/inspection", `{"result":"fail","note":"垃圾堆放未清"}`)
	if r.status != http.StatusOK {
		t.Fatalf("inspect s1: %d %s", r.status, r.body)
	}
	var site struct{ Properties struct{ Result, Case string } }
	r.decode(t, &site)
	if site.Properties.Result != "fail" || site.Properties.Case == "" {
		t.Fatalf("site %+v, want failed with a case", site.Properties)
	}
	if r := a.post(base+"/sites/s1/inspection", `{"result":"pass"}`); r.status != http.StatusConflict {
		t.Errorf("inspect s1 again: %d %s, want 409", r.status, r.body)
	}
	if r := a.post(base+"/sites/s2/inspection", `{"result":"pass"}`); r.status != http.StatusOK {
		t.Errorf("inspect s2: %d %s", r.status, r.body)
	}
	if r := a.post(base+"/sites/nope/inspection", `{"result":"pass"}`); r.status != http.StatusNotFound {
		t.Errorf("inspect an unknown site: %d %s", r.status, r.body)
	}
	if r := a.post(base+"/sites/s2/inspection", `{"result":"maybe"}`); r.status != http.StatusBadRequest {
		t.Errorf("inspect with a bad result: %d %s", r.status, r.body)
	}
	c := a.mustOK(a.get("/v1/cases/" + site.Properties.Case))
	if !strings.Contains(string(c.body), `"source":"campaign"`) || !strings.Contains(string(c.body), `"category":"E0101"`) {
		t.Errorf("the failure's case: %s", c.body)
	}

	// The list with campaign=: the cases of its categories, in its grids,
	// reported in its period (the failure's case and the first).
	ids := func(path string) []string {
		var fc struct {
			Features []struct{ Properties struct{ ID string } }
		}
		a.mustOK(a.get(path)).decode(t, &fc)
		var out []string
		for _, f := range fc.Features {
			out = append(out, f.Properties.ID)
		}
		return out
	}
	if got := ids("/v1/cases?campaign=" + id); len(got) != 2 || got[0] != site.Properties.Case || got[1] != in {
		t.Errorf("campaign=%s lists %v, want [%s %s]", id, got, site.Properties.Case, in)
	}
	if got := ids("/v1/cases?campaign=" + id + "&grid=G2"); len(got) != 0 {
		t.Errorf("campaign=%s&grid=G2 lists %v, want none", id, got)
	}
	if got := ids("/v1/cases?grid=S1"); len(got) != 3 {
		t.Errorf("grid=S1 lists %v, want 3 cases (%s among them)", got, in)
	}
	if r := a.get("/v1/cases?campaign=999"); r.status != http.StatusNotFound {
		t.Errorf("campaign=999: %d, want 404", r.status)
	}

	// Statistics by street and unit, and progress.
	var st struct {
		Total struct{ Received int }
		Rows  []struct {
			Key      string
			Received int
		}
	}
	a.mustOK(a.get(base+"/stats?by=street")).decode(t, &st)
	if st.Total.Received != 2 || len(st.Rows) != 1 || st.Rows[0].Key != "S1" {
		t.Errorf("by street: %+v, want 2 received in S1", st)
	}
	a.mustOK(a.get(base+"/stats?by=unit")).decode(t, &st)
	if st.Total.Received != 2 || len(st.Rows) != 1 {
		t.Errorf("by unit: %+v", st)
	}
	var k struct {
		Progress struct {
			Sites struct{ Total, Inspected, Failed int }
			Value *float64
			Met   bool
		}
	}
	a.mustOK(a.get(base)).decode(t, &k)
	if p := k.Progress; p.Sites.Total != 2 || p.Sites.Inspected != 2 || p.Sites.Failed != 1 || p.Value == nil || *p.Value != 1 || !p.Met {
		t.Errorf("progress %+v, want 2 of 2 inspected, 1 failed, met", k.Progress)
	}

	// The bulletins of the day before report the campaign as it stood at
	// the day's end (the inspections came after it), in its street only.
	for scope, want := range map[string]int{"street:S1": 1, "street:S2": 0, "district": 1} {
		path := "/v1/bulletins/daily/" + scope + "/" + bulletinDay
		if r := a.post(path, ""); r.status != http.StatusCreated {
			t.Fatalf("generate %s: %d %s", scope, r.status, r.body)
		}
		b, _ := a.bulletinJSON(path)
		if len(b.Campaigns) != want {
			t.Errorf("%s: campaigns %+v, want %d", scope, b.Campaigns, want)
			continue
		}
		if want == 1 {
			if c := b.Campaigns[0]; c.ID != id || c.Sites.Total != 2 || c.Sites.Inspected != 0 || c.Cases.Received != 1 {
				t.Errorf("%s: campaign line %+v, want 2 sites none inspected, 1 case received", scope, c)
			}
		}
	}
}

// TestCampaignBadInput: a clear problem for each, and nothing stored.
func TestCampaignBadInput(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	body := func(change string) string {
		return `{"name":"整治","categories":["E01"],"grids":["S1"],"starts_at":"2026-11-16T00:00:00Z","ends_at":"2026-12-01T00:00:00Z",` +
			`"target":{"kind":"on_time_rate","value":0.95}` + change + `}`
	}
	tests := []struct {
		name, body string
		status     int
		detail     string
	}{
		{"ends before it starts", strings.Replace(body(""), "2026-12-01", "2026-11-01", 1), 400, "a campaign ends after it starts"},
		{"unknown grid", strings.Replace(body(""), `"S1"`, `"S9"`, 1), 422, `no grid \"S9\"`},
		{"time without a zone", strings.Replace(body(""), "2026-12-01T00:00:00Z", "2026-12-01T00:00:00", 1), 400, "no time zone"},
		{"target over 1", strings.Replace(body(""), "0.95", "95", 1), 400, "target.value"},
		{"area and grids", body(`,"area":{"type":"Point","coordinates":[1,2]}`), 400, "area"},
		{"unknown field", body(`,"owner":"x"`), 400, "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.post("/v1/campaigns", tt.body)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.detail) {
				t.Errorf("%d %s, want %d naming %q", r.status, r.body, tt.status, tt.detail)
			}
			if n := a.count(`SELECT count(*) FROM campaigns`); n != 0 {
				t.Errorf("%d campaigns stored", n)
			}
		})
	}
	if r := a.get("/v1/campaigns/12x"); r.status != http.StatusBadRequest {
		t.Errorf("campaign 12x: %d", r.status)
	}
	if r := a.get("/v1/campaigns/12"); r.status != http.StatusNotFound {
		t.Errorf("campaign 12: %d", r.status)
	}
}
