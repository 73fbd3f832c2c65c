package demo

import (
	"context"
	"fmt"
	"time"

	"citygrid/postgres"
	"citygrid/project"
)

// demoProjectsSQL picks the communities the demo's projects cover: the
// first four by code, each with its street's default unit (or the first
// unit) and up to six of its unit grids.
const demoProjectsSQL = `
SELECT c.code, c.name, COALESCE(s.unit, (SELECT code FROM units ORDER BY code LIMIT 1)),
       ARRAY(SELECT g.code FROM grids g WHERE g.parent = c.code AND g.level = 4 ORDER BY g.code LIMIT 6)
FROM grids c JOIN grids s ON s.code = c.parent
WHERE c.level = 3
ORDER BY c.code LIMIT 4`

// LoadProjects stores a few pain-point projects in the demo district, so
// that the battle map shows its projects layer: one under way and on time,
// one under way with a late milestone, one planned, one suspended. It
// does nothing when projects are stored already, and reports how many it
// made.
func LoadProjects(ctx context.Context, db postgres.DBTX, now time.Time) (int, error) {
	var have int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM projects`).Scan(&have); err != nil {
		return 0, fmt.Errorf("demo projects: %w", err)
	}
	if have > 0 {
		return 0, nil
	}
	cal, err := postgres.NewCaseStore(db).Calendar(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := db.Query(ctx, demoProjectsSQL)
	if err != nil {
		return 0, fmt.Errorf("demo projects: %w", err)
	}
	type pick struct {
		code, name, unit string
		grids            []string
	}
	var picks []pick
	for rows.Next() {
		var p pick
		if err := rows.Scan(&p.code, &p.name, &p.unit, &p.grids); err != nil {
			rows.Close()
			return 0, fmt.Errorf("demo projects: %w", err)
		}
		if len(p.grids) > 0 {
			picks = append(picks, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("demo projects: %w", err)
	}
	plans := []struct {
		name, kind, leader string
		cats               []string
		status             project.Status
		plannedDaysAgo     int // the plan was back-scheduled this many days ago
		deadlineIn         int // days from now
		firstDone          bool
	}{
		// Back-scheduling leaves the slack at the start: a plan made 40
		// days ago for a deadline 20 days away put its first milestone's
		// due date about two weeks ago.
		{"背街小巷环境整治", "environment", "王建国", []string{"E01"}, project.StatusInProgress, 40, 20, true},
		{"老旧小区违建清理", "law_enforcement", "李红", []string{"E05"}, project.StatusInProgress, 40, 20, false},
		{"农贸市场周边秩序", "order", "张伟", []string{"E04", "E05"}, project.StatusPlanned, 0, 90, false},
		{"雨污管网改造", "infrastructure", "刘洋", []string{"C01", "C02"}, project.StatusSuspended, 20, 60, true},
	}
	made := 0
	store := postgres.NewProjectStore(db)
	for i, pk := range picks {
		pl := plans[i%len(plans)]
		planned := project.Civil(now.AddDate(0, 0, -pl.plannedDaysAgo), cal.Location())
		deadline := project.Civil(now, cal.Location()).AddDate(0, 0, pl.deadlineIn)
		ms, err := project.Schedule(cal, planned, deadline, []project.MilestoneSpec{
			{Name: "摸排建账", WorkingDays: 5}, {Name: "集中整治", WorkingDays: 20}, {Name: "验收销号", WorkingDays: 5}})
		if err != nil {
			return made, fmt.Errorf("demo project %q: %w", pl.name, err)
		}
		if pl.firstDone {
			done := ms[0].Due.Add(9 * time.Hour)
			ms[0].DoneAt = &done
		}
		p := &project.Project{Name: pl.name + "（" + pk.name + "）", Kind: pl.kind, GridCodes: pk.grids, Categories: pl.cats,
			Leader: project.Leader{Name: pl.leader, Unit: pk.unit}, Units: []string{pk.unit}, Plan: "属地牵头、部门联动，倒排工期、挂图作战。",
			Budget: project.Budget{AmountFen: int64(500000+200000*i) * 100, Source: "区级财政专项"}, SpentFen: int64(120000*i) * 100,
			Deadline: deadline, Milestones: ms, Status: pl.status}
		if _, err := store.CreateProject(ctx, p, "serve -demo", nil, now); err != nil {
			return made, fmt.Errorf("demo project %q: %w", pl.name, err)
		}
		made++
	}
	return made, nil
}
