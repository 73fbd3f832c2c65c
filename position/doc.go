// Package position names a place in the change feed (issue 14): the
// Citygrid-Position header, its parsing, the interface of whatever follows
// the feed (the live hub; a cluster's replica wait later), and the note a
// request carries so that the position its write produced reaches the
// reply. Stdlib only: the stores, the hub and the API all use it.
package position
