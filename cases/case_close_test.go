package cases

import (
	"encoding/json"
	"testing"
	"time"
)

// TestClosingEndsParking: a parked case (挂账) that leaves the loop is no
// longer parked, and its deadline moves by the working time it stood
// still, as a resume would move it; the history says so.
func TestClosingEndsParking(t *testing.T) {
	cal := DefaultCalendar()
	parkedAt := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC) // Monday 10:00 in Shanghai
	due := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)      // Monday 14:00
	now := parkedAt.Add(24 * time.Hour)                       // Tuesday 10:00: 8 working hours later
	movedDue := time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC) // Tuesday 14:00
	rejected, into := StatusRejected, int64(3)
	tests := []struct {
		name   string
		status Status
		update Update
		want   Status
	}{
		{"rejected while parked", StatusReported, Update{Status: &rejected}, StatusRejected},
		{"merged while parked", StatusDispatched, Update{MergeInto: &into}, StatusClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := parkedAt
			c := &Case{ID: 7, Status: tt.status, Version: 2, DueAt: due, PausedAt: &at}
			u := tt.update
			u.IfVersion, u.Now, u.Calendar = 2, now, cal
			events, err := ApplyUpdate(c, u)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != tt.want || c.PausedAt != nil {
				t.Errorf("after the update: %s, paused at %v; want %s and not parked", c.Status, c.PausedAt, tt.want)
			}
			if !c.DueAt.Equal(movedDue) {
				t.Errorf("due = %s, want %s (moved by the 8 working hours parked)", c.DueAt, movedDue)
			}
			last := events[len(events)-1]
			var data struct {
				Because Status  `json:"because"`
				Hours   float64 `json:"stopped_working_hours"`
			}
			if err := json.Unmarshal(last.Data, &data); err != nil || last.Kind != "resume" || data.Because != tt.want || data.Hours != 8 {
				t.Errorf("last event %s %s (%v), want resume because %s after 8 working hours", last.Kind, last.Data, err, tt.want)
			}
		})
	}
}
