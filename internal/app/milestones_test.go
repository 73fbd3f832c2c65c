package app_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"citygrid/bulletin"
	"citygrid/internal/app"
	"citygrid/project"
)

// projectList answers FindProjects from a list, as the store filters it.
type projectList []*project.Project

func (l projectList) FindProjects(_ context.Context, f project.Filter) ([]*project.Project, error) {
	var out []*project.Project
	for _, p := range l {
		if p.ID > f.AfterID && (f.Late == nil || p.Late(f.Today) == *f.Late) && (f.Grids == nil || p.Grids[0] == f.Grids[0]) {
			out = append(out, p)
		}
	}
	return out, nil
}

func day(s string) time.Time {
	t, err := project.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestLateMilestones: a bulletin's late milestones are those not done by
// the last day of its period, cut to its street or unit.
func TestLateMilestones(t *testing.T) {
	done := day("2026-11-01")
	projects := projectList{
		{ID: 1, Name: "背街小巷", Grids: []string{"S1"}, Leader: project.Leader{Name: "王", Unit: "U1"}, Status: project.StatusInProgress,
			Milestones: []project.Milestone{{Name: "摸排", Due: day("2026-11-02"), DoneAt: &done}, {Name: "整治", Due: day("2026-11-20")}, {Name: "验收", Due: day("2026-12-20")}}},
		{ID: 2, Name: "积水点", Grids: []string{"S2"}, Leader: project.Leader{Name: "李", Unit: "U2"}, Units: []string{"U1"}, Status: project.StatusInProgress,
			Milestones: []project.Milestone{{Name: "设计", Due: day("2026-11-25")}}},
	}
	loc := time.FixedZone("CST", 8*3600)
	nov26 := bulletin.PeriodAt(bulletin.Daily, time.Date(2026, 11, 26, 12, 0, 0, 0, loc), loc)
	for _, tt := range []struct {
		scope bulletin.Scope
		want  []string // project/milestone/days late
	}{
		{bulletin.Scope{Kind: bulletin.District}, []string{"1/整治/6", "2/设计/1"}},
		{bulletin.Scope{Kind: bulletin.Street, Code: "S2"}, []string{"2/设计/1"}},
		{bulletin.Scope{Kind: bulletin.Unit, Code: "U1"}, []string{"1/整治/6", "2/设计/1"}},
		{bulletin.Scope{Kind: bulletin.Unit, Code: "U2"}, []string{"2/设计/1"}},
		{bulletin.Scope{Kind: bulletin.Unit, Code: "U3"}, nil},
	} {
		got, err := app.LateMilestones{Projects: projects}.LateMilestones(context.Background(), tt.scope, nov26)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range got {
			names = append(names, m.Project+"/"+m.Milestone+"/"+strconv.Itoa(m.DaysLate))
		}
		if len(names) != len(tt.want) {
			t.Errorf("%v: %v, want %v", tt.scope, names, tt.want)
			continue
		}
		for i := range names {
			if names[i] != tt.want[i] {
				t.Errorf("%v: %v, want %v", tt.scope, names, tt.want)
				break
			}
		}
	}
}
