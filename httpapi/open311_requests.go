package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
	"citygrid/open311"
)

// IdempotencyKeyHeader carries a client's own id of a submitted request:
// sent again, the request returns the one stored the first time.
const IdempotencyKeyHeader = "Idempotency-Key"

// handleOpen311Submit serves POST requests: a form-encoded report, whose
// api_key (a form field, never a header or the URL) is an integration
// key; the case is made as POST /v1/cases makes one, of the key's source.
func (s *Server) handleOpen311Submit(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
		return invalid("the body is a form: send it as application/x-www-form-urlencoded (Content-Type %q)", truncate(r.Header.Get("Content-Type"), 60))
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(s.cfg.MaxBodyBytes)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return citygrid.Errorf(citygrid.CodeTooLarge, "the form is larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return invalid("the form cannot be read: %v", err)
	}
	r, _, err = s.open311Caller(r, r.PostForm.Get("api_key"))
	if err != nil {
		return err
	}
	p := principal(r)
	if p.Source == "" {
		return access.Forbidden("case", "", "api_key", "api_key: an Open311 api_key is an integration key, which names the source its reports come from; a %s key has none", p.Role)
	}
	sub, err := open311.ParseSubmission(r.PostForm)
	if err != nil {
		return err
	}
	extID := sub.ExternalID
	if k := r.Header.Get(IdempotencyKeyHeader); k != "" {
		if extID != "" && extID != k {
			return invalid("the %s header and external_id differ: send the client's id once", IdempotencyKeyHeader)
		}
		if len(k) > cases.MaxExternalIDLen {
			return invalid("%s is longer than %d bytes", IdempotencyKeyHeader, cases.MaxExternalIDLen)
		}
		extID = k
	}
	if extID == "" {
		// No id of the client's: a re-sent request cannot be told from a
		// new one, so this one gets an id of its own.
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		extID = "open311-" + hex.EncodeToString(b)
	}
	cats, cal, l, err := s.caseContext(r)
	if err != nil {
		return err
	}
	cat, err := open311.FindService(cats, sub.ServiceCode)
	if err != nil {
		return err
	}
	attrs, err := open311.CheckAttributes(cat.Attributes, sub.Attributes)
	if err != nil {
		return err
	}
	in := cases.Input{Source: p.Source, ExternalID: extID, Category: cat.Code, Description: sub.Description,
		Location: &[]float64{sub.Long, sub.Lat}, Properties: sub.Properties(attrs)}
	now := s.now()
	c, err := in.Prepare(cats, cal, l, now)
	if err != nil {
		return fieldError(err)
	}
	if err := s.mayCreate(r, c); err != nil {
		return err
	}
	stored, created, err := s.cases.CreateCase(r.Context(), c, p.Actor())
	if err != nil {
		return err
	}
	if !created && !s.scopeOf(r).Sees(stored) {
		return &access.Denied{Err: citygrid.Errorf(citygrid.CodeConflict, "external_id %q of source %q is taken by a case outside your scope", truncate(extID, 80), truncate(p.Source, 40)),
			ObjectType: "case", ObjectID: strconv.FormatInt(stored.ID, 10), Reason: "re-sent report of a case out of scope"}
	}
	if created {
		s.changed(r, stored)
	}
	writeOpen311(w, f, http.StatusOK, open311.CreatedList{{ServiceRequestID: strconv.FormatInt(stored.ID, 10), AccountID: sub.AccountID}})
	return nil
}

// open311Sight is what a reader may see of cases: its scope, and for an
// anonymous reader the public categories only.
type open311Sight struct {
	reader   open311Reader
	restrict cases.Restriction
	scope    *access.Scope // nil: anonymous
	public   []string      // anonymous: the codes of public categories
	view     open311.View
}

func (s *Server) open311Sight(r *http.Request, reader open311Reader, cats *cases.Categories, loc *time.Location, ext bool) open311Sight {
	sg := open311Sight{reader: reader, view: open311.View{FreeText: true, Extensions: ext, Location: loc}}
	if reader.p != nil {
		sg.scope = s.scopeOf(r)
		sg.restrict = sg.scope.Restriction()
		sg.view.FreeText = reader.p.Role.SeesFreeText()
		return sg
	}
	sg.public = open311.PublicPrefixes(cats)
	return sg
}

// sees reports whether the reader may see c.
func (sg open311Sight) sees(c *cases.Case, cats *cases.Categories) bool {
	if sg.scope != nil {
		return sg.scope.Sees(c)
	}
	return open311.IsPublic(cats, c.Category)
}

// categories cuts a list of category codes (nil: every one) to what the
// reader may see; ok is false when nothing is left.
func (sg open311Sight) categories(codes []string) (out []string, ok bool) {
	if sg.scope != nil {
		return codes, true
	}
	if codes == nil {
		return sg.public, len(sg.public) > 0
	}
	for _, c := range codes {
		for _, p := range sg.public {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
				break
			}
		}
	}
	return out, len(out) > 0
}

// render turns cases into requests, with the notes of their rejections
// and, with extensions, their histories: one query for the page.
func (s *Server) renderOpen311(r *http.Request, sg open311Sight, cats *cases.Categories, list []*cases.Case) (open311.Requests, error) {
	var ids []int64
	for _, c := range list {
		if sg.view.Extensions || c.Status == cases.StatusRejected {
			ids = append(ids, c.ID)
		}
	}
	byCase := map[int64][]cases.CaseEvent{}
	if len(ids) > 0 {
		events, err := s.cases.FindEvents(r.Context(), cases.EventFilter{CaseIDs: ids, Limit: 100 * open311.MaxResults})
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			byCase[e.Case.ID] = append(byCase[e.Case.ID], e)
		}
	}
	out := open311.Requests{}
	for _, c := range list {
		rejection := ""
		for _, e := range byCase[c.ID] {
			if e.To == string(cases.StatusRejected) {
				rejection = e.Note
			}
		}
		out = append(out, sg.view.NewRequest(c, cats, rejection, byCase[c.ID]))
	}
	return out, nil
}

// handleOpen311Requests serves GET requests.
func (s *Server) handleOpen311Requests(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	r, reader, err := s.open311Caller(r, "")
	if err != nil {
		return err
	}
	now := s.now()
	q, err := open311.ParseRequestsQuery(r.URL.Query(), now)
	if err != nil {
		return err
	}
	cats, loc, err := s.open311Context(r)
	if err != nil {
		return err
	}
	sg := s.open311Sight(r, reader, cats, loc, q.Extensions)
	var list []*cases.Case
	if q.IDs != nil {
		// Unknown ids and ids out of sight are left out, never faked.
		for _, id := range q.IDs {
			c, err := s.cases.FindCaseByID(r.Context(), id)
			if citygrid.ErrorCode(err) == citygrid.CodeNotFound {
				continue
			} else if err != nil {
				return err
			}
			if sg.sees(c, cats) {
				list = append(list, c)
			}
		}
	} else {
		for _, code := range q.ServiceCodes {
			if _, err := open311.FindService(cats, code); err != nil {
				return err
			}
		}
		codes, ok := sg.categories(q.ServiceCodes)
		if ok {
			end := q.End.Add(time.Microsecond) // end_date is included
			fl := cases.Filter{Area: cases.Area{All: true}, Categories: codes, From: &q.Start, To: &end,
				Limit: q.PageSize, Offset: (q.Page - 1) * q.PageSize, Now: now, Restrict: sg.restrict}
			if q.Near != nil {
				fl.Area = cases.Area{Near: q.Near, RadiusM: q.RadiusM}
			}
			if fl.Statuses, err = open311.InternalStatuses(q.Statuses); err != nil {
				return err
			}
			if q.UpdatedAfter != nil {
				after := q.UpdatedAfter.Add(time.Microsecond) // after is excluded
				fl.UpdatedFrom = &after
			}
			if q.UpdatedBefore != nil {
				before := q.UpdatedBefore.Add(time.Microsecond) // before is included
				fl.UpdatedTo = &before
			}
			if list, _, err = s.cases.FindCases(r.Context(), fl); err != nil {
				return err
			}
		}
	}
	out, err := s.renderOpen311(r, sg, cats, list)
	if err != nil {
		return err
	}
	writeOpen311(w, f, http.StatusOK, out)
	return nil
}

// handleOpen311Request serves GET requests/{id}: one request, or a 404
// for an id that is no case the reader may see.
func (s *Server) handleOpen311Request(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	r, reader, err := s.open311Caller(r, "")
	if err != nil {
		return err
	}
	raw := chi.URLParam(r, "id")
	notFound := citygrid.Errorf(citygrid.CodeNotFound, "service request %s not found", truncate(raw, 40))
	id, ok := open311.ParseID(raw)
	if !ok {
		return notFound
	}
	ext, err := parseBool(r.URL.Query().Get("extensions"), "extensions")
	if err != nil {
		return err
	}
	cats, loc, err := s.open311Context(r)
	if err != nil {
		return err
	}
	sg := s.open311Sight(r, reader, cats, loc, ext)
	c, err := s.cases.FindCaseByID(r.Context(), id)
	if citygrid.ErrorCode(err) == citygrid.CodeNotFound {
		return notFound
	} else if err != nil {
		return err
	}
	if !sg.sees(c, cats) {
		return access.Hidden("case", raw, notFound.Message)
	}
	out, err := s.renderOpen311(r, sg, cats, []*cases.Case{c})
	if err != nil {
		return err
	}
	writeOpen311(w, f, http.StatusOK, out)
	return nil
}

// handleOpen311Updates serves GET servicerequestupdates: the events of
// the window, oldest first, at most 1,000; each keeps its update_id (the
// event's id), so a client that asks again from the last one's time
// recognises what it has seen.
func (s *Server) handleOpen311Updates(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	r, reader, err := s.open311Caller(r, "")
	if err != nil {
		return err
	}
	q, err := open311.ParseUpdatesQuery(r.URL.Query(), s.now())
	if err != nil {
		return err
	}
	cats, loc, err := s.open311Context(r)
	if err != nil {
		return err
	}
	sg := s.open311Sight(r, reader, cats, loc, false)
	out := open311.Updates{}
	if codes, ok := sg.categories(nil); ok {
		end := q.End.Add(time.Microsecond)
		events, err := s.cases.FindEvents(r.Context(), cases.EventFilter{From: &q.Start, To: &end, Categories: codes,
			Restrict: sg.restrict, Limit: open311.MaxResults})
		if err != nil {
			return err
		}
		for _, e := range events {
			out = append(out, sg.view.NewUpdate(e))
		}
	}
	writeOpen311(w, f, http.StatusOK, out)
	return nil
}
