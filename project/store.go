package project

import (
	"time"

	"github.com/paulmach/orb"
)

// Filter selects projects; zero fields do not filter.
type Filter struct {
	Bound    *orb.Bound // the area meets this box
	Grid     string     // the area's interior meets this grid's
	Statuses []Status
	Leader   string // a leader's user name or name, exactly
	// Late keeps the active projects with (true) or the projects without
	// (false) a late milestone at Today.
	Late  *bool
	Today time.Time
	// Grids is the caller's scope: a project shows when its area meets one
	// of these grids; nil for the whole district.
	Grids   []string
	AfterID int64 // keyset: ids above this
	Limit   int
}

// Settlement is how a dispute ended: an owner assigned, or a project.
type Settlement struct {
	CaseID    int64
	At        time.Time
	Actor     string
	Unit      string
	Grid      string
	ProjectID int64 // 0: none
	Note      string
}
