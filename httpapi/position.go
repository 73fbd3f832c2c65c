package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"citygrid"
	"citygrid/position"
)

// positionWait is how long a request that names a position the process has
// not applied yet waits before it is answered 503.
const positionWait = 2 * time.Second

// stampPositions gives every reply its Citygrid-Position: the position the
// request's writes produced (noted by the stores in the request's
// context), or for a request that wrote nothing the position this process
// has applied. A client that sends it back with its next request, to any
// process, reads its own writes and never goes back in time.
func (s *Server) stampPositions(next http.Handler) http.Handler {
	if s.positions == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, note := position.WithNote(r.Context())
		pw := &positionWriter{ResponseWriter: w, stamp: func(h http.Header) {
			p, wrote := note.Max()
			if !wrote {
				p = s.positions.Applied()
			} else {
				// A browser's reads send it back by themselves: a minute
				// is far longer than any process takes to apply it.
				h.Add("Set-Cookie", (&http.Cookie{Name: positionCookie, Value: position.Format(p), Path: "/",
					MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}).String())
			}
			h.Set(position.Header, position.Format(p))
		}}
		next.ServeHTTP(pw, r.WithContext(ctx))
	})
}

// awaitPositions answers a request that names a position (Citygrid-Position)
// only once this process has applied it: after at most positionWait, 503
// with Retry-After. A header that is no position is a 400.
func (s *Server) awaitPositions(next http.Handler) http.Handler {
	if s.positions == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values(position.Header)
		fromCookie := false
		if len(vals) == 0 {
			// The page keeps its last write's position in a cookie, so
			// that its next reads, on any process, show that write.
			if c, err := r.Cookie(positionCookie); err == nil {
				if p, err := position.Parse(c.Value); err == nil {
					vals, fromCookie = []string{position.Format(p)}, true
				}
			}
		}
		if len(vals) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if len(vals) > 1 {
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeInvalid, "%s given %d times: send it once", position.Header, len(vals)))
			return
		}
		p, err := position.Parse(vals[0])
		if err != nil {
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeInvalid, "%s %q: %v, as a reply's %s gives it", position.Header, truncate(vals[0], 40), err, position.Header))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), positionWait)
		err = s.positions.WaitFor(ctx, p)
		cancel()
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(position.WithRequired(r.Context(), p)))
		case r.Context().Err() != nil:
			// The client went away: no reply.
		case errors.Is(err, context.DeadlineExceeded) && fromCookie:
			// A cookie nobody reads: a page cannot retry a stylesheet,
			// and one left from another database (reset since) would
			// hold every request for its minute. The page gets what
			// this process has, and the cookie goes.
			http.SetCookie(w, &http.Cookie{Name: positionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
			next.ServeHTTP(w, r)
		case errors.Is(err, context.DeadlineExceeded):
			w.Header().Set("Retry-After", "1")
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeUnavailable, "this process has not yet applied position %d (it has applied %d): retry, here or elsewhere", p, s.positions.Applied()))
		default:
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeUnavailable, "waiting for position %d: %v", p, err))
		}
	})
}

// positionCookie carries the position of a browser's last write (see
// stampPositions), for its next reads: a request without Citygrid-Position
// waits for it as for the header, but is answered, and the cookie
// dropped, when the wait runs out.
const positionCookie = "citygrid_position"

// positionWriter sets the position header as the reply's header is sent.
type positionWriter struct {
	http.ResponseWriter
	stamp   func(http.Header)
	stamped bool
}

func (w *positionWriter) WriteHeader(code int) {
	if !w.stamped {
		w.stamped = true
		w.stamp(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *positionWriter) Write(b []byte) (int, error) {
	if !w.stamped {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streams (the live events) flush through the wrapper.
func (w *positionWriter) Flush() {
	if !w.stamped {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *positionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
