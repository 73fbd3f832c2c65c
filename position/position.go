package position

import (
	"context"
	"errors"
	"strconv"
	"sync"
)

// Header is the HTTP header that carries a position: every reply names one
// (the position its write produced, or for a read the position the process
// had applied), and a request that sends one back is answered once the
// process has applied it.
const Header = "Citygrid-Position"

// A position is a horizon of the change feed: position p stands for every
// case change made by a transaction whose id (pg_current_xact_id) is below
// p. A write's position is its transaction's id plus one; a process has
// applied p when its own horizon is p or beyond. Positions of one database
// only grow, so the larger of two positions holds both.

// Follower is what follows the change feed: the live hub, and (issue 20) a
// cluster's replica wait can be another.
type Follower interface {
	// Applied is the position this process has applied: every change
	// below it shows in its indexes.
	Applied() uint64
	// WaitFor returns nil once Applied() >= p, or ctx's error.
	WaitFor(ctx context.Context, p uint64) error
}

// ErrMalformed is the error of a header that is no position.
var ErrMalformed = errors.New("not a position: want a decimal integer")

// Parse reads a header value: a decimal integer without sign or spaces, at
// most 20 digits.
func Parse(s string) (uint64, error) {
	if s == "" || len(s) > 20 {
		return 0, ErrMalformed
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrMalformed
		}
	}
	p, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ErrMalformed
	}
	return p, nil
}

// Format writes p as the header wants it.
func Format(p uint64) string { return strconv.FormatUint(p, 10) }

// Note collects the positions the writes of one request produced.
type Note struct {
	mu  sync.Mutex
	max uint64
}

type noteKey struct{}

// WithNote returns ctx carrying a fresh note: the writes made with it
// record their positions there.
func WithNote(ctx context.Context) (context.Context, *Note) {
	n := &Note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// Record notes that a write with ctx produced p (a no-op without a note).
func Record(ctx context.Context, p uint64) {
	if n, ok := ctx.Value(noteKey{}).(*Note); ok {
		n.mu.Lock()
		n.max = max(n.max, p)
		n.mu.Unlock()
	}
}

// NoteOf returns ctx's note; nil (whose Max is 0, false) without one.
func NoteOf(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}

// Max is the largest position recorded, and whether any was.
func (n *Note) Max() (uint64, bool) {
	if n == nil {
		return 0, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.max, n.max != 0
}

type requiredKey struct{}

// WithRequired returns ctx noting that its request named position p: the
// database reads made with it — on a streaming replica — must have p too.
func WithRequired(ctx context.Context, p uint64) context.Context {
	return context.WithValue(ctx, requiredKey{}, p)
}

// Required is the position ctx's request named (0: none).
func Required(ctx context.Context) uint64 {
	p, _ := ctx.Value(requiredKey{}).(uint64)
	return p
}
