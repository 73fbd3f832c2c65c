package cases

import "time"

// EventFilter selects events across cases: what Open311 clients follow
// incrementally (service request updates) and the notes of a page of
// requests. The creation of a case is its own row, not an event, and is
// never listed.
type EventFilter struct {
	CaseIDs []int64 // nil: any case
	// From and To bound the event time, [From, To).
	From, To *time.Time
	// Categories are code prefixes the event's case must have (none: any).
	Categories []string
	Restrict   Restriction
	Limit      int
}

// CaseEvent is an event with its case (as it is now) and the case's
// status right after the event, which stays what it was whatever happens
// later.
type CaseEvent struct {
	Event
	Case   *Case
	Status Status // after the event
	Merged bool   // merged into another case by then
}
