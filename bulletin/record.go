package bulletin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"citygrid"
)

// Record is a stored bulletin: its key (Kind, Scope, Period, Revision) and
// its body, the Bulletin's JSON as generated, byte for byte.
type Record struct {
	Kind        Kind
	Scope       string
	Period      string
	Revision    int
	From, To    time.Time
	GeneratedAt time.Time
	GeneratedBy string
	Reason      string
	Body        []byte
}

// Bulletin decodes the record's body.
func (r *Record) Bulletin() (*Bulletin, error) {
	var b Bulletin
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return nil, fmt.Errorf("bulletin %s %s %s r%d: %w", r.Kind, r.Scope, r.Period, r.Revision, err)
	}
	return &b, nil
}

// Filter selects stored bulletins; zero fields do not filter.
type Filter struct {
	Kind     Kind
	Scope    string
	From, To *time.Time // on the period's start
	Limit    int
}

// Store keeps bulletins as records: nothing stored ever changes (the
// database refuses it).
type Store interface {
	// Insert stores r as revision 1 of its key unless one is stored,
	// and returns the stored record and whether it is new.
	Insert(ctx context.Context, r *Record) (*Record, bool, error)
	// InsertCorrection stores r as the next revision of its key (the
	// first must exist: a correction corrects something); it sets
	// r.Revision and r.Body's revision through build, called with it.
	InsertCorrection(ctx context.Context, r *Record, build func(revision int) ([]byte, error)) (*Record, error)
	// Find returns one revision, or the latest with revision 0.
	Find(ctx context.Context, kind Kind, scope, period string, revision int) (*Record, error)
	// Exists reports whether revision 1 of the key is stored.
	Exists(ctx context.Context, kind Kind, scope, period string) (bool, error)
	// List returns the latest revision of each matching bulletin (without
	// bodies), newest period first.
	List(ctx context.Context, f Filter) ([]*Record, error)
}

// Service generates and stores bulletins.
type Service struct {
	Gen   *Generator
	Store Store
	// TimeZone is the district's (the working calendar's).
	TimeZone func(ctx context.Context) (*time.Location, error)
	Now      func() time.Time
}

// Generate stores the bulletin of s over p unless it is stored, and
// returns the stored record: generating again changes nothing. A period
// not over yet is refused: its figures would still change.
func (sv *Service) Generate(ctx context.Context, s Scope, p Period, by string) (*Record, bool, error) {
	now := sv.Now()
	if now.Before(p.To) {
		return nil, false, citygrid.Errorf(citygrid.CodeUnprocessable, "period %s has not ended (%s): a bulletin is a record of a period over",
			p.Label, p.To.Format(time.RFC3339))
	}
	if r, err := sv.Store.Find(ctx, p.Kind, s.String(), p.Label, 1); err == nil {
		return r, false, nil
	} else if citygrid.ErrorCode(err) != citygrid.CodeNotFound {
		return nil, false, err
	}
	b, err := sv.Gen.Build(ctx, s, p, p.From.Location().String(), now)
	if err != nil {
		return nil, false, err
	}
	b.GeneratedBy = by
	body, err := json.Marshal(b)
	if err != nil {
		return nil, false, err
	}
	return sv.Store.Insert(ctx, &Record{Kind: p.Kind, Scope: s.String(), Period: p.Label, Revision: 1, From: p.From, To: p.To,
		GeneratedAt: now, GeneratedBy: by, Reason: "", Body: body})
}

// Correct computes the bulletin afresh and stores it as the next
// revision, with reason.
func (sv *Service) Correct(ctx context.Context, s Scope, p Period, by, reason string) (*Record, error) {
	if reason == "" {
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "reason: a correction says why")
	}
	if _, err := sv.Store.Find(ctx, p.Kind, s.String(), p.Label, 1); err != nil {
		return nil, err
	}
	now := sv.Now()
	b, err := sv.Gen.Build(ctx, s, p, p.From.Location().String(), now)
	if err != nil {
		return nil, err
	}
	b.GeneratedBy, b.Reason = by, reason
	return sv.Store.InsertCorrection(ctx, &Record{Kind: p.Kind, Scope: s.String(), Period: p.Label, From: p.From, To: p.To,
		GeneratedAt: now, GeneratedBy: by, Reason: reason}, func(revision int) ([]byte, error) {
		b.Revision = revision
		return json.Marshal(b)
	})
}
