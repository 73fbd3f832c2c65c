package access

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/grid"
)

// Visibility is how much of a grid a scope shows.
type Visibility int

const (
	Absent  Visibility = iota // beside the scope: not shown at all
	Outline                   // above the scope: its outline and name, no counts or units
	Full                      // in the scope
)

// Scope is a principal's part of the district, resolved against one grid
// locator: the subtrees under its grid codes (the whole district when it
// names none), a handler's unit and an integration's source.
type Scope struct {
	whole    bool
	grids    map[string]bool // the subtrees' codes
	outlines map[string]bool // their ancestors
	codes    []string        // grids, sorted, for SQL
	roots    []string        // the codes given
	unit     string
	source   string
	key      string
}

// Whole reports whether the scope is the whole district with no unit or
// source cut: nothing to filter.
func (s *Scope) Whole() bool { return s.whole && s.unit == "" && s.source == "" }

// Key names the scope in cache keys: equal scopes share it, and the
// unrestricted scope is "all".
func (s *Scope) Key() string { return s.key }

// Restriction is the scope as store and index filters.
func (s *Scope) Restriction() cases.Restriction {
	r := cases.Restriction{Unit: s.unit, Source: s.source}
	if !s.whole {
		r.Grids = s.codes
		if r.Grids == nil {
			r.Grids = []string{}
		}
	}
	return r
}

// Grids returns the set of grid codes in scope, nil for the whole district.
func (s *Scope) Grids() map[string]bool {
	if s.whole {
		return nil
	}
	return s.grids
}

// Roots returns the grid codes the scope was given, nil for the whole
// district.
func (s *Scope) Roots() []string {
	if s.whole {
		return nil
	}
	return s.roots
}

// VisibleGrids lists the codes of the grids the scope shows at all (its
// subtrees and their ancestors), nil for the whole district.
func (s *Scope) VisibleGrids() []string {
	if s.whole {
		return nil
	}
	out := slices.Clone(s.codes)
	for code := range s.outlines {
		out = append(out, code)
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// Grid tells how much of grid code the scope shows.
func (s *Scope) Grid(code string) Visibility {
	switch {
	case s.whole || s.grids[code]:
		return Full
	case s.outlines[code]:
		return Outline
	}
	return Absent
}

// Sees reports whether c lies in the scope.
func (s *Scope) Sees(c *cases.Case) bool {
	if s.unit != "" && c.Unit != s.unit || s.source != "" && c.Source != s.source {
		return false
	}
	return s.whole || s.grids[c.Grid]
}

// Resolver resolves principals' scopes against the current locator,
// remembering each distinct scope until the locator changes.
type Resolver struct {
	mu     sync.Mutex
	loc    *grid.Locator
	scopes map[string]*Scope
}

// Scope returns p's scope under l.
func (r *Resolver) Scope(p *Principal, l *grid.Locator) *Scope {
	id := scopeID(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loc != l {
		r.loc, r.scopes = l, map[string]*Scope{}
	}
	if s, ok := r.scopes[id]; ok {
		return s
	}
	s := resolve(p, l, id)
	r.scopes[id] = s
	return s
}

// scopeID is the canonical form of what a principal's scope depends on.
func scopeID(p *Principal) string {
	roots := slices.Compact(slices.Sorted(slices.Values(p.Scope)))
	return strings.Join(roots, "\x00") + "\x01" + p.Unit + "\x01" + p.Source
}

func resolve(p *Principal, l *grid.Locator, id string) *Scope {
	s := &Scope{whole: len(p.Scope) == 0, unit: p.Unit, source: p.Source}
	s.key = "all"
	if !s.Whole() {
		h := sha256.Sum256([]byte(id))
		s.key = hex.EncodeToString(h[:12])
	}
	if s.whole {
		return s
	}
	s.roots = slices.Compact(slices.Sorted(slices.Values(p.Scope)))
	s.grids, s.outlines = map[string]bool{}, map[string]bool{}
	if l == nil {
		return s
	}
	for _, level := range grid.Levels {
		l.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			path := l.Path(g.Code) // the grid, then its ancestors
			for i, a := range path {
				if slices.Contains(s.roots, a.Code) {
					s.grids[g.Code] = true
					for _, above := range path[i+1:] {
						s.outlines[above.Code] = true
					}
					return
				}
			}
		})
	}
	for code := range s.grids {
		delete(s.outlines, code)
		s.codes = append(s.codes, code)
	}
	slices.Sort(s.codes)
	return s
}
