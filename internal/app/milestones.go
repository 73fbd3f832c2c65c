package app

import (
	"context"
	"slices"
	"strconv"
	"time"

	"citygrid/bulletin"
	"citygrid/project"
)

// ProjectFinder is what bulletins read of the projects (issue 17's store).
type ProjectFinder interface {
	FindProjects(ctx context.Context, f project.Filter) ([]*project.Project, error)
}

// LateMilestones gives bulletins the project milestones late at the end of
// their period: it joins package project to package bulletin, which do not
// know each other. A street's bulletin lists the projects whose area meets
// the street; a unit's, those it leads or takes part in.
type LateMilestones struct {
	Projects ProjectFinder
}

var _ bulletin.MilestoneSource = LateMilestones{}

// LateMilestones implements bulletin.MilestoneSource.
func (m LateMilestones) LateMilestones(ctx context.Context, s bulletin.Scope, p bulletin.Period) ([]bulletin.LateMilestone, error) {
	// The period's last day, a civil date as milestones' due dates are.
	last := project.Civil(p.To.Add(-time.Nanosecond), p.To.Location())
	late := true
	f := project.Filter{Late: &late, Today: last, Limit: 1000}
	if s.Kind == bulletin.Street {
		f.Grids = []string{s.Code}
	}
	out := []bulletin.LateMilestone{}
	for {
		ps, err := m.Projects.FindProjects(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, pr := range ps {
			if s.Kind == bulletin.Unit && pr.Leader.Unit != s.Code && !slices.Contains(pr.Units, s.Code) {
				continue
			}
			for _, ms := range pr.Milestones {
				if ms.Late(last) {
					out = append(out, bulletin.LateMilestone{Project: strconv.FormatInt(pr.ID, 10), ProjectName: pr.Name,
						Milestone: ms.Name, DueAt: ms.Due, Unit: pr.Leader.Unit, DaysLate: int(last.Sub(ms.Due).Hours() / 24)})
				}
			}
		}
		if len(ps) < f.Limit {
			return out, nil
		}
		f.AfterID = ps[len(ps)-1].ID
	}
}
