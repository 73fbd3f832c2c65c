package open311

import (
	"fmt"
	"strings"

	"citygrid"
	"citygrid/cases"
)

// The spec's two statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// DetailedMerged is the detailed status of a case merged into another: a
// closed case with merged_into, not a status of its own inside citygrid.
const DetailedMerged = "merged"

// Status is the Open311 status of a case in internal status st (merged:
// closed as a duplicate). It is a façade, not the internal notion of open
// (whose deadline runs): a resolved case is still open to the citizen
// until verification confirms it, since verification can send it back.
func Status(st cases.Status, merged bool) string {
	if merged {
		return StatusClosed
	}
	switch st {
	case cases.StatusReported, cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress, cases.StatusResolved:
		return StatusOpen
	}
	return StatusClosed
}

// Detailed is the internal status shown as extended_attributes.detailed_status.
func Detailed(st cases.Status, merged bool) string {
	if merged {
		return DetailedMerged
	}
	return string(st)
}

// InternalStatuses returns the internal statuses behind Open311 status
// names (a merged case is a closed one inside citygrid).
func InternalStatuses(names []string) ([]cases.Status, error) {
	var out []cases.Status
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		for _, st := range cases.Statuses {
			switch {
			case n != StatusOpen && n != StatusClosed:
				return nil, citygrid.Errorf(citygrid.CodeInvalid, "status %q: want open or closed (a comma-separated list)", truncate(n, 40))
			case Status(st, false) == n:
				out = append(out, st)
			}
		}
	}
	return out, nil
}

// UpdateStatus is the status of a FixMyStreet service request update for
// a case in internal status st right after the update.
func UpdateStatus(st cases.Status, merged bool) string {
	if merged {
		return "DUPLICATE"
	}
	switch st {
	case cases.StatusReported:
		return "OPEN"
	case cases.StatusAccepted, cases.StatusDispatched:
		return "ACTION_SCHEDULED"
	case cases.StatusInProgress:
		return "IN_PROGRESS"
	case cases.StatusResolved, cases.StatusVerified, cases.StatusClosed:
		return "FIXED"
	case cases.StatusRejected:
		return "NO_FURTHER_ACTION"
	}
	return strings.ToUpper(string(st))
}

// StatusNotes explains a closed case that was not fixed: a merge names
// the request it was merged into, a rejection quotes its note.
func StatusNotes(c *cases.Case, rejectionNote string) string {
	switch {
	case c.MergedInto != nil:
		return fmt.Sprintf("Duplicate: merged into service request %d.", *c.MergedInto)
	case c.Status == cases.StatusRejected && rejectionNote != "":
		return fmt.Sprintf("Rejected: %q", rejectionNote)
	case c.Status == cases.StatusRejected:
		return "Rejected."
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
