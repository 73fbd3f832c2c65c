package cases

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Attribute datatypes of an Open311 service definition.
var AttributeDatatypes = []string{"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}

// Attribute is a field a report of a category asks for beyond the usual
// ones (the attributes of an Open311 service definition). Its order is its
// place in the category's list, from 1.
type Attribute struct {
	Code                string           `json:"code"`
	Datatype            string           `json:"datatype"`
	Required            bool             `json:"required"`
	Description         string           `json:"description"`
	DatatypeDescription string           `json:"datatype_description,omitempty"`
	Values              []AttributeValue `json:"values,omitempty"`
}

// AttributeValue is one choice of a list attribute.
type AttributeValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// IsList reports whether the attribute's answer is chosen from Values.
func (a Attribute) IsList() bool {
	return a.Datatype == "singlevaluelist" || a.Datatype == "multivaluelist"
}

// InOpen311 reports whether the category is offered as an Open311 service
// (when it is a leaf): unless it says open311: false.
func (c Category) InOpen311() bool { return c.Open311 == nil || *c.Open311 }

// maxAttributes bounds a category's attributes.
const maxAttributes = 50

// checkOpen311 validates the Open311 part of a category entry.
func (c Category) checkOpen311() error {
	if len(c.Attributes) > maxAttributes {
		return fmt.Errorf("categories: %q has %d attributes, at most %d", c.Code, len(c.Attributes), maxAttributes)
	}
	seen := map[string]bool{}
	for i, a := range c.Attributes {
		where := fmt.Sprintf("categories: %q attributes[%d]", c.Code, i)
		if a.Code == "" || len(a.Code) > 64 || strings.IndexFunc(a.Code, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_' || r == '-')
		}) >= 0 {
			return fmt.Errorf("%s code %q: want 1 to 64 letters, digits, _ or -", where, truncateText(a.Code, 40))
		}
		if seen[a.Code] {
			return fmt.Errorf("%s code %q given twice", where, a.Code)
		}
		seen[a.Code] = true
		known := false
		for _, d := range AttributeDatatypes {
			known = known || a.Datatype == d
		}
		if !known {
			return fmt.Errorf("%s datatype %q: want one of %s", where, truncateText(a.Datatype, 40), strings.Join(AttributeDatatypes, ", "))
		}
		if strings.TrimSpace(a.Description) == "" || len(a.Description) > 500 || !utf8.ValidString(a.Description) {
			return fmt.Errorf("%s description: want 1 to 500 bytes of text (the question the client shows)", where)
		}
		if len(a.DatatypeDescription) > 500 {
			return fmt.Errorf("%s datatype_description: longer than 500 bytes", where)
		}
		if a.IsList() != (len(a.Values) > 0) {
			return fmt.Errorf("%s values: a %s attribute %s", where, a.Datatype, map[bool]string{true: "needs values to choose from", false: "takes none"}[a.IsList()])
		}
		keys := map[string]bool{}
		for _, v := range a.Values {
			if v.Key == "" || len(v.Key) > 64 || strings.TrimSpace(v.Name) == "" || len(v.Name) > 200 || keys[v.Key] {
				return fmt.Errorf("%s values: each needs a key (unique, at most 64 bytes) and a name", where)
			}
			keys[v.Key] = true
		}
	}
	return nil
}

// IsLeaf reports whether no other category of the table lies under code.
func (cs *Categories) IsLeaf(code string) bool {
	i, ok := cs.byCode[code]
	if !ok {
		return false
	}
	// The table is sorted by code, and a child starts with its parent's
	// code, so a child would come right after it.
	return i+1 == len(cs.list) || !strings.HasPrefix(cs.list[i+1].Code, code)
}
