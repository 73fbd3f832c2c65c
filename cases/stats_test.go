package cases

import (
	"slices"
	"testing"
	"time"
)

func TestDays(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	newYork, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name     string
		from, to time.Time
		loc      *time.Location
		want     []string
	}{
		{"one local day", time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC), shanghai, []string{"2026-11-20"}},
		{"cut mid-day", time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC), shanghai, []string{"2026-11-20", "2026-11-21"}},
		{"a month", time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC), shanghai, nil},
		{"over a 25-hour day", time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 5, 0, 0, 0, time.UTC), newYork, []string{"2026-11-01", "2026-11-02"}},
		{"empty", time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), shanghai, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Days(tt.from, tt.to, tt.loc)
			if tt.name == "a month" {
				if len(got) != 30 || got[0] != "2026-11-01" || got[29] != "2026-11-30" {
					t.Errorf("Days = %d days %v…%v, want November", len(got), got[0], got[len(got)-1])
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Days = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStatsRowCheck(t *testing.T) {
	good := StatsRow{Key: "k", Received: 5, Filed: 4, Due: 3, Closed: 2, ClosedOnTime: 1, ClosedLate: 1, Overdue: 2}
	if err := good.Check(); err != nil {
		t.Errorf("a row that adds up: %v", err)
	}
	for name, mutate := range map[string]func(*StatsRow){
		"due":         func(r *StatsRow) { r.Due++ },
		"closed":      func(r *StatsRow) { r.Closed++ },
		"closed late": func(r *StatsRow) { r.ClosedLate, r.Closed = 3, 4 },
	} {
		r := good
		mutate(&r)
		if r.Check() == nil {
			t.Errorf("%s: a row that does not add up passes", name)
		}
	}
}
