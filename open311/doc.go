// Package open311 is citygrid's Open311 GeoReport v2 façade in domain
// terms: the spec's documents (discovery, services, service definitions,
// requests, errors, and FixMyStreet's service request updates) with their
// XML and JSON encodings, the façade mapping of the case lifecycle onto
// the spec's two statuses, W3C datetimes, and the parsing of submitted
// forms and query parameters. It does no I/O and knows nothing of HTTP
// routing or access: httpapi's thin handlers call it.
//
// Both formats carry the same data in the same order: one Go type per
// document, with an xml and a json tag on every field. Lists are a root
// element of items in XML and an array in JSON (the spec's "Spark
// convention"); identifiers are strings in both.
package open311
