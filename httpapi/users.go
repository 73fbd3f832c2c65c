package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid"
	"citygrid/access"
)

// UserStore keeps users and their sessions (postgres.UserStore).
type UserStore interface {
	access.SessionLookup
	CreateUser(ctx context.Context, u access.User) (*access.User, error)
	UserByName(ctx context.Context, name string) (*access.User, error) // nil when there is none
	Users(ctx context.Context) ([]*access.User, error)
	UpdateUser(ctx context.Context, name string, now time.Time, change func(*access.User) error) (*access.User, error)
	CreateSession(ctx context.Context, userID int64, hash []byte, csrf string, now, expires time.Time, idle time.Duration) error
	DeleteSession(ctx context.Context, hash []byte) error
}

func (s *Server) registerUserRoutes(r chi.Router) {
	r.Get("/users", s.handle(s.handleUsersList))
	r.Post("/users", s.handle(s.handleUserCreate))
	r.Patch("/users/{name}", s.handle(s.handleUserUpdate))
}

// userReply is a user as the API shows it: never a password hash; the
// password only once, when the server made it.
type userReply struct {
	ID string `json:"id"`
	*access.User
	Password string `json:"password,omitempty"`
}

// userRequest is the body of POST /v1/users.
type userRequest struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Role        string   `json:"role"`
	Scope       []string `json:"scope"`
	Unit        string   `json:"unit"`
	Password    string   `json:"password"` // none: one is made and answered once
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in userRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	u := access.User{Name: in.Name, DisplayName: in.DisplayName, Role: access.Role(in.Role), Scope: in.Scope, Unit: in.Unit}
	stored, password, err := CreateUser(r.Context(), s.users, u, in.Password)
	if err != nil {
		return err
	}
	reply := userReply{ID: stored.IDString(), User: stored}
	if in.Password == "" {
		reply.Password = password
	}
	w.Header().Set("Location", "/v1/users/"+stored.Name)
	return writeJSON(w, http.StatusCreated, reply)
}

// CreateUser validates u, hashes its password (made when empty) and stores
// it: the one way a user is made, by the API and the command line alike.
// The password is returned, never stored.
func CreateUser(ctx context.Context, users UserStore, u access.User, password string) (*access.User, string, error) {
	if err := u.Validate(); err != nil {
		return nil, "", fieldProblem(err)
	}
	if password == "" {
		password = access.NewPassword()
	}
	if err := access.ValidatePassword(password); err != nil {
		return nil, "", fieldProblem(err)
	}
	u.PasswordHash = access.HashPassword(password)
	stored, err := users.CreateUser(ctx, u)
	if err != nil {
		return nil, "", err
	}
	return stored, password, nil
}

// fieldProblem turns an access.FieldError into a 400 naming the field.
func fieldProblem(err error) error {
	var fe *access.FieldError
	if errors.As(err, &fe) {
		e := citygrid.Errorf(citygrid.CodeInvalid, "%s", fe.Error())
		e.Details = map[string]any{"field": fe.Field}
		return e
	}
	return err
}

func (s *Server) handleUsersList(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	users, err := s.users.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]userReply, len(users))
	for i, u := range users {
		out[i] = userReply{ID: u.IDString(), User: u}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// userChange is the body of PATCH /v1/users/{name}: the fields sent
// change, the others stay.
type userChange struct {
	DisplayName *string   `json:"display_name"`
	Role        *string   `json:"role"`
	Scope       *[]string `json:"scope"`
	Unit        *string   `json:"unit"`
	Disabled    *bool     `json:"disabled"`
	Password    *string   `json:"password"`
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) error {
	var in userChange
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	var hash string
	if in.Password != nil {
		// Hashed before the row is locked: the KDF takes its time.
		if err := access.ValidatePassword(*in.Password); err != nil {
			return fieldProblem(err)
		}
		hash = access.HashPassword(*in.Password)
	}
	u, err := UpdateUser(r.Context(), s.users, chi.URLParam(r, "name"), s.now(), in.apply(hash))
	if err != nil {
		return err
	}
	s.forgetSessions()
	return writeJSON(w, http.StatusOK, userReply{ID: u.IDString(), User: u})
}

// apply returns the change of a stored user the body asks for.
func (c userChange) apply(hash string) func(*access.User) error {
	return func(u *access.User) error {
		if c.DisplayName != nil {
			u.DisplayName = *c.DisplayName
		}
		if c.Role != nil {
			u.Role = access.Role(*c.Role)
		}
		if c.Scope != nil {
			u.Scope = *c.Scope
		}
		if c.Unit != nil {
			u.Unit = *c.Unit
		}
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if hash != "" {
			u.PasswordHash = hash
		}
		return nil
	}
}

// UpdateUser changes user name with change and validates the result: the
// one way a user is changed, by the API and the command line alike.
func UpdateUser(ctx context.Context, users UserStore, name string, now time.Time, change func(*access.User) error) (*access.User, error) {
	return users.UpdateUser(ctx, name, now, func(u *access.User) error {
		if err := change(u); err != nil {
			return err
		}
		if u.Scope == nil {
			u.Scope = []string{}
		}
		return fieldProblem(u.Validate())
	})
}

// forgetSessions makes a user change take effect at once in this process
// (elsewhere within the session lookup's half second).
func (s *Server) forgetSessions() {
	if s.sessions != nil {
		s.sessions.Forget()
	}
}
