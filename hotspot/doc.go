// Package hotspot is citygrid's pure spatial statistics for case hot spots:
// the Getis-Ord Gi* statistic over a cell neighbourhood, two-sided normal
// p-values, the Benjamini-Hochberg false-discovery-rate correction, the
// ArcGIS-style 90/95/99% hot and cold bins, a neighbourhood mean for the
// smoothed map layer, the Mann-Kendall trend test, and ArcGIS Emerging Hot
// Spot Analysis over a space-time cube.
//
// The package does no I/O and knows nothing of H3, SQL or HTTP: cells are
// plain indices 0..n-1, values are float64 (case counts per cell, or per cell
// and time step), and the spatial structure arrives as Neighbours, one index
// list per cell, built by the caller (for example from H3 k-rings).
//
// z-scores are standard-normal deviates (dimensionless); p-values are
// probabilities in [0, 1]; a cell is significant at level α when p ≤ α.
//
// References: Getis & Ord (1992), Ord & Getis (1995); PySAL esda G_Local;
// ArcGIS Pro "How Hot Spot Analysis (Getis-Ord Gi*) works" and "How Emerging
// Hot Spot Analysis works"; Benjamini & Hochberg (1995); Mann (1945),
// Kendall (1975).
package hotspot
