// Package grid is citygrid's domain: the nested grid units of a district
// (district ▸ street ▸ community ▸ unit grid), the responsible units that own
// them, the rule that picks the owner of a point, the service area (the
// union of the top-level grids), and the in-memory Locator that answers
// "whose is this point?" without a database round trip.
//
// The package knows nothing of SQL or HTTP. Stores are interfaces defined here
// and implemented by package postgres.
package grid
