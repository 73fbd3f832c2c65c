package httpapi_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/demo"
	"citygrid/geo"
	"citygrid/grid"
)

// axisReply is the time axis of an emerging reply.
type axisReply struct {
	Steps       []string          `json:"steps"`
	Timezone    string            `json:"timezone"`
	Start       string            `json:"start"`
	StartRule   string            `json:"start_rule"`
	End         string            `json:"end"`
	PartialStep map[string]string `json:"partial_step"`
	Filters     map[string]any    `json:"filters"`
	Patterns    map[string]int    `json:"patterns"`
	Features    []struct {
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return resp.StatusCode
}

// hotspotSinceJune fills the demo district with a steady hot spot (25
// cases a week around the first planted hotspot) and a thin background
// (60 a week anywhere), every week from Monday 1 June 2026 (Shanghai) to
// the tests' now, and, when old is set, one case of another category in
// 2025.
func hotspotSinceJune(old bool) func(x *caseindex.Index, district orb.MultiPolygon, _ *grid.Locator) {
	return func(x *caseindex.Index, district orb.MultiPolygon, _ *grid.Locator) {
		rng := rand.New(rand.NewPCG(3, 5))
		b := district.Bound()
		centre := demo.Hotspots[0].Center
		id := int64(0)
		add := func(p orb.Point, at time.Time) {
			id++
			if _, err := x.Apply(caseindex.Entry{ID: id, Location: p, ReportedAt: at, Category: "E0101", Status: cases.StatusReported, Source: "patrol"}); err != nil {
				panic(err)
			}
		}
		for week := time.Date(2026, 5, 31, 16, 0, 0, 0, time.UTC); week.Before(hotspotNow); week = week.AddDate(0, 0, 7) {
			for i := range 25 {
				add(orb.Point{centre[0] + (rng.Float64()-0.5)*0.0006, centre[1] + (rng.Float64()-0.5)*0.0006}, week.Add(time.Duration(2+i*6)*time.Hour))
			}
			for i := 0; i < 60; {
				p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
				if geo.Covers(district, p) {
					add(p, week.Add(time.Duration(1+i*2)*time.Hour))
					i++
				}
			}
		}
		if old {
			// Of another category: a filter on E01 sees data since June only.
			id++
			p := orb.Point{b.Min[0] + 0.5*(b.Max[0]-b.Min[0]), b.Min[1] + 0.5*(b.Max[1]-b.Min[1])}
			if _, err := x.Apply(caseindex.Entry{ID: id, Location: p, ReportedAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Category: "C0104", Status: cases.StatusReported, Source: "patrol"}); err != nil {
				panic(err)
			}
		}
	}
}

// TestEmergingStartsAtFirstData: with the default one-year window and data
// since June, the cube starts at the first data's week (in the district's
// time zone), not with 26 empty weeks, so the steady hot spot is persistent
// (hot in at least 90% of the steps) rather than consecutive; the week in
// progress is dropped, and the reply says so.
func TestEmergingStartsAtFirstData(t *testing.T) {
	srv := hotspotServer(t, hotspotSinceJune(false))
	var r axisReply
	if code := getJSON(t, srv.URL+"/v1/hotspots/emerging?res=9", &r); code != 200 {
		t.Fatalf("emerging = %d %+v", code, r)
	}
	if r.Timezone != "Asia/Shanghai" || r.StartRule != "first_data" || r.Start != "2026-06-01T00:00:00+08:00" || r.Steps[0] != r.Start {
		t.Errorf("axis %s from %s (%s), steps from %s; want Asia/Shanghai from 2026-06-01T00:00:00+08:00 (first_data)", r.Timezone, r.Start, r.StartRule, r.Steps[0])
	}
	// hotspotNow is Monday 23 November, 11:00 in Shanghai: 25 whole weeks,
	// and 11 hours of the 26th left out.
	if len(r.Steps) != 25 || r.End != "2026-11-23T00:00:00+08:00" {
		t.Errorf("%d steps ending %s, want 25 ending 2026-11-23T00:00:00+08:00", len(r.Steps), r.End)
	}
	if p := r.PartialStep; p["action"] != "dropped" || p["from"] != r.End || p["to"] != "2026-11-23T11:00:00+08:00" {
		t.Errorf("partial_step %v, want [end, now) dropped", p)
	}
	if r.Filters["from"] != "2026-05-31T16:00:00Z" || r.Filters["to"] != "2026-11-22T16:00:00Z" {
		t.Errorf("filters %v, want the axis's period", r.Filters)
	}
	centre, err := geo.CellAt(demo.Hotspots[0].Center, 9)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("patterns: %v", r.Patterns)
	for _, f := range r.Features {
		if f.Properties["h3"] != centre.String() {
			continue
		}
		switch pat := f.Properties["pattern"]; pat {
		case "persistent_hot", "intensifying_hot", "diminishing_hot":
		default:
			t.Errorf("the steady hot spot's cell %s is %v, want hot in at least 90%% of the steps (persistent)", centre, pat)
		}
		return
	}
	t.Errorf("the steady hot spot's cell %s has no pattern", centre)
}

// TestEmergingAxis: how the start is chosen and the steps cut, whatever
// offset from and to are written with.
func TestEmergingAxis(t *testing.T) {
	young := hotspotServer(t, hotspotSinceJune(false))
	old := hotspotServer(t, hotspotSinceJune(true))
	tests := []struct {
		name   string
		srvOld bool
		query  string
		rule   string
		first  string
		n      int
		end    string
		drop   bool
	}{
		{"from as given, in +08:00", false, "step=week&from=2026-06-08T00:00:00%2B08:00&to=2026-07-06T00:00:00%2B08:00", "from", "2026-06-08T00:00:00+08:00", 4, "2026-07-06T00:00:00+08:00", false},
		{"the same from in UTC", false, "step=week&from=2026-06-07T16:00:00Z&to=2026-07-05T16:00:00Z", "from", "2026-06-08T00:00:00+08:00", 4, "2026-07-06T00:00:00+08:00", false},
		{"months from a UTC-written month start", false, "step=month&from=2026-01-31T16:00:00Z&to=2026-10-31T16:00:00Z", "from", "2026-02-01T00:00:00+08:00", 9, "2026-11-01T00:00:00+08:00", false},
		{"months, partial last one dropped", false, "step=month&from=2026-01-31T16:00:00Z", "from", "2026-02-01T00:00:00+08:00", 9, "2026-11-01T00:00:00+08:00", true},
		{"no from: the first data's month", false, "step=month", "first_data", "2026-06-01T00:00:00+08:00", 5, "2026-11-01T00:00:00+08:00", true},
		{"no from, older data: the window's week", true, "step=week", "window", "2025-11-24T00:00:00+08:00", 52, "2026-11-23T00:00:00+08:00", true},
		{"no from, older data of another category", true, "step=week&status=reported&source=patrol&category=E01", "first_data", "2026-06-01T00:00:00+08:00", 25, "2026-11-23T00:00:00+08:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := young
			if tt.srvOld {
				srv = old
			}
			var r axisReply
			if code := getJSON(t, srv.URL+"/v1/hotspots/emerging?res=9&"+tt.query, &r); code != 200 {
				t.Fatalf("emerging?%s = %d %+v", tt.query, code, r)
			}
			if r.StartRule != tt.rule || r.Steps[0] != tt.first || len(r.Steps) != tt.n || r.End != tt.end || (r.PartialStep != nil) != tt.drop {
				t.Errorf("axis: %s from %s, %d steps to %s, partial %v; want %s from %s, %d steps to %s, dropped %v",
					r.StartRule, r.Steps[0], len(r.Steps), r.End, r.PartialStep, tt.rule, tt.first, tt.n, tt.end, tt.drop)
			}
		})
	}
	for _, q := range []string{"step=week&from=2026-11-05T00:00:00%2B08:00", "step=month&from=2026-09-15T00:00:00Z", "step=fortnight"} {
		var prob map[string]any
		if code := getJSON(t, young.URL+"/v1/hotspots/emerging?"+q, &prob); code != 400 || !strings.Contains(prob["detail"].(string), "step") {
			t.Errorf("emerging?%s = %d %v, want 400 about the steps", q, code, prob)
		}
	}
}

// TestHotspotComparisonWindows: overlapping periods are refused; periods
// of unequal length are compared per day, and the reply says which.
func TestHotspotComparisonWindows(t *testing.T) {
	srv := hotspotServer(t, hotspotSinceJune(false))
	q := func(from, to, cFrom, cTo string) string {
		v := url.Values{"res": {"9"}, "from": {from}, "to": {to}, "compare_from": {cFrom}, "compare_to": {cTo}}
		return srv.URL + "/v1/hotspots?" + v.Encode()
	}
	type reply struct {
		Days    float64        `json:"days"`
		Compare map[string]any `json:"compare"`
		Detail  string         `json:"detail"`
		Total   float64        `json:"total"`
		Feats   []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	tests := []struct {
		name                 string
		from, to, cFrom, cTo string
		status               int
		normalised           string
		days, compareDays    float64
	}{
		{"the 30 days before", "2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", "2026-09-24T00:00:00Z", "2026-10-24T00:00:00Z", 200, "none", 30, 30},
		{"a year earlier", "2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", "2025-10-24T00:00:00Z", "2025-11-23T00:00:00Z", 200, "none", 30, 30},
		{"October against September", "2026-10-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00", "2026-09-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00", 200, "per_day", 31, 30},
		{"overlapping", "2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", "2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z", 400, "", 0, 0},
		{"the same period", "2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", "2026-10-24T00:00:00Z", "2026-11-23T00:00:00Z", 400, "", 0, 0},
		{"one within the other", "2026-09-01T00:00:00Z", "2026-11-23T00:00:00Z", "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", 400, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r reply
			code := getJSON(t, q(tt.from, tt.to, tt.cFrom, tt.cTo), &r)
			if code != tt.status {
				t.Fatalf("status %d (%s), want %d", code, r.Detail, tt.status)
			}
			if code != 200 {
				if !strings.Contains(r.Detail, "overlaps") {
					t.Errorf("detail %q, want it to say the periods overlap", r.Detail)
				}
				return
			}
			if r.Compare["normalised"] != tt.normalised || r.Days != tt.days || r.Compare["days"] != tt.compareDays {
				t.Errorf("days %v, compare %v; want %v days against %v, normalised %s", r.Days, r.Compare, tt.days, tt.compareDays, tt.normalised)
			}
			for _, f := range r.Feats {
				p := map[string]float64{}
				for _, k := range []string{"count", "previous_count", "change", "count_per_day"} {
					p[k], _ = f.Properties[k].(float64)
				}
				want := p["count"] - p["previous_count"]
				if tt.normalised == "per_day" {
					want = p["count"]/tt.days - p["previous_count"]/tt.compareDays
					if p["count_per_day"] != p["count"]/tt.days {
						t.Fatalf("count_per_day %v of count %v over %v days", p["count_per_day"], p["count"], tt.days)
					}
				}
				if p["change"] != want {
					t.Fatalf("change %v (count %v, previous %v), want %v", p["change"], p["count"], p["previous_count"], want)
				}
			}
		})
	}
}

// TestEmergingStepsInTheCalendarsZone: the district's time zone is the
// working calendar's; with one that keeps daylight saving time, month
// steps start at its midnights, an hour apart in UTC across the changes.
func TestEmergingStepsInTheCalendarsZone(t *testing.T) {
	srv, _ := caseServer(t)
	cal := `{"timezone":"America/New_York","day_start":"09:00","day_end":"17:00","weekend":[0,6]}`
	if code, out, _ := do(t, "PUT", srv.URL+"/v1/calendar", "application/json", cal); code != 200 {
		t.Fatalf("PUT calendar = %d %v", code, out)
	}
	var r axisReply
	u := srv.URL + "/v1/hotspots/emerging?res=10&step=month&from=2026-02-01T05:00:00Z&to=2026-11-20T00:00:00Z"
	if code := getJSON(t, u, &r); code != 200 {
		t.Fatalf("emerging = %d %+v", code, r)
	}
	want := []string{"2026-02-01T00:00:00-05:00", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", "2026-05-01T00:00:00-04:00",
		"2026-06-01T00:00:00-04:00", "2026-07-01T00:00:00-04:00", "2026-08-01T00:00:00-04:00", "2026-09-01T00:00:00-04:00", "2026-10-01T00:00:00-04:00"}
	if r.Timezone != "America/New_York" || strings.Join(r.Steps, " ") != strings.Join(want, " ") || r.End != "2026-11-01T00:00:00-04:00" {
		t.Errorf("%s steps %v to %s, want America/New_York %v to 2026-11-01T00:00:00-04:00", r.Timezone, r.Steps, r.End, want)
	}
	if p := r.PartialStep; p["from"] != "2026-11-01T00:00:00-04:00" || p["to"] != "2026-11-19T19:00:00-05:00" || p["action"] != "dropped" {
		t.Errorf("partial_step %v, want November so far dropped", p)
	}
}
