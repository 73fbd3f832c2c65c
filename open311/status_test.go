package open311_test

import (
	"testing"

	"citygrid/cases"
	"citygrid/open311"
)

// TestStatusFacade holds every internal status (and a merge) to the
// façade's two statuses, and to the detailed status extensions show.
func TestStatusFacade(t *testing.T) {
	tests := []struct {
		status       cases.Status
		merged       bool
		want, detail string
		update       string
	}{
		{cases.StatusReported, false, "open", "reported", "OPEN"},
		{cases.StatusAccepted, false, "open", "accepted", "ACTION_SCHEDULED"},
		{cases.StatusDispatched, false, "open", "dispatched", "ACTION_SCHEDULED"},
		{cases.StatusInProgress, false, "open", "in_progress", "IN_PROGRESS"},
		{cases.StatusResolved, false, "open", "resolved", "FIXED"},
		{cases.StatusVerified, false, "closed", "verified", "FIXED"},
		{cases.StatusClosed, false, "closed", "closed", "FIXED"},
		{cases.StatusRejected, false, "closed", "rejected", "NO_FURTHER_ACTION"},
		{cases.StatusClosed, true, "closed", "merged", "DUPLICATE"},
	}
	covered := map[cases.Status]bool{}
	for _, tt := range tests {
		t.Run(tt.detail, func(t *testing.T) {
			if got := open311.Status(tt.status, tt.merged); got != tt.want {
				t.Errorf("Status(%s, merged %t) = %s, want %s", tt.status, tt.merged, got, tt.want)
			}
			if got := open311.Detailed(tt.status, tt.merged); got != tt.detail {
				t.Errorf("Detailed(%s, merged %t) = %s, want %s", tt.status, tt.merged, got, tt.detail)
			}
			if got := open311.UpdateStatus(tt.status, tt.merged); got != tt.update {
				t.Errorf("UpdateStatus(%s, merged %t) = %s, want %s", tt.status, tt.merged, got, tt.update)
			}
		})
		covered[tt.status] = true
	}
	for _, st := range cases.Statuses {
		if !covered[st] {
			t.Errorf("internal status %s has no row: say what Open311 calls it", st)
		}
	}
}

func TestInternalStatuses(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  []cases.Status
	}{
		{[]string{"open"}, []cases.Status{cases.StatusReported, cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved}},
		{[]string{"closed"}, []cases.Status{cases.StatusVerified, cases.StatusClosed, cases.StatusRejected}},
		{[]string{"open", "closed", "open"}, cases.Statuses},
		{nil, nil},
	} {
		got, err := open311.InternalStatuses(tt.names)
		if err != nil || len(got) != len(tt.want) {
			t.Fatalf("InternalStatuses(%v) = %v, %v; want %v", tt.names, got, err, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("InternalStatuses(%v) = %v, want %v", tt.names, got, tt.want)
			}
		}
	}
	if _, err := open311.InternalStatuses([]string{"fixed"}); err == nil {
		t.Error("InternalStatuses(fixed): no error")
	}
}

func TestStatusNotes(t *testing.T) {
	into := int64(77)
	for _, tt := range []struct {
		c    cases.Case
		note string
		want string
	}{
		{cases.Case{Status: cases.StatusClosed, MergedInto: &into}, "", "Duplicate: merged into service request 77."},
		{cases.Case{Status: cases.StatusRejected}, "not the district's", `Rejected: "not the district's"`},
		{cases.Case{Status: cases.StatusRejected}, "", "Rejected."},
		{cases.Case{Status: cases.StatusClosed}, "", ""},
		{cases.Case{Status: cases.StatusDispatched}, "", ""},
	} {
		if got := open311.StatusNotes(&tt.c, tt.note); got != tt.want {
			t.Errorf("StatusNotes(%s, %q) = %q, want %q", tt.c.Status, tt.note, got, tt.want)
		}
	}
}
