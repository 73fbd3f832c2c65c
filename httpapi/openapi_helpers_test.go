package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"

	"citygrid/httpapi"
)

// The recorded examples: every request a test sends through validated()
// and its reply are checked against /openapi.json with libopenapi-validator
// (OpenAPI 3.1 and JSON Schema 2020-12, which kin-openapi's 3.1 support
// covers only in part), and every query parameter sent must be one the
// operation declares.

var (
	oasOnce      sync.Once
	oasValidator validator.Validator
	oasParams    map[string]map[string]bool // "METHOD /path" → declared query parameters
	oasErr       error
)

func openAPIValidator(t *testing.T) (validator.Validator, map[string]map[string]bool) {
	t.Helper()
	oasOnce.Do(func() {
		b, err := httpapi.OpenAPIDocument()
		if err != nil {
			oasErr = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			oasErr = err
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
		if len(errs) > 0 {
			oasErr = errs[0]
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, e := range verrs {
				t.Errorf("the document is not valid OpenAPI 3.1: %s (%s)", e.Message, e.Reason)
			}
		}
		oasValidator, oasParams = v, declaredQueryParams(b)
	})
	if oasErr != nil {
		t.Fatalf("the OpenAPI document: %v", oasErr)
	}
	return oasValidator, oasParams
}

// declaredQueryParams lists each operation's query parameters, shared ones
// ($ref) resolved.
func declaredQueryParams(b []byte) map[string]map[string]bool {
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]struct{ Parameters []param } `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	_ = json.Unmarshal(b, &doc)
	out := map[string]map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			set := map[string]bool{}
			for _, pr := range op.Parameters {
				if pr.Ref != "" {
					pr = doc.Components.Parameters[strings.TrimPrefix(pr.Ref, "#/components/parameters/")]
				}
				if pr.In == "query" {
					set[pr.Name] = true
				}
			}
			out[strings.ToUpper(m)+" "+p] = set
		}
	}
	return out
}

// exchange is one recorded request and its reply.
type exchange struct {
	method, target string
	reqHeader      http.Header
	reqBody        []byte
	status         int
	header         http.Header
	body           []byte
	pattern        string
}

// validated wraps h so that every exchange is recorded and, when the test
// ends, checked against the document; it reports how many were checked.
func validated(t *testing.T, h http.Handler) http.Handler {
	t.Helper()
	v, params := openAPIValidator(t)
	var (
		mu  sync.Mutex
		log []exchange
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range log {
			checkExchange(t, v, params, x)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		mu.Lock()
		log = append(log, exchange{method: r.Method, target: r.URL.RequestURI(), reqHeader: r.Header.Clone(), reqBody: body,
			status: rec.Code, header: rec.Header().Clone(), body: rec.Body.Bytes()})
		mu.Unlock()
	})
}

func checkExchange(t *testing.T, v validator.Validator, params map[string]map[string]bool, x exchange) {
	t.Helper()
	if x.status == http.StatusNotFound && strings.Contains(string(x.body), "no such endpoint") || x.status == http.StatusMethodNotAllowed {
		return // no operation to hold it to
	}
	req := httptest.NewRequest(x.method, x.target, bytes.NewReader(x.reqBody))
	req.Header = x.reqHeader.Clone()
	body := x.body
	if x.header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s %s: %v", x.method, x.target, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s %s: %v", x.method, x.target, err)
		}
	}
	resp := &http.Response{StatusCode: x.status, Header: x.header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	validate := v.ValidateHttpRequestResponse
	if x.status >= 400 && x.status < 500 {
		// A refused request may well break the document's rules (that
		// can be why it was refused): only the reply is held to it.
		validate = v.ValidateHttpResponse
	}
	if ok, errs := validate(req, resp); !ok {
		for _, e := range errs {
			detail := e.Reason
			for _, se := range e.SchemaValidationErrors {
				detail += "; " + se.FieldPath + ": " + se.Reason
			}
			t.Errorf("%s %s → %d: %s (%s)\n  reply: %.300s", x.method, x.target, x.status, e.Message, detail, body)
		}
	}
	if x.status >= 400 {
		return // a refused parameter need not be declared
	}
	u, _ := url.Parse(x.target)
	op := operationOf(params, x.method, u.Path)
	if op == "" {
		t.Errorf("%s %s: no operation of the document matches", x.method, u.Path)
		return
	}
	var undeclared []string
	for k := range u.Query() {
		if !params[op][k] {
			undeclared = append(undeclared, k)
		}
	}
	sort.Strings(undeclared)
	if len(undeclared) > 0 {
		t.Errorf("%s: query parameters %v were accepted but the document does not declare them", op, undeclared)
	}
}

// operationOf finds the documented operation a path belongs to, preferring
// fixed segments to parameters, as the router does.
func operationOf(params map[string]map[string]bool, method, path string) string {
	best, bestFixed := "", -1
	segs := strings.Split(path, "/")
	for key := range params {
		m, p, _ := strings.Cut(key, " ")
		if m != method {
			continue
		}
		ps := strings.Split(p, "/")
		if len(ps) != len(segs) {
			continue
		}
		fixed, ok := 0, true
		for i := range ps {
			switch {
			case strings.HasPrefix(ps[i], "{"):
			case ps[i] == segs[i]:
				fixed++
			default:
				ok = false
			}
		}
		if ok && fixed > bestFixed {
			best, bestFixed = key, fixed
		}
	}
	return best
}
