package httpapi

import (
	"fmt"
	"strconv"

	"citygrid"
)

// patchID parses an id given as a decimal string in field of a PATCH body.
func patchID(field, raw, what string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fieldInvalid(field, "%q is not %s id (a decimal string such as \"42\")", truncate(raw, 40), what)
	}
	return id, nil
}

// fieldInvalid is a 400 naming the field of the body that is wrong.
func fieldInvalid(field, format string, a ...any) error {
	e := citygrid.Errorf(citygrid.CodeInvalid, "%s: %s", field, fmt.Sprintf(format, a...))
	e.Details = map[string]any{"field": field}
	return e
}
