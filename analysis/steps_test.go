package analysis

import (
	"strings"
	"testing"
	"time"

	"citygrid"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCutSteps: steps are calendar days, weeks and months in the
// district's time zone whatever offset from and to are written with;
// months never drift; a partial last step is dropped and said to be.
func TestCutSteps(t *testing.T) {
	tests := []struct {
		name, zone, unit string
		from, to         string
		want             []string // step starts, RFC 3339 in the zone
		end, dropped     string   // dropped: "" when nothing was left out
	}{
		{
			name: "months from a Shanghai midnight written in UTC", zone: "Asia/Shanghai", unit: "month",
			from: "2026-01-31T16:00:00Z", to: "2026-05-31T16:00:00Z",
			want: []string{"2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00", "2026-05-01T00:00:00+08:00"},
			end:  "2026-06-01T00:00:00+08:00",
		},
		{
			name: "the same months written in +08:00", zone: "Asia/Shanghai", unit: "month",
			from: "2026-02-01T00:00:00+08:00", to: "2026-06-01T00:00:00+08:00",
			want: []string{"2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00", "2026-05-01T00:00:00+08:00"},
			end:  "2026-06-01T00:00:00+08:00",
		},
		{
			name: "months from the 31st clamp to month ends and come back", zone: "Asia/Shanghai", unit: "month",
			from: "2026-01-31T00:00:00+08:00", to: "2026-05-31T00:00:00+08:00",
			want: []string{"2026-01-31T00:00:00+08:00", "2026-02-28T00:00:00+08:00", "2026-03-31T00:00:00+08:00", "2026-04-30T00:00:00+08:00"},
			end:  "2026-05-31T00:00:00+08:00",
		},
		{
			name: "months across a leap February", zone: "Asia/Shanghai", unit: "month",
			from: "2027-12-31T00:00:00+08:00", to: "2028-04-30T00:00:00+08:00",
			want: []string{"2027-12-31T00:00:00+08:00", "2028-01-31T00:00:00+08:00", "2028-02-29T00:00:00+08:00", "2028-03-31T00:00:00+08:00"},
			end:  "2028-04-30T00:00:00+08:00",
		},
		{
			name: "Shanghai weeks from a Monday written in UTC", zone: "Asia/Shanghai", unit: "week",
			from: "2026-05-31T16:00:00Z", to: "2026-06-21T16:00:00Z",
			want: []string{"2026-06-01T00:00:00+08:00", "2026-06-08T00:00:00+08:00", "2026-06-15T00:00:00+08:00"},
			end:  "2026-06-22T00:00:00+08:00",
		},
		{
			name: "days keep the wall-clock time of from", zone: "Asia/Shanghai", unit: "day",
			from: "2026-06-03T06:30:00Z", to: "2026-06-06T06:30:00Z",
			want: []string{"2026-06-03T14:30:00+08:00", "2026-06-04T14:30:00+08:00", "2026-06-05T14:30:00+08:00"},
			end:  "2026-06-06T14:30:00+08:00",
		},
		{
			name: "Berlin days across spring forward: one of 23 hours", zone: "Europe/Berlin", unit: "day",
			from: "2026-03-27T00:00:00+01:00", to: "2026-03-31T00:00:00+02:00",
			want: []string{"2026-03-27T00:00:00+01:00", "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"},
			end:  "2026-03-31T00:00:00+02:00",
		},
		{
			name: "New York weeks across fall back, written in UTC", zone: "America/New_York", unit: "week",
			from: "2026-10-19T04:00:00Z", to: "2026-11-16T05:00:00Z",
			want: []string{"2026-10-19T00:00:00-04:00", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "2026-11-09T00:00:00-05:00"},
			end:  "2026-11-16T00:00:00-05:00",
		},
		{
			name: "New York months across both changes", zone: "America/New_York", unit: "month",
			from: "2026-02-01T05:00:00Z", to: "2026-12-01T05:00:00Z",
			want: []string{"2026-02-01T00:00:00-05:00", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", "2026-05-01T00:00:00-04:00",
				"2026-06-01T00:00:00-04:00", "2026-07-01T00:00:00-04:00", "2026-08-01T00:00:00-04:00", "2026-09-01T00:00:00-04:00",
				"2026-10-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00"},
			end: "2026-12-01T00:00:00-05:00",
		},
		{
			name: "a partial last week is dropped", zone: "Asia/Shanghai", unit: "week",
			from: "2026-06-01T00:00:00+08:00", to: "2026-06-25T12:00:00+08:00",
			want: []string{"2026-06-01T00:00:00+08:00", "2026-06-08T00:00:00+08:00", "2026-06-15T00:00:00+08:00"},
			end:  "2026-06-22T00:00:00+08:00", dropped: "2026-06-25T12:00:00+08:00",
		},
		{
			name: "a one-day slice after whole months is dropped", zone: "Asia/Shanghai", unit: "month",
			from: "2026-01-01T00:00:00+08:00", to: "2026-04-02T00:00:00+08:00",
			want: []string{"2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"},
			end:  "2026-04-01T00:00:00+08:00", dropped: "2026-04-02T00:00:00+08:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			st, err := CutSteps(mustTime(t, tt.from), mustTime(t, tt.to), tt.unit, loc)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(st.Starts))
			for i, s := range st.Starts {
				got[i] = s.Format(time.RFC3339)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("starts\n got %v\nwant %v", got, tt.want)
			}
			if e := st.End.Format(time.RFC3339); e != tt.end {
				t.Errorf("end %s, want %s", e, tt.end)
			}
			dropped := ""
			if !st.DroppedTo.IsZero() {
				dropped = st.DroppedTo.Format(time.RFC3339)
			}
			if dropped != tt.dropped {
				t.Errorf("dropped up to %q, want %q", dropped, tt.dropped)
			}
		})
	}
}

func TestCutStepsRefuses(t *testing.T) {
	sh := mustLoad(t, "Asia/Shanghai")
	tests := []struct {
		name, from, to, unit, detail string
	}{
		{"an unknown unit", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "hour", "step"},
		{"two whole weeks and a bit", "2026-06-01T00:00:00+08:00", "2026-06-20T00:00:00+08:00", "week", "2 whole week steps"},
		{"more steps than the cube holds", "2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "day", "more than"},
		{"an empty period", "2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z", "day", "before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CutSteps(mustTime(t, tt.from), mustTime(t, tt.to), tt.unit, sh)
			if citygrid.ErrorCode(err) != citygrid.CodeInvalid || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %v, want invalid mentioning %q", err, tt.detail)
			}
		})
	}
}

// TestStepFloor: the step holding an instant starts at the district's
// midnight, Monday or first of the month, not UTC's.
func TestStepFloor(t *testing.T) {
	tests := []struct {
		zone, at, unit, want string
	}{
		{"Asia/Shanghai", "2026-06-02T20:00:00Z", "day", "2026-06-03T00:00:00+08:00"},
		{"Asia/Shanghai", "2026-06-07T20:00:00Z", "week", "2026-06-08T00:00:00+08:00"}, // Sunday in UTC, Monday in Shanghai
		{"Asia/Shanghai", "2026-06-07T15:00:00Z", "week", "2026-06-01T00:00:00+08:00"}, // Sunday 23:00 in Shanghai
		{"Asia/Shanghai", "2026-06-30T17:00:00Z", "month", "2026-07-01T00:00:00+08:00"},
		{"America/New_York", "2026-11-01T12:00:00Z", "week", "2026-10-26T00:00:00-04:00"},
		{"America/New_York", "2026-03-08T12:00:00Z", "day", "2026-03-08T00:00:00-05:00"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.unit+" "+tt.at, func(t *testing.T) {
			if got := StepFloor(mustTime(t, tt.at), tt.unit, mustLoad(t, tt.zone)).Format(time.RFC3339); got != tt.want {
				t.Errorf("StepFloor = %s, want %s", got, tt.want)
			}
		})
	}
}
