package cases

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarAddWorking(t *testing.T) {
	cal := DefaultCalendar() // Mon–Fri 09:00–17:00 Asia/Shanghai
	cal.Holidays = []string{"2026-10-01", "2026-10-02"}
	cal.Workdays = []string{"2026-10-10"} // a make-up Saturday
	if err := cal.Prepare(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		start string
		limit TimeLimit
		want  string
	}{
		{"within the day", "2026-11-23T10:00:00+08:00", TimeLimit{4, WorkingHours}, "2026-11-23T14:00:00+08:00"},
		{"ends exactly at closing", "2026-11-23T13:00:00+08:00", TimeLimit{4, WorkingHours}, "2026-11-23T17:00:00+08:00"},
		{"crosses the night", "2026-11-23T16:00:00+08:00", TimeLimit{4, WorkingHours}, "2026-11-24T12:00:00+08:00"},
		{"friday afternoon to monday", "2026-11-27T16:00:00+08:00", TimeLimit{4, WorkingHours}, "2026-11-30T12:00:00+08:00"},
		{"reported at night starts next morning", "2026-11-23T22:00:00+08:00", TimeLimit{2, WorkingHours}, "2026-11-24T11:00:00+08:00"},
		{"reported on sunday", "2026-11-29T10:00:00+08:00", TimeLimit{1, WorkingDays}, "2026-11-30T17:00:00+08:00"},
		{"holidays skipped", "2026-09-30T16:00:00+08:00", TimeLimit{2, WorkingHours}, "2026-10-05T10:00:00+08:00"},
		{"make-up saturday counts", "2026-10-09T16:00:00+08:00", TimeLimit{2, WorkingHours}, "2026-10-10T10:00:00+08:00"},
		{"twenty working days", "2026-11-02T09:00:00+08:00", TimeLimit{20, WorkingDays}, "2026-11-27T17:00:00+08:00"},
		{"UTC input", "2026-11-23T02:00:00Z", TimeLimit{4, WorkingHours}, "2026-11-23T14:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.Due(mustTime(t, tt.start), tt.limit)
			if want := mustTime(t, tt.want); !got.Equal(want) {
				t.Errorf("Due(%s, %v) = %s, want %s", tt.start, tt.limit, got.In(cal.loc).Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestCalendarWorkingBetween(t *testing.T) {
	cal := DefaultCalendar()
	tests := []struct {
		a, b string
		want time.Duration
	}{
		{"2026-11-23T10:00:00+08:00", "2026-11-23T12:30:00+08:00", 150 * time.Minute},
		{"2026-11-27T16:00:00+08:00", "2026-11-30T10:00:00+08:00", 2 * time.Hour}, // over a weekend
		{"2026-11-23T18:00:00+08:00", "2026-11-24T08:00:00+08:00", 0},
		{"2026-11-24T08:00:00+08:00", "2026-11-23T18:00:00+08:00", 0}, // reversed
	}
	for _, tt := range tests {
		if got := cal.WorkingBetween(mustTime(t, tt.a), mustTime(t, tt.b)); got != tt.want {
			t.Errorf("WorkingBetween(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
	// AddWorking and WorkingBetween are inverse on working time.
	start := mustTime(t, "2026-11-20T15:30:00+08:00")
	for h := 1; h < 60; h += 7 {
		d := time.Duration(h) * time.Hour
		if got := cal.WorkingBetween(start, cal.AddWorking(start, d)); got != d {
			t.Errorf("WorkingBetween(start, AddWorking(start, %s)) = %s", d, got)
		}
	}
}

func TestCalendarRejects(t *testing.T) {
	bad := []Calendar{
		{TimeZone: "Mars/Olympus", DayStart: "09:00", DayEnd: "17:00"},
		{TimeZone: "Asia/Shanghai", DayStart: "17:00", DayEnd: "09:00"},
		{TimeZone: "Asia/Shanghai", DayStart: "9am", DayEnd: "17:00"},
		{TimeZone: "Asia/Shanghai", DayStart: "09:00", DayEnd: "17:00", Holidays: []string{"2026-13-01"}},
		{TimeZone: "Asia/Shanghai", DayStart: "09:00", DayEnd: "17:00", Holidays: []string{"2026-10-01"}, Workdays: []string{"2026-10-01"}},
		{TimeZone: "Asia/Shanghai", DayStart: "09:00", DayEnd: "17:00", Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}},
	}
	for i, c := range bad {
		if err := c.Prepare(); err == nil {
			t.Errorf("calendar %d: Prepare succeeded, want an error", i)
		}
	}
}
