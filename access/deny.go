package access

import (
	"fmt"

	"citygrid"
)

// Denied is a refusal: the client sees Err (a 404 exactly like an unknown
// object's, or a 403 naming what is not allowed); the audit trail records
// the object and the reason. The HTTP layer writes every Denied it answers
// to the audit trail.
type Denied struct {
	Err        *citygrid.Error
	ObjectType string
	ObjectID   string
	Reason     string
}

func (d *Denied) Error() string { return d.Err.Error() }
func (d *Denied) Unwrap() error { return d.Err }

// Hidden refuses an object outside the caller's scope with message, the
// very words an unknown object gets.
func Hidden(objectType, id, message string) error {
	return &Denied{Err: citygrid.Errorf(citygrid.CodeNotFound, "%s", message), ObjectType: objectType, ObjectID: id, Reason: "out of scope"}
}

// Forbidden refuses an action the caller's role or scope does not allow,
// naming the field of the request that asked for it.
func Forbidden(objectType, id, field, format string, a ...any) error {
	e := citygrid.Errorf(citygrid.CodeForbidden, format, a...)
	if field != "" {
		e.Details = map[string]any{"field": field}
	}
	return &Denied{Err: e, ObjectType: objectType, ObjectID: id, Reason: fmt.Sprintf("forbidden: %s", e.Message)}
}
