package httpapi

import (
	"context"
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
	store := &announcing{Store: s.cases}
	refused := 0
	admit := func(c *cases.Case) error {
		err := s.mayCreate(r, c)
		if err != nil {
			refused++
		}
		return err
	}
	ing := cases.Ingester{Categories: cats, Calendar: cal, Locator: l, Now: s.now, Store: store, Admit: admit}
	body := s.cutIdleBody(w, r)
	res, err := ing.Ingest(r.Context(), http.MaxBytesReader(w, body, s.cfg.MaxImportBytes), format)
	if refused > 0 {
		s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: "cases", HTTPStatus: http.StatusForbidden,
			Detail: fmt.Sprintf("bulk: %d lines outside the key's scope or source rejected", refused)})
	}
	if store.announced {
		// Once per ingest, as other processes are told, and also when it
		// failed after storing some batches: what is stored must show.
		s.changedMany()
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

// announcing notes whether the ingest announced stored cases to other
// processes (it does once, when any batch was stored), so that this
// process reloads exactly then too.
type announcing struct {
	cases.Store
	announced bool
}

func (a *announcing) AnnounceBulk(ctx context.Context) error {
	a.announced = true
	return a.Store.AnnounceBulk(ctx)
}
