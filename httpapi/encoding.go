package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"citygrid"
)

// Content codings of requests and replies (RFC 9110 §8.4).
//
// A request body may be sent gzip-compressed (Content-Encoding: gzip): it
// is decompressed as it is read, and every size limit applies to the
// decompressed bytes, so a small body that inflates past the limit (a zip
// bomb) gets the same 413 as a large one. Any other coding is answered 415
// with Accept-Encoding: gzip.
//
// JSON, GeoJSON, problem+json and CSV replies are gzip-compressed for
// clients that accept it (a district's hotspots are tens of megabytes of
// JSON). Replies that set their own Content-Encoding (tiles keep theirs
// gzipped in the cache) and other types (the event stream, which must reach
// the client as each event is written) pass through untouched.

// decodeRequestBodies replaces a gzip request body with its decompressed
// stream and refuses other codings.
func (s *Server) decodeRequestBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r) // nothing to decode (a GET)
			return
		}
		switch coding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); coding {
		case "", "identity":
		case "gzip", "x-gzip":
			r.Body = &gzipBody{compressed: r.Body}
			r.Header.Del("Content-Encoding")
			r.Header.Del("Content-Length") // the compressed length: no longer the body's
			r.ContentLength = -1
		default:
			w.Header().Set("Accept-Encoding", "gzip")
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeUnsupportedMedia,
				"Content-Encoding %q: request bodies may be sent as they are or gzip-compressed (Content-Encoding: gzip)", truncate(coding, 40)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// gzipBody decompresses a request body lazily, so that a bad gzip header
// surfaces where the handler reads, as a bodyEncodingError.
type gzipBody struct {
	compressed io.ReadCloser
	zr         *gzip.Reader
	err        error
}

func (b *gzipBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.zr == nil {
		zr, err := gzip.NewReader(b.compressed)
		if err != nil {
			b.err = b.fail(err)
			return 0, b.err
		}
		b.zr = zr
	}
	n, err := b.zr.Read(p)
	if err != nil && err != io.EOF {
		err = b.fail(err)
	}
	return n, err
}

// fail classifies a read error: the client's broken gzip, or the transport's
// own failure (a client gone, a read timeout), which passes through.
func (b *gzipBody) fail(err error) error {
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &bodyEncodingError{err: err}
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return err
	}
	if strings.HasPrefix(err.Error(), "flate: corrupt input") {
		// compress/flate's CorruptInputError is a type of klauspost's
		// package too; its message is the one stable trait they share.
		return &bodyEncodingError{err: err}
	}
	return err
}

func (b *gzipBody) Close() error { return b.compressed.Close() }

// bodyEncodingError is a request body that does not decompress.
type bodyEncodingError struct{ err error }

func (e *bodyEncodingError) Error() string { return "request body: " + e.err.Error() }
func (e *bodyEncodingError) Unwrap() error { return e.err }

func (e *bodyEncodingError) problem() *citygrid.Error {
	return citygrid.Errorf(citygrid.CodeInvalid, "request body: Content-Encoding is gzip, but the body is not valid gzip data (%v)", e.err)
}

// compressibleTypes are the reply types compressReplies gzips.
var compressibleTypes = map[string]bool{
	"application/json":         true,
	"application/geo+json":     true,
	"application/problem+json": true,
	"text/csv":                 true,
}

// minCompressBytes is the size below which a reply goes out as it is: gzip
// adds 20 bytes and a little time, and small replies gain nothing.
const minCompressBytes = 1024

// compressReplies gzips compressible replies for clients that accept gzip.
func (s *Server) compressReplies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &compressWriter{ResponseWriter: w, accepts: acceptsGzip(r.Header.Get("Accept-Encoding"))}
		defer cw.finish()
		next.ServeHTTP(cw, r)
	})
}

// gzipWriters are reused: a gzip.Writer holds about a megabyte.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return zw
}}

// compressWriter holds back the first bytes of a compressible reply until
// it knows whether the reply is large enough to compress, then either
// compresses everything or passes everything through.
type compressWriter struct {
	http.ResponseWriter
	accepts     bool
	status      int  // held back until decided
	wroteHeader bool // WriteHeader called (by the handler)
	decided     bool // headers passed on
	pending     []byte
	zw          *gzip.Writer
}

func (cw *compressWriter) WriteHeader(status int) {
	if cw.wroteHeader {
		return
	}
	cw.wroteHeader, cw.status = true, status
	h := cw.Header()
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	eligible := compressibleTypes[strings.TrimSpace(ct)] && h.Get("Content-Encoding") == "" &&
		status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
	if eligible {
		// The reply depends on Accept-Encoding whether or not this one is
		// compressed: caches must know.
		h.Add("Vary", "Accept-Encoding")
	}
	if !eligible || !cw.accepts {
		cw.pass()
	}
}

// pass sends the reply as it is.
func (cw *compressWriter) pass() {
	cw.decided = true
	cw.ResponseWriter.WriteHeader(cw.status)
	if len(cw.pending) > 0 {
		_, _ = cw.ResponseWriter.Write(cw.pending)
		cw.pending = nil
	}
}

// compress starts the gzip stream with what is held back.
func (cw *compressWriter) compress() error {
	cw.decided = true
	h := cw.Header()
	h.Set("Content-Encoding", "gzip")
	h.Del("Content-Length")
	cw.ResponseWriter.WriteHeader(cw.status)
	cw.zw = gzipWriters.Get().(*gzip.Writer)
	cw.zw.Reset(cw.ResponseWriter)
	_, err := cw.zw.Write(cw.pending)
	cw.pending = nil
	return err
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	switch {
	case cw.zw != nil:
		return cw.zw.Write(p)
	case cw.decided:
		return cw.ResponseWriter.Write(p)
	}
	cw.pending = append(cw.pending, p...)
	if len(cw.pending) >= minCompressBytes {
		if err := cw.compress(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush sends what is written so far: a flush decides, for a reply held
// back, that it goes out as it is.
func (cw *compressWriter) Flush() {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	if !cw.decided {
		cw.pass()
	}
	if cw.zw != nil {
		_ = cw.zw.Flush()
	}
	_ = http.NewResponseController(cw.ResponseWriter).Flush()
}

// finish ends the reply: a short reply goes out as it is, a compressed one
// gets its gzip trailer.
func (cw *compressWriter) finish() {
	if cw.wroteHeader && !cw.decided {
		cw.Header().Set("Content-Length", strconv.Itoa(len(cw.pending)))
		cw.pass()
	}
	if cw.zw != nil {
		_ = cw.zw.Close()
		cw.zw.Reset(io.Discard)
		gzipWriters.Put(cw.zw)
		cw.zw = nil
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
