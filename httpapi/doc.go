// Package httpapi is citygrid's HTTP interface: the chi router, handlers,
// JSON shapes, the mapping of errors to problem+json responses, and the
// operational endpoints (health, readiness, metrics).
//
// It depends on the domain interfaces of package grid, never on postgres.
package httpapi
