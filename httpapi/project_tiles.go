package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/project"
)

// maxTileProjects bounds the projects the projects layer keeps in memory.
const maxTileProjects = 100000

// projectShapes is the projects layer's copy of every project (areas,
// statuses, leaders, milestones), read again when the store's version of
// them changes: a tile costs one small query and drawing from memory,
// whichever process changed a project.
type projectShapes struct {
	mu      sync.Mutex
	version string
	list    []*project.Project
}

// projectsIn returns the projects whose area's box meets b, that the scope
// sees, in the statuses asked (none: all).
func (s *Server) projectsIn(ctx context.Context, b orb.Bound, sc *access.Scope, statuses []project.Status, today time.Time) ([]*project.Project, error) {
	v, err := s.projects.ProjectsVersion(ctx, today)
	if err != nil {
		return nil, err
	}
	ps := s.shapes
	ps.mu.Lock()
	list, version := ps.list, ps.version
	ps.mu.Unlock()
	if version != v {
		if list, err = s.projects.FindProjects(ctx, project.Filter{Today: today, Limit: maxTileProjects}); err != nil {
			return nil, err
		}
		ps.mu.Lock()
		ps.list, ps.version = list, v
		ps.mu.Unlock()
	}
	var out []*project.Project
	for _, p := range list {
		if len(statuses) > 0 && !containsStatus(statuses, p.Status) {
			continue
		}
		if p.Area.Bound().Intersects(b) && seesProject(sc, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func containsStatus(list []project.Status, st project.Status) bool {
	for _, s := range list {
		if s == st {
			return true
		}
	}
	return false
}
