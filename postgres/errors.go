package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"citygrid"
)

// SQLSTATEs translated at the package boundary; the names are those of
// github.com/jackc/pgerrcode, which is not worth a dependency for two.
const (
	uniqueViolation    = "23505" // pgerrcode.UniqueViolation
	exclusionViolation = "23P01" // pgerrcode.ExclusionViolation
)

// conflictMessages are the client-safe messages of the constraints that a
// write can violate, by constraint name. Only constraints that a write path
// can actually violate belong here (see translateWriteError's callers); the
// rest of the schema's unique keys are written with ON CONFLICT.
var conflictMessages = map[string]string{
	"users_name_key": "a user of that name exists",
	// Category writers take the table in turn, so only a writer that
	// bypassed it (another version of citygrid, a hand-run script) can
	// leave a row under a code its copy brings.
	"categories_pkey": "the category table was changed by another writer at the same time; read it again and resend yours if it still applies",
}

// defaultConflictMessage is the message of a violation of a constraint not
// in conflictMessages (for instance one added by a later migration).
const defaultConflictMessage = "the change conflicts with data stored at the same time; read it again and retry"

// isPgError reports whether err is a PostgreSQL error with the given
// SQLSTATE, and returns it.
func isPgError(err error, code string) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == code {
		return pe, true
	}
	return nil, false
}

// translateWriteError turns a unique or exclusion violation into a
// CodeConflict *citygrid.Error whose message is chosen by the constraint's
// name, never taken from the server's text (which names tables, columns and
// values); anything else is wrapped with op. Both keep op as context for
// the log.
func translateWriteError(op string, err error) error {
	pe, ok := isPgError(err, uniqueViolation)
	if !ok {
		pe, ok = isPgError(err, exclusionViolation)
	}
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	msg, known := conflictMessages[pe.ConstraintName]
	if !known {
		msg = defaultConflictMessage
	}
	return fmt.Errorf("%s: %s: %w", op, pe.ConstraintName, citygrid.Errorf(citygrid.CodeConflict, "%s", msg))
}
