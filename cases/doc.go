// Package cases is the case model: a problem at a point, found on patrol or
// reported, with a category, a source, a status in the closed loop of
// handling (reported → accepted → dispatched → in_progress → resolved →
// verified → closed; rejected; rework back to dispatched) and a deadline
// counted on the working calendar from its category's time limit.
//
// It holds the lifecycle rules (Status.Next, Status.Open), categories and
// time limits, the calendar, updates (extensions, parking, merging,
// re-assignment), the bulk NDJSON/CSV ingest parser, and the store
// interfaces package postgres implements. A case is placed by the grid map
// (package grid's Locator) when it is prepared.
package cases
