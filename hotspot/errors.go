package hotspot

import "errors"

// The package's sentinel errors. Functions wrap them with the offending
// index or size, so test with errors.Is.
var (
	// ErrTooFewCells: Gi* needs at least 3 cells; with fewer the variance
	// term (n W − W²)/(n − 1) is degenerate for every neighbourhood.
	ErrTooFewCells = errors.New("too few cells (need at least 3)")
	// ErrTooShort: the Mann-Kendall test needs at least 3 time steps.
	ErrTooShort = errors.New("series too short (need at least 3 steps)")
	// ErrLengthMismatch: slices that describe the same cells or steps
	// have different lengths.
	ErrLengthMismatch = errors.New("length mismatch")
	// ErrBadNeighbour: a neighbour index is outside [0, n).
	ErrBadNeighbour = errors.New("neighbour index out of range")
	// ErrNonFinite: an input value is NaN or ±Inf.
	ErrNonFinite = errors.New("value is NaN or infinite")
)
