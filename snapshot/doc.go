// Package snapshot keeps the grid locator's cell index and the case index
// on local disk, tagged with the change-feed position they hold, so that a
// restart reads them back and replays only the changes since, instead of
// reading every case from the database. It writes atomically (a process
// killed mid-write leaves the previous snapshot), refuses a snapshot that
// is missing, damaged, of another format, database or cell resolution, or
// older than the retained change log (the caller then does a full load and
// logs why), and keeps it fresh in the background.
package snapshot
