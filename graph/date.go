package graph

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar day (UTC), written YYYY-MM-DD. The zero value means "no date".
type Date struct {
	days int32 // days since 1970-01-01
	set  bool
}

// DateOf returns the UTC calendar day of t.
func DateOf(t time.Time) Date {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return Date{days: int32(day.Unix() / 86400), set: true}
}

// Today returns the current UTC day.
func Today() Date { return DateOf(time.Now()) }

// DateFromDays returns the day that is days after 1970-01-01.
func DateFromDays(days int32) Date { return Date{days: days, set: true} }

// ParseDate parses YYYY-MM-DD. It refuses anything else, including dates that do not
// exist (2025-02-30). The error says which is wrong: the form ("use YYYY-MM-DD") or the
// day ("February 2025 has 28 days"), so a client can tell a typo from a wrong calendar.
func ParseDate(s string) (Date, error) {
	if !dateForm(s) {
		return Date{}, fmt.Errorf("%q is not a date: use YYYY-MM-DD", s)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		y, m, d := atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
		switch {
		case m < 1 || m > 12:
			return Date{}, fmt.Errorf("%q is not a date: there is no month %d", s, m)
		default:
			// Day 0 of the next month is the last day of this one.
			last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if d < 1 {
				return Date{}, fmt.Errorf("%q is not a date: there is no day %d", s, d)
			}
			return Date{}, fmt.Errorf("%q is not a date: %s %d has %d days", s, time.Month(m), y, last)
		}
	}
	return DateOf(t), nil
}

// dateForm reports whether s is four digits, a dash, two digits, a dash, two digits.
func dateForm(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// atoi reads a run of ASCII digits that dateForm has already checked.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// MustParseDate is ParseDate for literals known to be valid; it panics otherwise.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return !d.set }

// Days returns the number of days since 1970-01-01.
func (d Date) Days() int32 { return d.days }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d.days)*86400, 0).UTC() }

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.days < e.days }

// String returns YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if !d.set {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if !d.set {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string YYYY-MM-DD")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
