package caseindex

import (
	"slices"
	"strings"
	"time"

	"citygrid/cases"
)

// Filter selects cases for counting and drawing; zero fields do not filter.
// No filter selects a merged duplicate (Entry.Merged).
type Filter struct {
	From, To time.Time // on reported_at, [From, To)
	// Categories are code prefixes: a case matches if its category starts
	// with any of them (none: every category).
	Categories []string
	Statuses   []cases.Status
	Source     string
	Unit       string
	// Restriction is the caller's part of the district (its access
	// scope): set from the scope only, never from request parameters. It
	// cuts on top of the fields above, so a unit asked for outside a
	// handler's own unit matches nothing.
	Restriction cases.Restriction
}

// compiled turns a filter into per-row tests on the interned columns.
type compiledFilter struct {
	from, to int64
	cats     []bool   // by category id: matches the prefix
	statuses [16]bool // by status id (there are 8)
	anyStat  bool
	source   int64 // -1: any; -2: matches nothing
	unit     int64
	// The restriction: grids by grid id (nil: every grid), and the unit
	// and source it keeps (-1: any; -2: matches nothing).
	grids             []bool
	onlyUnit, onlySrc int64
	merged            bool // some rows are merged duplicates: skip them
	all               bool // nothing filters: every row matches
}

func (x *Index) compile(f Filter) compiledFilter {
	cf := compiledFilter{from: -1 << 62, to: 1 << 62, source: -1, unit: -1}
	if !f.From.IsZero() {
		cf.from = f.From.Unix()
	}
	if !f.To.IsZero() {
		cf.to = f.To.Unix()
	}
	if len(f.Categories) > 0 {
		cf.cats = make([]bool, len(x.strs.cats.names))
		for i, name := range x.strs.cats.names {
			cf.cats[i] = slices.ContainsFunc(f.Categories, func(prefix string) bool { return strings.HasPrefix(name, prefix) })
		}
	}
	cf.anyStat = len(f.Statuses) == 0
	for _, s := range f.Statuses {
		cf.statuses[statusIDs[s]] = true
	}
	lookup := func(d *dict, s string) int64 {
		if s == "" {
			return -1
		}
		if id, ok := d.ids[s]; ok {
			return int64(id)
		}
		return -2
	}
	cf.source = lookup(&x.strs.sources, f.Source)
	cf.unit = lookup(&x.strs.units, f.Unit)
	r := f.Restriction
	cf.onlySrc = lookup(&x.strs.sources, r.Source)
	cf.onlyUnit = lookup(&x.strs.units, r.Unit)
	if r.Grids != nil {
		// One look-up per grid of the scope, then a bool per row: a
		// scoped pass costs what an unscoped one does.
		cf.grids = make([]bool, len(x.strs.grids.names))
		for _, code := range r.Grids {
			if id, ok := x.strs.grids.ids[code]; ok {
				cf.grids[id] = true
			}
		}
	}
	cf.merged = x.nMerged > 0
	cf.all = f.From.IsZero() && f.To.IsZero() && cf.cats == nil && cf.anyStat && cf.source == -1 && cf.unit == -1 && !cf.merged &&
		cf.grids == nil && cf.onlySrc == -1 && cf.onlyUnit == -1
	return cf
}

func (cf *compiledFilter) match(x *Index, i int) bool {
	if cf.all {
		return true
	}
	if cf.merged && x.merged[i] {
		return false
	}
	if t := x.t[i]; t < cf.from || t >= cf.to {
		return false
	}
	if cf.cats != nil && !cf.cats[x.cat[i]] {
		return false
	}
	if !cf.anyStat && !cf.statuses[x.status[i]] {
		return false
	}
	if cf.source != -1 && int64(x.source[i]) != cf.source {
		return false
	}
	if cf.unit != -1 && int64(x.unit[i]) != cf.unit {
		return false
	}
	if cf.grids != nil && !cf.grids[x.grid[i]] {
		return false
	}
	if cf.onlyUnit != -1 && int64(x.unit[i]) != cf.onlyUnit {
		return false
	}
	if cf.onlySrc != -1 && int64(x.source[i]) != cf.onlySrc {
		return false
	}
	return true
}
