package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
	"citygrid/project"
)

func square(x0, y0, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x0 + d, y0}, {x0 + d, y0 + d}, {x0, y0 + d}, {x0, y0}}}}
}

func testProject(name string, area orb.MultiPolygon, leader, unit string) *project.Project {
	today := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	return &project.Project{Name: name, Area: area, Leader: project.Leader{Name: leader, Unit: unit}, Status: project.StatusPlanned,
		Deadline: today.AddDate(0, 3, 0), Milestones: []project.Milestone{{Name: "a", WorkingDays: 2, Start: today, Due: today.AddDate(0, 0, 1)}}}
}

// TestProjectAreasOneLeader races two writers of overlapping areas with
// different leaders: the second waits for the first (the areas lock) and
// then sees its project, so exactly one is stored (包片). An area touching
// another along an edge, and the same leader over the same area, are fine.
func TestProjectAreasOneLeader(t *testing.T) {
	pool := dbtest.Isolated(t, "units", "grids", "projects", "project_milestones", "project_events", "project_cases", "audit_log")
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO units (code, name) VALUES ('U1', 'one'), ('U2', 'two')`,
		`INSERT INTO grids (code, name, level, geom, area_m2) VALUES ('D', 'd', 1, ST_GeomFromText('POLYGON((120 36, 120.1 36, 120.1 36.1, 120 36.1, 120 36))', 4326), 1)`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if _, err := postgres.NewProjectStore(first).CreateProject(ctx, testProject("first", square(120.01, 36.01, 0.01), "甲", "U1"), "t", nil, now); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := postgres.NewProjectStore(pool).CreateProject(ctx, testProject("second", square(120.015, 36.015, 0.01), "乙", "U2"), "t", nil, now)
		done <- err
	}()
	dbtest.WaitBlocked(t, dbtest.BackendPID(t, first))
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var ce *citygrid.Error
	if err := <-done; !errors.As(err, &ce) || ce.Code != citygrid.CodeConflict {
		t.Fatalf("the second leader over the area: %v, want a conflict", err)
	}
	store := postgres.NewProjectStore(pool)
	right := square(120.01, 36.01, 0.01)[0][0][1][0] // the first area's east edge, exactly
	if _, err := store.CreateProject(ctx, testProject("beside", square(right, 36.01, 0.01), "乙", "U2"), "t", nil, now); err != nil {
		t.Errorf("an area touching along an edge: %v", err)
	}
	same, err := store.CreateProject(ctx, testProject("same leader", square(120.012, 36.012, 0.005), "甲", "U1"), "t", nil, now)
	if err != nil {
		t.Fatalf("the same leader over the area: %v", err)
	}
	if got := same.Milestones[0].Due.Format(project.DateLayout); got != "2026-11-24" || len(same.Grids) != 1 || same.Grids[0] != "D" {
		t.Errorf("read back: due %s, grids %v", got, same.Grids)
	}
	if _, err := store.CreateProject(ctx, testProject("outside", square(121, 37, 0.01), "丙", "U1"), "t", nil, now); err == nil {
		t.Error("an area in no grid was stored")
	}
	if _, err := store.CreateProject(ctx, testProject("out of scope", square(120.05, 36.05, 0.01), "丁", "U1"), "t", []string{"NOPE"}, now); err == nil {
		t.Error("an area beyond the writer's scope was stored")
	}
}
