// Package postgres implements citygrid's stores on PostgreSQL + PostGIS with
// pgx, applies the embedded migrations, and runs a private local cluster for
// development and tests (StartLocal).
//
// All SQL lives here, next to the one method that runs it, as constants with
// every value bound as a parameter.
package postgres
