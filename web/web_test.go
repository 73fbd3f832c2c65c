package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"citygrid/web"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestPage(t *testing.T) {
	h := web.Handler()
	w := get(t, h, "/")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), `<div id="map"`) {
		t.Fatalf("GET / = %d %q, want the page", w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control %q, want no-cache (it changes with the binary)", cc)
	}
	etag := w.Header().Get("ETag")
	if w2 := get(t, h, "/", "If-None-Match", etag); w2.Code != http.StatusNotModified || w2.Body.Len() != 0 {
		t.Errorf("GET / If-None-Match: %s = %d with %d bytes, want 304 and no body", etag, w2.Code, w2.Body.Len())
	}
	page := w.Body.String()

	// Every asset the page and its modules name is there: nothing comes
	// from elsewhere at run time.
	refs := regexp.MustCompile(`(?:href|src)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 5 {
		t.Fatalf("the page names %d assets, want the styles, MapLibre and the app", len(refs))
	}
	seen := map[string]bool{}
	var check func(path string)
	check = func(path string) {
		if seen[path] || strings.HasPrefix(path, "#") {
			return
		}
		seen[path] = true
		if !strings.HasPrefix(path, "/static/") {
			t.Errorf("the page loads %q, not from /static/", path)
			return
		}
		w := get(t, h, path)
		if w.Code != 200 {
			t.Errorf("GET %s = %d", path, w.Code)
			return
		}
		if strings.HasSuffix(path, ".js") {
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("%s Content-Type %q: a module must be served as JavaScript", path, ct)
			}
			for _, m := range regexp.MustCompile(`from '\./([a-z]+\.js)'`).FindAllStringSubmatch(w.Body.String(), -1) {
				check("/static/js/" + m[1])
			}
			if strings.Contains(w.Body.String(), "https://") && !strings.Contains(path, "/vendor/") {
				t.Errorf("%s mentions an https:// address: the page must work offline", path)
			}
		}
	}
	for _, r := range refs {
		check(r[1])
	}
	if !seen["/static/js/panels.js"] {
		t.Errorf("module imports were not followed: saw %v", seen)
	}
	// A page without its own icon makes browsers ask for /favicon.ico,
	// which, like every path but the public ones, needs a key.
	if !strings.Contains(page, `<link rel="icon" href="/static/`) {
		t.Error("the page names no icon under /static/")
	}
}

func TestAssets(t *testing.T) {
	h := web.Handler()
	w := get(t, h, "/static/vendor/maplibre-gl/maplibre-gl.js", "Accept-Encoding", "gzip, br")
	if w.Code != 200 || w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Cache-Control"), "max-age") {
		t.Fatalf("maplibre-gl.js = %d, encoding %q, cache %q; want 200, gzip, max-age", w.Code, w.Header().Get("Content-Encoding"), w.Header().Get("Cache-Control"))
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(js, []byte("maplibregl")) {
		t.Fatalf("gunzipped maplibre-gl.js: %d bytes, %v", len(js), err)
	}
	plain := get(t, h, "/static/vendor/maplibre-gl/maplibre-gl.js")
	if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), js) {
		t.Fatal("without Accept-Encoding the file must come plain and equal to the gzipped one")
	}
	if w := get(t, h, "/static/vendor/maplibre-gl/maplibre-gl.js", "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 must get the plain file")
	}

	for _, path := range []string{"/static/nope.js", "/static/../web.go", "/static/", "/web.go", "/fonts/", "/static/js"} {
		if w := get(t, h, path); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

// glyph is a decoded glyph of a glyph range.
type glyph struct {
	id, width, height, advance int
	left, top                  int
	bitmap                     []byte
}

func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// fields splits a protobuf message into (field, wire type, varint or bytes).
func fields(t *testing.T, b []byte) []struct {
	num  int
	v    uint64
	data []byte
} {
	t.Helper()
	var out []struct {
		num  int
		v    uint64
		data []byte
	}
	for len(b) > 0 {
		key, n := varint(b)
		if n == 0 {
			t.Fatal("bad protobuf key")
		}
		b = b[n:]
		f := struct {
			num  int
			v    uint64
			data []byte
		}{num: int(key >> 3)}
		switch key & 7 {
		case 0:
			f.v, n = varint(b)
			b = b[n:]
		case 2:
			l, n := varint(b)
			if n == 0 || int(l) > len(b)-n {
				t.Fatal("bad protobuf length")
			}
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", key&7)
		}
		out = append(out, f)
	}
	return out
}

func unzigzag(v uint64) int { return int(int64(v>>1) ^ -int64(v&1)) }

// decodeRange decodes a glyphs message with one fontstack.
func decodeRange(t *testing.T, b []byte) (name, rng string, glyphs []glyph) {
	t.Helper()
	top := fields(t, b)
	if len(top) != 1 || top[0].num != 1 {
		t.Fatalf("want one fontstack, got %d fields", len(top))
	}
	for _, f := range fields(t, top[0].data) {
		switch f.num {
		case 1:
			name = string(f.data)
		case 2:
			rng = string(f.data)
		case 3:
			var g glyph
			for _, gf := range fields(t, f.data) {
				switch gf.num {
				case 1:
					g.id = int(gf.v)
				case 2:
					g.bitmap = gf.data
				case 3:
					g.width = int(gf.v)
				case 4:
					g.height = int(gf.v)
				case 5:
					g.left = unzigzag(gf.v)
				case 6:
					g.top = unzigzag(gf.v)
				case 7:
					g.advance = int(gf.v)
				}
			}
			glyphs = append(glyphs, g)
		}
	}
	return name, rng, glyphs
}

func TestGlyphs(t *testing.T) {
	h := web.Handler()
	for _, stack := range []string{"Go Regular", "Go Medium", "Go Bold"} {
		w := get(t, h, "/fonts/"+url.PathEscape(stack)+"/0-255.pbf")
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-protobuf" {
			t.Fatalf("%s 0-255 = %d %q", stack, w.Code, w.Header().Get("Content-Type"))
		}
		name, rng, glyphs := decodeRange(t, w.Body.Bytes())
		if name != stack || rng != "0-255" {
			t.Errorf("fontstack %q range %q, want %q 0-255", name, rng, stack)
		}
		byID := map[int]glyph{}
		for _, g := range glyphs {
			byID[g.id] = g
			if g.bitmap != nil && len(g.bitmap) != (g.width+6)*(g.height+6) {
				t.Errorf("%s U+%04X: bitmap %d bytes for %d×%d (+3 px buffer)", stack, g.id, len(g.bitmap), g.width, g.height)
			}
		}
		for _, r := range "0123456789ABCabc-.,:()%" {
			g, ok := byID[int(r)]
			if !ok || g.bitmap == nil || g.advance == 0 {
				t.Errorf("%s has no drawable glyph for %q", stack, r)
				continue
			}
			// The SDF is inside the glyph (≥ 192) somewhere and outside it
			// (near 0) at the corners.
			maxV := byte(0)
			for _, v := range g.bitmap {
				maxV = max(maxV, v)
			}
			if maxV < 192 || g.bitmap[0] > 64 {
				t.Errorf("%s %q: SDF max %d, corner %d; want ≥ 192 inside and low outside", stack, r, maxV, g.bitmap[0])
			}
		}
		if sp, ok := byID[' ']; !ok || sp.bitmap != nil || sp.advance == 0 {
			t.Errorf("%s space: %+v, want an advance and no bitmap", stack, sp)
		}
		// Digits sit on the baseline: same top, and at least as tall as
		// the lowercase x.
		if byID['0'].top != byID['8'].top || byID['0'].height < byID['x'].height {
			t.Errorf("%s digits: 0 top %d height %d, 8 top %d, x height %d", stack, byID['0'].top, byID['0'].height, byID['8'].top, byID['x'].height)
		}
	}

	// MapLibre joins a layer's fonts with commas: the first one served wins.
	w := get(t, h, "/fonts/Noto%20Sans%2CGo%20Bold/256-511.pbf")
	if name, rng, glyphs := decodeRange(t, w.Body.Bytes()); w.Code != 200 || name != "Go Bold" || rng != "256-511" || len(glyphs) == 0 {
		t.Errorf("fallback stack: %d %q %q %d glyphs", w.Code, name, rng, len(glyphs))
	}
	// A range the font lacks (CJK, drawn by the browser) is empty, not an error.
	w = get(t, h, "/fonts/Go%20Regular/19968-20223.pbf")
	if name, rng, glyphs := decodeRange(t, w.Body.Bytes()); w.Code != 200 || name != "Go Regular" || rng != "19968-20223" || len(glyphs) != 0 {
		t.Errorf("CJK range: %d %q %q %d glyphs, want an empty range", w.Code, name, rng, len(glyphs))
	}
	for _, path := range []string{"/fonts/Arial/0-255.pbf", "/fonts/Go%20Regular/1-256.pbf", "/fonts/Go%20Regular/0-256.pbf",
		"/fonts/Go%20Regular/65536-65791.pbf", "/fonts/Go%20Regular/0-255.png", "/fonts/Go%20Regular/00-255.pbf", "/fonts/Go%20Regular"} {
		if w := get(t, h, path); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}
