package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/bulletin"
	"citygrid/cases"
)

// The day the bulletin tests report on: 2026-11-22 in Asia/Shanghai (the
// calendar's zone), which ended 11 hours before tileNow.
const bulletinDay = "2026-11-22"

var (
	dayStart = time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)
	dayEnd   = dayStart.Add(24 * time.Hour)
)

// reportAt stores a case reported at `at` in status st, as the admin.
func (a *tileAPI) reportAt(ext, category string, p orb.Point, at time.Time, st string) string {
	a.t.Helper()
	r := a.post("/v1/cases", fmt.Sprintf(`{"source":"patrol","external_id":%q,"category":%q,"location":[%v,%v],"reported_at":%q,"status":%q}`,
		ext, category, p[0], p[1], at.Format(time.RFC3339), st))
	if r.status != http.StatusCreated {
		a.t.Fatalf("report %s: %d %s", ext, r.status, r.body)
	}
	var f struct{ Properties struct{ ID string } }
	r.decode(a.t, &f)
	return f.Properties.ID
}

// bulletinFixture is a district with cases of the day before and of the
// day, in both streets.
func bulletinFixture(t *testing.T) *tileAPI {
	a, _ := newTileServer(t, nil, nil)
	for i := range 6 {
		p, day := inG1, dayStart.Add(time.Duration(i+1)*time.Hour)
		if i%3 == 0 {
			p = inG3
		}
		st := "accepted"
		if i%2 == 0 {
			st = "closed"
		}
		a.reportAt("d"+strconv.Itoa(i), "E0101", p, day, st)
		a.reportAt("p"+strconv.Itoa(i), "C0101", p, day.Add(-24*time.Hour), st)
	}
	return a
}

func (a *tileAPI) bulletinJSON(path string) (*bulletin.Bulletin, []byte) {
	a.t.Helper()
	r := a.get(path)
	if r.status != http.StatusOK {
		a.t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var b bulletin.Bulletin
	r.decode(a.t, &b)
	return &b, r.body
}

func (a *tileAPI) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.tx.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// TestBulletinIsARecord: a bulletin prints /v1/stats's figures for its
// period; generating it again changes nothing, not even after the data
// changed; a correction is revision 2, and revision 1 stays as it was;
// the database refuses to change or delete a stored revision.
func TestBulletinIsARecord(t *testing.T) {
	a := bulletinFixture(t)
	path := "/v1/bulletins/daily/district/" + bulletinDay
	if r := a.post(path, ""); r.status != http.StatusCreated {
		t.Fatalf("generate: %d %s", r.status, r.body)
	}
	b, body := a.bulletinJSON(path)

	// The figures are /v1/stats's for the same period.
	var stats struct{ Rows []cases.StatsRow }
	a.mustOK(a.get("/v1/stats?by=street&from="+dayStart.Format(time.RFC3339)+"&to="+dayEnd.Format(time.RFC3339))).decode(t, &stats)
	want := cases.Total(stats.Rows, "district")
	if b.Summary.Received != want.Received || b.Summary.Closed != want.Closed || b.Summary.Due != want.Due ||
		bulletin.Percent(b.Summary.OnTimeRate) != bulletin.Percent(want.OnTimeRate) || b.Summary.Received != 6 {
		t.Errorf("summary %+v, want /v1/stats's %+v (6 received)", b.Summary, want)
	}
	if b.Previous.Received != 6 || b.Change.Received != 0 {
		t.Errorf("previous %+v change %+v, want 6 received the day before", b.Previous, b.Change)
	}
	if len(b.Ranking) != 2 || b.Ranking[0].Key == b.Ranking[1].Key {
		t.Errorf("ranking %+v, want S1 and S2", b.Ranking)
	}
	if len(b.Hotspots.Top) == 0 || b.Hotspots.Top[0].Count == 0 || b.LateMilestones.Connected {
		t.Errorf("hotspots %+v, milestones %+v", b.Hotspots, b.LateMilestones)
	}

	// A late report of that day arrives; generating again changes nothing.
	a.reportAt("late", "E0101", inG1, dayStart.Add(20*time.Hour), "accepted")
	if r := a.post(path, ""); r.status != http.StatusOK {
		t.Fatalf("generate again: %d %s, want 200 (stored)", r.status, r.body)
	}
	if _, again := a.bulletinJSON(path); !bytes.Equal(again, body) {
		t.Errorf("regenerating changed the stored bulletin:\n%s\n%s", body, again)
	}

	// A correction is revision 2; revision 1 reads as before.
	r := a.post(path+"/corrections", `{"reason":"补录迟报案件"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("correct: %d %s", r.status, r.body)
	}
	b2, _ := a.bulletinJSON(path)
	if b2.Revision != 2 || b2.Reason != "补录迟报案件" || b2.Summary.Received != 7 {
		t.Errorf("latest: revision %d reason %q received %d, want 2, the reason, 7", b2.Revision, b2.Reason, b2.Summary.Received)
	}
	if _, first := a.bulletinJSON(path + "?revision=1"); !bytes.Equal(first, body) {
		t.Errorf("revision 1 changed after the correction")
	}
	if n := a.count(`SELECT count(*) FROM bulletins WHERE scope = 'district'`); n != 2 {
		t.Errorf("%d district bulletins stored, want 2", n)
	}
	var list struct {
		Bulletins []struct {
			Period   string
			Revision int
			Reason   string
		}
	}
	a.mustOK(a.get("/v1/bulletins?kind=daily&scope=district")).decode(t, &list)
	if len(list.Bulletins) != 1 || list.Bulletins[0].Period != bulletinDay || list.Bulletins[0].Revision != 2 {
		t.Errorf("list %+v, want the day's bulletin at its latest revision, 2", list.Bulletins)
	}

	// The database keeps records: no UPDATE, no DELETE.
	for _, sql := range []string{`UPDATE bulletins SET reason = 'x'`, `DELETE FROM bulletins`} {
		sp, err := a.tx.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Exec(context.Background(), sql); err == nil || !strings.Contains(err.Error(), "bulletins are records") {
			t.Errorf("%s: %v, want refused by the trigger", sql, err)
		}
		_ = sp.Rollback(context.Background())
	}

	// CSV and the page carry the same figures.
	csv := a.get(path + "?format=csv&revision=1")
	if csv.status != http.StatusOK || !strings.Contains(string(csv.body), "summary,district,") ||
		!strings.Contains(string(csv.body), fmt.Sprintf(",received,%d\n", b.Summary.Received)) {
		t.Errorf("CSV: %d %s", csv.status, csv.body)
	}
}

// TestBulletinBadInput: an unknown scope, kind or period, a period not
// over, a correction without a reason or of nothing stored: a clear
// problem, and nothing stored.
func TestBulletinBadInput(t *testing.T) {
	a, _ := newTileServer(t, nil, nil)
	tests := []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"unknown street", "POST", "/v1/bulletins/daily/street:NOPE/" + bulletinDay, "", 404, `no street \"NOPE\"`},
		{"a grid that is no street", "POST", "/v1/bulletins/daily/street:G1/" + bulletinDay, "", 404, `no street \"G1\"`},
		{"unknown unit", "POST", "/v1/bulletins/daily/unit:U9/" + bulletinDay, "", 404, `no unit \"U9\"`},
		{"scope form", "POST", "/v1/bulletins/daily/S1/" + bulletinDay, "", 400, "want district, street:CODE or unit:CODE"},
		{"kind", "POST", "/v1/bulletins/hourly/district/" + bulletinDay, "", 400, "want daily, weekly or monthly"},
		{"period", "POST", "/v1/bulletins/weekly/district/2026-11", "", 400, "ISO week"},
		{"week 53 of a 52-week year", "POST", "/v1/bulletins/weekly/district/2025-W53", "", 400, "ISO week"},
		{"not over", "POST", "/v1/bulletins/daily/district/2026-11-23", "", 422, "has not ended"},
		{"month not over", "POST", "/v1/bulletins/monthly/district/2026-11", "", 422, "has not ended"},
		{"correction without reason", "POST", "/v1/bulletins/daily/district/" + bulletinDay + "/corrections", `{}`, 400, "reason"},
		{"correction of nothing", "POST", "/v1/bulletins/daily/district/" + bulletinDay + "/corrections", `{"reason":"x"}`, 404, "no daily bulletin"},
		{"get nothing", "GET", "/v1/bulletins/daily/district/" + bulletinDay, "", 404, "no daily bulletin"},
		{"format", "GET", "/v1/bulletins/daily/district/" + bulletinDay + "?format=pdf", "", 400, "want json, csv or html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, "application/json", strings.NewReader(tt.body))
			if r.status != tt.status || !strings.Contains(string(r.body), tt.detail) {
				t.Errorf("%s %s = %d %s, want %d naming %q", tt.method, tt.path, r.status, r.body, tt.status, tt.detail)
			}
			if n := a.count(`SELECT count(*) FROM bulletins`); n != 0 {
				t.Errorf("%d bulletins stored", n)
			}
		})
	}
}

// TestBulletinPrintsOnOneA4Page prints the page with headless Chromium
// (--print-to-pdf) and reads the PDF with poppler-utils: one A4 page, an
// embedded CJK font, and the JSON bulletin's figures in its text.
// scripts/install-deps.sh --browser installs both (make test runs it).
func TestBulletinPrintsOnOneA4Page(t *testing.T) {
	chrome := chromiumPath(t)
	for _, tool := range []string{"pdftotext", "pdffonts", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (poppler-utils; scripts/install-deps.sh --browser installs it)", tool)
		}
	}
	a := bulletinFixture(t)
	path := "/v1/bulletins/daily/district/" + bulletinDay
	if r := a.post(path, ""); r.status != http.StatusCreated {
		t.Fatalf("generate: %d %s", r.status, r.body)
	}
	b, _ := a.bulletinJSON(path)
	page := a.get(path + "?format=html")
	if page.status != http.StatusOK || !strings.HasPrefix(page.contentType(), "text/html") {
		t.Fatalf("page: %d %s", page.status, page.contentType())
	}
	dir := t.TempDir()
	html, pdf := filepath.Join(dir, "bulletin.html"), filepath.Join(dir, "bulletin.pdf")
	if err := os.WriteFile(html, page.body, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --print-to-pdf: %v\n%s", err, out)
	}
	run := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	info := run("pdfinfo", pdf)
	if !strings.Contains(info, "Pages:           1\n") || !strings.Contains(info, "(A4)") {
		t.Errorf("pdfinfo: want one A4 page:\n%s", info)
	}
	fonts := run("pdffonts", pdf)
	cjk := false
	for _, line := range strings.Split(fonts, "\n") {
		f := strings.Fields(line)
		// name, type (a CID font: two-byte glyph ids), encoding, emb ("yes"),
		// sub, uni, object: a CJK family's CID font, embedded.
		if len(f) >= 8 && f[1] == "CID" && f[len(f)-5] == "yes" &&
			(strings.Contains(f[0], "WenQuanYi") || strings.Contains(strings.ToUpper(f[0]), "CJK")) {
			cjk = true
		}
	}
	if !cjk {
		t.Errorf("pdffonts: no embedded CJK font:\n%s", fonts)
	}
	text := run("pdftotext", "-layout", pdf, "-")
	for _, want := range []string{
		b.ScopeName + "数字城管日通报", bulletinDay, "受理", "按期结案率", "本期", "上期",
		strconv.Itoa(b.Summary.Received), strconv.Itoa(b.Summary.Closed), strconv.Itoa(b.Summary.Due),
		bulletin.Percent(b.Summary.OnTimeRate), bulletin.Percent(b.Summary.ClosureRate),
		b.Ranking[0].Name, "未接入项目数据",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed bulletin lacks %q:\n%s", want, text)
		}
	}
	// The summary row as printed: 本期 and its figures in order.
	row := fmt.Sprintf("本期 %d %d %d %d", b.Summary.Received, b.Summary.Filed, b.Summary.Due, b.Summary.Closed)
	if !strings.Contains(strings.Join(strings.Fields(text), " "), row) {
		t.Errorf("the printed summary lacks %q:\n%s", row, text)
	}
}

// chromiumPath returns the browser's path, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CITYGRID_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium found (scripts/install-deps.sh --browser installs it, or set CITYGRID_CHROMIUM)")
	return ""
}
