package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"citygrid"
	"citygrid/cases"
)

func (s *Server) registerCategoryRoutes(r chi.Router) {
	r.Get("/categories", s.handle(s.handleCategoriesGet))
	r.Put("/categories", s.handle(s.handleCategoriesPut))
	r.Get("/categories/{code}", s.handle(s.handleCategoryGet))
	r.Put("/categories/{code}", s.handle(s.handleCategoryPut))
}

func (s *Server) handleCategoriesGet(w http.ResponseWriter, r *http.Request) error {
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"categories": cats.List()})
}

// handleCategoriesPut replaces the whole table. The table must be a whole
// tree (every code's parent in it), and the store refuses with a 409 one
// that drops codes stored cases use.
func (s *Server) handleCategoriesPut(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Categories []cases.Category `json:"categories"`
	}
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	cats, err := cases.NewCategories(body.Categories)
	if err != nil {
		return invalid("%v", err)
	}
	if err := cats.CheckHierarchy(); err != nil {
		return invalid("%v", err)
	}
	if err := s.cases.ReplaceCategories(r.Context(), cats); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"categories": cats.List()})
}

func (s *Server) handleCategoryGet(w http.ResponseWriter, r *http.Request) error {
	code := chi.URLParam(r, "code")
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return err
	}
	c, ok := cats.Find(code)
	if !ok {
		return citygrid.Errorf(citygrid.CodeNotFound, "category %q not found (GET /v1/categories lists them)", truncate(code, 40))
	}
	return writeJSON(w, http.StatusOK, c)
}

// handleCategoryPut adds one category, or changes the one of its code,
// without resending the table: 201 when added, 200 when changed. Its parent
// must be in the table already (422 otherwise).
func (s *Server) handleCategoryPut(w http.ResponseWriter, r *http.Request) error {
	code := chi.URLParam(r, "code")
	var c cases.Category
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &c); err != nil {
		return err
	}
	if c.Code != "" && c.Code != code {
		return invalid("code %q in the body differs from %q in the path", truncate(c.Code, 40), truncate(code, 40))
	}
	c.Code = code
	added, err := s.cases.PutCategory(r.Context(), c)
	if err != nil {
		return err
	}
	c.Parent = cases.ParentCode(c.Code)
	status := http.StatusOK
	if added {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/categories/"+c.Code)
	}
	return writeJSON(w, status, c)
}
