package cases

import (
	"fmt"
	"slices"
	"time"
)

// Calendar is a district's working calendar: which days are working days
// and which hours of them count. Handling time limits are counted on it, so
// a four-working-hour case reported on Friday at 16:00 is due on Monday.
type Calendar struct {
	// TimeZone is an IANA name, e.g. "Asia/Shanghai".
	TimeZone string `json:"timezone"`
	// DayStart and DayEnd bound the working hours, "HH:MM" local time.
	DayStart string `json:"day_start"`
	DayEnd   string `json:"day_end"`
	// Weekend lists the days off of an ordinary week (0 = Sunday).
	Weekend []time.Weekday `json:"weekend"`
	// Holidays are extra days off and Workdays extra working days (China's
	// make-up working weekends, 调休), as "YYYY-MM-DD".
	Holidays []string `json:"holidays"`
	Workdays []string `json:"workdays"`

	loc        *time.Location
	start, end time.Duration // from local midnight
	holidays   map[string]bool
	workdays   map[string]bool
}

// DefaultCalendar is Monday to Friday, 09:00–17:00 in China Standard Time,
// with no holidays loaded.
func DefaultCalendar() *Calendar {
	c := &Calendar{TimeZone: "Asia/Shanghai", DayStart: "09:00", DayEnd: "17:00", Weekend: []time.Weekday{time.Saturday, time.Sunday}, Holidays: []string{}, Workdays: []string{}}
	if err := c.Prepare(); err != nil {
		panic(err) // the literal above is valid
	}
	return c
}

// maxCalendarDays bounds the holiday and workday lists.
const maxCalendarDays = 10000

// Prepare validates the calendar and builds its lookup tables; call it
// after decoding.
func (c *Calendar) Prepare() error {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return fmt.Errorf("timezone %q is not an IANA time zone name", c.TimeZone)
	}
	start, err := parseClock(c.DayStart)
	if err != nil {
		return fmt.Errorf("day_start: %w", err)
	}
	end, err := parseClock(c.DayEnd)
	if err != nil {
		return fmt.Errorf("day_end: %w", err)
	}
	if end <= start {
		return fmt.Errorf("day_end %s must be after day_start %s", c.DayEnd, c.DayStart)
	}
	for _, d := range c.Weekend {
		if d < time.Sunday || d > time.Saturday {
			return fmt.Errorf("weekend day %d: want 0 (Sunday) to 6 (Saturday)", d)
		}
	}
	if len(c.Weekend) == 7 && len(c.Workdays) == 0 {
		return fmt.Errorf("a calendar with no working days never reaches a deadline")
	}
	if len(c.Holidays)+len(c.Workdays) > maxCalendarDays {
		return fmt.Errorf("at most %d holidays and workdays", maxCalendarDays)
	}
	days := func(list []string, name string) (map[string]bool, error) {
		m := make(map[string]bool, len(list))
		for _, s := range list {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return nil, fmt.Errorf("%s: %q is not a YYYY-MM-DD date", name, s)
			}
			m[s] = true
		}
		return m, nil
	}
	if c.holidays, err = days(c.Holidays, "holidays"); err != nil {
		return err
	}
	if c.workdays, err = days(c.Workdays, "workdays"); err != nil {
		return err
	}
	for d := range c.holidays {
		if c.workdays[d] {
			return fmt.Errorf("%s is listed both as a holiday and as a workday", d)
		}
	}
	c.loc, c.start, c.end = loc, start, end
	return nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// WorkdayLength is the working time of one working day.
func (c *Calendar) WorkdayLength() time.Duration { return c.end - c.start }

// Location is the calendar's time zone, the district's: calendar days,
// weeks and months (of hotspot time steps among others) are cut in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether the local date of t is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	d := t.Format(time.DateOnly)
	if c.workdays[d] {
		return true
	}
	return !c.holidays[d] && !slices.Contains(c.Weekend, t.Weekday())
}

// midnight returns local midnight of t's date.
func (c *Calendar) midnight(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// nextDay returns local midnight of the day after midnight m, which is
// robust to days of 23 or 25 hours.
func (c *Calendar) nextDay(m time.Time) time.Time {
	y, mo, d := m.Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, c.loc)
}

// maxCalendarScan bounds the day-by-day walks: about thirty years.
const maxCalendarScan = 11000

// AddWorking returns the instant at which d of working time has passed
// since t. Time outside working hours does not count; an amount that ends
// exactly at the close of a working day is due at that close.
func (c *Calendar) AddWorking(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	day := c.midnight(t)
	for range maxCalendarScan {
		if c.IsWorkday(day) {
			open, shut := day.Add(c.start), day.Add(c.end)
			from := t
			if from.Before(open) {
				from = open
			}
			if from.Before(shut) {
				if avail := shut.Sub(from); d <= avail {
					return from.Add(d).UTC()
				} else {
					d -= avail
				}
			}
		}
		day = c.nextDay(day)
		t = day
	}
	return t.UTC()
}

// WorkingBetween returns the working time between a and b (0 when b is not
// after a).
func (c *Calendar) WorkingBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	day := c.midnight(a)
	for i := 0; i < maxCalendarScan && day.Before(b); i++ {
		if c.IsWorkday(day) {
			open, shut := day.Add(c.start), day.Add(c.end)
			from, to := maxTime(open, a), minTime(shut, b)
			if to.After(from) {
				total += to.Sub(from)
			}
		}
		day = c.nextDay(day)
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Due returns the deadline of a case started at t with limit lim.
func (c *Calendar) Due(t time.Time, lim TimeLimit) time.Time {
	return c.AddWorking(t, lim.Duration(c))
}
