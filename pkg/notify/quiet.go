package notify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// QuietHours is a rule's `quietHours`: events that reach a recipient
// through the rule while the window is open are held and delivered as one
// digest when it ends, unless AllowCritical lets CRITICAL ones through.
//
// Start and End are wall-clock times "HH:MM" in TimeZone (an IANA name);
// End before Start spans midnight ("22:00"–"07:00"). Days, if given,
// lists the weekdays on which a window starts ("mon".."sun"); a window
// that starts on a listed day runs to its end, even into the next day.
// Across a DST change the wall-clock times are kept: a 22:00–07:00 window
// is 8 or 10 hours long on the nights the clocks move, and a start or end
// that falls in a skipped hour is taken as the same wall time after the
// jump (Go's time.Date normalization).
type QuietHours struct {
	TimeZone      string   `json:"timeZone"`
	Start         string   `json:"start"`
	End           string   `json:"end"`
	Days          []string `json:"days,omitempty"`
	AllowCritical bool     `json:"allowCritical,omitempty"`
}

// Weekdays are the names Days uses, Sunday first as time.Weekday counts.
var Weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// clock parses "HH:MM" into minutes since midnight.
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

// validate adds q's problems to v.
func (q *QuietHours) validate(v *validator) {
	if _, err := time.LoadLocation(q.TimeZone); err != nil || q.TimeZone == "" || strings.EqualFold(q.TimeZone, "local") {
		v.add("quietHours.timeZone", "%q is not an IANA time zone (like Europe/Paris)", q.TimeZone)
	}
	s, ok1 := clock(q.Start)
	e, ok2 := clock(q.End)
	if !ok1 {
		v.add("quietHours.start", "must be HH:MM (00:00-23:59)")
	}
	if !ok2 {
		v.add("quietHours.end", "must be HH:MM (00:00-23:59)")
	}
	if ok1 && ok2 && s == e {
		v.add("quietHours.end", "must differ from start")
	}
	for i, d := range q.Days {
		switch {
		case !slices.Contains(Weekdays, d):
			v.add(index("quietHours.days", i), "%q is not one of %s", d, strings.Join(Weekdays, ", "))
		case slices.Index(q.Days, d) != i:
			v.add(index("quietHours.days", i), "%q is repeated", d)
		}
	}
}

// Window returns the quiet window that holds t, if any: its start and end
// as instants. q must be valid.
func (q *QuietHours) Window(t time.Time) (start, end time.Time, in bool) {
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	s, _ := clock(q.Start)
	e, _ := clock(q.End)
	lt := t.In(loc)
	// A window holding t started today or yesterday (local dates).
	for back := 0; back <= 1; back++ {
		y, m, d := lt.AddDate(0, 0, -back).Date()
		ws := time.Date(y, m, d, s/60, s%60, 0, 0, loc)
		ed := d
		if e <= s {
			ed++
		}
		we := time.Date(y, m, ed, e/60, e%60, 0, 0, loc)
		if len(q.Days) > 0 && !slices.Contains(q.Days, Weekdays[ws.Weekday()]) {
			continue
		}
		if !t.Before(ws) && t.Before(we) {
			return ws.UTC(), we.UTC(), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// Holds reports whether ev, at t, is held by the quiet hours, and until
// when.
func (q *QuietHours) Holds(ev *Event, t time.Time) (start, end time.Time, held bool) {
	if q == nil || (q.AllowCritical && ev.Severity == SeverityCritical) {
		return time.Time{}, time.Time{}, false
	}
	return q.Window(t)
}

// QuietID is the id of the digest delivery of rule ruleID's quiet window
// that starts at start, to recipient over ch.
func QuietID(ruleID string, start time.Time, ch Channel, recipient string) string {
	return DeliveryID("quiet:"+ruleID+":"+strconv.FormatInt(start.Unix(), 10), ch, recipient) // the pseudo-event quiet:<rule>:<start>
}

// String describes q for notes.
func (q *QuietHours) String() string {
	return fmt.Sprintf("quiet hours %s-%s %s", q.Start, q.End, q.TimeZone)
}
