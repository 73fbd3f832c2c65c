package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/access"
	"citygrid/campaign"
	"citygrid/cases"
)

// Campaigns (专项整治), issue 18. Every route is registered here.
func (s *Server) registerCampaignRoutes(r chi.Router) {
	r.Get("/campaigns", s.handle(s.handleCampaignsList))
	r.Post("/campaigns", s.handle(s.handleCampaignCreate))
	r.Get("/campaigns/{id}", s.handle(s.handleCampaignGet))
	r.Get("/campaigns/{id}/stats", s.handle(s.handleCampaignStats))
	r.Get("/campaigns/{id}/sites", s.handle(s.handleCampaignSites))
	r.Post("/campaigns/{id}/sites", s.handle(s.handleCampaignSitesImport))
	r.Post("/campaigns/{id}/sites/{ref}/inspection", s.handle(s.handleSiteInspection))
}

// campaignSource is the source of the cases failed inspections report;
// their external id is campaign-<id>-<site ref>, so that a retried
// inspection finds the case it made.
const campaignSource = "campaign"

// campaignBody is the body of POST /v1/campaigns.
type campaignBody struct {
	Name       string          `json:"name"`
	Categories []string        `json:"categories"`
	Grids      []string        `json:"grids"`
	Area       json.RawMessage `json:"area"`
	StartsAt   string          `json:"starts_at"`
	EndsAt     string          `json:"ends_at"`
	Target     campaign.Target `json:"target"`
}

func campaignJSON(k *campaign.Campaign) map[string]any {
	out := map[string]any{
		"id": strconv.FormatInt(k.ID, 10), "name": k.Name, "categories": k.Categories, "grids": k.Grids,
		"area": geojson.NewGeometry(k.Area), "starts_at": k.StartsAt.UTC().Format(time.RFC3339), "ends_at": k.EndsAt.UTC().Format(time.RFC3339),
		"target": k.Target, "created_by": k.CreatedBy, "created_at": k.CreatedAt.UTC().Format(time.RFC3339),
	}
	if k.Grids == nil {
		out["grids"] = nil
	}
	return out
}

func (s *Server) handleCampaignCreate(w http.ResponseWriter, r *http.Request) error {
	var b campaignBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &b); err != nil {
		return err
	}
	in := campaign.Input{Name: b.Name, Categories: b.Categories, Grids: b.Grids, Target: b.Target}
	for name, dst := range map[string]*time.Time{"starts_at": &in.StartsAt, "ends_at": &in.EndsAt} {
		raw := map[string]string{"starts_at": b.StartsAt, "ends_at": b.EndsAt}[name]
		if raw == "" {
			continue // Prepare names what is missing
		}
		t, err := parseTime(raw, name)
		if err != nil {
			return err
		}
		*dst = t
	}
	if len(b.Area) > 0 && string(b.Area) != "null" {
		g, err := geojson.UnmarshalGeometry(b.Area)
		if err != nil {
			return fieldError(&cases.FieldError{Field: "area", Message: "not a GeoJSON geometry"})
		}
		switch v := g.Geometry().(type) {
		case orb.Polygon:
			in.Area = orb.MultiPolygon{v}
		case orb.MultiPolygon:
			in.Area = v
		default:
			return fieldError(&cases.FieldError{Field: "area", Message: fmt.Sprintf("a %s, want Polygon or MultiPolygon", g.Type)})
		}
	}
	l, err := s.locator()
	if err != nil {
		return err
	}
	k, err := in.Prepare(l)
	if err != nil {
		return fieldError(err)
	}
	// A dispatcher runs campaigns in its scope: grids of it; a polygon
	// only with the whole district.
	scope := s.scopeOf(r)
	if grids := scope.Grids(); grids != nil {
		if k.Grids == nil {
			return access.Forbidden("campaign", "", "area", "area: a key scoped to grids gives a campaign's area as grids of its scope, not a polygon")
		}
		for _, code := range k.Grids {
			if !grids[code] {
				return access.Forbidden("campaign", "", "grids", "grids: %q lies outside your scope", truncate(code, 40))
			}
		}
	}
	stored, err := s.campaigns.CreateCampaign(r.Context(), k, campaign.Subtree(l, k.Grids), principal(r).Actor())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/campaigns/"+strconv.FormatInt(stored.ID, 10))
	return writeJSON(w, http.StatusCreated, campaignJSON(stored))
}

func (s *Server) handleCampaignsList(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	all, err := s.campaigns.FindCampaigns(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(all))
	for i, k := range all {
		out[i] = campaignJSON(k)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
}

// campaignOf finds the campaign of the path's {id}.
func (s *Server) campaignOf(r *http.Request) (*campaign.Campaign, error) {
	return s.campaignByID(r, chi.URLParam(r, "id"))
}

func (s *Server) campaignByID(r *http.Request, raw string) (*campaign.Campaign, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, invalid("campaign id %q is not a positive integer", truncate(raw, 40))
	}
	return s.campaigns.FindCampaign(r.Context(), id)
}

// mayRun refuses a change to a campaign reaching beyond the caller's
// scope.
func (s *Server) mayRun(r *http.Request, k *campaign.Campaign) error {
	grids := s.scopeOf(r).Grids()
	if grids == nil {
		return nil
	}
	if k.Grids == nil || slices.ContainsFunc(k.Grids, func(c string) bool { return !grids[c] }) {
		return access.Forbidden("campaign", strconv.FormatInt(k.ID, 10), "", "campaign %d reaches beyond your scope", k.ID)
	}
	return nil
}

// handleCampaignGet serves a campaign with its progress now, counting the
// caller's cases.
func (s *Server) handleCampaignGet(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	k, err := s.campaignOf(r)
	if err != nil {
		return err
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return err
	}
	p, err := campaign.ProgressOf(r.Context(), s.stats, s.campaigns, k, s.scopeOf(r).Restriction(), s.now(), cal.TimeZone)
	if err != nil {
		return err
	}
	out := campaignJSON(k)
	out["progress"] = p
	return writeJSON(w, http.StatusOK, out)
}

// handleCampaignStats serves the indicators of a campaign's cases by
// street or unit (by=), over its period so far: /v1/stats's rows.
func (s *Server) handleCampaignStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "by"); err != nil {
		return err
	}
	by := cases.StatsBy(q.Get("by"))
	if by != cases.ByStreet && by != cases.ByUnit {
		return invalid("by: want street or unit")
	}
	k, err := s.campaignOf(r)
	if err != nil {
		return err
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return err
	}
	sq := cases.StatsQuery{By: by, From: k.StartsAt, To: k.EndsAt, Now: s.now(), TimeZone: cal.TimeZone,
		Restrict: s.scopeOf(r).Restriction(), Campaign: k.ID}
	rows, err := s.stats.Stats(r.Context(), sq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"campaign": strconv.FormatInt(k.ID, 10), "by": by,
		"from": sq.From.UTC().Format(time.RFC3339), "to": sq.To.UTC().Format(time.RFC3339), "as_of": sq.End().UTC().Format(time.RFC3339Nano),
		"total": cases.Total(rows, ""), "rows": rows})
}

func siteFeature(st *campaign.Site) *geojson.Feature {
	f := geojson.NewFeature(st.Location)
	f.ID = st.Ref
	f.Properties = geojson.Properties{"ref": st.Ref, "name": st.Name, "category": st.Category, "result": nil,
		"inspected_at": nullTime(st.InspectedAt), "inspected_by": st.InspectedBy, "note": st.Note, "case": nil}
	if st.Result != "" {
		f.Properties["result"] = st.Result
	}
	if st.CaseID != nil {
		f.Properties["case"] = strconv.FormatInt(*st.CaseID, 10)
	}
	return f
}

func (s *Server) handleCampaignSites(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	k, err := s.campaignOf(r)
	if err != nil {
		return err
	}
	sites, err := s.campaigns.FindSites(r.Context(), k.ID)
	if err != nil {
		return err
	}
	fc := geojson.NewFeatureCollection()
	for _, st := range sites {
		fc.Append(siteFeature(st))
	}
	return writeGeoJSON(w, fc)
}

// handleCampaignSitesImport adds an inspection list (GeoJSON, or CSV with
// Content-Type text/csv). Any refused row makes it a 422 listing every
// refused row, and nothing is stored.
func (s *Server) handleCampaignSitesImport(w http.ResponseWriter, r *http.Request) error {
	k, err := s.campaignOf(r)
	if err != nil {
		return err
	}
	if err := s.mayRun(r, k); err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isCSV := mt == "text/csv"
	if !isCSV && mt != "" && !strings.Contains(mt, "json") {
		return citygrid.Errorf(citygrid.CodeUnsupportedMedia, "Content-Type %q: send GeoJSON (application/geo+json) or CSV (text/csv)", truncate(mt, 60))
	}
	body := http.MaxBytesReader(w, r.Body, 16*s.cfg.MaxBodyBytes)
	sites, bad, err := campaign.ParseSites(body, isCSV)
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return citygrid.Errorf(citygrid.CodeTooLarge, "the inspection list is over %d bytes", 16*s.cfg.MaxBodyBytes)
	case errors.Is(err, campaign.ErrFormat):
		return invalid("%v", err)
	case err != nil:
		return err
	}
	_, _ = io.Copy(io.Discard, body)
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return err
	}
	ok, refused := k.Check(sites, func(code string) bool { _, found := cats.Find(code); return found })
	bad = append(bad, refused...)
	slices.SortStableFunc(bad, func(a, b campaign.RowError) int { return a.Row - b.Row })
	if len(bad) > 0 {
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "%d of %d rows refused; nothing stored", len(bad), len(ok)+len(bad))
		e.Details = map[string]any{"rejected": bad}
		return e
	}
	if len(ok) == 0 {
		return invalid("the inspection list holds no sites")
	}
	if err := s.campaigns.AddSites(r.Context(), k.ID, ok); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"campaign": strconv.FormatInt(k.ID, 10), "added": len(ok)})
}

// inspectionBody is the body of POST .../sites/{ref}/inspection.
type inspectionBody struct {
	Result string `json:"result"`
	Note   string `json:"note"`
}

// handleSiteInspection records a site's one inspection. A failure reports
// a case at the site, of the site's category, through the same steps as
// POST /v1/cases (validated, checked against the caller's scope and role,
// stored, handed to the live index); its external id makes a retry find
// the case it made.
func (s *Server) handleSiteInspection(w http.ResponseWriter, r *http.Request) error {
	var b inspectionBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &b); err != nil {
		return err
	}
	result := campaign.Result(b.Result)
	if result != campaign.Pass && result != campaign.Fail {
		return fieldError(&cases.FieldError{Field: "result", Message: "want pass or fail"})
	}
	if len(b.Note) > cases.MaxDescriptionLen {
		return fieldError(&cases.FieldError{Field: "note", Message: fmt.Sprintf("longer than %d bytes", cases.MaxDescriptionLen)})
	}
	k, err := s.campaignOf(r)
	if err != nil {
		return err
	}
	if err := s.mayRun(r, k); err != nil {
		return err
	}
	now := s.now()
	if now.Before(k.StartsAt) || !now.Before(k.EndsAt) {
		return citygrid.Errorf(citygrid.CodeUnprocessable, "campaign %d runs from %s to %s: sites are inspected within it", k.ID,
			k.StartsAt.UTC().Format(time.RFC3339), k.EndsAt.UTC().Format(time.RFC3339))
	}
	st, err := s.campaigns.FindSite(r.Context(), k.ID, chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	if st.Result != "" {
		return citygrid.Errorf(citygrid.CodeConflict, "site %q was inspected already (%s)", st.Ref, st.Result)
	}
	var caseID *int64
	if result == campaign.Fail {
		loc := []float64{st.Location[0], st.Location[1]}
		title := st.Name
		if title == "" {
			title = st.Ref
		}
		in := cases.Input{Source: campaignSource, ExternalID: fmt.Sprintf("campaign-%d-%s", k.ID, st.Ref), Category: st.Category,
			Title: truncate(k.Name+"：检查不合格 "+title, cases.MaxTitleLen), Description: b.Note, Location: &loc}
		c, err := s.reportCase(r, in, now)
		if err != nil {
			return err
		}
		caseID = &c.ID
	}
	if err := s.campaigns.RecordInspection(r.Context(), k.ID, st.Ref, result, now, principal(r).Actor(), b.Note, caseID); err != nil {
		return err
	}
	st, err = s.campaigns.FindSite(r.Context(), k.ID, st.Ref)
	if err != nil {
		return err
	}
	return writeGeoJSON(w, siteFeature(st))
}

// reportCase stores a case as POST /v1/cases does (handleCaseCreate's
// steps): validated, allowed for the caller, stored, and handed to the
// live hub when new.
func (s *Server) reportCase(r *http.Request, in cases.Input, now time.Time) (*cases.Case, error) {
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return nil, err
	}
	c, err := in.Prepare(cats, cal, l, now)
	if err != nil {
		return nil, fieldError(err)
	}
	if err := s.mayCreate(r, c); err != nil {
		return nil, err
	}
	stored, created, err := s.cases.CreateCase(r.Context(), c, principal(r).Actor())
	if err != nil {
		return nil, err
	}
	if created {
		s.changed(r, stored)
	}
	return stored, nil
}

// campaignFilter reads campaign=ID of a case list: only the campaign's
// cases (its one rule, campaign_covers), and, with no other area given,
// the campaign's area as the list's area.
func (s *Server) campaignFilter(r *http.Request, q url.Values, f *cases.Filter) error {
	raw := q.Get("campaign")
	if raw == "" {
		return nil
	}
	if s.campaigns == nil {
		return invalid("campaign: this server keeps no campaigns")
	}
	k, err := s.campaignByID(r, raw)
	if err != nil {
		return err
	}
	f.Campaign = k.ID
	if q.Get("bbox") == "" && q.Get("near") == "" && q.Get("grid") == "" && q.Get("h3") == "" {
		f.Area.Polygon = k.Area
	}
	return nil
}
