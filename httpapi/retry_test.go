package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var errGone = errors.New("database went away")

// TestRunAgain: a request the database failed under runs again with the
// same body, unless it already answered, read more than it may keep, or
// committed part of its work; one that keeps failing is a 503 with
// Retry-After.
func TestRunAgain(t *testing.T) {
	tests := []struct {
		name      string
		failures  int // how many runs fail before one succeeds
		body      string
		limit     int64
		handler   func(w http.ResponseWriter, r *http.Request) // before failing
		wantRuns  int
		wantCode  int
		transient bool
	}{
		{name: "runs again until it works", failures: 2, body: `{"a":1}`, limit: 100, wantRuns: 3, wantCode: 200, transient: true},
		{name: "other errors are not retried", failures: 1, body: `{}`, limit: 100, wantRuns: 1, wantCode: 500},
		{name: "a body over the limit is not kept", failures: 1, body: strings.Repeat("x", 101), limit: 100, wantRuns: 1, wantCode: 503, transient: true},
		{name: "an answered request is not run again", failures: 1, body: `{}`, limit: 100, transient: true,
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) }, wantRuns: 1, wantCode: 202},
		{name: "a half-committed request is not run again", failures: 1, body: `{}`, limit: 100, transient: true,
			handler: func(w http.ResponseWriter, r *http.Request) { noReplay(r) }, wantRuns: 1, wantCode: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{cfg: Config{MaxBodyBytes: tt.limit}, logger: slog.New(slog.DiscardHandler),
				transient: func(err error) bool { return errors.Is(err, errGone) }}
			runs := 0
			h := s.handle(func(w http.ResponseWriter, r *http.Request) error {
				runs++
				body, err := io.ReadAll(r.Body)
				if err != nil {
					return err
				}
				if string(body) != tt.body {
					t.Errorf("run %d read %q, want %q", runs, body, tt.body)
				}
				if runs <= tt.failures {
					if tt.handler != nil {
						tt.handler(w, r)
					}
					if tt.transient {
						return errGone
					}
					return errors.New("something else")
				}
				w.WriteHeader(200)
				return nil
			})
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest("POST", "/v1/cases", strings.NewReader(tt.body)))
			if runs != tt.wantRuns || rec.Code != tt.wantCode {
				t.Errorf("runs %d, code %d; want %d, %d", runs, rec.Code, tt.wantRuns, tt.wantCode)
			}
			if rec.Code == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}
