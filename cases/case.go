package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/geo"
	"citygrid/grid"
)

// Status is where a case stands in the closed loop of handling.
type Status string

// The standard closed loop: reported → accepted (filed, 立案) → dispatched →
// in_progress → resolved (the handler reports back) → verified → closed;
// rejected from reported; rework from verification back to dispatched.
const (
	StatusReported   Status = "reported"
	StatusAccepted   Status = "accepted"
	StatusDispatched Status = "dispatched"
	StatusInProgress Status = "in_progress"
	StatusResolved   Status = "resolved"
	StatusVerified   Status = "verified"
	StatusClosed     Status = "closed"
	StatusRejected   Status = "rejected"
)

// Statuses lists every status in loop order.
var Statuses = []Status{StatusReported, StatusAccepted, StatusDispatched, StatusInProgress, StatusResolved, StatusVerified, StatusClosed, StatusRejected}

// transitions is the lifecycle: from → allowed targets. resolved →
// dispatched is rework after a failed check (返工), as is verified →
// dispatched when a later inspection finds the problem back.
var transitions = map[Status][]Status{
	StatusReported:   {StatusAccepted, StatusRejected},
	StatusAccepted:   {StatusDispatched},
	StatusDispatched: {StatusInProgress},
	StatusInProgress: {StatusResolved},
	StatusResolved:   {StatusVerified, StatusDispatched},
	StatusVerified:   {StatusClosed, StatusDispatched},
}

// ParseStatus parses a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want one of %s)", s, joinStatuses(Statuses))
}

// Next returns the statuses a case may move to from s.
func (s Status) Next() []Status { return transitions[s] }

// CanMoveTo reports whether from → to is a legal transition.
func (s Status) CanMoveTo(to Status) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// Open reports whether the case is still being handled: its deadline runs
// and it can become overdue.
func (s Status) Open() bool {
	switch s {
	case StatusReported, StatusAccepted, StatusDispatched, StatusInProgress:
		return true
	}
	return false
}

// Final reports whether the case has left the loop.
func (s Status) Final() bool { return s == StatusClosed || s == StatusRejected }

func joinStatuses(list []Status) string {
	s := make([]string, len(list))
	for i, st := range list {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// Case is a problem at a point.
type Case struct {
	ID          int64
	Source      string
	ExternalID  string
	Category    string
	Title       string
	Description string
	Priority    int
	Location    orb.Point // WGS84
	Cell        geo.Cell  // at the locator's resolution
	Grid        string    // empty only for cases stored before every case had to lie in a grid
	Unit        string    // empty only for cases stored before every case had to have an owner
	UnitRule    string    // how Unit was chosen: a grid.Rule* kind, or RuleManual (empty for older cases)
	Status      Status
	ReportedAt  time.Time
	DueAt       time.Time
	ClosedAt    *time.Time
	// PausedAt is set while the case is parked on the backlog ledger (挂账):
	// its clock stops until it is resumed.
	PausedAt *time.Time
	// FiledAt is when the case was filed (立案): accepted, or stored in a
	// status after acceptance. Nil while it awaits acceptance, and for a
	// rejected report.
	FiledAt *time.Time
	// OverdueAt is the moment the case ran past its deadline for the first
	// time (see the handling clock in clock.go); while its clock runs and
	// that has not happened yet, the moment it will unless something
	// changes first; otherwise nil.
	OverdueAt  *time.Time
	MergedInto *int64
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Properties json.RawMessage

	// Request is the handler's request awaiting the dispatcher's decision
	// (request.go), or nil.
	Request *Request
}

// Overdue reports whether the case is late at now: open, not parked, and
// past its deadline. It is derived, never stored.
func (c *Case) Overdue(now time.Time) bool {
	return c.Status.Open() && c.PausedAt == nil && now.After(c.DueAt)
}

// Limits on case fields.
const (
	MaxSourceLen      = 64
	MaxExternalIDLen  = 128
	MaxTitleLen       = 500
	MaxDescriptionLen = 10000
	MaxPropertiesLen  = 64 << 10
)

// Input is a new case as submitted.
type Input struct {
	Source      string          `json:"source"`
	ExternalID  string          `json:"external_id"`
	Category    string          `json:"category"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Priority    *int            `json:"priority"`
	Location    *[]float64      `json:"location"` // [lng, lat]
	CRS         string          `json:"crs"`
	ReportedAt  *time.Time      `json:"reported_at"`
	Status      string          `json:"status"` // default reported; imports of historical cases may give another
	Properties  json.RawMessage `json:"properties"`
}

// RuleManual is the UnitRule of a unit a dispatcher named.
const RuleManual = "manual"

// FieldError names the field of an input that is wrong.
type FieldError struct {
	Field   string
	Message string
	// Code is CodeInvalid (the zero value stands for it) when the field is
	// malformed, CodeUnprocessable when it is well-formed but cannot be
	// accepted, such as a location outside the service area.
	Code citygrid.Code
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Prepare validates in and returns the case to store, located and timed:
// everything but the id. now stands in for a missing reported_at.
func (in *Input) Prepare(cats *Categories, cal *Calendar, loc *grid.Locator, now time.Time) (*Case, error) {
	c := &Case{Source: in.Source, ExternalID: in.ExternalID, Category: in.Category, Title: in.Title, Description: in.Description, Status: StatusReported, Priority: 3}
	if err := checkText("source", in.Source, MaxSourceLen, true); err != nil {
		return nil, err
	}
	if err := checkText("external_id", in.ExternalID, MaxExternalIDLen, true); err != nil {
		return nil, err
	}
	if err := checkText("title", in.Title, MaxTitleLen, false); err != nil {
		return nil, err
	}
	if err := checkText("description", in.Description, MaxDescriptionLen, false); err != nil {
		return nil, err
	}
	if in.Category == "" {
		return nil, fieldErr("category", "is missing")
	}
	cat, ok := cats.Find(in.Category)
	if !ok {
		return nil, fieldErr("category", "unknown category %q (GET /v1/categories lists them)", truncateText(in.Category, 40))
	}
	if in.Priority != nil {
		if *in.Priority < 1 || *in.Priority > 5 {
			return nil, fieldErr("priority", "%d: want 1 (most urgent) to 5", *in.Priority)
		}
		c.Priority = *in.Priority
	}
	if in.Location == nil {
		return nil, fieldErr("location", "is missing")
	}
	if len(*in.Location) != 2 {
		return nil, fieldErr("location", "want [lng, lat], got %d numbers", len(*in.Location))
	}
	crs, err := geo.ParseCRS(in.CRS)
	if err != nil {
		return nil, fieldErr("crs", "%v", err)
	}
	p := orb.Point{(*in.Location)[0], (*in.Location)[1]}
	if err := geo.ValidLonLat(p); err != nil {
		return nil, fieldErr("location", "%v", err)
	}
	c.Location = geo.ToWGS84(p, crs)
	c.ReportedAt = now.UTC().Truncate(time.Microsecond)
	if in.ReportedAt != nil {
		t := in.ReportedAt.UTC().Truncate(time.Microsecond)
		if t.After(now.Add(5*time.Minute)) || t.Year() < 2000 {
			return nil, fieldErr("reported_at", "%s is in the future or before 2000", in.ReportedAt.Format(time.RFC3339))
		}
		c.ReportedAt = t
	}
	if in.Status != "" {
		st, err := ParseStatus(in.Status)
		if err != nil {
			return nil, fieldErr("status", "%v", err)
		}
		c.Status = st
	}
	if len(in.Properties) > 0 && string(in.Properties) != "null" {
		if len(in.Properties) > MaxPropertiesLen {
			return nil, fieldErr("properties", "larger than %d bytes", MaxPropertiesLen)
		}
		var obj map[string]any
		if err := json.Unmarshal(in.Properties, &obj); err != nil || obj == nil {
			return nil, fieldErr("properties", "must be a JSON object")
		}
		c.Properties = in.Properties
	}
	a, err := loc.Assign(c.Location, c.Category)
	if err != nil {
		return nil, fieldErr("location", "%v", err)
	}
	// A case nobody's queue holds is lost: refuse it rather than store it
	// without a grid or an owner.
	switch {
	case !a.InServiceArea:
		return nil, &FieldError{Field: "location", Code: citygrid.CodeUnprocessable, Message: fmt.Sprintf(
			"[%g, %g] (WGS84) is outside the service area, the district's top-level grids", c.Location[0], c.Location[1])}
	case a.Owner == nil:
		return nil, &FieldError{Field: "location", Code: citygrid.CodeUnprocessable, Message: fmt.Sprintf(
			"no unit is responsible at [%g, %g] (WGS84): no grid from %s up names a unit for %s, and no fallback unit is set (-fallback-unit)",
			c.Location[0], c.Location[1], a.Grid.Code, c.Category)}
	}
	c.Cell = a.Cell
	c.Grid = a.Grid.Code
	c.Unit = a.Owner.Unit.Code
	c.UnitRule = a.Owner.Rule
	c.DueAt = cal.Due(c.ReportedAt, cat.TimeLimit)
	c.arrive()
	return c, nil
}

func checkText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fieldErr(field, "is missing")
	case len(s) > max:
		return fieldErr(field, "longer than %d bytes", max)
	case !utf8.ValidString(s):
		return fieldErr(field, "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		return fieldErr(field, "contains a NUL character")
	}
	return nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Area is the one area a case query covers. Exactly one field is set.
type Area struct {
	Bound   *orb.Bound
	Near    *orb.Point
	RadiusM float64
	Grid    string
	Cells   []geo.Cell
	Polygon orb.MultiPolygon
	// All is the whole district, for queries bounded otherwise (Open311's
	// time window, issue 15).
	All bool
}

// Kind names the area form, for messages and cursors.
func (a Area) Kind() string {
	switch {
	case a.Bound != nil:
		return "bbox"
	case a.Near != nil:
		return "near"
	case a.Grid != "":
		return "grid"
	case len(a.Cells) > 0:
		return "h3"
	case len(a.Polygon) > 0:
		return "polygon"
	case a.All:
		return "all"
	}
	return ""
}

// Filter selects cases within an Area.
type Filter struct {
	Area     Area
	Statuses []Status
	// Categories are code prefixes: a case matches if its category starts
	// with any of them (none: every category).
	Categories []string
	Unit       string
	Source     string
	From, To   *time.Time // on reported_at, [From, To)
	// OverdueNow, when set, keeps the cases that are (true) or are not
	// (false) overdue at Now: open, not parked and past their deadline.
	// Not a period's overdue count (see Stats), hence the name.
	OverdueNow *bool
	Limit      int
	// After is the keyset position: the last row of the previous page.
	After *Cursor
	// Before pages backwards (OGC API – Features' prev link): the Limit
	// cases just before this position in the listing's order, still
	// returned in that order. Not with After, nor with a Near area.
	Before *Cursor
	// Now is the instant OverdueNow is judged at.
	Now time.Time
	// Restrict is the caller's scope: cases outside it are never found.
	Restrict Restriction
	// Campaign, when not 0, keeps the cases that campaign holds
	// (campaigns, issue 18).
	Campaign int64

	// Open311 (issue 15): UpdatedFrom and UpdatedTo bound updated_at,
	// [UpdatedFrom, UpdatedTo); Offset skips that many matches, for
	// clients that number their pages (never with a box or cell area).
	UpdatedFrom, UpdatedTo *time.Time
	Offset                 int
}

// Cursor is a position in a sorted case listing.
type Cursor struct {
	ReportedAt time.Time `json:"t,omitzero"`
	DistanceM  float64   `json:"d,omitempty"`
	ID         int64     `json:"id"`
}

// Update is a dispatcher's change to one case.
type Update struct {
	Status     *Status
	Grid       *string
	Unit       *string
	ExtendBy   *TimeLimit // a granted extension (延期)
	Pause      *bool      // true parks the case on the backlog ledger (挂账), false resumes it
	MergeInto  *int64     // closes the case as a duplicate of another
	Actor      string
	Note       string
	IfVersion  int
	Now        time.Time
	Calendar   *Calendar
	Categories *Categories
	Locator    *grid.Locator // re-derives the unit by the ownership rule when only the grid changes
	// Guard is the caller's access, checked in the update's transaction
	// with the case locked; nil checks nothing.
	Guard Guard

	// Returned, with Status accepted, is a return (退单) from dispatched or
	// in_progress: the handler gives the case back to the dispatcher.
	Returned bool
	// RequestExtension and RequestPause are the handler's requests (see
	// request.go); Approve and Decline decide the pending one, named by
	// the id of its event.
	RequestExtension *TimeLimit
	RequestPause     bool
	Approve          *int64
	Decline          *int64
}

// Event is one entry of a case's history.
type Event struct {
	// ID is the event's id, which a decision names (the request it
	// decides); zero for the creation, which is the case's own row.
	ID    int64           `json:"id,omitempty,string"`
	At    time.Time       `json:"at"`
	Actor string          `json:"actor"`
	Kind  string          `json:"kind"`
	From  string          `json:"from,omitempty"`
	To    string          `json:"to,omitempty"`
	Note  string          `json:"note,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// IngestResult reports a bulk ingest.
type IngestResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []LineError `json:"rejected"`
}

// LineError is one rejected line of a bulk ingest, counted from 1.
type LineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// Store persists cases.
type Store interface {
	CreateCase(ctx context.Context, c *Case, actor string) (*Case, bool, error) // bool: created (false: duplicate, existing returned)
	InsertCases(ctx context.Context, cases []*Case) (inserted int, err error)
	FindCaseByID(ctx context.Context, id int64) (*Case, error)
	FindCases(ctx context.Context, f Filter) ([]*Case, []float64, error)
	UpdateCase(ctx context.Context, id int64, u Update) (*Case, error)
	CaseHistory(ctx context.Context, id int64) ([]Event, error)
	PossibleDuplicates(ctx context.Context, c *Case, radiusM float64, window time.Duration) ([]*Case, []float64, error)
	Categories(ctx context.Context) (*Categories, error)
	// ReplaceCategories refuses (CodeConflict) a table that drops codes
	// cases use, listing them with their counts.
	ReplaceCategories(ctx context.Context, cs *Categories) error
	// PutCategory adds c or replaces the entry of its code (see
	// Categories.With) and reports whether it was added.
	PutCategory(ctx context.Context, c Category) (added bool, err error)
	Calendar(ctx context.Context) (*Calendar, error)
	ReplaceCalendar(ctx context.Context, c *Calendar) error
	// FindEvents lists case events across cases (Open311's service request
	// updates, issue 15).
	FindEvents(ctx context.Context, f EventFilter) ([]CaseEvent, error)
}
