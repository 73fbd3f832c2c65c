// Package pglocal runs a private local PostgreSQL + PostGIS cluster for
// development and tests: it finds the server binaries, initialises a data
// dir (initdb), starts the server on 127.0.0.1 with its own port and Unix
// socket dir, creates database "citygrid" with the postgis extension, and
// stops it again (Start, Cluster.Stop). Another process may use the server
// while its owner runs (Attach), without owning or stopping it.
//
// When this process is root the server runs as the "postgres" system user,
// because PostgreSQL refuses to run as root. An ephemeral (test) cluster is
// removed by Stop, or by a watchdog should this process die first.
//
// It is a process supervisor, not a store: the stores are in package
// postgres, which connects to whatever URL the cluster reports.
package pglocal
