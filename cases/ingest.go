package cases

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"citygrid"
	"citygrid/grid"
	"citygrid/internal/strictjson"
	"citygrid/position"
)

// BulkFormat is the encoding of a bulk ingest.
type BulkFormat int

const (
	BulkNDJSON BulkFormat = iota // one JSON case object per line
	BulkCSV                      // a header row, then one case per row
)

// Ingest tuning.
const (
	ingestBatch     = 5000
	ingestWriters   = 2
	maxLineBytes    = 1 << 20
	maxListedErrors = 1000
	// maxRejectionLen bounds the message of one rejected line: messages
	// quote the input, whose lines may each be maxLineBytes long.
	maxRejectionLen = 300
)

// Ingester validates, locates and stores cases from a stream in batches:
// while batches are being copied into the database (by ingestWriters
// connections at once: the database's index maintenance is the bottleneck
// and parallelises), the next is parsed.
type Ingester struct {
	Categories *Categories
	Calendar   *Calendar
	Locator    *grid.Locator
	Now        func() time.Time
	// Store stores a batch and sets the ID of each case it stored (the
	// others, duplicates of stored cases, keep ID 0).
	Store interface {
		InsertCases(ctx context.Context, cases []*Case) (int, error)
	}
	// Stored, when set, is given the cases of each batch as soon as the
	// batch is stored, with their ids (those of the batch that were
	// duplicates are left out) and the change-feed position the batch
	// produced (package position; 0 when the store noted none): the caller
	// applies them to its indexes before the ingest replies, in proportion
	// to the batch. Batches are stored by several writers at once, so
	// Stored may run concurrently.
	Stored func(p uint64, cases []*Case)
	// Progress, when set, is told the number of lines read so far.
	Progress func(lines int)
	// Admit, when set, checks each valid case against the caller's access:
	// a case it refuses is a rejected line, the others are stored.
	Admit func(c *Case) error
}

// csvColumns maps the CSV header names citygrid reads to setters.
var csvColumns = map[string]func(in *Input, v string) error{
	"source":      func(in *Input, v string) error { in.Source = v; return nil },
	"external_id": func(in *Input, v string) error { in.ExternalID = v; return nil },
	"category":    func(in *Input, v string) error { in.Category = v; return nil },
	"title":       func(in *Input, v string) error { in.Title = v; return nil },
	"description": func(in *Input, v string) error { in.Description = v; return nil },
	"crs":         func(in *Input, v string) error { in.CRS = v; return nil },
	"status":      func(in *Input, v string) error { in.Status = v; return nil },
	"priority": func(in *Input, v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f != math.Trunc(f) {
				return fieldErr("priority", "%q is not a whole number: want an integer from 1 to 5", truncateText(v, 20))
			}
			return fieldErr("priority", "%q is not an integer: want 1 to 5", truncateText(v, 20))
		}
		in.Priority = &n
		return nil
	},
	"reported_at": func(in *Input, v string) error {
		if v == "" {
			return nil
		}
		t, err := ParseTime("reported_at", v)
		if err != nil {
			return err
		}
		in.ReportedAt = &t
		return nil
	},
	"lng": func(in *Input, v string) error { return setCoord(in, 0, "lng", v) },
	"lat": func(in *Input, v string) error { return setCoord(in, 1, "lat", v) },
}

func setCoord(in *Input, i int, name, v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return fieldErr(name, "%q is not a number", truncateText(v, 20))
	}
	if in.Location == nil {
		loc := make([]float64, 2)
		in.Location = &loc
	}
	(*in.Location)[i] = f
	return nil
}

// Ingest reads every case of r and stores the valid ones. Lines are counted
// from 1; for CSV the header is line 1. Errors of the stream itself (a
// broken CSV header, an unreadable body) fail the whole call; errors of a
// line are listed and the line skipped. A failed call may have stored
// batches before it failed: Stored has been told of them.
func (ing *Ingester) Ingest(ctx context.Context, r io.Reader, format BulkFormat) (*IngestResult, error) {
	res := &IngestResult{Rejected: []LineError{}}
	rejected := 0
	reject := func(line int, err error) {
		rejected++
		if len(res.Rejected) < maxListedErrors {
			res.Rejected = append(res.Rejected, LineError{Line: line, Error: truncateText(err.Error(), maxRejectionLen)})
		}
	}
	batches := make(chan []*Case, ingestWriters)
	type outcome struct {
		n   int
		err error
	}
	stored := make(chan outcome, ingestWriters)
	valid := 0
	for range ingestWriters {
		go func() {
			var o outcome
			for b := range batches {
				if o.err != nil {
					continue // drain
				}
				// Each batch notes its own position: its cases are applied
				// with it (the request's note keeps the largest).
				bctx, note := position.WithNote(ctx)
				n, err := ing.Store.InsertCases(bctx, b)
				o.n += n
				o.err = err
				p, _ := note.Max()
				position.Record(ctx, p)
				if err == nil && n > 0 && ing.Stored != nil {
					stored := make([]*Case, 0, n)
					for _, c := range b {
						if c.ID != 0 {
							stored = append(stored, c)
						}
					}
					ing.Stored(p, stored)
				}
			}
			stored <- o // buffered: a writer never waits for the reader
		}()
	}
	// Whatever happens to the reading (a panic included), the writers end.
	closeBatches := sync.OnceFunc(func() { close(batches) })
	defer closeBatches()
	var batch []*Case
	flush := func() {
		if len(batch) > 0 {
			batches <- batch
			batch = nil
		}
	}
	add := func(line int, in *Input) {
		c, err := in.Prepare(ing.Categories, ing.Calendar, ing.Locator, ing.Now())
		if err == nil && ing.Admit != nil {
			err = ing.Admit(c)
		}
		if err != nil {
			reject(line, err)
			return
		}
		valid++
		batch = append(batch, c)
		if len(batch) == ingestBatch {
			flush()
		}
	}
	var readErr error
	switch format {
	case BulkNDJSON:
		readErr = ing.readNDJSON(r, add, reject)
	case BulkCSV:
		readErr = ing.readCSV(r, add, reject)
	}
	flush()
	closeBatches()
	var storeErr error
	for range ingestWriters {
		o := <-stored
		res.Accepted += o.n
		if storeErr == nil {
			storeErr = o.err
		}
	}
	if readErr != nil {
		return nil, readErr
	}
	if storeErr != nil {
		return nil, storeErr
	}
	res.Duplicates = valid - res.Accepted
	if rejected > len(res.Rejected) {
		res.Rejected = append(res.Rejected, LineError{Line: 0, Error: fmt.Sprintf("%d more lines rejected; only the first %d are listed", rejected-len(res.Rejected), maxListedErrors)})
	}
	return res, nil
}

func (ing *Ingester) progress(lines int) {
	if ing.Progress != nil && lines%10000 == 0 {
		ing.Progress(lines)
	}
}

func (ing *Ingester) readNDJSON(r io.Reader, add func(int, *Input), reject func(int, error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		ing.progress(line)
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var in Input
		if err := strictjson.Decode(b, &in); err != nil {
			reject(line, describeCaseJSONError(err))
			continue
		}
		add(line, &in)
	}
	return streamError(sc.Err(), line)
}

func (ing *Ingester) readCSV(r io.Reader, add func(int, *Input), reject func(int, error)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return citygrid.Errorf(citygrid.CodeInvalid, "CSV header: %v", streamError(err, 1))
	}
	setters := make([]func(*Input, string) error, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		set, ok := csvColumns[name]
		if !ok {
			return citygrid.Errorf(citygrid.CodeInvalid, "CSV header: unknown column %q", truncateText(h, 40))
		}
		if seen[name] {
			return citygrid.Errorf(citygrid.CodeInvalid, "CSV header: column %q appears twice", name)
		}
		seen[name] = true
		setters[i] = set
	}
	if !seen["lng"] || !seen["lat"] {
		return citygrid.Errorf(citygrid.CodeInvalid, "CSV header: lng and lat columns are required")
	}
	lines := 1
	line, _ := cr.FieldPos(0) // of the last record read
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		lines++
		ing.progress(lines)
		if err != nil {
			// FieldPos must wait: a record that failed in its first field
			// has no positions, and FieldPos(0) would panic.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				reject(pe.StartLine, fmt.Errorf("malformed CSV: %v", pe.Err))
				continue
			}
			return streamError(err, line)
		}
		line, _ = cr.FieldPos(0)
		if len(rec) != len(header) {
			reject(line, fmt.Errorf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		var in Input
		var bad error
		for i, v := range rec {
			if err := setters[i](&in, v); err != nil {
				bad = err
				break
			}
		}
		if bad != nil {
			reject(line, bad)
			continue
		}
		add(line, &in)
	}
}

// streamError classifies a failure to read the stream itself; the caller
// maps transport errors (such as a size limit) in the chain.
func streamError(err error, line int) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return citygrid.Errorf(citygrid.CodeInvalid, "line %d is longer than %d bytes", line+1, maxLineBytes)
	}
	return fmt.Errorf("read after line %d: %w", line, err)
}

// describeCaseJSONError names the field of a JSON decoding error.
func describeCaseJSONError(err error) error {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		de *strictjson.DuplicateKeyError
		fe *FieldError
	)
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &de):
		return fieldErr(de.Field(), "given twice: a key may appear only once in an object")
	case errors.Is(err, strictjson.ErrTrailingData):
		return errors.New("more than one JSON value on the line")
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("the line is a JSON %s, not a case object", truncateText(te.Value, 40))
	case errors.As(err, &te):
		return fieldErr(te.Field, "%s", truncateText(strictjson.DescribeTypeError(te), 80))
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		return fmt.Errorf("unknown field %s", truncateText(strings.TrimPrefix(err.Error(), "json: unknown field "), 60))
	}
	return fmt.Errorf("malformed JSON: %v", err)
}
