package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
)

// handleCasesBulk ingests NDJSON (one case object per line) or CSV (a header
// row naming the columns, lng and lat among them), streaming any size. Each
// line is validated on its own; a bad line is reported and the good ones are
// stored. Re-sent cases (same source and external_id) count as duplicates.
func (s *Server) handleCasesBulk(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	var format cases.BulkFormat
	switch {
	case strings.Contains(ct, "csv"):
		format = cases.BulkCSV
	case ct == "" || strings.Contains(ct, "ndjson") || strings.Contains(ct, "jsonl") || strings.Contains(ct, "json"):
		format = cases.BulkNDJSON
	default:
		return citygrid.Errorf(citygrid.CodeInvalid, "Content-Type %q: send application/x-ndjson or text/csv", truncate(ct, 60))
	}
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return err
	}
	noReplay(r) // batches commit one by one: never run a half-done ingest again
	refused := 0
	admit := func(c *cases.Case) error {
		err := s.mayCreate(r, c)
		if err != nil {
			refused++
		}
		return err
	}
	// Each batch is applied to this process's indexes as it is stored
	// (in proportion to the batch): the reply comes after every batch.
	stored := func(p uint64, cs []*cases.Case) {
		if s.live != nil {
			s.live.ChangedMany(p, cs)
		}
	}
	ing := cases.Ingester{Categories: cats, Calendar: cal, Locator: l, Now: s.now, Store: s.cases, Admit: admit, Stored: stored}
	body := s.cutIdleBody(w, r)
	res, err := ing.Ingest(r.Context(), http.MaxBytesReader(w, body, s.cfg.MaxImportBytes), format)
	if refused > 0 {
		s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: "cases", HTTPStatus: http.StatusForbidden,
			Detail: fmt.Sprintf("bulk: %d lines outside the key's scope or source rejected", refused)})
	}
	var maxErr *http.MaxBytesError
	var bodyErr *bodyEncodingError
	switch {
	case err != nil && body.problem() != nil:
		return body.problem()
	case errors.As(err, &maxErr):
		return citygrid.Errorf(citygrid.CodeTooLarge, "body larger than %d bytes: nothing after the limit was read (%v)", maxErr.Limit, err)
	case errors.As(err, &bodyErr):
		return bodyErr.problem()
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
