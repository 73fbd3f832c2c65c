// Package tiles renders citygrid's battle map as Mapbox Vector Tiles 2.1
// (extent 4096, buffer 64) straight from memory: grids from the grid
// index, cases and their clusters from the columnar case index, hotspots
// from the hotspot analysis. No tile runs SQL, so a tile of the whole
// district costs about as much as a street's.
//
// Layers: "grids" (polygons of the level the zoom shows, with live open and
// overdue_now counts), "cases" (one point per case from PointZoom, below it one
// cluster per H3 cell placed at the cell's centre), "hotspots" (H3 cells
// with Gi* classes) and "battlemap" (the three in one tile).
//
// Every layer is cut to the caller's scope (Params.Scope): its cases, its
// grids with their counts (grids above it as bare outlines, grids beside
// it not at all) and hotspots over its own grids. The scope's key is part
// of the cache key and of the concurrent-miss key, so one caller's tile
// never reaches another.
//
// Encoded tiles are cached, bounded in bytes, and never served stale: a
// case change drops exactly the tiles that show its old or new position
// (every zoom, filter variant and scope), its grids' counts, and the hotspot
// tiles (Gi* depends on every count); a grid import drops the grid tiles
// its changed grids touch; a deadline passing drops the tiles whose
// overdue marks it changes. See Service.
package tiles
