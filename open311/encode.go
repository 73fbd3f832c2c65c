package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"reflect"
)

// Format is a reply's format, named by the resource's extension.
type Format string

// The formats: XML is the spec's required one.
const (
	XML  Format = "xml"
	JSON Format = "json"
)

// Formats lists the formats in discovery order, with their media types.
var Formats = []Format{XML, JSON}

// ParseFormat reads a resource's extension; anything else is an error
// (answered in XML, the format every client reads).
func ParseFormat(ext string) (Format, bool) {
	switch Format(ext) {
	case XML, JSON:
		return Format(ext), true
	}
	return XML, false
}

// ContentType is the media type of a reply in f, UTF-8.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// MediaType is f's media type as discovery lists it.
func (f Format) MediaType() string {
	if f == JSON {
		return "application/json"
	}
	return "text/xml"
}

// roots names the XML root and item elements of each list document.
var roots = map[reflect.Type][2]string{
	reflect.TypeFor[Services]():    {"services", "service"},
	reflect.TypeFor[Requests]():    {"service_requests", "request"},
	reflect.TypeFor[CreatedList](): {"service_requests", "request"},
	reflect.TypeFor[Updates]():     {"service_request_updates", "request_update"},
	reflect.TypeFor[Errors]():      {"errors", "error"},
}

// Marshal encodes a document (one of this package's document types) in f.
// XML starts with the declaration the spec shows and has no namespace;
// JSON lists are arrays (never null).
func Marshal(f Format, doc any) ([]byte, error) {
	if f == JSON {
		if names, ok := roots[reflect.TypeOf(doc)]; ok && names[0] != "" {
			return marshalList(doc)
		}
		return json.Marshal(doc)
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	enc := xml.NewEncoder(&buf)
	if names, ok := roots[reflect.TypeOf(doc)]; ok {
		root := xml.StartElement{Name: xml.Name{Local: names[0]}}
		if err := enc.EncodeToken(root); err != nil {
			return nil, err
		}
		v := reflect.ValueOf(doc)
		for i := range v.Len() {
			if err := enc.EncodeElement(v.Index(i).Interface(), xml.StartElement{Name: xml.Name{Local: names[1]}}); err != nil {
				return nil, err
			}
		}
		if err := enc.EncodeToken(root.End()); err != nil {
			return nil, err
		}
	} else if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// marshalList writes a slice as a JSON array, [] when empty.
func marshalList(list any) ([]byte, error) {
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("open311: %T is not a list", list)
	}
	if v.Len() == 0 {
		return []byte("[]"), nil
	}
	return json.Marshal(list)
}
