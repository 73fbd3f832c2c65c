package cases

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
