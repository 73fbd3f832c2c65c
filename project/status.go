package project

import (
	"fmt"
	"slices"
	"strings"
)

// Status is where a project stands.
type Status string

const (
	StatusPlanned    Status = "planned"
	StatusInProgress Status = "in_progress"
	StatusDone       Status = "done"
	StatusSuspended  Status = "suspended"
)

// Statuses lists every status, in the order of a project's life.
var Statuses = []Status{StatusPlanned, StatusInProgress, StatusDone, StatusSuspended}

// transitions are the allowed steps: work starts, stops for a while
// (suspended, for funds or a legal question) and resumes, or is finished.
// A done project is a record: a problem found again is a new project.
var transitions = map[Status][]Status{
	StatusPlanned:    {StatusInProgress, StatusSuspended},
	StatusInProgress: {StatusDone, StatusSuspended},
	StatusSuspended:  {StatusPlanned, StatusInProgress},
	StatusDone:       nil,
}

// ParseStatus parses a status name.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !slices.Contains(Statuses, st) {
		return "", fmt.Errorf("unknown project status %q (want one of %s)", s, joinStatuses(Statuses))
	}
	return st, nil
}

// Next lists the statuses a project may move to from s.
func (s Status) Next() []Status { return transitions[s] }

// CanMoveTo reports whether a project may move from s to to.
func (s Status) CanMoveTo(to Status) bool { return slices.Contains(transitions[s], to) }

// Active reports whether a project in status s holds its area: every
// status but done. Only active projects' areas are subject to the overlap
// rule (one leader per area).
func (s Status) Active() bool { return s != StatusDone }

func joinStatuses(list []Status) string {
	if len(list) == 0 {
		return "nothing (a final status)"
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}
