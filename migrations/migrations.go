// Package migrations holds citygrid's schema as numbered SQL files
// (NNN_name.sql), embedded in the binary. Package postgres applies them in
// order, each in its own transaction, and records them in schema_migrations.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
