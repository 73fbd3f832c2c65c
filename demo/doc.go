// Package demo is citygrid's demo district: the real boundary of Qingdao's
// Shibei district and the real names and codes of its streets and
// communities (see data/LICENSES.md), with generated street, community and
// unit-grid polygons that tile it (GeneratePolygons: Voronoi partitions
// around k-means seeds, then 100 m squares), generated responsible units and
// generated cases, and Load and LoadCases to store them.
package demo
