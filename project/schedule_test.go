package project

import (
	"errors"
	"testing"
	"time"

	"citygrid"
	"citygrid/cases"
)

// testCalendar has New Year's Day 2027 (a Friday) off and Saturday
// 2027-01-09 as a make-up working day (调休).
func testCalendar(t *testing.T) *cases.Calendar {
	t.Helper()
	cal := &cases.Calendar{TimeZone: "Asia/Shanghai", DayStart: "09:00", DayEnd: "17:00", Weekend: []time.Weekday{time.Saturday, time.Sunday},
		Holidays: []string{"2027-01-01"}, Workdays: []string{"2027-01-09"}}
	if err := cal.Prepare(); err != nil {
		t.Fatal(err)
	}
	return cal
}

func date(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestScheduleBackwards(t *testing.T) {
	cal := testCalendar(t)
	// From Monday 2026-12-28 to Friday 2027-01-15 there are 15 working
	// days: Dec 28–31, Jan 4–8, Jan 9 (make-up), Jan 11–15; Jan 1 is a
	// holiday. Dates below are counted by hand on a paper calendar.
	tests := []struct {
		name      string
		today     string
		deadline  string
		specs     []MilestoneSpec
		want      [][2]string // start, due
		wantShort *ScheduleError
		wantCode  citygrid.Code
	}{
		{name: "across the holiday and the make-up Saturday", today: "2026-12-28", deadline: "2027-01-15",
			specs: []MilestoneSpec{{"survey", 3}, {"works", 5}, {"acceptance", 4}},
			want:  [][2]string{{"2026-12-31", "2027-01-05"}, {"2027-01-06", "2027-01-11"}, {"2027-01-12", "2027-01-15"}}},
		{name: "the make-up Saturday is a milestone's due date", today: "2026-12-28", deadline: "2027-01-11",
			specs: []MilestoneSpec{{"a", 2}, {"b", 1}},
			want:  [][2]string{{"2027-01-08", "2027-01-09"}, {"2027-01-11", "2027-01-11"}}},
		{name: "a deadline on the holiday ends on the working day before", today: "2026-12-28", deadline: "2027-01-01",
			specs: []MilestoneSpec{{"only", 2}},
			want:  [][2]string{{"2026-12-30", "2026-12-31"}}},
		{name: "every working day used, today included", today: "2026-12-28", deadline: "2027-01-15",
			specs: []MilestoneSpec{{"a", 7}, {"b", 8}},
			want:  [][2]string{{"2026-12-28", "2027-01-06"}, {"2027-01-07", "2027-01-15"}}},
		{name: "deadline today", today: "2026-12-28", deadline: "2026-12-28",
			specs: []MilestoneSpec{{"a", 1}}, want: [][2]string{{"2026-12-28", "2026-12-28"}}},
		{name: "no milestones", today: "2026-12-28", deadline: "2027-01-15", want: [][2]string{}},
		{name: "the first milestone does not fit by 3", today: "2026-12-28", deadline: "2027-01-15",
			specs:     []MilestoneSpec{{"a", 5}, {"b", 5}, {"c", 8}},
			wantShort: &ScheduleError{Index: 0, Name: "a", ShortBy: 3, Missing: 3, Need: 18, Have: 15}},
		{name: "a middle milestone does not fit", today: "2026-12-28", deadline: "2027-01-15",
			specs:     []MilestoneSpec{{"a", 1}, {"b", 20}, {"c", 1}},
			wantShort: &ScheduleError{Index: 1, Name: "b", ShortBy: 6, Missing: 7, Need: 22, Have: 15}},
		{name: "deadline in the past", today: "2026-12-28", deadline: "2026-12-27",
			specs: []MilestoneSpec{{"a", 1}}, wantCode: citygrid.CodeUnprocessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Schedule(cal, date(t, tt.today), date(t, tt.deadline), tt.specs)
			if tt.wantShort != nil {
				var se *ScheduleError
				if !errors.As(err, &se) || *se != *tt.wantShort {
					t.Fatalf("Schedule error = %#v, want %#v", err, tt.wantShort)
				}
				return
			}
			if tt.wantCode != "" {
				var ce *citygrid.Error
				if !errors.As(err, &ce) || ce.Code != tt.wantCode {
					t.Fatalf("Schedule error = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d milestones, want %d", len(got), len(tt.want))
			}
			for i, m := range got {
				if s, d := m.Start.Format(DateLayout), m.Due.Format(DateLayout); s != tt.want[i][0] || d != tt.want[i][1] {
					t.Errorf("milestone %d %q: %s – %s, want %s – %s", i, m.Name, s, d, tt.want[i][0], tt.want[i][1])
				}
			}
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{StatusPlanned, StatusInProgress, true},
		{StatusPlanned, StatusDone, false},
		{StatusInProgress, StatusDone, true},
		{StatusInProgress, StatusSuspended, true},
		{StatusSuspended, StatusInProgress, true},
		{StatusDone, StatusInProgress, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMoveTo(tt.to); got != tt.ok {
			t.Errorf("%s → %s allowed = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	if StatusDone.Active() || !StatusSuspended.Active() {
		t.Error("done must be the only inactive status")
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1250000.5", 125000050, false},
		{"0", 0, false},
		{"12.34", 1234, false},
		{"1e3", 100000, false},
		{"12.345", 0, true},
		{"-1", 0, true},
		{`"12"`, 0, true},
	}
	for _, tt := range tests {
		var m Money
		err := m.UnmarshalJSON([]byte(tt.in))
		if (err != nil) != tt.wantErr || (!tt.wantErr && int64(m) != tt.want) {
			t.Errorf("Money(%s) = %d, %v; want %d, error %v", tt.in, m, err, tt.want, tt.wantErr)
		}
	}
	if b, _ := Money(125000050).MarshalJSON(); string(b) != "1250000.50" {
		t.Errorf("MarshalJSON = %s", b)
	}
}
