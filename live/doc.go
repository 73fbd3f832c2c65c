// Package live is the one door every case change goes through, wherever it
// was made: a change this process made (a create, a PATCH, a bulk ingest)
// (applied before its reply) or one the change feed brought (Follow reads
// the case change log in commit order; Load and ReplayFrom start it; its
// position is Applied, and WaitFor waits for one). The Hub applies it to the in-memory
// case index, drops the tiles it makes stale, and tells the live event
// streams (GET /v1/events), each event carrying the stale tiles so that a
// browser refreshes exactly what the server dropped.
package live
