// Package open311check is for tests: it parses Open311 replies, checks
// their XML against the element names of the GeoReport v2 specification
// (and of the extensions citygrid serves), and checks that the JSON of a
// reply carries the same data in the same order as its XML.
package open311check

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Node is an XML element: its name, its text (leaves) and its children.
type Node struct {
	Name     string
	Text     string
	Children []*Node
}

// Child returns the first child named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Value returns the text of the child named name ("" when absent).
func (n *Node) Value(name string) string {
	if c := n.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// ParseXML parses a reply: the declaration the spec shows, UTF-8, one
// root element, no namespaces.
func ParseXML(b []byte) (*Node, error) {
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="utf-8"?>`)) {
		return nil, fmt.Errorf("no XML declaration with utf-8: %.60q", b)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []*Node
	var root *Node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" || len(t.Attr) > 0 {
				return nil, fmt.Errorf("element %s has a namespace or attributes", t.Name.Local)
			}
			n := &Node{Name: t.Name.Local}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root != nil {
				return nil, fmt.Errorf("a second root element %s", n.Name)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// spec names the elements of every document: an element's allowed
// children, by its name. Lists name their one item element. From the
// GeoReport v2 specification (wiki.open311.org/GeoReport_v2), its
// extensions (extended_attributes, notes) and FixMyStreet's service
// request updates.
var spec = map[string][]string{
	"discovery":               {"changeset", "contact", "key_service", "endpoints"},
	"endpoints":               {"endpoint"},
	"endpoint":                {"specification", "url", "changeset", "type", "formats"},
	"formats":                 {"format"},
	"services":                {"service"},
	"service":                 {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"},
	"service_definition":      {"service_code", "attributes"},
	"attributes":              {"attribute"},
	"attribute":               {"variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"},
	"values":                  {"value"},
	"value":                   {"key", "name"},
	"service_requests":        {"request"},
	"request":                 {"service_request_id", "token", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url", "account_id", "extended_attributes", "notes"},
	"extended_attributes":     {"detailed_status"},
	"notes":                   {"note"},
	"note":                    {"id", "datetime", "summary", "description"},
	"errors":                  {"error"},
	"error":                   {"code", "description"},
	"service_request_updates": {"request_update"},
	"request_update":          {"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url", "external_status_code", "extras"},
}

// lists are the elements whose children are items of one kind: an array
// in JSON.
var lists = map[string]bool{"endpoints": true, "formats": true, "services": true, "attributes": true, "values": true,
	"service_requests": true, "notes": true, "errors": true, "service_request_updates": true}

// CheckXML checks that every element of the tree is a spec element where
// it stands, in the spec's order, and that its root is root.
func CheckXML(n *Node, root string) error {
	if n.Name != root {
		return fmt.Errorf("root element %s, want %s", n.Name, root)
	}
	return check(n)
}

func check(n *Node) error {
	allowed, ok := spec[n.Name]
	if !ok {
		if len(n.Children) > 0 {
			return fmt.Errorf("element %s has children, but the spec has it a leaf", n.Name)
		}
		return nil
	}
	at := 0
	for _, c := range n.Children {
		i := indexOf(allowed[at:], c.Name)
		if lists[n.Name] {
			i = indexOf(allowed, c.Name)
		}
		if i < 0 {
			return fmt.Errorf("element %s in %s: not a spec element there, or out of the spec's order (%s)", c.Name, n.Name, strings.Join(allowed, ", "))
		}
		if !lists[n.Name] {
			at += i + 1
		}
		if err := check(c); err != nil {
			return err
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// SameData checks that a JSON reply carries the XML reply's data in the
// same order: a list is an array of its items, an element with children
// an object of them, a leaf a string, number or boolean written alike.
// Identifiers (keys ending in _id or named code) are strings in JSON.
func SameData(x *Node, js []byte) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return fmt.Errorf("JSON: %v", err)
	}
	return same(x, v, x.Name)
}

// ordered is a JSON object with its keys in order.
type ordered struct {
	keys []string
	vals map[string]any
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &ordered{vals: map[string]any{}}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k.(string))
				o.vals[k.(string)] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			if a == nil {
				a = []any{}
			}
			return a, err
		}
	}
	return tok, nil
}

func same(x *Node, v any, path string) error {
	if lists[x.Name] {
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: a list in XML, %T in JSON", path, v)
		}
		if len(a) != len(x.Children) {
			return fmt.Errorf("%s: %d items in XML, %d in JSON", path, len(x.Children), len(a))
		}
		for i, c := range x.Children {
			if err := same(c, a[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if _, hasChildren := spec[x.Name]; hasChildren {
		o, ok := v.(*ordered)
		if !ok {
			return fmt.Errorf("%s: an element with children in XML, %T in JSON", path, v)
		}
		if len(o.keys) != len(x.Children) {
			return fmt.Errorf("%s: XML has %d elements, JSON %d keys (%v)", path, len(x.Children), len(o.keys), o.keys)
		}
		for i, c := range x.Children {
			if o.keys[i] != c.Name {
				return fmt.Errorf("%s: element %d is %s in XML, %s in JSON", path, i, c.Name, o.keys[i])
			}
			if err := same(c, o.vals[c.Name], path+"."+c.Name); err != nil {
				return err
			}
		}
		return nil
	}
	var text string
	switch t := v.(type) {
	case string:
		text = t
	case json.Number:
		if strings.HasSuffix(x.Name, "_id") {
			return fmt.Errorf("%s: an identifier as a JSON number", path)
		}
		text = t.String()
		if a, err1 := strconv.ParseFloat(x.Text, 64); err1 == nil {
			if b, err2 := t.Float64(); err2 == nil && a == b {
				return nil
			}
		}
	case bool:
		text = strconv.FormatBool(t)
	case nil:
		text = ""
	default:
		return fmt.Errorf("%s: a leaf in XML, %T in JSON", path, v)
	}
	if text != x.Text {
		return fmt.Errorf("%s: %q in XML, %q in JSON", path, x.Text, text)
	}
	return nil
}
