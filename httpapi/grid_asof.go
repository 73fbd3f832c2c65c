package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/access"
	"citygrid/grid"
)

// gridsAt lists the grids in force at t that f selects, in the listing's
// order (level, then code), as FindGrids does for the grids in force now.
// A box selects the grids whose bounding box meets it.
func (s *Server) gridsAt(ctx context.Context, f grid.Filter, t time.Time) ([]*grid.Grid, error) {
	l, _, err := s.locatorAt(ctx, t)
	if err != nil {
		return nil, err
	}
	var codes map[string]bool
	if f.Codes != nil {
		codes = make(map[string]bool, len(f.Codes))
		for _, c := range f.Codes {
			codes[c] = true
		}
	}
	var out []*grid.Grid
	for _, level := range grid.Levels {
		if f.Level != 0 && level != f.Level {
			continue
		}
		l.AtLevel(level, func(g *grid.Grid, b orb.Bound) {
			switch {
			case f.Parent != "" && g.Parent != f.Parent,
				f.Bound != nil && !f.Bound.Intersects(b),
				codes != nil && !codes[g.Code],
				f.After != nil && (g.Level < f.After.Level || g.Level == f.After.Level && g.Code <= f.After.Code):
				return
			}
			out = append(out, g)
		})
	}
	slices.SortFunc(out, func(a, b *grid.Grid) int {
		if a.Level != b.Level {
			return int(a.Level) - int(b.Level)
		}
		return strings.Compare(a.Code, b.Code)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// gridAt answers GET /v1/grids/{code}?at=: the grid as it was at t, with
// its path then.
func (s *Server) gridAt(w http.ResponseWriter, r *http.Request, code string, t time.Time) error {
	l, version, err := s.locatorAt(r.Context(), t)
	if err != nil {
		return err
	}
	vis := s.scopeOf(r).Grid(code)
	msg := fmt.Sprintf("grid %q not found at %s", code, t.UTC().Format(time.RFC3339))
	g, ok := l.Grid(code)
	if !ok {
		return citygrid.Errorf(citygrid.CodeNotFound, "%s", msg)
	}
	if vis == access.Absent {
		return access.Hidden("grid", code, msg)
	}
	path := []gridRef{}
	for _, p := range l.Path(code) {
		path = append(path, newGridRef(p))
	}
	f := newGridFeature(g)
	if vis == access.Outline {
		f = outlineFeature(g)
	}
	f.Properties["path"] = path
	f.Properties["grid_version"] = fmt.Sprint(version)
	delete(f.Properties, "updated_at")
	return writeGeoJSON(w, f)
}
