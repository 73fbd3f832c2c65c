package bulletin

import (
	"testing"
	"time"

	"citygrid/cases"
)

func TestPeriods(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		kind     Kind
		at       time.Time
		loc      *time.Location
		label    string
		from, to string
		prev     string
	}{
		{"day", Daily, time.Date(2026, 11, 22, 15, 59, 0, 0, time.UTC), sh, "2026-11-22", "2026-11-22T00:00:00+08:00", "2026-11-23T00:00:00+08:00", "2026-11-21"},
		{"a UTC instant on the next local day", Daily, time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), sh, "2026-11-23", "2026-11-23T00:00:00+08:00", "2026-11-24T00:00:00+08:00", "2026-11-22"},
		{"day of 25 hours", Daily, time.Date(2026, 11, 1, 12, 0, 0, 0, ny), ny, "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "2026-10-31"},
		{"week, Monday to Monday", Weekly, time.Date(2026, 11, 29, 23, 0, 0, 0, sh), sh, "2026-W48", "2026-11-23T00:00:00+08:00", "2026-11-30T00:00:00+08:00", "2026-W47"},
		{"ISO week 53", Weekly, time.Date(2026, 12, 31, 9, 0, 0, 0, sh), sh, "2026-W53", "2026-12-28T00:00:00+08:00", "2027-01-04T00:00:00+08:00", "2026-W52"},
		{"week 1 starting in December", Weekly, time.Date(2025, 12, 30, 9, 0, 0, 0, sh), sh, "2026-W01", "2025-12-29T00:00:00+08:00", "2026-01-05T00:00:00+08:00", "2025-W52"},
		{"month", Monthly, time.Date(2026, 3, 1, 0, 0, 0, 0, sh), sh, "2026-03", "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00", "2026-02"},
		{"January's previous", Monthly, time.Date(2026, 1, 31, 0, 0, 0, 0, sh), sh, "2026-01", "2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00", "2025-12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PeriodAt(tt.kind, tt.at, tt.loc)
			if p.Label != tt.label || p.From.Format(time.RFC3339) != tt.from || p.To.Format(time.RFC3339) != tt.to || p.Prev().Label != tt.prev {
				t.Errorf("PeriodAt = %s [%s, %s) prev %s, want %s [%s, %s) prev %s", p.Label, p.From.Format(time.RFC3339),
					p.To.Format(time.RFC3339), p.Prev().Label, tt.label, tt.from, tt.to, tt.prev)
			}
			parsed, err := ParsePeriod(tt.kind, tt.label, tt.loc)
			if err != nil || !parsed.From.Equal(p.From) || !parsed.To.Equal(p.To) {
				t.Errorf("ParsePeriod(%s) = %+v, %v, want %+v", tt.label, parsed, err, p)
			}
			if n := p.Next(); !n.From.Equal(p.To) {
				t.Errorf("Next starts %s, want %s", n.From, p.To)
			}
		})
	}
	for _, bad := range []struct {
		kind  Kind
		label string
	}{{Daily, "2026-11-31"}, {Daily, "2026-11"}, {Weekly, "2025-W53"}, {Weekly, "2026-W00"}, {Weekly, "2026-48"}, {Monthly, "2026-13"}, {Monthly, "26-11"}} {
		if _, err := ParsePeriod(bad.kind, bad.label, sh); err == nil {
			t.Errorf("ParsePeriod(%s, %q) accepted", bad.kind, bad.label)
		}
	}
}

func TestDue(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	s := &Scheduler{At: 8 * time.Hour, CatchUp: 30 * time.Hour}
	labels := func(kind Kind, now time.Time) []string {
		var out []string
		for _, p := range s.due(kind, now, sh) {
			out = append(out, p.Label)
		}
		return out
	}
	tests := []struct {
		name string
		kind Kind
		now  time.Time
		want []string
	}{
		{"before 08:00: the day before yesterday's is the latest due", Daily, time.Date(2026, 11, 23, 7, 59, 0, 0, sh), []string{"2026-11-21"}},
		{"at 08:00: yesterday's, and the one due 24 h ago", Daily, time.Date(2026, 11, 23, 8, 0, 0, 0, sh), []string{"2026-11-21", "2026-11-22"}},
		{"Monday 09:00: last week's", Weekly, time.Date(2026, 11, 23, 9, 0, 0, 0, sh), []string{"2026-W47"}},
		{"the 1st at 07:00: the month before last", Monthly, time.Date(2026, 12, 1, 7, 0, 0, 0, sh), []string{"2026-10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labels(tt.kind, tt.now)
			if len(got) != len(tt.want) {
				t.Fatalf("due = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("due = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestRanks(t *testing.T) {
	row := func(key string, onTime, closed, due int) cases.StatsRow {
		r := cases.StatsRow{Key: key, ClosedOnTime: onTime, Closed: closed, Due: due}
		r.SetRates()
		return r
	}
	got := ranks([]cases.StatsRow{row("A", 8, 9, 10), row("B", 9, 9, 10), row("C", 8, 9, 10), row("D", 0, 0, 0), row("", 1, 1, 1), row("E", 8, 10, 10)})
	want := map[string]int{"B": 1, "E": 2, "A": 3, "C": 3}
	if len(got) != len(want) {
		t.Fatalf("ranks = %v, want %v (nothing due and no key: unranked)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ranks = %v, want %v", got, want)
		}
	}
}

func TestParseScope(t *testing.T) {
	for raw, ok := range map[string]bool{"district": true, "street:370203005": true, "unit:370203005-JD": true,
		"street:": false, "S1": false, "grid:G1": false, "District": false, "": false} {
		s, err := ParseScope(raw)
		if (err == nil) != ok || ok && s.String() != raw {
			t.Errorf("ParseScope(%q) = %v, %v; want ok %t", raw, s, err, ok)
		}
	}
}
