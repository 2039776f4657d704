package notify

import (
	"testing"
	"time"
)

func TestQuietHoursWindow(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	night := &QuietHours{TimeZone: "Europe/Paris", Start: "22:00", End: "07:00"}
	for _, tc := range []struct {
		name       string
		q          *QuietHours
		t          time.Time
		in         bool
		start, end time.Time
	}{
		{"before the window", night, at(2026, 6, 10, 21, 59), false, time.Time{}, time.Time{}},
		{"evening, across midnight", night, at(2026, 6, 10, 23, 30), true, at(2026, 6, 10, 22, 0), at(2026, 6, 11, 7, 0)},
		{"after midnight", night, at(2026, 6, 11, 3, 0), true, at(2026, 6, 10, 22, 0), at(2026, 6, 11, 7, 0)},
		{"end is open", night, at(2026, 6, 11, 7, 0), false, time.Time{}, time.Time{}},
		// Europe/Paris springs forward on 2026-03-29 02:00 → 03:00: the
		// night is 8 hours long.
		{"spring DST night", night, at(2026, 3, 29, 4, 0), true, at(2026, 3, 28, 22, 0), at(2026, 3, 29, 7, 0)},
		// And falls back on 2026-10-25 03:00 → 02:00: 10 hours.
		{"autumn DST night", night, at(2026, 10, 25, 6, 30), true, at(2026, 10, 24, 22, 0), at(2026, 10, 25, 7, 0)},
		{"day window", &QuietHours{TimeZone: "Europe/Paris", Start: "12:00", End: "14:00"}, at(2026, 6, 10, 13, 0), true, at(2026, 6, 10, 12, 0), at(2026, 6, 10, 14, 0)},
		// 2026-06-13 is a Saturday: the window that started Friday night
		// runs into it; none starts Saturday night.
		{"weekday window into saturday", &QuietHours{TimeZone: "Europe/Paris", Start: "22:00", End: "07:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}, at(2026, 6, 13, 6, 0), true, at(2026, 6, 12, 22, 0), at(2026, 6, 13, 7, 0)},
		{"no window starts saturday", &QuietHours{TimeZone: "Europe/Paris", Start: "22:00", End: "07:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}, at(2026, 6, 13, 23, 0), false, time.Time{}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e, in := tc.q.Window(tc.t)
			if in != tc.in || !s.Equal(tc.start) || !e.Equal(tc.end) {
				t.Errorf("Window(%s) = %s, %s, %v; want %s, %s, %v", tc.t, s, e, in, tc.start, tc.end, tc.in)
			}
		})
	}
	if got := at(2026, 3, 29, 7, 0).Sub(at(2026, 3, 28, 22, 0)); got != 8*time.Hour {
		t.Errorf("spring night lasts %s, want 8h", got)
	}
	if got := at(2026, 10, 25, 7, 0).Sub(at(2026, 10, 24, 22, 0)); got != 10*time.Hour {
		t.Errorf("autumn night lasts %s, want 10h", got)
	}
}

func TestQuietHoursAllowCritical(t *testing.T) {
	q := &QuietHours{TimeZone: "UTC", Start: "00:00", End: "23:59", AllowCritical: true}
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC)
	if _, _, held := q.Holds(&Event{Severity: SeverityCritical}, now); held {
		t.Error("CRITICAL held with allowCritical")
	}
	if _, _, held := q.Holds(&Event{Severity: SeverityWarning}, now); !held {
		t.Error("WARNING not held")
	}
}

func TestQuietHoursValidate(t *testing.T) {
	for _, tc := range []struct {
		q     QuietHours
		field string
	}{
		{QuietHours{TimeZone: "Mars/Olympus", Start: "22:00", End: "07:00"}, "quietHours.timeZone"},
		{QuietHours{TimeZone: "UTC", Start: "24:00", End: "07:00"}, "quietHours.start"},
		{QuietHours{TimeZone: "UTC", Start: "07:00", End: "07:00"}, "quietHours.end"},
		{QuietHours{TimeZone: "UTC", Start: "22:00", End: "07:00", Days: []string{"monday"}}, "quietHours.days[0]"},
	} {
		var v validator
		tc.q.validate(&v)
		err := v.err()
		if err == nil || !containsField(err, tc.field) {
			t.Errorf("%+v: %v, want a problem with %s", tc.q, err, tc.field)
		}
	}
}

func containsField(err error, field string) bool {
	e, ok := err.(*Error)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
