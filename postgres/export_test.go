package postgres

import "github.com/jackc/pgx/v5"

// TranslateWriteError lets the tests of package postgres_test (which can
// use dbtest) feed real server errors to translateWriteError.
var TranslateWriteError = translateWriteError

// Settled wraps tx as Patient.Begin does, so that tests can hand it a
// transaction whose connection "breaks" at COMMIT.
func Settled(p *Patient, tx pgx.Tx) pgx.Tx { return &settledTx{Tx: tx, p: p} }
