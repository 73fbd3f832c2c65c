package httpapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"sync"

	"citygrid"
)

// The OpenAPI 3.1 document of /openapi.json is assembled from one small
// JSON file per API area under openapi/: openapi/base.json holds the
// document's frame (info, security schemes, the shared schemas, parameters
// and responses), and every other file a partial document with the paths
// of its area and the components only it uses. Adding an operation is an
// edit of its area's file, or a new file, and nothing else: no Go to
// change, no central list to keep, and a merge of two areas' branches
// touches two files. JSON rather than Go structs because the document is
// data, read by people as OpenAPI; rather than YAML because the standard
// library reads it. TestOpenAPIDescribesEveryRoute fails for a route the
// document lacks and names it.
//
//go:embed openapi
var openapiFiles embed.FS

var (
	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error
)

// OpenAPIDocument returns the assembled document, or why it cannot be.
func OpenAPIDocument() ([]byte, error) {
	openapiOnce.Do(func() { openapiDoc, openapiErr = assembleOpenAPI(openapiFiles) })
	return openapiDoc, openapiErr
}

// assembleOpenAPI merges base.json and the area files of fsys's openapi
// directory, in name order. An operation (path and method) or a component
// defined twice is an error.
func assembleOpenAPI(fsys fs.FS) ([]byte, error) {
	read := func(name string) (map[string]any, error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return doc, nil
	}
	doc, err := read("openapi/base.json")
	if err != nil {
		return nil, err
	}
	paths := object(doc, "paths")
	components := object(doc, "components")
	names, err := fs.Glob(fsys, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		part, err := read(name)
		if err != nil {
			return nil, err
		}
		for key := range part {
			if key != "paths" && key != "components" {
				return nil, fmt.Errorf("%s: an area file holds paths and components only, not %q", path.Base(name), key)
			}
		}
		for p, item := range object(part, "paths") {
			ops, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: path %s is not an object", path.Base(name), p)
			}
			into := object(paths, p)
			for method, op := range ops {
				if _, taken := into[method]; taken {
					return nil, fmt.Errorf("%s: %s %s is described twice", path.Base(name), method, p)
				}
				into[method] = op
			}
		}
		for section, defs := range object(part, "components") {
			m, ok := defs.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: components.%s is not an object", path.Base(name), section)
			}
			into := object(components, section)
			for k, v := range m {
				if _, taken := into[k]; taken {
					return nil, fmt.Errorf("%s: components.%s.%s is defined twice", path.Base(name), section, k)
				}
				into[k] = v
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// object returns m[key] as an object, made when missing.
func object(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}

// handleOpenAPI serves the OpenAPI document (anonymous: it describes the
// API, not the district's data).
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := OpenAPIDocument()
	if err != nil {
		s.logger.ErrorContext(r.Context(), "the OpenAPI document", "err", err)
		writeProblem(w, r, citygrid.Errorf(citygrid.CodeInternal, "internal error"))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	_, _ = w.Write(b)
}
