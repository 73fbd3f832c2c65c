package access

import (
	"context"
	"time"
)

// Principal is who a request acts as: the identity its credential names.
type Principal struct {
	KeyID  int64 // the API key (0: none)
	UserID int64 // the user signed in (0: none)
	// Name is the key's name or the user's user name, shown in histories
	// and the audit trail.
	Name        string
	DisplayName string // a user's display name
	Role        Role
	// Scope lists the grid codes whose subtrees the principal sees and acts
	// on; empty means the whole district.
	Scope []string
	// Unit is a handler's unit: it sees only the cases assigned to it.
	Unit string
	// Source is an integration's source: it reads only the cases of it
	// and writes only cases of it.
	Source    string
	ExpiresAt *time.Time
}

// Actor names the principal in case histories: "key 12 (name)".
func (p *Principal) Actor() string {
	if p == nil {
		return ""
	}
	return p.Name
}

// Request is what the audit trail records of the request itself.
type Request struct {
	ID   string // the request id (X-Request-Id)
	Addr string // the client address
}

type principalKey struct{}
type requestKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// WithRequest returns ctx carrying the request's audit facts.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request facts ctx carries (zero when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
