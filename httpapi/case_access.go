package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb/geojson"

	"citygrid/access"
	"citygrid/cases"
)

// caseView is how one caller sees cases: the actions it may take on each,
// and reporters' free text only for the roles that may read it.
type caseView struct {
	p   *access.Principal
	now time.Time
}

func (s *Server) caseView(r *http.Request, now time.Time) caseView {
	return caseView{p: principal(r), now: now}
}

// freeText is a case's reporter-written fields, which planners and viewers
// never see.
var freeText = []string{"title", "description", "properties"}

// feature renders c for the caller.
func (v caseView) feature(c *cases.Case) *geojson.Feature {
	f := newCaseFeature(c, v.now)
	f.Properties["actions"] = access.CaseActions(v.p, cases.AvailableActions(c, v.now))
	if !v.p.Role.SeesFreeText() {
		for _, k := range freeText {
			delete(f.Properties, k)
		}
	}
	return f
}

// redact blanks what the caller may not read of cases about to be listed
// as CSV.
func (v caseView) redact(list []*cases.Case) []*cases.Case {
	if v.p.Role.SeesFreeText() {
		return list
	}
	out := make([]*cases.Case, len(list))
	for i, c := range list {
		cp := *c
		cp.Title, cp.Description, cp.Properties = "", "", nil
		out[i] = &cp
	}
	return out
}

// visibleCase reads case id if the caller may see it; one it may not see
// answers exactly as one that does not exist.
func (s *Server) visibleCase(r *http.Request, id int64) (*cases.Case, error) {
	c, err := s.cases.FindCaseByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !s.scopeOf(r).Sees(c) {
		return nil, access.Hidden("case", strconv.FormatInt(id, 10), "case "+strconv.FormatInt(id, 10)+" not found")
	}
	return c, nil
}

// mayCreate checks that the caller may store c: inside its scope, and an
// integration only cases of its own source.
func (s *Server) mayCreate(r *http.Request, c *cases.Case) error {
	p := principal(r)
	if p.Source != "" && c.Source != p.Source {
		return access.Forbidden("case", c.Source+"/"+c.ExternalID, "source", "source %q: this key writes cases of source %q only", truncate(c.Source, 40), p.Source)
	}
	if !s.scopeOf(r).Sees(c) {
		return access.Forbidden("case", c.Source+"/"+c.ExternalID, "location", "location: grid %q lies outside your scope", c.Grid)
	}
	if !p.Role.MayReportAs(c.Status) {
		return access.Forbidden("case", c.Source+"/"+c.ExternalID, "status", "status %q: a %s key reports cases as %s", c.Status, p.Role, strings.Join(p.Role.ReportStatuses(), " or "))
	}
	return nil
}
