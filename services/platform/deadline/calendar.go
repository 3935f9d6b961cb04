package deadline

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

//go:embed calendars.json
var embeddedCalendars []byte

// Calendar says which days are working days in one jurisdiction (or for
// one team): Monday to Friday, except its listed holidays, in its zone.
type Calendar struct {
	Name   string
	Zone   *time.Location
	Source string
	// From and Until are the first and last year whose holidays are
	// listed. Outside them only weekends are known.
	From, Until int
	holidays    map[civil]string
}

// civil is a calendar date without a zone.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// Covers reports whether the holidays of t's year are known.
func (c *Calendar) Covers(t time.Time) bool {
	y := t.In(c.Zone).Year()
	return y >= c.From && y <= c.Until
}

// Working reports whether the day of t (in the calendar's zone) is a
// working day.
func (c *Calendar) Working(t time.Time) bool {
	t = t.In(c.Zone)
	if d := t.Weekday(); d == time.Saturday || d == time.Sunday {
		return false
	}
	_, holiday := c.holidays[civilOf(t)]
	return !holiday
}

// Holiday returns the name of the holiday on t's day, if it is one.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	n, ok := c.holidays[civilOf(t.In(c.Zone))]
	return n, ok
}

// Calendars are the calendars known to a service, by name.
type Calendars map[string]*Calendar

// Get returns the named calendar or an error naming it.
func (cs Calendars) Get(name string) (*Calendar, error) {
	c, ok := cs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCalendar, name)
	}
	return c, nil
}

// ErrUnknownCalendar is wrapped when a rule names a calendar nobody loaded.
var ErrUnknownCalendar = errors.New("deadline: unknown calendar")

// ErrInvalidCalendars is wrapped by every error of [ParseCalendars].
var ErrInvalidCalendars = errors.New("invalid calendars file")

// DefaultCalendars parses the calendars embedded in the binary.
func DefaultCalendars() (Calendars, error) { return ParseCalendars(embeddedCalendars) }

// LoadCalendars reads a calendars file (the embedded one when path is
// empty). An invalid file is an error naming every problem, so a service
// given a bad file stops at startup instead of counting deadlines wrong.
func LoadCalendars(path string) (Calendars, error) {
	return policy.LoadDataFile("calendars", path, embeddedCalendars, ParseCalendars)
}

type calendarsFile struct {
	Note      string `json:"note"`
	Calendars []struct {
		Name   string `json:"name"`
		Zone   string `json:"zone"`
		Source string `json:"source"`
		Covers struct {
			From  int `json:"from"`
			Until int `json:"until"`
		} `json:"covers"`
		Holidays []struct {
			Date string `json:"date"`
			Name string `json:"name"`
		} `json:"holidays"`
	} `json:"calendars"`
}

// ParseCalendars parses and validates a calendars file: unknown fields,
// a missing name, zone or source, an unloadable zone, a bad or duplicate
// date, a holiday outside the years covered, or a duplicate calendar are
// all errors, reported together.
func ParseCalendars(data []byte) (Calendars, error) {
	var f calendarsFile
	if err := policy.DecodeStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCalendars, err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	out := Calendars{}
	if len(f.Calendars) == 0 {
		bad("no calendars")
	}
	for i, fc := range f.Calendars {
		at := fmt.Sprintf("calendars[%d]", i)
		if strings.TrimSpace(fc.Name) == "" {
			bad("%s.name is empty", at)
		} else if _, dup := out[fc.Name]; dup {
			bad("%s.name %q appears twice", at, fc.Name)
		}
		if strings.TrimSpace(fc.Source) == "" {
			bad("%s.source is empty: say where the holidays come from", at)
		}
		zone, err := time.LoadLocation(fc.Zone)
		if fc.Zone == "" || err != nil {
			bad("%s.zone %q is not a time zone", at, fc.Zone)
			zone = time.UTC
		}
		if fc.Covers.From < 1970 || fc.Covers.Until < fc.Covers.From {
			bad("%s.covers must give from <= until (years)", at)
		}
		c := &Calendar{Name: fc.Name, Zone: zone, Source: fc.Source, From: fc.Covers.From, Until: fc.Covers.Until, holidays: map[civil]string{}}
		for j, h := range fc.Holidays {
			d, err := time.Parse(time.DateOnly, h.Date)
			switch {
			case err != nil:
				bad("%s.holidays[%d].date %q is not YYYY-MM-DD", at, j, h.Date)
				continue
			case d.Year() < c.From || d.Year() > c.Until:
				bad("%s.holidays[%d].date %s is outside the years covered", at, j, h.Date)
			case strings.TrimSpace(h.Name) == "":
				bad("%s.holidays[%d].name is empty", at, j)
			}
			if _, dup := c.holidays[civilOf(d)]; dup {
				bad("%s.holidays[%d].date %s appears twice", at, j, h.Date)
			}
			c.holidays[civilOf(d)] = h.Name
		}
		out[fc.Name] = c
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidCalendars, strings.Join(problems, "; "))
	}
	return out, nil
}
