package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"citygrid/cases"
	"citygrid/demo"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// statsDemoCases is how many demo cases the rebuild plays: a few thousand
// over six months, a few hundred a month.
const statsDemoCases = 3000

// statsNow is the clock of the demo and the server: Monday 23 November
// 2026, 11:00 in Shanghai.
var statsNow = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

type statsReply struct {
	By   string           `json:"by"`
	AsOf time.Time        `json:"as_of"`
	Rows []cases.StatsRow `json:"rows"`
}

// statsDemo is an API server over the demo district with its lived-in
// cases, in a transaction rolled back after the test.
type statsDemo struct {
	t   *testing.T
	url string
	db  postgres.DBTX
	// clock is the server's now: statsNow, but for changes made at other
	// times.
	clock time.Time
}

func newStatsDemo(t *testing.T) *statsDemo {
	t.Helper()
	tx := dbtest.Tx(t)
	ctx := context.Background()
	start := time.Now()
	if _, err := demo.Load(ctx, tx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadCases(ctx, tx, statsDemoCases, statsNow, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo district and %d cases loaded in %s", statsDemoCases, time.Since(start).Round(time.Millisecond))
	grids := postgres.NewGridStore(tx)
	index := grid.NewIndex(grid.LocatorOptions{})
	if err := index.Rebuild(ctx, grids); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewCaseStore(tx)
	d := &statsDemo{t: t, db: tx, clock: statsNow}
	deps := httpapi.Deps{
		Grids: grids, Cases: store, Stats: store, Index: index,
		Now:    func() time.Time { return d.clock },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	token := withKeys(t, tx, &deps)
	// This test proves the figures, not their speed (make bench does): on a
	// machine busy with the rest of make test, one grouping of a month has
	// taken longer than the default 30 s limit.
	srv := httptest.NewServer(authed(token, httpapi.New(httpapi.Config{RequestTimeout: 3 * time.Minute}, deps)))
	t.Cleanup(srv.Close)
	d.url = srv.URL
	return d
}

func (d *statsDemo) stats(by cases.StatsBy, from, to time.Time) statsReply {
	d.t.Helper()
	q := url.Values{"by": {string(by)}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	code, body := d.get("/v1/stats?" + q.Encode())
	if code != 200 {
		d.t.Fatalf("stats by %s [%s, %s) = %d %s", by, from, to, code, body)
	}
	var r statsReply
	if err := json.Unmarshal(body, &r); err != nil {
		d.t.Fatal(err)
	}
	return r
}

func (d *statsDemo) get(path string) (int, []byte) {
	d.t.Helper()
	code, body, _ := raw(d.t, "GET", d.url+path, "", "")
	return code, body
}

func (d *statsDemo) patch(id int64, version int, body string) (int, string) {
	d.t.Helper()
	code, b, _ := raw(d.t, "PATCH", fmt.Sprintf("%s/v1/cases/%d", d.url, id), "application/json", body, "If-Match", fmt.Sprintf(`"%d"`, version))
	return code, string(b)
}

// lastEventID returns the id of the case's last event of the kind given.
func (d *statsDemo) lastEventID(id int64, kind string) string {
	d.t.Helper()
	code, body := d.get(fmt.Sprintf("/v1/cases/%d/history", id))
	var h struct {
		Events []cases.Event `json:"events"`
	}
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		d.t.Fatalf("history of %d = %d %s", id, code, body)
	}
	for i := len(h.Events) - 1; i >= 0; i-- {
		if h.Events[i].Kind == kind {
			return strconv.FormatInt(h.Events[i].ID, 10)
		}
	}
	d.t.Fatalf("case %d has no %s event", id, kind)
	return ""
}

// pick returns a case matching the SQL condition on cases c, and its version.
func (d *statsDemo) pick(cond string) (int64, int) {
	d.t.Helper()
	var id int64
	var v int
	if err := d.db.QueryRow(context.Background(), `SELECT id, version FROM cases c WHERE `+cond+` ORDER BY id LIMIT 1`).Scan(&id, &v); err != nil {
		d.t.Fatalf("no demo case where %s: %v", cond, err)
	}
	return id, v
}

// histories replays every case from GET /v1/cases/{id}/history.
func (d *statsDemo) histories() []replayed {
	d.t.Helper()
	rows, err := d.db.Query(context.Background(), `SELECT id FROM cases ORDER BY id`)
	if err != nil {
		d.t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			d.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]replayed, 0, len(ids))
	for _, id := range ids {
		code, body := d.get(fmt.Sprintf("/v1/cases/%d/history", id))
		var h struct {
			Events []cases.Event `json:"events"`
		}
		if err := json.Unmarshal(body, &h); code != 200 || err != nil {
			d.t.Fatalf("history of %d = %d %s", id, code, body)
		}
		out = append(out, replay(h.Events))
	}
	return out
}

// ancestors maps each grid to its street and community.
func (d *statsDemo) ancestors() map[string][2]string {
	d.t.Helper()
	rows, err := d.db.Query(context.Background(), `SELECT code, COALESCE(parent, ''), level FROM grids`)
	if err != nil {
		d.t.Fatal(err)
	}
	parent, level := map[string]string{}, map[string]int{}
	for rows.Next() {
		var code, p string
		var l int
		if err := rows.Scan(&code, &p, &l); err != nil {
			d.t.Fatal(err)
		}
		parent[code], level[code] = p, l
	}
	rows.Close()
	out := map[string][2]string{}
	for code := range parent {
		var a [2]string
		for g := code; g != ""; g = parent[g] {
			switch level[g] {
			case int(grid.LevelStreet):
				a[0] = g
			case int(grid.LevelCommunity):
				a[1] = g
			}
		}
		out[code] = a
	}
	return out
}

// TestStatsRebuiltFromHistories plays a few thousand demo cases with their
// histories, makes some changes through the API, and checks that /v1/stats
// agrees exactly, row by row, with an independent count from the case
// histories for past, current and one-day periods in every grouping; that
// every row adds up; that the demo makes every indicator non-trivial; and
// that a past period reads the same after the changes, among them
// requests decided after the period's end.
func TestStatsRebuiltFromHistories(t *testing.T) {
	d := newStatsDemo(t)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	local := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, shanghai) }
	october, november := local(2026, 10, 1), local(2026, 11, 1)
	type period struct {
		name     string
		from, to time.Time
		by       []cases.StatsBy
	}
	all := cases.StatsGroupings
	periods := []period{
		{"past month", october, november, all},
		{"current month", november, local(2026, 12, 1), all},
		{"one day", local(2026, 11, 20), local(2026, 11, 21), all},
		{"six months", statsNow.AddDate(0, -6, 0), statsNow, []cases.StatsBy{cases.ByStreet, cases.ByCategory, cases.ByDay}},
		{"a week cut mid-day", local(2026, 11, 9).Add(13 * time.Hour), local(2026, 11, 16).Add(7 * time.Hour), []cases.StatsBy{cases.ByDay, cases.ByUnit}},
	}
	before := map[cases.StatsBy]statsReply{}
	for _, by := range all {
		before[by] = d.stats(by, october, november)
	}

	// A handler's requests, made on Monday 16 November at 13:00 in
	// Shanghai before the deadlines, decided a week later at 10:00, after
	// them: the extension approved (never overdue), the parking declined
	// (overdue from the decline). The figures of 16 and 17 November,
	// judged at their end while both waited, read the same after the
	// decisions.
	asked, decided := time.Date(2026, 11, 16, 5, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	waiting := fmt.Sprintf(`status IN ('dispatched', 'in_progress') AND paused_at IS NULL AND merged_into IS NULL
		AND updated_at < '%s' AND due_at > '%[1]s' AND due_at < '%s'`, asked.Format(time.RFC3339), decided.Format(time.RFC3339))
	extended, v := d.pick(waiting)
	declined, v2 := d.pick(waiting + fmt.Sprintf(` AND id <> %d`, extended))
	d.clock = asked
	if code, body := d.patch(extended, v, `{"request_extension":{"value":10,"unit":"working_days"},"note":"需协调燃气公司"}`); code != 200 {
		t.Fatalf("request an extension: %d %s", code, body)
	}
	if code, body := d.patch(declined, v2, `{"request_pause":true}`); code != 200 {
		t.Fatalf("request parking: %d %s", code, body)
	}
	d.clock = decided
	waited, waitedEnd := local(2026, 11, 16), local(2026, 11, 18)
	waitedBefore := map[cases.StatsBy]statsReply{}
	for _, by := range []cases.StatsBy{cases.ByStreet, cases.ByStatus, cases.ByDay} {
		waitedBefore[by] = d.stats(by, waited, waitedEnd)
	}
	if code, body := d.patch(extended, v+1, `{"approve":"`+d.lastEventID(extended, "extension_requested")+`"}`); code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	if code, body := d.patch(declined, v2+1, `{"decline":"`+d.lastEventID(declined, "pause_requested")+`"}`); code != 200 {
		t.Fatalf("decline: %d %s", code, body)
	}
	for by, before := range waitedBefore {
		if after := d.stats(by, waited, waitedEnd); !equalJSON(before.Rows, after.Rows) {
			t.Errorf("16–17 November by %s changed after the decisions:\nbefore %+v\nafter  %+v", by, before.Rows, after.Rows)
		}
	}
	var extendedLate, declinedLate bool
	if err := d.db.QueryRow(context.Background(), `SELECT
		(SELECT overdue_at <= $3 FROM cases WHERE id = $1), (SELECT overdue_at = $4 FROM cases WHERE id = $2)`,
		extended, declined, statsNow, decided).Scan(&extendedLate, &declinedLate); err != nil {
		t.Fatal(err)
	}
	if extendedLate || !declinedLate {
		t.Errorf("the approved case ran late: %t; the declined one ran late at the decline: %t", extendedLate, declinedLate)
	}
	d.clock = statsNow

	// Changes made now through the API: they must show in the current
	// period and leave October as it was.
	returned, v := d.pick(fmt.Sprintf(`status IN ('dispatched', 'in_progress') AND paused_at IS NULL AND merged_into IS NULL AND id NOT IN (%d, %d)`, extended, declined))
	if code, body := d.patch(returned, v, `{"status":"accepted","returned":true,"note":"不属于本单位职责"}`); code != 200 {
		t.Fatalf("return: %d %s", code, body)
	}
	id, v := d.pick(`status = 'in_progress' AND paused_at IS NULL AND due_at > '2026-11-23T03:00:00Z'`)
	if code, body := d.patch(id, v, `{"extend":{"value":1,"unit":"working_days"}}`); code != 200 {
		t.Fatalf("extend: %d %s", code, body)
	}
	id, v = d.pick(`status IN ('dispatched', 'in_progress') AND paused_at IS NULL AND due_at < '2026-11-23T03:00:00Z'`)
	for _, body := range []string{`{"extend":{"value":1,"unit":"working_days"}}`, `{"pause":true}`} {
		if code, reply := d.patch(id, v, body); code != 422 || !strings.Contains(reply, "was due at") {
			t.Errorf("%s after the deadline = %d %s, want 422 naming the deadline", body, code, reply)
		}
	}
	id, v = d.pick(`status = 'closed' AND merged_into IS NULL AND closed_at >= '2026-10-05' AND closed_at < '2026-10-25' AND grid IS NOT NULL`)
	var otherGrid, otherUnit string
	if err := d.db.QueryRow(context.Background(), `SELECT g.code, u.code FROM grids g, units u, cases c
		WHERE c.id = $1 AND g.level = 4 AND g.code <> c.grid AND u.code <> COALESCE(c.unit, '') ORDER BY g.code DESC, u.code LIMIT 1`, id).Scan(&otherGrid, &otherUnit); err != nil {
		t.Fatal(err)
	}
	if code, body := d.patch(id, v, fmt.Sprintf(`{"grid":%q,"unit":%q,"note":"re-assigned after review"}`, otherGrid, otherUnit)); code != 200 {
		t.Fatalf("re-assign: %d %s", code, body)
	}
	dup, v := d.pick(`status = 'in_progress' AND merged_into IS NULL AND reported_at >= '2026-11-01'`)
	orig, _ := d.pick(`status = 'dispatched' AND merged_into IS NULL`)
	if code, body := d.patch(dup, v, fmt.Sprintf(`{"merge_into":"%d"}`, orig)); code != 200 {
		t.Fatalf("merge: %d %s", code, body)
	}
	for _, by := range all {
		if after := d.stats(by, october, november); !equalJSON(before[by].Rows, after.Rows) {
			t.Errorf("October by %s changed after November's changes:\nbefore %+v\nafter  %+v", by, before[by].Rows, after.Rows)
		}
	}

	hist := d.histories()
	anc := d.ancestors()
	seen := cases.StatsRow{}
	for _, p := range periods {
		sums := map[cases.StatsBy]cases.StatsRow{}
		for _, by := range p.by {
			got := d.stats(by, p.from, p.to)
			want := rebuild(hist, by, p.from, p.to, statsNow, shanghai, anc)
			name := fmt.Sprintf("%s by %s", p.name, by)
			compareRows(t, name, got.Rows, want)
			for _, r := range got.Rows {
				if err := r.Check(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if p.name == "past month" && by == cases.ByStreet {
					addRow(&seen, r)
				}
				if by != cases.ByDay {
					sum := sums[by]
					addRow(&sum, r)
					sums[by] = sum
				}
			}
		}
		// Every case counts in one group of each grouping: the groupings
		// add up to the same district.
		var ref cases.StatsBy
		for by, sum := range sums {
			if ref == "" {
				ref = by
			} else if sum != sums[ref] {
				t.Errorf("%s: the rows by %s add up to %+v, by %s to %+v", p.name, by, sum, ref, sums[ref])
			}
		}
	}
	// October, district-wide, shows every indicator.
	for name, n := range map[string]int{"received": seen.Received, "filed": seen.Filed, "rejected": seen.Rejected,
		"duplicates": seen.Duplicates, "closed on time": seen.ClosedOnTime, "closed late": seen.ClosedLate,
		"still open late": seen.Overdue - seen.ClosedLate, "reworks": seen.Reworks, "extensions": seen.Extensions} {
		if n == 0 {
			t.Errorf("October has no %s: the demo's history is too thin", name)
		}
	}
	t.Logf("October: %+v", seen)
}

func addRow(sum *cases.StatsRow, r cases.StatsRow) {
	sum.Received += r.Received
	sum.Filed += r.Filed
	sum.Rejected += r.Rejected
	sum.Duplicates += r.Duplicates
	sum.Due += r.Due
	sum.Closed += r.Closed
	sum.ClosedOnTime += r.ClosedOnTime
	sum.ClosedLate += r.ClosedLate
	sum.Overdue += r.Overdue
	sum.Reworks += r.Reworks
	sum.Extensions += r.Extensions
}

func compareRows(t *testing.T, name string, got, want []cases.StatsRow) {
	t.Helper()
	byKey := map[string]cases.StatsRow{}
	for _, r := range want {
		byKey[r.Key] = r
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, the histories give %d", name, len(got), len(want))
	}
	bad := 0
	for _, g := range got {
		w, ok := byKey[g.Key]
		switch {
		case !ok:
			t.Errorf("%s: row %q is not in the histories", name, g.Key)
		case !equalJSON(g, w):
			if bad++; bad <= 3 {
				gj, _ := json.Marshal(g)
				wj, _ := json.Marshal(w)
				t.Errorf("%s: row %q\n got %s\nwant %s", name, g.Key, gj, wj)
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d rows differ", name, bad)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
