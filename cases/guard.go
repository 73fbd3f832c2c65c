package cases

// Guard checks a caller's access to a case while the store holds it
// locked, so that what is checked is what is changed (package access
// implements it).
type Guard interface {
	// Sees reports whether the caller may see c at all; a case it may not
	// see answers exactly as one that does not exist.
	Sees(c *Case) bool
	// Permit checks, before it applies, that the caller's role may make
	// each change u asks of c, naming the field of one it may not.
	Permit(c *Case, u *Update) error
	// Keep checks the case as the update would leave it: the caller must
	// still see it (a re-assignment needs scope over the new grid too).
	Keep(after *Case) error
}
