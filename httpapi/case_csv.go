package httpapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"citygrid/cases"
)

// The CSV export (GET /v1/cases?format=csv, and the search) is made to
// open in Excel and WPS on Chinese Windows as it opens anywhere else: UTF-8
// with a byte order mark (without it they read the bytes as GBK and the
// Chinese is garbled), a file name to save it under, and no cell that a
// spreadsheet would run as a formula. Titles and ids come from the public
// (a hotline caller, an app user): a title "=HYPERLINK(…)" or "@SUM(…)" must
// stay text (CSV injection, OWASP).

var csvColumns = []string{"id", "external_id", "source", "category", "title", "priority", "status", "grid", "unit", "h3",
	"lng", "lat", "reported_at", "due_at", "closed_at", "overdue_now", "version"}

// utf8BOM tells spreadsheet programs the file is UTF-8.
const utf8BOM = "\ufeff"

func writeCasesCSV(w http.ResponseWriter, list []*cases.Case, dists []float64, now time.Time, next *string) error {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="cases-`+now.UTC().Format("20060102T150405Z")+`.csv"`)
	if next != nil {
		h.Set("X-Next-Cursor", *next)
	}
	_, _ = w.Write([]byte(utf8BOM))
	cw := csv.NewWriter(w)
	header := csvColumns
	if len(dists) > 0 {
		header = append(append([]string(nil), csvColumns...), "distance_m")
	}
	_ = cw.Write(header)
	for i, c := range list {
		closed := ""
		if c.ClosedAt != nil {
			closed = c.ClosedAt.UTC().Format(time.RFC3339)
		}
		// Text from outside is neutralised; the numbers are written here
		// (a longitude may start with a minus and must stay a number).
		row := []string{strconv.FormatInt(c.ID, 10), csvText(c.ExternalID), csvText(c.Source), csvText(c.Category), csvText(c.Title),
			strconv.Itoa(c.Priority), string(c.Status), csvText(c.Grid), csvText(c.Unit), c.Cell.String(),
			strconv.FormatFloat(c.Location[0], 'f', -1, 64), strconv.FormatFloat(c.Location[1], 'f', -1, 64),
			c.ReportedAt.UTC().Format(time.RFC3339), c.DueAt.UTC().Format(time.RFC3339), closed,
			strconv.FormatBool(c.Overdue(now)), strconv.Itoa(c.Version)}
		if len(dists) > 0 {
			row = append(row, strconv.FormatFloat(dists[i], 'f', 2, 64))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return nil
}

// csvText makes a text cell inert: one that starts like a formula (=, +,
// -, @, or a tab or carriage return, which some spreadsheets skip before
// one) gets a leading apostrophe, which spreadsheets show as text and do
// not evaluate (OWASP's advice).
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
