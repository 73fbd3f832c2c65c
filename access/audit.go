package access

// Entry is one line of the audit trail. Who (principal) and the request
// facts come from the context of the change; stores fill them in.
type Entry struct {
	Action      string // e.g. case.status, grids.import, key.create, authz_fail
	ObjectType  string // case, grid, key, categories, calendar, route
	ObjectID    string
	Deny        bool // a refused attempt
	HTTPStatus  int  // for refusals
	FromVersion *int
	ToVersion   *int
	Detail      string
}

// Outcome is the entry's outcome as stored: allow or deny.
func (e Entry) Outcome() string {
	if e.Deny {
		return "deny"
	}
	return "allow"
}
