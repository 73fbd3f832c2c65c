package cases

// Record is a case as a bulk load stores it: the case in its present state
// and the events that brought it there (what ApplyUpdate returned, in
// order), as the demo's lived-in history or an import from a running
// system needs. Ids are given only when the case is stored, so a
// duplicate names the case it was merged into by source and external id;
// the store fills in merged_into and the merge events' ids.
type Record struct {
	Case      *Case
	Events    []Event
	MergeInto *SourceKey
}

// SourceKey names a case by where it came from: (source, external_id) is
// unique.
type SourceKey struct {
	Source     string
	ExternalID string
}
