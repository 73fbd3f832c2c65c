package bulletin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"

	"github.com/paulmach/orb"
)

// fullBulletin fills every section of the page to what it prints: 24
// peers, the hotspots, 8 units, 5 milestones and 5 campaigns, names long.
func fullBulletin() *Bulletin {
	rate := func(v float64) *float64 { return &v }
	one := 1
	row := cases.StatsRow{Received: 12345, Filed: 12000, Due: 11000, Closed: 10500, ClosedOnTime: 9800, Overdue: 1200,
		ClosureRate: rate(0.9545), OnTimeRate: rate(0.8909)}
	b := &Bulletin{Kind: Monthly, Scope: "district", ScopeName: "青岛市市北区", Period: "2026-11", From: "2026-11-01T00:00:00+08:00",
		To: "2026-12-01T00:00:00+08:00", TimeZone: "Asia/Shanghai", Revision: 2, Reason: "补录迟报案件，更正按期结案率",
		GeneratedAt: "2026-12-02T08:00:00+08:00", AsOf: "2026-12-01T00:00:00+08:00", Summary: row, Previous: row,
		Change: Change{ClosureRatePP: rate(1.2), OnTimeRatePP: rate(-0.4)}, Rank: &Rank{By: "on_time_rate", Position: &one, Of: 24, PreviousPosition: &one}}
	var streets []*grid.Grid
	for i := range 24 {
		b.Ranking = append(b.Ranking, RankRow{StatsRow: row, Name: fmt.Sprintf("第%d街道办事处", i+1), Rank: &one, PreviousRank: &one})
		x := 120.35 + float64(i%6)*0.01
		y := 36.07 + float64(i/6)*0.01
		streets = append(streets, &grid.Grid{Code: fmt.Sprint(i), Geometry: orb.Polygon{{{x, y}, {x + 0.01, y}, {x + 0.01, y + 0.01}, {x, y + 0.01}, {x, y}}}})
	}
	cool := true
	for i := range TopHotspots {
		h := HotCell{H3: geo.Cell(0x8930acc9ad7ffff), Name: "某某社区第三网格", Count: 40 - i, PreviousCount: 30, Lng: 120.36, Lat: 36.08}
		b.Hotspots.Top = append(b.Hotspots.Top, h)
		h.Cooled = &cool
		b.Hotspots.LastPeriod = append(b.Hotspots.LastPeriod, h)
	}
	for i := range 10 {
		b.OverdueByUnit = append(b.OverdueByUnit, UnitOverdue{Unit: fmt.Sprint(i), Name: "市北区城市管理局环境卫生管理处", Overdue: 120, OpenLate: 30})
	}
	b.LateMilestones.Connected = true
	for range 6 {
		b.LateMilestones.Items = append(b.LateMilestones.Items, LateMilestone{ProjectName: "辽宁路片区老旧小区改造工程", Milestone: "管网铺设完成",
			DueAt: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), DaysLate: 21})
	}
	for i := range 6 {
		b.Campaigns = append(b.Campaigns, CampaignLine{ID: fmt.Sprint(i), Name: "暴露垃圾与乱堆物料专项整治行动", TargetKind: "on_time_rate",
			TargetValue: 0.95, Cases: row, Sites: SiteCounts{Total: 300, Inspected: 280, Failed: 12}, Value: rate(0.8909)})
	}
	b.Map = drawMap(streets, map[string]float64{"3": 1}, b.Hotspots.Top)
	return b
}

// TestFullPagePrintsOnOnePage prints the fullest page with headless
// Chromium: every section at its longest still fits one A4 page.
func TestFullPagePrintsOnOnePage(t *testing.T) {
	chrome := ""
	for _, name := range []string{os.Getenv("CITYGRID_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			chrome = p
			break
		}
	}
	if _, err := exec.LookPath("pdfinfo"); chrome == "" || err != nil {
		t.Skip("no chromium or pdfinfo (scripts/install-deps.sh --browser installs both)")
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, fullBulletin()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	html, pdf := filepath.Join(dir, "b.html"), filepath.Join(dir, "b.pdf")
	if err := os.WriteFile(html, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+html).CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	out, err := exec.Command("pdfinfo", pdf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Pages:           1\n") {
		t.Errorf("pdfinfo: want one page (%v):\n%s", err, out)
	}
}
