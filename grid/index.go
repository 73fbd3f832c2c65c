package grid

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Index holds the current Locator and rebuilds it when grids change. Readers
// never wait: they keep using the previous Locator until the new one is ready.
type Index struct {
	opt     LocatorOptions
	current atomic.Pointer[Locator]
	mu      sync.Mutex // one rebuild at a time
	builtAt atomic.Pointer[time.Time]
}

// NewIndex returns an empty index; call Rebuild before use.
func NewIndex(opt LocatorOptions) *Index {
	opt.setDefaults()
	return &Index{opt: opt}
}

// Locator returns the current locator, or nil before the first Rebuild.
func (x *Index) Locator() *Locator { return x.current.Load() }

// BuiltAt returns when the current locator was built (zero before).
func (x *Index) BuiltAt() time.Time {
	if t := x.builtAt.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Rebuild loads every grid and unit from s and swaps in a new Locator.
func (x *Index) Rebuild(ctx context.Context, s Store) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	grids, err := s.FindGrids(ctx, Filter{})
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	units, err := s.FindUnits(ctx)
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	l, err := NewLocator(grids, units, x.opt)
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	x.store(l)
	return nil
}

// store swaps in l; x.mu must be held.
func (x *Index) store(l *Locator) {
	x.current.Store(l)
	now := time.Now()
	x.builtAt.Store(&now)
}

// Set swaps in a locator built elsewhere (tools and tests that have no
// store).
func (x *Index) Set(l *Locator) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.current.Store(l)
	now := time.Now()
	x.builtAt.Store(&now)
}
