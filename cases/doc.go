// Package cases is the case model: a problem at a point, found on patrol or
// reported, with a category, a source, a status in the closed loop of
// handling (reported → accepted → dispatched → in_progress → resolved →
// verified → closed; rejected; rework back to dispatched) and a deadline
// counted on the working calendar from its category's time limit.
//
// It holds the lifecycle rules (Status.Next, Status.Open), the actions
// that name every change (Action, AvailableActions, Update.Actions),
// categories and time limits, the calendar, updates (extensions, parking,
// the handler's requests for them and their decisions, returns, merging,
// re-assignment), the bulk NDJSON/CSV ingest parser, and the store
// interfaces package postgres implements. A case is placed by the grid map
// (package grid's Locator) when it is prepared.
package cases
