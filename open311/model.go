package open311

import "encoding/xml"

// Specification is what discovery names as the spec the endpoint follows.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Discovery is the service discovery document.
type Discovery struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []Endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

// Endpoint is one endpoint of discovery.
type Endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// Service is one service of the list: a leaf category.
type Service struct {
	ServiceCode string `xml:"service_code" json:"service_code"`
	ServiceName string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

// Services is the service list.
type Services []Service

// ServiceDefinition lists the attributes a service asks for.
type ServiceDefinition struct {
	XMLName     xml.Name       `xml:"service_definition" json:"-"`
	ServiceCode string         `xml:"service_code" json:"service_code"`
	Attributes  []AttributeDef `xml:"attributes>attribute" json:"attributes"`
}

// AttributeDef is one attribute of a service definition.
type AttributeDef struct {
	Variable            bool    `xml:"variable" json:"variable"`
	Code                string  `xml:"code" json:"code"`
	Datatype            string  `xml:"datatype" json:"datatype"`
	Required            bool    `xml:"required" json:"required"`
	DatatypeDescription string  `xml:"datatype_description" json:"datatype_description"`
	Order               int     `xml:"order" json:"order"`
	Description         string  `xml:"description" json:"description"`
	Values              *Values `xml:"values,omitempty" json:"values,omitempty"`
}

// Values are the choices of a list attribute (nil for the others: in
// XML, encoding/xml would keep an empty parent of a path tag).
type Values struct {
	Items []Value `xml:"value"`
}

// MarshalJSON writes the values as an array.
func (v Values) MarshalJSON() ([]byte, error) { return marshalList(v.Items) }

// Value is one choice of a list attribute.
type Value struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

// Request is one service request (a case seen through the façade).
// Fields citygrid has nothing for (address, address_id, zipcode,
// service_notice) are left out; optional ones are left out when empty, in
// both formats alike.
type Request struct {
	ServiceRequestID   string              `xml:"service_request_id" json:"service_request_id"`
	Status             string              `xml:"status" json:"status"`
	StatusNotes        string              `xml:"status_notes,omitempty" json:"status_notes,omitempty"`
	ServiceName        string              `xml:"service_name" json:"service_name"`
	ServiceCode        string              `xml:"service_code" json:"service_code"`
	Description        string              `xml:"description" json:"description"`
	AgencyResponsible  string              `xml:"agency_responsible,omitempty" json:"agency_responsible,omitempty"`
	RequestedDatetime  string              `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime    string              `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime   string              `xml:"expected_datetime,omitempty" json:"expected_datetime,omitempty"`
	Lat                float64             `xml:"lat" json:"lat"`
	Long               float64             `xml:"long" json:"long"`
	MediaURL           string              `xml:"media_url,omitempty" json:"media_url,omitempty"`
	ExtendedAttributes *ExtendedAttributes `xml:"extended_attributes,omitempty" json:"extended_attributes,omitempty"`
	Notes              *Notes              `xml:"notes,omitempty" json:"notes,omitempty"`
}

// ExtendedAttributes are what extensions=true adds to a request.
type ExtendedAttributes struct {
	DetailedStatus string `xml:"detailed_status" json:"detailed_status"`
}

// Notes is a request's history with extensions=true: one note per event,
// oldest first.
type Notes struct {
	Items []Note `xml:"note"`
}

// MarshalJSON writes the notes as an array, as every list of the JSON
// format is.
func (n Notes) MarshalJSON() ([]byte, error) { return marshalList(n.Items) }

// Note is one event of a request's history.
type Note struct {
	ID          string `xml:"id" json:"id"`
	Datetime    string `xml:"datetime" json:"datetime"`
	Summary     string `xml:"summary" json:"summary"`
	Description string `xml:"description" json:"description"`
}

// Requests is a list of requests.
type Requests []Request

// Created is the reply to a submitted request: its id at once (services
// are realtime, so no token is ever given).
type Created struct {
	ServiceRequestID string `xml:"service_request_id" json:"service_request_id"`
	ServiceNotice    string `xml:"service_notice,omitempty" json:"service_notice,omitempty"`
	AccountID        string `xml:"account_id,omitempty" json:"account_id,omitempty"`
}

// CreatedList is the reply to POST requests: a list of one.
type CreatedList []Created

// Update is one FixMyStreet-style service request update: an event of a
// case's history, whose id stays its update_id.
type Update struct {
	UpdateID           string `xml:"update_id" json:"update_id"`
	ServiceRequestID   string `xml:"service_request_id" json:"service_request_id"`
	Status             string `xml:"status" json:"status"`
	UpdatedDatetime    string `xml:"updated_datetime" json:"updated_datetime"`
	Description        string `xml:"description" json:"description"`
	MediaURL           string `xml:"media_url" json:"media_url"`
	ExternalStatusCode string `xml:"external_status_code" json:"external_status_code"`
}

// Updates is a list of service request updates.
type Updates []Update

// Error is one error of an error list: code is the HTTP status, or a more
// specific code of the same family.
type Error struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}

// Errors is the error list every failure answers with.
type Errors []Error
