// Package geo is citygrid's pure geometry: H3 cells (the only importer of
// h3-go, whose types never leave this package), Chinese map coordinate
// systems (GCJ-02, BD-09), validation of coordinates and polygons, a
// point-in-polygon test with PostGIS's exact semantics, and distances.
//
// Coordinates are orb.Point{lon, lat} in degrees everywhere; distances and
// areas are in metres and square metres. No I/O, no SQL.
package geo
