package httpapi_test

import (
	"testing"

	"citygrid/internal/dbtest"
)

func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}
