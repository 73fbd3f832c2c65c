package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid/access"
)

// KeyStore keeps API keys (postgres.KeyStore).
type KeyStore interface {
	access.KeyLookup
	CreateKey(ctx context.Context, k access.Key, hash []byte) (*access.Key, error)
	Keys(ctx context.Context) ([]*access.Key, error)
	KeyByID(ctx context.Context, id int64) (*access.Key, error) // nil when there is none
	RevokeKey(ctx context.Context, id int64, now time.Time) (*access.Key, error)
}

func (s *Server) registerKeyRoutes(r chi.Router) {
	r.Get("/keys", s.handle(s.handleKeysList))
	r.Post("/keys", s.handle(s.handleKeyCreate))
	r.Delete("/keys/{id}", s.handle(s.handleKeyRevoke))
}

// keyReply is a key as the API shows it: never its token (but once, when
// it is made).
type keyReply struct {
	ID string `json:"id"`
	*access.Key
	Token string `json:"token,omitempty"`
}

// keyRequest is the body of POST /v1/keys.
type keyRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Scope     []string   `json:"scope"`
	Unit      string     `json:"unit"`
	Source    string     `json:"source"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) handleKeyCreate(w http.ResponseWriter, r *http.Request) error {
	var in keyRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	k := access.Key{Name: in.Name, Role: access.Role(in.Role), Scope: in.Scope, Unit: in.Unit, Source: in.Source, ExpiresAt: in.ExpiresAt}
	stored, token, err := CreateKey(r.Context(), s.keys, k, s.now())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/keys/"+stored.IDString())
	return writeJSON(w, http.StatusCreated, keyReply{ID: stored.IDString(), Key: stored, Token: token})
}

// CreateKey validates k, makes its token and stores it: the one way a key
// is made, by the API and the command line alike. The token is returned
// once and never stored.
func CreateKey(ctx context.Context, keys KeyStore, k access.Key, now time.Time) (*access.Key, string, error) {
	if err := k.Validate(now); err != nil {
		return nil, "", fieldProblem(err)
	}
	token, hash := access.NewToken()
	stored, err := keys.CreateKey(ctx, k, hash)
	if err != nil {
		return nil, "", err
	}
	return stored, token, nil
}

func (s *Server) handleKeysList(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	keys, err := s.keys.Keys(r.Context())
	if err != nil {
		return err
	}
	out := make([]keyReply, len(keys))
	for i, k := range keys {
		out[i] = keyReply{ID: k.IDString(), Key: k}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (s *Server) handleKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return invalid("key id %q is not a positive integer", truncate(raw, 40))
	}
	k, err := s.keys.RevokeKey(r.Context(), id, s.now())
	if err != nil {
		return err
	}
	if f, ok := s.authn.(interface{ Forget() }); ok {
		f.Forget() // at once in this process; elsewhere within the lookup's TTL
	}
	return writeJSON(w, http.StatusOK, keyReply{ID: k.IDString(), Key: k})
}

// handleMe answers who the caller is and what it may do.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	csrf := ""
	if sess := sessionOf(r); sess != nil {
		csrf = sess.CSRFToken
	}
	return writeJSON(w, http.StatusOK, me(principal(r), csrf))
}

// me is the reply of GET /v1/me: who p is and what it may do; for a
// session, the user and the CSRF token its page sends with each change.
func me(p *access.Principal, csrf string) map[string]any {
	scope := p.Scope
	if len(scope) == 0 {
		scope = nil // the whole district
	}
	out := map[string]any{
		"key_id":         strconv.FormatInt(p.KeyID, 10),
		"name":           p.Name,
		"role":           p.Role,
		"scope":          scope,
		"unit":           nullString(p.Unit),
		"source":         nullString(p.Source),
		"expires_at":     nullTime(p.ExpiresAt),
		"permissions":    p.Role.Permissions(),
		"case_actions":   access.RoleCaseActions(p.Role),
		"sees_free_text": p.Role.SeesFreeText(),
	}
	if p.UserID != 0 {
		out["user"] = map[string]string{"id": strconv.FormatInt(p.UserID, 10), "name": p.Name, "display_name": p.DisplayName}
	}
	if csrf != "" {
		out["csrf_token"] = csrf
	}
	return out
}
