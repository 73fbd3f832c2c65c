package cases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/grid"
)

// memStore is the Ingester's store kept in memory: it stores each
// (source, external_id) once, as the database's unique key does, and
// counts what it was given. Two writers call it at once.
type memStore struct {
	mu       sync.Mutex
	stored   map[[2]string]bool
	received int
	nextID   int64
}

func (m *memStore) InsertCases(_ context.Context, cs []*Case) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stored == nil {
		m.stored = map[[2]string]bool{}
	}
	n := 0
	for _, c := range cs {
		m.received++
		k := [2]string{c.Source, c.ExternalID}
		if !m.stored[k] {
			m.stored[k] = true
			n++
			m.nextID++
			c.ID = m.nextID // as the database's store does
		}
	}
	return n, nil
}

// fuzzIngester ingests over one district (120.35–120.37, 36.07–36.09),
// at a fixed time.
func fuzzIngester(t testing.TB, store *memStore) *Ingester {
	t.Helper()
	cats, err := NewCategories(DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	district := &grid.Grid{Code: "D", Name: "区", Level: grid.LevelDistrict, Unit: "U1",
		Geometry: orb.Polygon{{{120.35, 36.07}, {120.37, 36.07}, {120.37, 36.09}, {120.35, 36.09}, {120.35, 36.07}}}}
	loc, err := grid.NewLocator([]*grid.Grid{district}, []grid.Unit{{Code: "U1", Name: "城管局"}}, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	return &Ingester{Categories: cats, Calendar: DefaultCalendar(), Locator: loc,
		Now: func() time.Time { return now }, Store: store}
}

// maxFuzzRejectionLen bounds the message of one rejected line (see reject
// in Ingest, which truncates with an ellipsis): a client may send lines of
// a megabyte, and up to maxListedErrors of them are listed.
const maxFuzzRejectionLen = maxRejectionLen + len("…")

// FuzzIngest feeds arbitrary NDJSON and CSV bodies to Ingest, with a store
// in memory (the parser is under test, not the database). It must not
// panic; it fails only with a client-safe *citygrid.Error; and it accounts
// for every case the input holds: accepted + duplicates + rejected equals
// the non-blank lines of NDJSON, and the records of CSV (exactly for CSV
// without quotes, where a record is a line; at most the non-blank lines
// after the header otherwise). Rejections name lines of the input, in
// order, with bounded messages.
//
//	go test ./cases -run '^$' -fuzz FuzzIngest -fuzztime 60s
func FuzzIngest(f *testing.F) {
	ndjson := []string{
		`{"source":"hotline","external_id":"1","category":"E0101","location":[120.36,36.08]}`,
		`{"source":"hotline","external_id":"1","category":"E0101","location":[120.36,36.08]}` + "\n" +
			`{"source":"hotline","external_id":"1","category":"E0101","location":[120.36,36.08]}` + "\n",
		`{"source":"app","external_id":"a","category":"E0101","title":"垃圾","description":"d","priority":2,"location":[120.36,36.08],"crs":"gcj02","reported_at":"2026-11-20T08:00:00Z","status":"closed","properties":{"k":[1,2]}}` + "\r\n\r\n  \n" +
			`{"source":"app","external_id":"b","category":"E0101","location":[0,0]}`,
		"\n\n\t\n",
		`{"source":"x"`,
		`{"source":"x","colour":"red"}`,
		`{"source":"x"} {"source":"y"}`,
		`[1,2]`,
		`{"source":5}`,
		`{"priority":1e400}`,
		`{"source":"s","external_id":"e","category":"NOPE","location":[120.36,36.08]}`,
		`{"source":"s","external_id":"e","category":"E0101","location":[120.36]}`,
		`{"source":"s","external_id":"e","category":"E0101","location":[181,91]}`,
		`{"source":"s","external_id":"e","category":"E0101","location":[120.36,36.08],"properties":[1]}`,
		`{"source":"s","external_id":"e","category":"E0101","location":[120.36,36.08],"reported_at":"1999-01-01T00:00:00Z"}`,
		`{"source":"s","external_id":"e","category":"E0101","location":[120.36,36.08],"status":"lost"}`,
		"{\"source\":\"s\\u0000\",\"external_id\":\"e\",\"category\":\"E0101\",\"location\":[120.36,36.08]}",
		"{\"source\":\"\xff\",\"external_id\":\"e\",\"category\":\"E0101\",\"location\":[120.36,36.08]}",
	}
	csvs := []string{
		"source,external_id,category,lng,lat\nhotline,1,E0101,120.36,36.08\nhotline,1,E0101,120.36,36.08\nhotline,2,E0101,120.36,36.08\n",
		"\ufeffSource , External_ID,CATEGORY,title,description,priority,crs,status,reported_at,lng,lat\r\n" +
			"app,a,E0101,\"垃圾, 路边\",\"two\nlines\",2,bd09,reported,2026-11-20T08:00:00Z,120.36,36.08\r\n",
		"lng,lat\n120.36,36.08\n",
		"source,external_id,category,lng,lat\n\n\ns,e,E0101,NaN,Inf\ns,e,E0101,x,1\n",
		"source,external_id,category,lng,lat\ns,e,E0101,120.36\ns,e,E0101,120.36,36.08,9\n",
		"source,external_id,category,lng,lat,priority,reported_at\ns,e,E0101,120.36,36.08,x,y\n",
		"source,external_id,category,lng,lat\n1\"x,2,3,4,5\n\"a\"b,1,2,3,4\ns,\"e,E0101,120.36,36.08\n",
		"source,lat\n",
		"lng,lat,lng\n",
		"colour,lng,lat\n",
		"",
		"\"unterminated",
	}
	// Long text the messages could echo: a field name, a number.
	ndjson = append(ndjson, `{"`+strings.Repeat("长", 200)+`":1}`, `{"priority":1`+strings.Repeat("0", 400)+`}`,
		`{"location":[1,2],"source":"s","external_id":"e","category":"`+strings.Repeat("E", 400)+`"}`)
	csvs = append(csvs, "lng,lat,"+strings.Repeat("x", 400)+"\n", "lng,lat,priority\n1,2,"+strings.Repeat("9", 400)+"\n")
	for _, s := range ndjson {
		f.Add([]byte(s), false)
	}
	for _, s := range csvs {
		f.Add([]byte(s), true)
	}
	base := fuzzIngester(f, nil) // building the locator takes milliseconds
	f.Fuzz(func(t *testing.T, data []byte, isCSV bool) {
		store := &memStore{}
		ing := *base
		ing.Store = store
		format := BulkNDJSON
		if isCSV {
			format = BulkCSV
		}
		res, err := ing.Ingest(context.Background(), bytes.NewReader(data), format)
		if err != nil {
			// A bytes.Reader never fails: every error is the input's.
			var ce *citygrid.Error
			if !errors.As(err, &ce) || ce.Code == citygrid.CodeInternal || ce.Message == "" {
				t.Fatalf("Ingest failed with %v (%T), want a client-safe *citygrid.Error", err, err)
			}
			if res != nil {
				t.Fatalf("Ingest returned a result with the error %v", err)
			}
			return
		}
		if res.Accepted != len(store.stored) || res.Accepted+res.Duplicates != store.received || res.Duplicates < 0 {
			t.Fatalf("accepted %d, duplicates %d; the store holds %d of the %d cases it was given",
				res.Accepted, res.Duplicates, len(store.stored), store.received)
		}
		rejected, listed := countRejected(t, res.Rejected)
		total := res.Accepted + res.Duplicates + rejected

		physical := strings.Split(string(data), "\n")
		nonBlank := 0
		for _, l := range physical {
			if len(bytes.TrimSpace([]byte(l))) > 0 {
				nonBlank++
			}
		}
		if !isCSV {
			if total != nonBlank {
				t.Fatalf("%d cases accounted for (%d accepted, %d duplicates, %d rejected), the input has %d non-blank lines",
					total, res.Accepted, res.Duplicates, rejected, nonBlank)
			}
		} else {
			// csv skips empty lines (a lone \r before \n counts as empty);
			// the first line left is the header.
			lines := 0
			for _, l := range physical {
				if strings.TrimSuffix(l, "\r") != "" {
					lines++
				}
			}
			if !bytes.ContainsRune(data, '"') {
				if total != lines-1 {
					t.Fatalf("%d records accounted for (%d accepted, %d duplicates, %d rejected), the unquoted input has %d lines after the header",
						total, res.Accepted, res.Duplicates, rejected, lines-1)
				}
			} else if total > lines-1 {
				t.Fatalf("%d records accounted for, more than the %d lines after the header", total, lines-1)
			}
		}
		last := 0
		for _, r := range listed {
			if r.Line <= last || r.Line > len(physical) || (isCSV && r.Line < 2) {
				t.Fatalf("rejected line %d out of order or range (previous %d, %d lines)", r.Line, last, len(physical))
			}
			last = r.Line
			if r.Error == "" || len(r.Error) > maxFuzzRejectionLen || !utf8.ValidString(r.Error) {
				t.Fatalf("line %d: rejection message of %d bytes (at most %d, valid UTF-8): %.200q", r.Line, len(r.Error), maxFuzzRejectionLen, r.Error)
			}
			if !isCSV && len(bytes.TrimSpace([]byte(physical[r.Line-1]))) == 0 {
				t.Fatalf("blank line %d rejected: %s", r.Line, r.Error)
			}
		}
	})
}

// countRejected returns how many lines were rejected and the listed ones:
// past maxListedErrors, a last entry of line 0 says how many more there
// were.
func countRejected(t *testing.T, rs []LineError) (int, []LineError) {
	t.Helper()
	if n := len(rs); n > 0 && rs[n-1].Line == 0 {
		var more, listed int
		if _, err := fmt.Sscanf(rs[n-1].Error, "%d more lines rejected; only the first %d are listed", &more, &listed); err != nil || listed != n-1 {
			t.Fatalf("summary entry %q does not match the %d listed", rs[n-1].Error, n-1)
		}
		return n - 1 + more, rs[:n-1]
	}
	if len(rs) > maxListedErrors {
		t.Fatalf("%d rejections listed, at most %d", len(rs), maxListedErrors)
	}
	return len(rs), rs
}
