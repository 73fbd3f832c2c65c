// Package demo is citygrid's demo district: the real boundary of Qingdao's
// Shibei district and the real names and codes of its streets and
// communities (see data/LICENSES.md), with generated street, community and
// unit-grid polygons that tile it, and generated responsible units.
package demo
