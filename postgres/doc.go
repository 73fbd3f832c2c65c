// Package postgres implements citygrid's stores on PostgreSQL + PostGIS with
// pgx, and applies the embedded migrations. Its Partitioner cuts polygons
// with PostGIS for the demo district generator (package demo).
//
// All SQL lives here, next to the one method that runs it, as constants with
// every value bound as a parameter.
package postgres
