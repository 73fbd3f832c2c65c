package httpapi

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/position"
)

// The case lifecycle and the sources in the data, so that clients (the
// battle map among them) take domain rules from the API instead of
// restating them.
func (s *Server) registerLifecycleRoutes(r chi.Router) {
	r.Get("/statuses", s.handle(s.handleStatuses))
	if s.live != nil {
		r.Get("/sources", s.handle(s.handleSources))
	}
}

type statusJSON struct {
	Status cases.Status   `json:"status"`
	Open   bool           `json:"open"`
	Final  bool           `json:"final"`
	Next   []cases.Status `json:"next"`
	// Actions are the status actions that leave this status.
	Actions []cases.Action `json:"actions"`
}

// actionJSON is one action: the statuses it moves a case from and the one
// it moves it to (none for an action that changes no status).
type actionJSON struct {
	Action cases.Action   `json:"action"`
	From   []cases.Status `json:"from"`
	To     *cases.Status  `json:"to"`
}

// handleStatuses serves GET /v1/statuses: every status in lifecycle order,
// whether its cases are open (their deadline runs), where it may go and by
// which actions; and every action's name, the words PATCH and access
// control speak.
func (s *Server) handleStatuses(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	out := make([]statusJSON, len(cases.Statuses))
	for i, st := range cases.Statuses {
		out[i] = statusJSON{Status: st, Open: st.Open(), Final: st.Final(), Next: nextStatuses(st), Actions: []cases.Action{}}
	}
	actions := make([]actionJSON, len(cases.Actions))
	for i, a := range cases.Actions {
		from, to := a.Moves()
		actions[i] = actionJSON{Action: a, From: from}
		if from == nil {
			actions[i].From = []cases.Status{}
			continue
		}
		actions[i].To = &to
		for _, f := range from {
			j := slices.Index(cases.Statuses, f)
			out[j].Actions = append(out[j].Actions, a)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"statuses": out, "actions": actions})
}

// handleSources serves GET /v1/sources: the sources of the cases held in
// the caller's scope, most cases first.
func (s *Server) handleSources(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	f := caseindex.Filter{Restriction: s.scopeOf(r).Restriction()}
	return writeJSON(w, http.StatusOK, map[string]any{"sources": s.live.Index().SourcesMatching(f)})
}

// nextStatuses is st.Next() as JSON wants it: [] rather than null.
func nextStatuses(st cases.Status) []cases.Status {
	if next := st.Next(); next != nil {
		return next
	}
	return []cases.Status{}
}

// changed hands the cases a request of this server created or changed to
// the live hub (the case index, the tiles, the event streams), if it has
// one, with the change-feed position the request's writes produced.
func (s *Server) changed(r *http.Request, cs ...*cases.Case) {
	if s.live != nil {
		s.live.ChangedAt(requestPosition(r), cs...)
	}
}

// requestPosition is the largest position the request's writes noted so
// far (0: none).
func requestPosition(r *http.Request) uint64 {
	p, _ := position.NoteOf(r.Context()).Max()
	return p
}
