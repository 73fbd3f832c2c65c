package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb/geojson"

	"citygrid/cases"
	"citygrid/grid"
)

// Grid versions (issue 19): every route of the feature is registered here,
// in one place, for the OpenAPI document to follow.
//
//	POST /v1/grid-versions                 a draft (streamed like an import)
//	GET  /v1/grid-versions                 every version, newest first
//	GET  /v1/grid-versions/{id}            the version, its topology and its diff against the grids in force
//	GET  /v1/grid-versions/{id}/preview    what activating it now would do to open cases and references
//	GET  /v1/grid-versions/{id}/grids      its grids, each with what the diff says of it (the battle map's layer)
//	POST /v1/grid-versions/{id}/activate   {"effective_at": …}: now or later

func (s *Server) registerGridVersionRoutes(r chi.Router) {
	if s.versions == nil {
		return
	}
	r.Get("/grid-versions", s.handle(s.handleGridVersionsList))
	r.Get("/grid-versions/{id}", s.handle(s.handleGridVersionGet))
	r.Get("/grid-versions/{id}/preview", s.handle(s.handleGridVersionPreview))
	r.Get("/grid-versions/{id}/grids", s.handle(s.handleGridVersionGrids))
	r.Post("/grid-versions/{id}/activate", s.handle(s.handleGridVersionActivate))
}

// registerGridVersionDraftRoute mounts POST /grid-versions beside the
// import: a draft is as large as an import and streams without the
// request timeout.
func (s *Server) registerGridVersionDraftRoute(r chi.Router) {
	if s.versions == nil {
		return
	}
	r.Post("/grid-versions", s.handle(s.handleGridVersionCreate))
}

func versionID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("grid version id must be a positive integer")
	}
	return id, nil
}

// versionReply is a version with its report: the topology of its grids
// and its diff against the grids in force (drafts only).
type versionReply struct {
	*grid.Version
	Topology *grid.Topology `json:"topology,omitempty"`
	Diff     *grid.Diff     `json:"diff,omitempty"`
}

func (s *Server) versionReply(r *http.Request, v *grid.Version) (*versionReply, error) {
	out := &versionReply{Version: v}
	if v.Kind != "draft" {
		return out, nil
	}
	var err error
	if out.Topology, err = s.versions.VersionTopology(r.Context(), v.ID); err != nil {
		return nil, err
	}
	if v.Status == grid.VersionDraft || v.Status == grid.VersionScheduled {
		if out.Diff, err = s.versions.VersionDiff(r.Context(), v.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) handleGridVersionCreate(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	in, err := grid.ParseDraft(http.MaxBytesReader(w, r.Body, s.cfg.MaxImportBytes))
	if err != nil {
		return s.importBodyError(err)
	}
	if len(in.Grids) == 0 {
		return invalid("the FeatureCollection has no features: a draft is the whole grid map")
	}
	v, err := s.versions.CreateDraft(r.Context(), in)
	if err != nil {
		return err
	}
	out, err := s.versionReply(r, v)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/grid-versions/"+strconv.FormatInt(v.ID, 10))
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleGridVersionsList(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	vs, err := s.versions.FindVersions(r.Context())
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []*grid.Version{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (s *Server) handleGridVersionGet(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	id, err := versionID(r)
	if err != nil {
		return err
	}
	v, err := s.versions.FindVersion(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.versionReply(r, v)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// previewPeriod is the period whose indicators a preview re-bases.
const previewPeriod = 30 * 24 * time.Hour

// handleGridVersionPreview answers what activating the draft now would
// do, and how the last 30 days' indicators by street read as recorded and
// re-based on the draft's boundaries.
func (s *Server) handleGridVersionPreview(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	id, err := versionID(r)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	p, err := s.versions.Preview(r.Context(), id, now)
	if err != nil {
		return err
	}
	out := map[string]any{"preview": p}
	if s.stats != nil && s.cases != nil {
		cal, err := s.cases.Calendar(r.Context())
		if err != nil {
			return err
		}
		q := cases.StatsQuery{By: cases.ByStreet, From: now.Add(-previewPeriod), To: now, Now: now, TimeZone: cal.TimeZone}
		recorded, err := s.stats.Stats(r.Context(), q)
		if err != nil {
			return err
		}
		q.Basis, q.RebaseVersion = cases.BasisCurrent, id
		rebased, err := s.stats.Stats(r.Context(), q)
		if err != nil {
			return err
		}
		out["indicators"] = map[string]any{"by": q.By, "from": q.From.Format(time.RFC3339), "to": q.To.Format(time.RFC3339),
			"recorded": recorded, "rebased": rebased}
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleGridVersionGrids serves a version's grids as GeoJSON, each with
// "change": added, reshaped, renamed, reassigned or unchanged, and the
// grids it retires (from the grids in force) as "removed": what the
// battle map highlights.
func (s *Server) handleGridVersionGrids(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	id, err := versionID(r)
	if err != nil {
		return err
	}
	grids, err := s.versions.VersionGrids(r.Context(), id)
	if err != nil {
		return err
	}
	d, err := s.versions.VersionDiff(r.Context(), id)
	if err != nil {
		return err
	}
	change := map[string]string{}
	for _, c := range d.Reassigned {
		change[c] = "reassigned"
	}
	for _, c := range d.Renamed {
		change[c.Code] = "renamed"
	}
	for _, c := range d.Reshaped {
		change[c.Code] = "reshaped"
	}
	for _, c := range d.Added {
		change[c.Code] = "added"
	}
	fc := geojson.NewFeatureCollection()
	for _, g := range grids {
		f := newGridFeature(g)
		delete(f.Properties, "updated_at")
		f.Properties["change"] = "unchanged"
		if c, ok := change[g.Code]; ok {
			f.Properties["change"] = c
		}
		fc.Append(f)
	}
	if l := s.index.Locator(); l != nil {
		for _, rm := range d.Removed {
			if g, ok := l.Grid(rm.Code); ok {
				f := outlineFeature(g)
				f.Properties["change"] = "removed"
				f.Properties["successor"] = nullString(d.Successors[rm.Code])
				fc.Append(f)
			}
		}
	}
	return writeGeoJSON(w, fc)
}

type activateRequest struct {
	EffectiveAt *string `json:"effective_at"`
}

// handleGridVersionActivate puts a draft in force now, or schedules it.
// Applied now, the open cases it re-attributes reach this process's live
// index through the hub (each case, or a reload for many) and other
// processes through the case channel.
func (s *Server) handleGridVersionActivate(w http.ResponseWriter, r *http.Request) error {
	id, err := versionID(r)
	if err != nil {
		return err
	}
	var req activateRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	var at time.Time
	if req.EffectiveAt != nil && *req.EffectiveAt != "now" {
		if at, err = parseTime(*req.EffectiveAt, "effective_at"); err != nil {
			return err
		}
	}
	act, err := s.versions.Activate(r.Context(), id, at, s.now())
	if err != nil {
		return err
	}
	if !act.Scheduled {
		if err := s.index.Rebuild(r.Context(), s.grids); err != nil {
			return err
		}
		s.asOf.reset()
		if err := s.casesMoved(r, act.Moved); err != nil {
			return err
		}
	} else {
		s.asOf.reset()
	}
	return writeJSON(w, http.StatusOK, act)
}

// casesMoved brings re-attributed cases into this process's live index
// before the reply, as every case write does; other processes have them
// from the change feed.
func (s *Server) casesMoved(r *http.Request, ids []int64) error {
	finder, ok := s.cases.(interface {
		FindCasesByID(context.Context, []int64) ([]*cases.Case, error)
	})
	if s.live == nil || len(ids) == 0 || !ok {
		return nil // no index to keep (or a store that cannot say): the feed brings them
	}
	const chunk = 10_000
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		cs, err := finder.FindCasesByID(r.Context(), ids[:n])
		if err != nil {
			return err
		}
		s.changed(r, cs...)
		ids = ids[n:]
	}
	return nil
}
