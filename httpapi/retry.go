package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"time"
)

// retryWindow is how long a request waits for the database to come back
// (a restart takes a few seconds) before it is answered 503.
const retryWindow = 15 * time.Second

// runAgain runs h, and again while it fails because the database went away
// under it (Deps.Transient) and running it again is safe: nothing was sent
// to the client yet and the body it read is kept (see replayBody). A write
// whose transaction was cut off rolled back, so running it again applies
// it once. It returns the last error.
func (s *Server) runAgain(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) error {
	if s.transient == nil {
		return h(w, r)
	}
	body := &replayBody{rc: r.Body, limit: int(s.cfg.MaxBodyBytes)}
	r.Body = body
	ww := &watchedWriter{ResponseWriter: w}
	deadline := time.Now().Add(retryWindow)
	pause := 200 * time.Millisecond
	for {
		err := h(ww, r)
		if err == nil || !s.transient(err) || ww.wrote || body.spent || time.Now().After(deadline) {
			return err
		}
		s.logger.WarnContext(r.Context(), "database unavailable, running the request again", "path", r.URL.Path, "err", err)
		select {
		case <-r.Context().Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
		body = body.again()
		r.Body = body
	}
}

// replayBody keeps what a handler reads of a request body, up to limit
// bytes, so that the request can be run again: the kept bytes, then the
// rest of the body. A handler that committed part of its work (a bulk
// ingest's batches) calls noReplay: running it again would repeat that.
type replayBody struct {
	rc    io.ReadCloser
	kept  bytes.Buffer
	limit int
	spent bool // more than limit read, or the handler committed something
}

func (b *replayBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if !b.spent {
		if b.kept.Len()+n > b.limit {
			b.spent = true
			b.kept = bytes.Buffer{}
		} else {
			b.kept.Write(p[:n])
		}
	}
	return n, err
}

func (b *replayBody) Close() error { return b.rc.Close() }

// again is the body for the next run: what was read, then what was not.
func (b *replayBody) again() *replayBody {
	kept := b.kept.Bytes()
	return &replayBody{rc: readCloser{io.MultiReader(bytes.NewReader(kept), b.rc), b.rc}, limit: b.limit}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// noReplay marks r as not to be run again after a database failure: its
// handler has committed part of its work.
func noReplay(r *http.Request) {
	if b, ok := r.Body.(*replayBody); ok {
		b.spent = true
	}
}

// watchedWriter notes whether anything was sent to the client.
type watchedWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *watchedWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *watchedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
