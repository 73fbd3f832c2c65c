package open311_test

import (
	"strings"
	"testing"
	"time"

	"citygrid/open311"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{"2026-11-20T01:30:00Z", want, ""},
		{"2026-11-20T09:30:00+08:00", want, ""},
		{"2026-11-19T20:30:00-05:00", want, ""},
		{"2026-11-20T01:30:00.000Z", want, ""},
		{"2026-11-20T09:30:00.123456+08:00", want.Add(123456 * time.Microsecond), ""},
		{"2026-11-20T09:30+08:00", want, ""}, // W3C-DTF without seconds
		{"2026-11-20T09:30:00", time.Time{}, "no time zone"},
		{"2026-11-20T09:30:00 08:00", time.Time{}, "%2B"},
		{"2026-11-20", time.Time{}, "without a time of day"},
		{"yesterday", time.Time{}, "start_date"},
	} {
		got, err := open311.ParseTime("start_date", tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTime(%q) error = %v, want one saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatTimeHasZone(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 20, 1, 30, 0, 999, time.UTC)
	for loc, want := range map[*time.Location]string{nil: "2026-11-20T01:30:00Z", sh: "2026-11-20T09:30:00+08:00"} {
		if got := open311.FormatTime(at, loc); got != want {
			t.Errorf("FormatTime(%v) = %s, want %s", loc, got, want)
		}
	}
}
