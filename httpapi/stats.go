package httpapi

import (
	"citygrid/cases"
	"net/http"
	"time"
)

// maxStatsPeriod bounds one summary: a few years of daily rhythm.
const maxStatsPeriod = 5 * 366 * 24 * time.Hour

// handleStats serves GET /v1/stats?by=&from=&to=: the indicators of the
// daily bulletin, weekly dispatch and monthly review (defined in
// cases.StatsRow). Without from/to it covers the last 30 days. as_of is the
// instant the figures are taken at: the period's end, or now if that comes
// first.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "by", "from", "to", "basis"); err != nil {
		return err
	}
	sq := cases.StatsQuery{By: cases.StatsBy(q.Get("by"))}
	// basis (issue 19): recorded (default) groups each case as recorded
	// at the period's end; current re-bases it on today's boundaries.
	switch b := cases.Basis(q.Get("basis")); b {
	case "", cases.BasisRecorded:
		sq.Basis = cases.BasisRecorded
	case cases.BasisCurrent:
		sq.Basis = b
	default:
		return invalid("basis: want recorded or current")
	}
	valid := false
	for _, b := range cases.StatsGroupings {
		valid = valid || b == sq.By
	}
	if !valid {
		return invalid("by: want street, community, grid, unit, category, status or day")
	}
	now := s.now().UTC()
	sq.To, sq.From = now, now.Add(-30*24*time.Hour)
	for name, dst := range map[string]*time.Time{"from": &sq.From, "to": &sq.To} {
		if raw := q.Get(name); raw != "" {
			t, err := parseTime(raw, name)
			if err != nil {
				return err
			}
			*dst = t
		}
	}
	if !sq.From.Before(sq.To) {
		return invalid("from must be before to")
	}
	if sq.To.Sub(sq.From) > maxStatsPeriod {
		return invalid("the period may span at most five years")
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return err
	}
	sq.TimeZone = cal.TimeZone
	sq.Now = now
	sq.Restrict = s.scopeOf(r).Restriction()
	rows, err := s.stats.Stats(r.Context(), sq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"by": sq.By, "from": sq.From.Format(time.RFC3339), "to": sq.To.Format(time.RFC3339),
		"as_of": sq.End().Format(time.RFC3339Nano), "basis": sq.Basis, "rows": rows,
	})
}
