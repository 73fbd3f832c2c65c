package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed static fonts
var assets embed.FS

// fontDirs maps the font names a style may ask for to their directory in
// fonts/.
var fontDirs = map[string]string{
	"Go Regular": "go-regular",
	"Go Medium":  "go-medium",
	"Go Bold":    "go-bold",
}

// asset is one embedded file, ready to serve: its bytes, gzipped bytes when
// that pays, and a strong ETag.
type asset struct {
	body, gz    []byte
	contentType string
	etag        string
	immutable   bool // vendored files: cached for a day without revalidation
}

// Handler serves the page at "/", its assets under "/static/" and glyph
// ranges at "/fonts/{fontstack}/{start}-{end}.pbf". Assets carry ETags and
// are gzipped once, on first use.
func Handler() http.Handler {
	return &handler{}
}

type handler struct {
	mu     sync.Mutex
	cached map[string]*asset
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/" || p == "/index.html":
		h.serveAsset(w, r, "static/index.html")
	case strings.HasPrefix(p, "/static/"):
		name := path.Clean(strings.TrimPrefix(p, "/"))
		if !strings.HasPrefix(name, "static/") {
			http.NotFound(w, r)
			return
		}
		h.serveAsset(w, r, name)
	case strings.HasPrefix(p, "/fonts/"):
		h.serveGlyphs(w, r, strings.TrimPrefix(p, "/fonts/"))
	default:
		http.NotFound(w, r)
	}
}

// load returns the embedded file name, prepared, or nil if there is none.
func (h *handler) load(name string) *asset {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.cached[name]; ok {
		return a
	}
	body, err := fs.ReadFile(assets, name)
	if err != nil {
		return nil // a directory, or nothing
	}
	sum := sha256.Sum256(body)
	a := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		immutable: strings.HasPrefix(name, "static/vendor/") || strings.HasPrefix(name, "fonts/")}
	a.contentType = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".pbf":
		a.contentType = "application/x-protobuf"
	case ".js":
		a.contentType = "text/javascript; charset=utf-8"
	case ".svg":
		a.contentType = "image/svg+xml"
	}
	if a.contentType == "" {
		a.contentType = "application/octet-stream"
	}
	if len(body) > 1024 && !strings.HasPrefix(a.contentType, "image/") {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body)*9/10 {
			a.gz = buf.Bytes()
		}
	}
	if h.cached == nil {
		h.cached = map[string]*asset{}
	}
	h.cached[name] = a
	return a
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a := h.load(name)
	if a == nil {
		http.NotFound(w, r)
		return
	}
	h.write(w, r, a)
}

func (h *handler) write(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("ETag", a.etag)
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	if a.immutable {
		hd.Set("Cache-Control", "public, max-age=86400")
	} else {
		hd.Set("Cache-Control", "no-cache") // revalidate: the page changes with the binary
	}
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serveGlyphs answers "{fontstack}/{start}-{end}.pbf". The fontstack is a
// comma-separated list (MapLibre joins a layer's text-font with commas);
// the first font citygrid has is used. A range the font has no glyphs in
// gets an empty but valid range, so that the map neither errors nor waits.
func (h *handler) serveGlyphs(w http.ResponseWriter, r *http.Request, rest string) {
	stack, file, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(file, "/") || !strings.HasSuffix(file, ".pbf") {
		http.NotFound(w, r)
		return
	}
	rng := strings.TrimSuffix(file, ".pbf")
	if !validRange(rng) {
		http.Error(w, "glyph range must be N-(N+255) with N a multiple of 256 below 65536", http.StatusNotFound)
		return
	}
	name, dir := "", ""
	for _, f := range strings.Split(stack, ",") {
		if d, ok := fontDirs[strings.TrimSpace(f)]; ok {
			name, dir = strings.TrimSpace(f), d
			break
		}
	}
	if dir == "" {
		http.Error(w, "unknown font stack; citygrid serves Go Regular, Go Medium and Go Bold", http.StatusNotFound)
		return
	}
	if a := h.load("fonts/" + dir + "/" + rng + ".pbf"); a != nil {
		h.write(w, r, a)
		return
	}
	body := emptyRange(name, rng)
	sum := sha256.Sum256(body)
	h.write(w, r, &asset{body: body, contentType: "application/x-protobuf", etag: `"` + hex.EncodeToString(sum[:12]) + `"`, immutable: true})
}

// validRange reports whether s is "start-end" with start a multiple of 256
// below 65536 and end = start+255.
func validRange(s string) bool {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	start, err1 := strconv.Atoi(a)
	end, err2 := strconv.Atoi(b)
	return err1 == nil && err2 == nil && start >= 0 && start < 65536 && start%256 == 0 && end == start+255 &&
		a == strconv.Itoa(start) && b == strconv.Itoa(end)
}

// emptyRange encodes a glyphs message with one fontstack and no glyphs.
func emptyRange(name, rng string) []byte {
	field := func(b []byte, num int, p []byte) []byte {
		b = append(b, byte(num<<3|2))
		n := len(p)
		for n >= 0x80 {
			b = append(b, byte(n)|0x80)
			n >>= 7
		}
		return append(append(b, byte(n)), p...)
	}
	var stack []byte
	stack = field(stack, 1, []byte(name))
	stack = field(stack, 2, []byte(rng))
	return field(nil, 1, stack)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
