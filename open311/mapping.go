package open311

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"citygrid"
	"citygrid/cases"
)

// ServiceName is the name a category goes by as a service: its Chinese
// name, the district's language, or the English one when it has none.
func ServiceName(c cases.Category) string {
	if c.NameZH != "" {
		return c.NameZH
	}
	return c.NameEN
}

// IsService reports whether a category is an Open311 service: a leaf not
// hidden by open311: false.
func IsService(cats *cases.Categories, c cases.Category) bool {
	return c.InOpen311() && cats.IsLeaf(c.Code)
}

// NewServices lists the services of a category table in code order; with
// publicOnly, only the categories marked public.
func NewServices(cats *cases.Categories, publicOnly bool) Services {
	out := Services{}
	for _, c := range cats.List() {
		if !IsService(cats, c) || publicOnly && !c.Public {
			continue
		}
		group := ""
		if p, ok := cats.Find(c.Parent); ok {
			group = ServiceName(p)
		}
		keywords := []string{}
		if c.NameEN != "" && c.NameEN != ServiceName(c) {
			keywords = append(keywords, c.NameEN)
		}
		out = append(out, Service{ServiceCode: c.Code, ServiceName: ServiceName(c), Description: c.NameEN,
			Metadata: len(c.Attributes) > 0, Type: "realtime", Keywords: strings.Join(keywords, ","), Group: group})
	}
	return out
}

// FindService returns the category of a service code, or a not-found
// error for a code that is no service.
func FindService(cats *cases.Categories, code string) (cases.Category, error) {
	c, ok := cats.Find(code)
	if !ok || !IsService(cats, c) {
		return c, citygrid.Errorf(citygrid.CodeNotFound, "service_code %q is not a service (GET services lists them)", truncate(code, 40))
	}
	return c, nil
}

// NewDefinition is a service's definition: its attributes in order.
func NewDefinition(c cases.Category) *ServiceDefinition {
	d := &ServiceDefinition{ServiceCode: c.Code, Attributes: []AttributeDef{}}
	for i, a := range c.Attributes {
		def := AttributeDef{Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required,
			DatatypeDescription: a.DatatypeDescription, Order: i + 1, Description: a.Description}
		if len(a.Values) > 0 {
			def.Values = &Values{}
		}
		for _, v := range a.Values {
			def.Values.Items = append(def.Values.Items, Value{Key: v.Key, Name: v.Name})
		}
		d.Attributes = append(d.Attributes, def)
	}
	return d
}

// Stored is what a submission keeps in its case's properties under
// "open311": the attributes, the media URL and the reporter's contact
// details (which the façade never shows).
type Stored struct {
	Attributes map[string]any    `json:"attributes,omitempty"`
	MediaURL   string            `json:"media_url,omitempty"`
	Contact    map[string]string `json:"contact,omitempty"`
}

// Properties returns a case's properties for a submission whose
// attributes were checked (CheckAttributes).
func (s *Submission) Properties(attrs map[string]any) json.RawMessage {
	st := Stored{Attributes: attrs, MediaURL: s.MediaURL, Contact: map[string]string{}}
	for k, v := range map[string]string{"email": s.Email, "first_name": s.FirstName, "last_name": s.LastName,
		"phone": s.Phone, "device_id": s.DeviceID, "account_id": s.AccountID} {
		if v != "" {
			st.Contact[k] = v
		}
	}
	if len(st.Contact) == 0 {
		st.Contact = nil
	}
	b, _ := json.Marshal(map[string]Stored{"open311": st})
	return b
}

// mediaURL finds the media URL a case was submitted with.
func mediaURL(props json.RawMessage) string {
	if len(props) == 0 {
		return ""
	}
	var p struct {
		Open311 Stored `json:"open311"`
	}
	if json.Unmarshal(props, &p) != nil {
		return ""
	}
	return p.Open311.MediaURL
}

// View is how a caller sees requests.
type View struct {
	// FreeText shows the reporter's description and media URL.
	FreeText bool
	// Extensions adds detailed_status and the notes.
	Extensions bool
	Location   *time.Location // of the datetimes (nil: UTC)
}

// NewRequest renders a case. rejection is the note its rejection was
// given (if rejected); events are its history for the notes (used with
// Extensions).
func (v View) NewRequest(c *cases.Case, cats *cases.Categories, rejection string, events []cases.CaseEvent) Request {
	merged := c.MergedInto != nil
	r := Request{
		ServiceRequestID:  strconv.FormatInt(c.ID, 10),
		Status:            Status(c.Status, merged),
		StatusNotes:       StatusNotes(c, rejection),
		ServiceCode:       c.Category,
		AgencyResponsible: c.Unit,
		RequestedDatetime: FormatTime(c.ReportedAt, v.Location),
		UpdatedDatetime:   FormatTime(c.UpdatedAt, v.Location),
		ExpectedDatetime:  FormatTime(c.DueAt, v.Location),
		Lat:               c.Location[1],
		Long:              c.Location[0],
	}
	if cat, ok := cats.Find(c.Category); ok {
		r.ServiceName = ServiceName(cat)
	}
	if v.FreeText {
		// A case reported elsewhere may carry its words as a title alone.
		r.Description = c.Description
		if r.Description == "" {
			r.Description = c.Title
		}
		r.MediaURL = mediaURL(c.Properties)
	}
	if v.Extensions {
		r.ExtendedAttributes = &ExtendedAttributes{DetailedStatus: Detailed(c.Status, merged)}
		r.Notes = &Notes{Items: []Note{}}
		for _, e := range events {
			r.Notes.Items = append(r.Notes.Items, Note{ID: strconv.FormatInt(e.ID, 10), Datetime: FormatTime(e.At, v.Location),
				Summary: Summary(e.Event), Description: e.Note})
		}
	}
	return r
}

// Summary says in a few words what an event did.
func Summary(e cases.Event) string {
	switch {
	case e.Kind == "merge":
		var d struct {
			Into int64 `json:"into"`
		}
		_ = json.Unmarshal(e.Data, &d)
		return "merged into service request " + strconv.FormatInt(d.Into, 10)
	case e.From != "" && e.To != "":
		return strings.ReplaceAll(e.Kind, "_", " ") + ": " + e.From + " → " + e.To
	}
	return strings.ReplaceAll(e.Kind, "_", " ")
}

// NewUpdate renders an event as a service request update.
func (v View) NewUpdate(e cases.CaseEvent) Update {
	u := Update{
		UpdateID:           strconv.FormatInt(e.ID, 10),
		ServiceRequestID:   strconv.FormatInt(e.Case.ID, 10),
		Status:             UpdateStatus(e.Status, e.Merged),
		UpdatedDatetime:    FormatTime(e.At, v.Location),
		Description:        e.Note,
		ExternalStatusCode: Detailed(e.Status, e.Merged),
	}
	if u.Description == "" {
		u.Description = Summary(e.Event)
	}
	return u
}

// IsPublic reports whether anonymous readers may see the cases of
// category code (with -open311-public-read): it, or a category above it,
// is marked public, so a mark covers its subtree as category filters do.
func IsPublic(cats *cases.Categories, code string) bool {
	for ; code != ""; code = cases.ParentCode(code) {
		if c, ok := cats.Find(code); ok && c.Public {
			return true
		}
	}
	return false
}

// PublicPrefixes lists the codes marked public: as category prefixes,
// they select exactly the cases IsPublic allows.
func PublicPrefixes(cats *cases.Categories) []string {
	out := []string{}
	for _, c := range cats.List() {
		if c.Public {
			out = append(out, c.Code)
		}
	}
	return out
}
