package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
	"citygrid/grid"
)

func (s *Server) registerCaseRoutes(r chi.Router) {
	r.Get("/cases", s.limited(limitRead, s.handle(s.handleCasesList)))
	r.Post("/cases", s.handle(s.handleCaseCreate))
	r.Post("/cases/search", s.limited(limitRead, s.handle(s.handleCasesSearch)))
	r.Get("/cases/{id}", s.handle(s.handleCaseGet))
	r.Patch("/cases/{id}", s.handle(s.handleCasePatch))
	r.Get("/cases/{id}/history", s.handle(s.handleCaseHistory))
	s.registerCategoryRoutes(r)
	r.Get("/calendar", s.handle(s.handleCalendarGet))
	r.Put("/calendar", s.handle(s.handleCalendarPut))
}

// caseProperties renders a case's fields for a GeoJSON feature or CSV row.
func caseProperties(c *cases.Case, now time.Time) geojson.Properties {
	p := geojson.Properties{
		"id":            strconv.FormatInt(c.ID, 10),
		"external_id":   c.ExternalID,
		"source":        c.Source,
		"category":      c.Category,
		"title":         c.Title,
		"description":   c.Description,
		"priority":      c.Priority,
		"status":        c.Status,
		"open":          c.Status.Open(),
		"next_statuses": nextStatuses(c.Status),
		"grid":          nullString(c.Grid),
		"unit":          nullString(c.Unit),
		"unit_rule":     nullString(c.UnitRule),
		"h3":            c.Cell,
		"reported_at":   c.ReportedAt.UTC().Format(time.RFC3339),
		"due_at":        c.DueAt.UTC().Format(time.RFC3339),
		"closed_at":     nullTime(c.ClosedAt),
		"paused":        c.PausedAt != nil,
		"merged_into":   nil,
		"overdue_now":   c.Overdue(now),
		"version":       c.Version,
		"created_at":    c.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":    c.UpdatedAt.UTC().Format(time.RFC3339),
		"properties":    c.Properties,
	}
	if c.MergedInto != nil {
		p["merged_into"] = strconv.FormatInt(*c.MergedInto, 10)
	}
	p["pending_request"] = nil
	if rq := c.Request; rq != nil {
		// The event id as the history writes it, and as approve/decline
		// take it.
		pending := map[string]any{"event": strconv.FormatInt(rq.Event, 10), "kind": rq.Kind, "at": rq.At.UTC().Format(time.RFC3339)}
		if rq.Extension != nil {
			pending["extension"] = rq.Extension
		}
		p["pending_request"] = pending
	}
	if c.Properties == nil {
		p["properties"] = map[string]any{}
	}
	return p
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func newCaseFeature(c *cases.Case, now time.Time) *geojson.Feature {
	f := geojson.NewFeature(c.Location)
	f.ID = strconv.FormatInt(c.ID, 10)
	f.Properties = caseProperties(c, now)
	return f
}

func parseCaseID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("case id %q is not a positive integer", truncate(raw, 40))
	}
	return id, nil
}

// caseContext loads what validating a case needs: categories, calendar and
// the current locator.
func (s *Server) caseContext(r *http.Request) (*cases.Categories, *cases.Calendar, *grid.Locator, error) {
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := s.locator()
	if err != nil {
		return nil, nil, nil, err
	}
	return cats, cal, l, nil
}

// fieldError turns a validation failure into a 400 naming the field.
func fieldError(err error) error {
	if fe, ok := err.(*cases.FieldError); ok {
		code := fe.Code
		if code == "" {
			code = citygrid.CodeInvalid
		}
		e := citygrid.Errorf(code, "%s", fe.Error())
		e.Details = map[string]any{"field": fe.Field}
		return e
	}
	return err
}

func (s *Server) handleCaseCreate(w http.ResponseWriter, r *http.Request) error {
	var in cases.Input
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return err
	}
	now := s.now()
	c, err := in.Prepare(cats, cal, l, now)
	if err != nil {
		return fieldError(err)
	}
	if err := s.mayCreate(r, c); err != nil {
		return err
	}
	stored, created, err := s.cases.CreateCase(r.Context(), c, principal(r).Actor())
	if err != nil {
		return err
	}
	if !created && !s.scopeOf(r).Sees(stored) {
		// Another part of the district holds a case under this (source,
		// external_id): say the id is taken, show nothing of the case.
		return &access.Denied{Err: citygrid.Errorf(citygrid.CodeConflict, "external_id %q of source %q is taken by a case outside your scope", truncate(c.ExternalID, 80), truncate(c.Source, 40)),
			ObjectType: "case", ObjectID: strconv.FormatInt(stored.ID, 10), Reason: "re-sent report of a case out of scope"}
	}
	f := s.caseView(r, now).feature(stored)
	dups, dists, err := s.cases.PossibleDuplicates(r.Context(), stored, s.cfg.DuplicateRadiusM, s.cfg.DuplicateWindow)
	if err != nil {
		return err
	}
	list := []map[string]any{}
	scope := s.scopeOf(r)
	for i, d := range dups {
		if !scope.Sees(d) {
			continue
		}
		dup := map[string]any{"id": strconv.FormatInt(d.ID, 10), "distance_m": dists[i], "status": d.Status,
			"reported_at": d.ReportedAt.UTC().Format(time.RFC3339)}
		if principal(r).Role.SeesFreeText() {
			dup["title"] = d.Title
		}
		list = append(list, dup)
	}
	f.Properties["possible_duplicates"] = list
	status := http.StatusCreated
	if !created {
		status = http.StatusOK // idempotent: the same (source, external_id) was stored before
		f.Properties["duplicate_of_request"] = true
	} else {
		s.changed(r, stored)
	}
	w.Header().Set("ETag", etagOf(stored.Version))
	w.Header().Set("Location", "/v1/cases/"+strconv.FormatInt(stored.ID, 10))
	writeJSONStatus(w, "application/geo+json", status, f)
	return nil
}

func (s *Server) handleCaseGet(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCaseID(r)
	if err != nil {
		return err
	}
	c, err := s.visibleCase(r, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etagOf(c.Version))
	return writeGeoJSON(w, s.caseView(r, s.now()).feature(c))
}

func (s *Server) handleCaseHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCaseID(r)
	if err != nil {
		return err
	}
	if _, err := s.visibleCase(r, id); err != nil {
		return err
	}
	events, err := s.cases.CaseHistory(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": strconv.FormatInt(id, 10), "events": events})
}

// casePatch is the body of PATCH /v1/cases/{id}. Ids are decimal strings,
// as every id the API gives out: merge_into names a case, approve and
// decline the event of the request they decide (its id in the history).
type casePatch struct {
	Status    *string          `json:"status"`
	Grid      *string          `json:"grid"`
	Unit      *string          `json:"unit"`
	Extend    *cases.TimeLimit `json:"extend"`
	Pause     *bool            `json:"pause"`
	MergeInto *string          `json:"merge_into"`
	Note      string           `json:"note"`

	Returned         *bool            `json:"returned"`
	RequestExtension *cases.TimeLimit `json:"request_extension"`
	RequestPause     *bool            `json:"request_pause"`
	Approve          *string          `json:"approve"`
	Decline          *string          `json:"decline"`
}

func etagOf(version int) string { return `"` + strconv.Itoa(version) + `"` }

// parseIfMatch reads the version from If-Match: "3", W/"3" or 3.
func parseIfMatch(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, citygrid.Errorf(citygrid.CodeInvalid, "If-Match header with the case version (its ETag) is required")
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v <= 0 {
		return 0, citygrid.Errorf(citygrid.CodeInvalid, "If-Match %q is not a case version", truncate(h, 40))
	}
	return v, nil
}

func (s *Server) handleCasePatch(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCaseID(r)
	if err != nil {
		return err
	}
	version, err := parseIfMatch(r)
	if err != nil {
		return err
	}
	var p casePatch
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &p); err != nil {
		return err
	}
	if len(p.Note) > 2000 {
		return invalid("note: longer than 2000 bytes")
	}
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return err
	}
	u := cases.Update{Grid: p.Grid, Unit: p.Unit, ExtendBy: p.Extend, Pause: p.Pause, Actor: principal(r).Actor(), Note: p.Note,
		IfVersion: version, Now: s.now(), Calendar: cal, Categories: cats, Locator: l,
		RequestExtension: p.RequestExtension, Guard: access.CaseGuard{P: principal(r), Scope: s.scopeOf(r)}}
	if p.Status != nil {
		st, err := cases.ParseStatus(*p.Status)
		if err != nil {
			return invalid("status: %v", err)
		}
		u.Status = &st
	}
	if p.MergeInto != nil {
		into, err := strconv.ParseInt(*p.MergeInto, 10, 64)
		if err != nil || into <= 0 {
			return invalid("merge_into: %q is not a case id", truncate(*p.MergeInto, 40))
		}
		u.MergeInto = &into
	}
	// A flag is true or left out: false would ask for nothing.
	for _, f := range []struct {
		name string
		v    *bool
		to   *bool
	}{{"returned", p.Returned, &u.Returned}, {"request_pause", p.RequestPause, &u.RequestPause}} {
		if f.v != nil && !*f.v {
			return fieldInvalid(f.name, "false asks for nothing: send true, or leave it out")
		}
		*f.to = f.v != nil
	}
	for _, f := range []struct {
		name string
		raw  *string
		to   **int64
	}{{"approve", p.Approve, &u.Approve}, {"decline", p.Decline, &u.Decline}} {
		if f.raw != nil {
			id, err := patchID(f.name, *f.raw, "a request's event")
			if err != nil {
				return err
			}
			*f.to = &id
		}
	}
	for _, f := range []*string{p.Grid, p.Unit} {
		if f != nil && *f != "" {
			if err := grid.ValidateCode(*f); err != nil {
				return invalid("grid/unit: %v", err)
			}
		}
	}
	c, err := s.cases.UpdateCase(r.Context(), id, u)
	if err != nil {
		return err
	}
	s.changed(r, c)
	if u.MergeInto != nil {
		// The original took a new version with the duplicate's history
		// entry: its viewers hear of it as of any change.
		orig, err := s.cases.FindCaseByID(r.Context(), *u.MergeInto)
		if err != nil {
			s.logger.WarnContext(r.Context(), "reading the case merged into", "case", *u.MergeInto, "err", err)
		} else {
			s.changed(r, orig)
		}
	}
	w.Header().Set("ETag", etagOf(c.Version))
	return writeGeoJSON(w, s.caseView(r, u.Now).feature(c))
}

func (s *Server) handleCalendarGet(w http.ResponseWriter, r *http.Request) error {
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cal)
}

func (s *Server) handleCalendarPut(w http.ResponseWriter, r *http.Request) error {
	var cal cases.Calendar
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &cal); err != nil {
		return err
	}
	if cal.Holidays == nil {
		cal.Holidays = []string{}
	}
	if cal.Workdays == nil {
		cal.Workdays = []string{}
	}
	if err := cal.Prepare(); err != nil {
		return invalid("calendar: %v", err)
	}
	if err := s.cases.ReplaceCalendar(r.Context(), &cal); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, &cal)
}
