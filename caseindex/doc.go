// Package caseindex is the in-memory columnar copy of every case that
// hotspots, map tiles and live counts read: position, cells at resolutions
// 9 to 11, times, category, status, priority, source, unit and grid, with
// spatial buckets of stored-resolution cells kept in latitude order.
//
// It also holds the one rule that puts a case in an H3 cell at any
// resolution (Cell), which hotspot counts, map clusters and h3= area queries
// share. Package live keeps the index current.
package caseindex
