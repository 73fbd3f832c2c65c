package bulletin

import (
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/cases"
	"citygrid/grid"
)

// ScopeKind is what a bulletin reports on.
type ScopeKind string

const (
	District ScopeKind = "district"
	Street   ScopeKind = "street"
	Unit     ScopeKind = "unit"
)

// Scope names a bulletin's subject: the district, a street (a grid of
// street level, by code) or a responsible unit (by code). Written
// "district", "street:CODE" or "unit:CODE".
type Scope struct {
	Kind ScopeKind
	Code string
}

func (s Scope) String() string {
	if s.Kind == District {
		return string(District)
	}
	return string(s.Kind) + ":" + s.Code
}

// ParseScope parses a scope's written form; whether it exists is
// Resolve's question.
func ParseScope(raw string) (Scope, error) {
	if raw == string(District) {
		return Scope{Kind: District}, nil
	}
	kind, code, ok := strings.Cut(raw, ":")
	if !ok || code == "" || len(code) > grid.MaxCodeLen || ScopeKind(kind) != Street && ScopeKind(kind) != Unit {
		return Scope{}, citygrid.Errorf(citygrid.CodeInvalid, "scope %q: want district, street:CODE or unit:CODE", trunc(raw))
	}
	return Scope{Kind: ScopeKind(kind), Code: code}, nil
}

// Resolved is a scope read against the grid map: its name, the cases it
// holds, and the peers it is ranked among (streets or units).
type Resolved struct {
	Scope
	Name string
	// Restrict keeps the scope's cases (a street's subtree, a unit's).
	Restrict cases.Restriction
	// PeerBy groups the district's cases into the scope's peers: streets
	// for the district (its streets are ranked) and a street, units for a
	// unit.
	PeerBy cases.StatsBy
	// Streets are the district's streets, for the map.
	Streets []*grid.Grid
}

// Resolve reads s against the grid map l. An unknown street or unit is a
// not-found problem naming it.
func Resolve(l *grid.Locator, s Scope) (*Resolved, error) {
	if l == nil {
		return nil, citygrid.Errorf(citygrid.CodeUnavailable, "the grid index is still being built")
	}
	r := &Resolved{Scope: s, PeerBy: cases.ByStreet}
	l.AtLevel(grid.LevelStreet, func(g *grid.Grid, _ orb.Bound) { r.Streets = append(r.Streets, g) })
	switch s.Kind {
	case District:
		for _, g := range l.TopLevel() {
			r.Name = g.Name
			break
		}
	case Street:
		g, ok := l.Grid(s.Code)
		if !ok || g.Level != grid.LevelStreet {
			return nil, citygrid.Errorf(citygrid.CodeNotFound, "scope %s: no street %q", s, trunc(s.Code))
		}
		r.Name = g.Name
		r.Restrict.Grids = subtree(l, s.Code)
	case Unit:
		u, ok := l.Unit(s.Code)
		if !ok {
			return nil, citygrid.Errorf(citygrid.CodeNotFound, "scope %s: no unit %q", s, trunc(s.Code))
		}
		r.Name = u.Name
		r.Restrict.Unit = u.Code
		r.PeerBy = cases.ByUnit
	}
	return r, nil
}

// subtree lists the codes of code's grid and every grid under it.
func subtree(l *grid.Locator, code string) []string {
	out := []string{}
	for _, level := range grid.Levels {
		l.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			if slices.ContainsFunc(l.Path(g.Code), func(a *grid.Grid) bool { return a.Code == code }) {
				out = append(out, g.Code)
			}
		})
	}
	return out
}

// Scopes lists the scopes the scheduler generates: the district, then
// with streets every street, with units every unit whose code the map
// names (grids' default and category units).
func Scopes(l *grid.Locator, streets, units bool) []Scope {
	out := []Scope{{Kind: District}}
	if l == nil {
		return out
	}
	if streets {
		l.AtLevel(grid.LevelStreet, func(g *grid.Grid, _ orb.Bound) { out = append(out, Scope{Kind: Street, Code: g.Code}) })
	}
	if units {
		seen := map[string]bool{}
		for _, level := range grid.Levels {
			l.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
				for _, u := range append([]string{g.Unit}, mapValues(g.UnitsByCategory)...) {
					if _, ok := l.Unit(u); ok && !seen[u] {
						seen[u] = true
						out = append(out, Scope{Kind: Unit, Code: u})
					}
				}
			})
		}
		slices.SortStableFunc(out[1:], func(a, b Scope) int { return strings.Compare(a.String(), b.String()) })
	}
	return out
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
