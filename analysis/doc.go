// Package analysis is what planners ask of the cases: hot spots (Getis-Ord
// Gi* with the false-discovery-rate correction, densities, smoothing, the
// change against a comparison period) and emerging hot spots (Gi* per time
// step and the Mann-Kendall trend of each cell), over a study area of H3
// cells that it builds from the district's top-level grids, or from the
// grids a caller is restricted to (its access scope), and caches per grid
// map, resolution and area.
//
// It combines the in-memory case index (the counts) with the pure
// statistics of package hotspot. HTTP handlers and the hotspot tiles call
// it; it knows nothing of either.
package analysis
