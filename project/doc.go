// Package project holds the battle map's pain-point projects (痛点难点) and
// disputed cases: what a project is (an area, a leader, a plan, a budget, a
// final deadline and milestones back-scheduled from it on the working
// calendar, 倒排工期), its statuses and their steps, the overlap rule of
// areas (包片: one leader per area among active projects), its progress, and
// why a case is disputed (no unit grid, a border between units, returned
// twice). It holds no I/O: package postgres stores projects, package tiles
// draws them, package httpapi serves them.
package project
