package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid"
	"citygrid/access"
	"citygrid/bulletin"
	"citygrid/cases"
)

// Bulletins (日通报、周调度、月总结), issue 18. Every route is registered
// here.
func (s *Server) registerBulletinRoutes(r chi.Router) {
	r.Get("/bulletins", s.handle(s.handleBulletinsList))
	r.Get("/bulletins/{kind}/{scope}/{period}", s.handle(s.handleBulletinGet))
	r.Post("/bulletins/{kind}/{scope}/{period}", s.handle(s.handleBulletinGenerate))
	r.Post("/bulletins/{kind}/{scope}/{period}/corrections", s.handle(s.handleBulletinCorrect))
}

// bulletinKey reads the path's kind, scope and period. A scope the
// caller's does not hold answers as one that does not exist.
func (s *Server) bulletinKey(r *http.Request) (bulletin.Scope, bulletin.Period, error) {
	kind, err := bulletin.ParseKind(chi.URLParam(r, "kind"))
	if err != nil {
		return bulletin.Scope{}, bulletin.Period{}, err
	}
	scope, err := bulletin.ParseScope(chi.URLParam(r, "scope"))
	if err != nil {
		return bulletin.Scope{}, bulletin.Period{}, err
	}
	if !s.seesBulletinScope(r, scope) {
		return bulletin.Scope{}, bulletin.Period{}, &access.Denied{
			Err:        citygrid.Errorf(citygrid.CodeNotFound, "scope %s: no %s %q", scope, scope.Kind, truncate(scope.Code, 40)),
			ObjectType: "bulletin", ObjectID: scope.String(), Reason: "bulletin scope outside the caller's"}
	}
	if _, err := bulletin.Resolve(s.index.Locator(), scope); err != nil {
		return bulletin.Scope{}, bulletin.Period{}, err
	}
	loc, err := s.districtZone(r)
	if err != nil {
		return bulletin.Scope{}, bulletin.Period{}, err
	}
	p, err := bulletin.ParsePeriod(kind, chi.URLParam(r, "period"), loc)
	return scope, p, err
}

func (s *Server) districtZone(r *http.Request) (*time.Location, error) {
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return nil, err
	}
	return time.LoadLocation(cal.TimeZone)
}

// seesBulletinScope: the whole district reads every bulletin; a key
// scoped to grids reads those of the streets in its scope; a handler
// those of its unit.
func (s *Server) seesBulletinScope(r *http.Request, b bulletin.Scope) bool {
	sc := s.scopeOf(r)
	if sc.Whole() {
		return true
	}
	p := principal(r)
	switch b.Kind {
	case bulletin.Street:
		return p.Unit == "" && p.Source == "" && (sc.Grids() == nil || sc.Grids()[b.Code])
	case bulletin.Unit:
		return p.Unit == b.Code || p.Unit == "" && p.Source == "" && sc.Grids() == nil
	}
	return false
}

func (s *Server) handleBulletinsList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "kind", "scope", "from", "to", "limit"); err != nil {
		return err
	}
	f := bulletin.Filter{Limit: 100}
	if v := q.Get("kind"); v != "" {
		k, err := bulletin.ParseKind(v)
		if err != nil {
			return err
		}
		f.Kind = k
	}
	if v := q.Get("scope"); v != "" {
		sc, err := bulletin.ParseScope(v)
		if err != nil {
			return err
		}
		f.Scope = sc.String()
	}
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := parseTime(v, name)
			if err != nil {
				return err
			}
			*dst = &t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := parseInt(v, "limit", 1, 1000)
		if err != nil {
			return err
		}
		f.Limit = n
	}
	recs, err := s.bulletins.Store.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, rec := range recs {
		sc, err := bulletin.ParseScope(rec.Scope)
		if err != nil || !s.seesBulletinScope(r, sc) {
			continue
		}
		out = append(out, bulletinSummary(rec))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"bulletins": out})
}

func bulletinPath(rec *bulletin.Record) string {
	return "/v1/bulletins/" + string(rec.Kind) + "/" + rec.Scope + "/" + rec.Period
}

func bulletinSummary(rec *bulletin.Record) map[string]any {
	return map[string]any{"kind": rec.Kind, "scope": rec.Scope, "period": rec.Period, "revision": rec.Revision,
		"from": rec.From.UTC().Format(time.RFC3339), "to": rec.To.UTC().Format(time.RFC3339),
		"generated_at": rec.GeneratedAt.UTC().Format(time.RFC3339), "generated_by": rec.GeneratedBy, "reason": rec.Reason,
		"href": bulletinPath(rec) + "?revision=" + strconv.Itoa(rec.Revision)}
}

// handleBulletinGet serves a stored bulletin (the latest revision, or
// revision=N) as JSON (as stored, byte for byte), CSV or the printable
// page (format=html).
func (s *Server) handleBulletinGet(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "revision", "format"); err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" && format != "html" {
		return invalid("format: want json, csv or html")
	}
	revision := 0
	if v := q.Get("revision"); v != "" {
		n, err := parseInt(v, "revision", 1, 1<<30)
		if err != nil {
			return err
		}
		revision = n
	}
	scope, p, err := s.bulletinKey(r)
	if err != nil {
		return err
	}
	rec, err := s.bulletins.Store.Find(r.Context(), p.Kind, scope.String(), p.Label, revision)
	if err != nil {
		return err
	}
	// A revision never changes: its ETag is its key.
	w.Header().Set("ETag", strconv.Quote(string(rec.Kind)+"/"+rec.Scope+"/"+rec.Period+"/"+strconv.Itoa(rec.Revision)))
	w.Header().Set("X-Bulletin-Revision", strconv.Itoa(rec.Revision))
	switch format {
	case "csv":
		b, err := rec.Bulletin()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		buf.WriteString(utf8BOM)
		writeBulletinCSV(&buf, b)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="bulletin-`+string(rec.Kind)+"-"+rec.Period+"-r"+strconv.Itoa(rec.Revision)+`.csv"`)
		_, _ = w.Write(buf.Bytes())
		return nil
	case "html":
		b, err := rec.Bulletin()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := bulletin.WriteHTML(&buf, b); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(rec.Body)
	return nil
}

// handleBulletinGenerate stores the bulletin of a period over now, unless
// it is stored: then it answers the stored one (200), unchanged.
func (s *Server) handleBulletinGenerate(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	scope, p, err := s.bulletinKey(r)
	if err != nil {
		return err
	}
	rec, created, err := s.bulletins.Generate(r.Context(), scope, p, principal(r).Actor())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Location", bulletinPath(rec)+"?revision="+strconv.Itoa(rec.Revision))
	return writeJSON(w, status, bulletinSummary(rec))
}

type correctionBody struct {
	Reason string `json:"reason"`
}

// handleBulletinCorrect stores a correction: the bulletin computed afresh
// as the next revision, with its reason.
func (s *Server) handleBulletinCorrect(w http.ResponseWriter, r *http.Request) error {
	var b correctionBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &b); err != nil {
		return err
	}
	if len(b.Reason) > 2000 {
		return invalid("reason: longer than 2000 bytes")
	}
	scope, p, err := s.bulletinKey(r)
	if err != nil {
		return err
	}
	rec, err := s.bulletins.Correct(r.Context(), scope, p, principal(r).Actor(), b.Reason)
	if err != nil {
		return err
	}
	w.Header().Set("Location", bulletinPath(rec)+"?revision="+strconv.Itoa(rec.Revision))
	return writeJSON(w, http.StatusCreated, bulletinSummary(rec))
}

// writeBulletinCSV writes a bulletin as rows of section, key, name,
// field, value: every figure of the JSON, rates as fractions.
func writeBulletinCSV(buf *bytes.Buffer, b *bulletin.Bulletin) {
	cw := csv.NewWriter(buf)
	put := func(section, key, name, field string, v any) {
		var s string
		switch x := v.(type) {
		case *float64:
			if x != nil {
				s = strconv.FormatFloat(*x, 'f', -1, 64)
			}
		case *int:
			if x != nil {
				s = strconv.Itoa(*x)
			}
		case int:
			s = strconv.Itoa(x)
		case string:
			s = csvText(x)
		}
		_ = cw.Write([]string{section, csvText(key), csvText(name), field, s})
	}
	_ = cw.Write([]string{"section", "key", "name", "field", "value"})
	for _, f := range [][2]string{{"kind", string(b.Kind)}, {"scope", b.Scope}, {"scope_name", b.ScopeName}, {"period", b.Period},
		{"from", b.From}, {"to", b.To}, {"revision", strconv.Itoa(b.Revision)}, {"reason", b.Reason}, {"generated_at", b.GeneratedAt}, {"as_of", b.AsOf}} {
		put("bulletin", "", "", f[0], f[1])
	}
	row := func(section, key, name string, r cases.StatsRow) {
		put(section, key, name, "received", r.Received)
		put(section, key, name, "filed", r.Filed)
		put(section, key, name, "due", r.Due)
		put(section, key, name, "closed", r.Closed)
		put(section, key, name, "closed_on_time", r.ClosedOnTime)
		put(section, key, name, "overdue", r.Overdue)
		put(section, key, name, "closure_rate", r.ClosureRate)
		put(section, key, name, "on_time_rate", r.OnTimeRate)
	}
	row("summary", b.Scope, b.ScopeName, b.Summary)
	row("previous", b.Scope, b.ScopeName, b.Previous)
	put("change", b.Scope, b.ScopeName, "received", b.Change.Received)
	put("change", b.Scope, b.ScopeName, "closed", b.Change.Closed)
	put("change", b.Scope, b.ScopeName, "closure_rate_pp", b.Change.ClosureRatePP)
	put("change", b.Scope, b.ScopeName, "on_time_rate_pp", b.Change.OnTimeRatePP)
	if b.Rank != nil {
		put("rank", b.Scope, b.ScopeName, "position", b.Rank.Position)
		put("rank", b.Scope, b.ScopeName, "of", b.Rank.Of)
		put("rank", b.Scope, b.ScopeName, "previous_position", b.Rank.PreviousPosition)
	}
	for _, rr := range b.Ranking {
		row("ranking", rr.Key, rr.Name, rr.StatsRow)
		put("ranking", rr.Key, rr.Name, "rank", rr.Rank)
		put("ranking", rr.Key, rr.Name, "previous_rank", rr.PreviousRank)
	}
	for _, h := range b.Hotspots.Top {
		put("hotspot", h.H3.String(), h.Name, "count", h.Count)
		put("hotspot", h.H3.String(), h.Name, "previous_count", h.PreviousCount)
	}
	for _, h := range b.Hotspots.LastPeriod {
		put("last_hotspot", h.H3.String(), h.Name, "count", h.Count)
		put("last_hotspot", h.H3.String(), h.Name, "previous_count", h.PreviousCount)
		put("last_hotspot", h.H3.String(), h.Name, "cooled", strconv.FormatBool(h.Cooled != nil && *h.Cooled))
	}
	for _, u := range b.OverdueByUnit {
		put("overdue_by_unit", u.Unit, u.Name, "overdue", u.Overdue)
		put("overdue_by_unit", u.Unit, u.Name, "open_late", u.OpenLate)
	}
	put("late_milestones", "", "", "connected", strconv.FormatBool(b.LateMilestones.Connected))
	for _, m := range b.LateMilestones.Items {
		put("late_milestone", m.Project, m.ProjectName, m.Milestone, m.DaysLate)
	}
	for _, k := range b.Campaigns {
		row("campaign", k.ID, k.Name, k.Cases)
		put("campaign", k.ID, k.Name, "sites_inspected", k.Sites.Inspected)
		put("campaign", k.ID, k.Name, "sites_total", k.Sites.Total)
		put("campaign", k.ID, k.Name, "sites_failed", k.Sites.Failed)
		put("campaign", k.ID, k.Name, "progress", k.Value)
		put("campaign", k.ID, k.Name, "met", strconv.FormatBool(k.Met))
	}
	cw.Flush()
}
