// Package strictjson decodes JSON request bodies strictly: one value, no
// unknown fields, no data after it, and no key given twice in one object.
//
// encoding/json lets the last of two equal keys win without a word, so
// {"category":"E0101","category":"C0201"} would dispatch a case under a
// category its sender may never have meant. A duplicate is refused at any
// depth, free-form objects (a case's properties) included: PostgreSQL's
// jsonb would keep only the last one, so the stored case would silently
// differ from what was sent.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// DuplicateKeyError is a key given twice in one object.
type DuplicateKeyError struct {
	// Path locates the object: "" for the top level, else like
	// "properties" or "points[3]".
	Path string
	Key  string
}

func (e *DuplicateKeyError) Error() string {
	where := "the top-level object"
	if e.Path != "" {
		where = e.Path
	}
	return fmt.Sprintf("duplicate key %q in %s: a key may appear only once in an object", e.Key, where)
}

// Field is the dotted path of the duplicated key, for problem details.
func (e *DuplicateKeyError) Field() string {
	if e.Path == "" {
		return e.Key
	}
	return e.Path + "." + e.Key
}

// ErrTrailingData is data after the one JSON value.
var ErrTrailingData = errors.New("data after the JSON value")

// Decode decodes exactly one JSON value from data into v, with unknown
// fields refused, and then checks that no object repeats a key. Errors are
// encoding/json's, ErrTrailingData, or a *DuplicateKeyError.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More misses a stray closing bracket; Token sees anything.
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	return CheckKeys(data)
}

// CheckKeys returns a *DuplicateKeyError for the first object in data that
// repeats a key, and nil for malformed JSON, which the decoder reports
// better. It reads every object's keys with encoding/json's tokenizer and
// hands each value, as raw bytes, to the decoder's scanner, descending only
// into values that can hold objects: an array holding no '{' byte (a
// polygon's coordinates, 10,000 points) is passed over in one scan.
func CheckKeys(data []byte) error {
	err := checkValue(data, "")
	var de *DuplicateKeyError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// checkValue checks one JSON value found at path.
func checkValue(raw []byte, path string) error {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || (raw[0] != '{' && raw[0] != '[') || bytes.IndexByte(raw[1:], '{') < 0 && raw[0] == '[' {
		return nil // no object inside
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening delimiter
		return err
	}
	var keys []string
	var many map[string]bool
	for i := 0; dec.More(); i++ {
		at := path + "[" + strconv.Itoa(i) + "]"
		if raw[0] == '{' {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			if seen(&keys, &many, key) {
				return &DuplicateKeyError{Path: path, Key: key}
			}
			at = key
			if path != "" {
				at = path + "." + key
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := checkValue(v, at); err != nil {
			return err
		}
	}
	return nil
}

// manyKeys is when an object's keys move from a slice to a map.
const manyKeys = 16

// seen records key among an object's keys and reports whether it was there
// already; a few keys are searched in a slice, more in a map.
func seen(keys *[]string, many *map[string]bool, key string) bool {
	if *many != nil {
		if (*many)[key] {
			return true
		}
		(*many)[key] = true
		return false
	}
	for _, k := range *keys {
		if k == key {
			return true
		}
	}
	*keys = append(*keys, key)
	if len(*keys) > manyKeys {
		*many = make(map[string]bool, 2*manyKeys)
		for _, k := range *keys {
			(*many)[k] = true
		}
	}
	return false
}

// DescribeTypeError says what is wrong with a value of the wrong JSON type
// (the caller names te.Field): a fractional or too large number where an
// integer is wanted is told apart from a plain mismatch.
func DescribeTypeError(te *json.UnmarshalTypeError) string {
	t := te.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if num, ok := strings.CutPrefix(te.Value, "number "); ok && isInteger(t.Kind()) {
		f, err := strconv.ParseFloat(num, 64)
		if err == nil && f == math.Trunc(f) {
			return num + " is out of range for an integer"
		}
		return num + " is not a whole number: an integer is required"
	}
	return fmt.Sprintf("expected %s, got JSON %s", kindName(t), te.Value)
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// kindName names, in JSON terms, what a Go type decodes from.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	}
	if isInteger(t.Kind()) {
		return "an integer"
	}
	return "an object"
}
