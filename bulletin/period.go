package bulletin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"citygrid"
)

// Kind is a bulletin's rhythm.
type Kind string

const (
	Daily   Kind = "daily"   // 日通报: a calendar day
	Weekly  Kind = "weekly"  // 周调度: an ISO week, Monday to Monday
	Monthly Kind = "monthly" // 月总结: a calendar month
)

// Kinds lists the kinds in order.
var Kinds = []Kind{Daily, Weekly, Monthly}

// ParseKind parses a kind name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", citygrid.Errorf(citygrid.CodeInvalid, "kind %q: want daily, weekly or monthly", trunc(s))
}

// Period is a bulletin's [From, To) in the district's time zone, named by
// Label: 2026-11-27 (a day), 2026-W48 (an ISO week), 2026-11 (a month).
type Period struct {
	Kind     Kind
	Label    string
	From, To time.Time
}

// PeriodAt returns the period of kind k holding t, in loc. Periods start
// at local midnight, so a day across a daylight-saving change is 23 or 25
// hours long.
func PeriodAt(k Kind, t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	y, m, d := t.Date()
	switch k {
	case Weekly:
		start := time.Date(y, m, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
		return weekOf(start)
	case Monthly:
		start := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		return Period{Kind: Monthly, Label: start.Format("2006-01"), From: start, To: start.AddDate(0, 1, 0)}
	default:
		start := time.Date(y, m, d, 0, 0, 0, 0, loc)
		return Period{Kind: Daily, Label: start.Format(time.DateOnly), From: start, To: start.AddDate(0, 0, 1)}
	}
}

func weekOf(monday time.Time) Period {
	y, w := monday.ISOWeek()
	return Period{Kind: Weekly, Label: fmt.Sprintf("%04d-W%02d", y, w), From: monday, To: monday.AddDate(0, 0, 7)}
}

// Prev returns the period before p.
func (p Period) Prev() Period {
	return PeriodAt(p.Kind, p.From.Add(-time.Hour), p.From.Location())
}

// Next returns the period after p.
func (p Period) Next() Period { return PeriodAt(p.Kind, p.To, p.From.Location()) }

// ParsePeriod parses a period label of kind k in loc.
func ParsePeriod(k Kind, label string, loc *time.Location) (Period, error) {
	bad := citygrid.Errorf(citygrid.CodeInvalid, "period %q: want %s", trunc(label), map[Kind]string{
		Daily: "a date such as 2026-11-27", Weekly: "an ISO week such as 2026-W48", Monthly: "a month such as 2026-11"}[k])
	switch k {
	case Daily:
		t, err := time.ParseInLocation(time.DateOnly, label, loc)
		if err != nil {
			return Period{}, bad
		}
		return PeriodAt(k, t, loc), nil
	case Monthly:
		t, err := time.ParseInLocation("2006-01", label, loc)
		if err != nil {
			return Period{}, bad
		}
		return PeriodAt(k, t, loc), nil
	}
	ys, ws, ok := strings.Cut(label, "-W")
	y, err1 := strconv.Atoi(ys)
	w, err2 := strconv.Atoi(ws)
	if !ok || err1 != nil || err2 != nil || len(ys) != 4 || len(ws) != 2 || w < 1 || w > 53 {
		return Period{}, bad
	}
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(w-1)*7)
	p := weekOf(monday)
	if p.Label != label { // week 53 of a year with 52
		return Period{}, bad
	}
	return p, nil
}

// DueAt is when p's bulletin is generated: at the time of day at (from
// local midnight) on the day p ends.
func (p Period) DueAt(at time.Duration) time.Time {
	y, m, d := p.To.Date()
	return time.Date(y, m, d, 0, int(at/time.Minute), 0, 0, p.To.Location()) // wall-clock, whatever the day's length
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
