package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/access"
	"citygrid/grid"
)

// OGC API – Features, Part 1: Core, with GeoJSON (issue 16). The service
// is a façade over the same stores, filters and scopes as /v1: cases are
// read with cases.Store.FindCases under the caller's Restriction, grids
// with grid.Store.FindGrids under the caller's visible grids, hotspot
// cells with analysis.Hotspots as /v1/hotspots computes them.
//
// Collections: "cases"; "hotspots" (the cells of /v1/hotspots' default
// window); one per grid level, "grids-district", "grids-street",
// "grids-community", "grids-grid". The cases and hotspots collections have
// routes of their own, so that the rule table gives each its permission
// (cases.read, hotspots.read); the grid levels share the
// {collectionId} routes (grids.read).

// The conformance classes served.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

const (
	crs84        = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	gregorian    = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
	mediaGeoJSON = "application/geo+json"
	mediaJSON    = "application/json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.1"

	// ogcDefaultLimit and ogcMaxLimit bound an items page (the OpenAPI
	// document states them: clients read the maximum from it).
	ogcDefaultLimit = 100
	ogcMaxLimit     = maxCaseLimit
)

// ogcGridPrefix names a grid level's collection: "grids-" + the level.
const ogcGridPrefix = "grids-"

func (s *Server) registerOGCRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(middleware.Timeout(s.cfg.RequestTimeout))
		r.Get("/ogc", s.handle(s.handleOGCLanding))
		r.Get("/ogc/conformance", s.handle(s.handleOGCConformance))
		r.Get("/ogc/collections", s.handle(s.handleOGCCollections))
		if s.cases != nil {
			r.Get("/ogc/collections/cases", s.handle(s.handleOGCCasesCollection))
			r.Get("/ogc/collections/cases/items", s.limited(limitRead, s.handle(s.handleOGCCaseItems)))
			r.Get("/ogc/collections/cases/items/{featureId}", s.handle(s.handleOGCCaseItem))
		}
		if s.analysis != nil {
			r.Get("/ogc/collections/hotspots", s.handle(s.handleOGCHotspotsCollection))
			r.Get("/ogc/collections/hotspots/items", s.limited(limitRead, s.handle(s.handleOGCHotspotItems)))
			r.Get("/ogc/collections/hotspots/items/{featureId}", s.handle(s.handleOGCHotspotItem))
		}
		r.Get("/ogc/collections/{collectionId}", s.handle(s.handleOGCGridCollection))
		r.Get("/ogc/collections/{collectionId}/items", s.handle(s.handleOGCGridItems))
		r.Get("/ogc/collections/{collectionId}/items/{featureId}", s.handle(s.handleOGCGridItem))
	})
}

// ogcLink is a link of OGC API responses.
type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// negotiate picks the media type of a reply from f= (json or geojson) and
// Accept: features go as application/geo+json unless the client asks for
// application/json alone; other resources as application/json. A client
// accepting neither gets JSON all the same (RFC 9110 lets a server
// disregard Accept rather than answer 406), and HTML is not offered.
func negotiate(r *http.Request, features bool) (string, error) {
	def := mediaJSON
	if features {
		def = mediaGeoJSON
	}
	switch f := r.URL.Query().Get("f"); f {
	case "":
	case "json":
		return def, nil
	case "geojson":
		if !features {
			return "", invalid("f: %q is for features; want json", f)
		}
		return mediaGeoJSON, nil
	default:
		return "", invalid("f: %q is not offered (want json%s; HTML is not served)", truncate(f, 40), map[bool]string{true: " or geojson"}[features])
	}
	accept := r.Header.Get("Accept")
	if features && !strings.Contains(accept, mediaGeoJSON) && strings.Contains(accept, mediaJSON) {
		return mediaJSON, nil
	}
	return def, nil
}

// ogcParams checks that the query holds only known parameters (f always
// allowed): an unknown one is a 400, as the standard asks.
func ogcParams(r *http.Request, known ...string) error {
	return allowParams(r.URL.Query(), append([]string{"f"}, known...)...)
}

func writeOGC(w http.ResponseWriter, mediaType string, v any) error {
	writeJSONStatus(w, mediaType, http.StatusOK, v)
	return nil
}

// ogcBase is the absolute address of the service's landing page.
func ogcBase(r *http.Request) string { return baseURL(r) + "/ogc" }

func (s *Server) handleOGCLanding(w http.ResponseWriter, r *http.Request) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, false)
	if err != nil {
		return err
	}
	base := ogcBase(r)
	return writeOGC(w, mt, map[string]any{
		"title":       "citygrid",
		"description": "The district's grids, cases and hotspot cells as OGC API – Features (Part 1: Core, GeoJSON). Collections need an API key (Authorization: Bearer) or a session.",
		"links": []ogcLink{
			{Href: base, Rel: "self", Type: mediaJSON, Title: "this document"},
			{Href: baseURL(r) + "/openapi.json", Rel: "service-desc", Type: mediaOpenAPI, Title: "the API definition (OpenAPI 3.1)"},
			{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "the collections"},
		},
	})
}

func (s *Server) handleOGCConformance(w http.ResponseWriter, r *http.Request) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, false)
	if err != nil {
		return err
	}
	return writeOGC(w, mt, map[string]any{"conformsTo": ogcConformance})
}

// ogcCollection describes one collection.
type ogcCollection struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	ItemType    string    `json:"itemType"`
	CRS         []string  `json:"crs"`
	Extent      ogcExtent `json:"extent"`
	Links       []ogcLink `json:"links"`
}

type ogcExtent struct {
	Spatial  ogcSpatial   `json:"spatial"`
	Temporal *ogcTemporal `json:"temporal,omitempty"`
}

type ogcSpatial struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

type ogcTemporal struct {
	Interval [][2]*string `json:"interval"`
	TRS      string       `json:"trs"`
}

// scopeBound is the bound of what the caller's scope covers: its grids'
// subtrees, or the district's top-level grids for the whole district.
func (s *Server) scopeBound(r *http.Request) (orb.Bound, error) {
	l, err := s.locator()
	if err != nil {
		return orb.Bound{}, err
	}
	codes := s.scopeOf(r).Roots()
	if codes == nil {
		for _, g := range l.TopLevel() {
			codes = append(codes, g.Code)
		}
	}
	var out orb.Bound
	first := true
	for _, code := range codes {
		b, ok := l.Bound(code)
		if !ok {
			continue
		}
		if first {
			out, first = b, false
		} else {
			out = out.Union(b)
		}
	}
	return out, nil
}

func (s *Server) newOGCCollection(r *http.Request, id, title, desc string, temporal *ogcTemporal) (ogcCollection, error) {
	b, err := s.scopeBound(r)
	if err != nil {
		return ogcCollection{}, err
	}
	base := ogcBase(r) + "/collections/" + id
	return ogcCollection{
		ID: id, Title: title, Description: desc, ItemType: "feature", CRS: []string{crs84},
		Extent: ogcExtent{Spatial: ogcSpatial{BBox: [][4]float64{{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}}, CRS: crs84}, Temporal: temporal},
		Links: []ogcLink{
			{Href: base, Rel: "self", Type: mediaJSON, Title: title},
			{Href: base + "/items", Rel: "items", Type: mediaGeoJSON, Title: title + " (GeoJSON)"},
		},
	}, nil
}

// casesCollection describes the cases the caller may see, with the
// reported times of the oldest and the newest as temporal extent.
func (s *Server) casesCollection(r *http.Request) (ogcCollection, error) {
	first, last, err := s.caseTimeExtent(r)
	if err != nil {
		return ogcCollection{}, err
	}
	return s.newOGCCollection(r, "cases", "Cases",
		"Reported cases as points, newest first, as GET /v1/cases lists them (the same id; external_id among the properties); datetime filters the reported time.",
		&ogcTemporal{Interval: [][2]*string{{first, last}}, TRS: gregorian})
}

func (s *Server) hotspotsCollection(r *http.Request) (ogcCollection, error) {
	to := s.now().UTC()
	from, end := to.Add(-hotspotWindow).Format(time.RFC3339), to.Format(time.RFC3339)
	return s.newOGCCollection(r, "hotspots", "Hotspot cells",
		"H3 cells (resolution 9) with cases in the last 30 days, with Getis-Ord Gi* and its class after the false-discovery-rate correction, as GET /v1/hotspots answers by default.",
		&ogcTemporal{Interval: [][2]*string{{&from, &end}}, TRS: gregorian})
}

func (s *Server) gridCollection(r *http.Request, level grid.Level) (ogcCollection, error) {
	name := level.String()
	return s.newOGCCollection(r, ogcGridPrefix+name, "Grids: "+name,
		"The "+name+" grids of the district as polygons, by code, as GET /v1/grids?level="+name+" lists them; grids above the caller's scope as outlines.", nil)
}

// hotspotWindow is the hotspots collection's window, /v1/hotspots' default.
const hotspotWindow = 30 * 24 * time.Hour

func (s *Server) handleOGCCollections(w http.ResponseWriter, r *http.Request) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, false)
	if err != nil {
		return err
	}
	role := principal(r).Role
	var list []ogcCollection
	for _, level := range grid.Levels {
		c, err := s.gridCollection(r, level)
		if err != nil {
			return err
		}
		list = append(list, c)
	}
	if s.cases != nil && role.Allows(access.PermCasesRead) {
		c, err := s.casesCollection(r)
		if err != nil {
			return err
		}
		list = append(list, c)
	}
	if s.analysis != nil && role.Allows(access.PermHotspotsRead) {
		c, err := s.hotspotsCollection(r)
		if err != nil {
			return err
		}
		list = append(list, c)
	}
	base := ogcBase(r) + "/collections"
	return writeOGC(w, mt, map[string]any{
		"links":       []ogcLink{{Href: base, Rel: "self", Type: mediaJSON, Title: "the collections"}},
		"collections": list,
	})
}

func (s *Server) handleOGCCasesCollection(w http.ResponseWriter, r *http.Request) error {
	return s.serveOGCCollection(w, r, s.casesCollection)
}

func (s *Server) handleOGCHotspotsCollection(w http.ResponseWriter, r *http.Request) error {
	return s.serveOGCCollection(w, r, s.hotspotsCollection)
}

func (s *Server) handleOGCGridCollection(w http.ResponseWriter, r *http.Request) error {
	level, err := ogcGridLevel(r)
	if err != nil {
		return err
	}
	return s.serveOGCCollection(w, r, func(r *http.Request) (ogcCollection, error) { return s.gridCollection(r, level) })
}

func (s *Server) serveOGCCollection(w http.ResponseWriter, r *http.Request, describe func(*http.Request) (ogcCollection, error)) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, false)
	if err != nil {
		return err
	}
	c, err := describe(r)
	if err != nil {
		return err
	}
	return writeOGC(w, mt, c)
}

// ogcGridLevel reads the grid level a {collectionId} names, or answers 404.
func ogcGridLevel(r *http.Request) (grid.Level, error) {
	id := chi.URLParam(r, "collectionId")
	if name, ok := strings.CutPrefix(id, ogcGridPrefix); ok {
		if level, err := grid.ParseLevel(name); err == nil && name == level.String() {
			return level, nil
		}
	}
	return 0, citygrid.Errorf(citygrid.CodeNotFound, "collection %q not found (GET /ogc/collections lists them)", truncate(id, 60))
}
