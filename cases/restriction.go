package cases

import "slices"

// Restriction is the part of the district a caller may see: filters it
// cannot lift, set from its access scope (package access), never from
// request parameters. The zero value restricts nothing.
type Restriction struct {
	// Grids lists the grid codes whose cases may be seen (a scope's whole
	// subtrees); nil: every grid.
	Grids []string
	// Unit keeps only the cases assigned to this unit (a handler's).
	Unit string
	// Source keeps only the cases of this source (an integration's).
	Source string
}

// Allows reports whether c lies inside r: the rule every restricted
// reader (SQL, the case index, the analysis) must agree with.
func (r Restriction) Allows(c *Case) bool {
	if r.Unit != "" && c.Unit != r.Unit || r.Source != "" && c.Source != r.Source {
		return false
	}
	return r.Grids == nil || slices.Contains(r.Grids, c.Grid)
}
