package filter

import (
	"fmt"
	"strconv"
	"time"
)

// MaxAge is the longest age ParseAge accepts: 36500 days, about 100 years.
const MaxAge = 36500 * 24 * time.Hour

const day = 24 * time.Hour

// ParseAge parses an age such as "7d", "2w", "12h", "90m" or any Go duration
// ("1h30m", "45s"). Days (d) and weeks (w) take a whole number. The age must
// be greater than zero and at most [MaxAge].
func ParseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not an age; use a positive age like 7d, 2w, 12h or 90m", s)
	var d time.Duration
	if n := len(s); n >= 2 && (s[n-1] == 'd' || s[n-1] == 'w') && allDigits(s[:n-1]) {
		v, err := strconv.ParseInt(s[:n-1], 10, 64)
		unit := day
		if s[n-1] == 'w' {
			unit = 7 * day
		}
		if err != nil || v > int64(MaxAge/unit) {
			return 0, fmt.Errorf("%q is too long; an age is at most %s", s, FormatAge(MaxAge))
		}
		d = time.Duration(v) * unit
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, bad
		}
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q is not an age; it must be greater than zero, like 7d", s)
	case d > MaxAge:
		return 0, fmt.Errorf("%q is too long; an age is at most %s", s, FormatAge(MaxAge))
	}
	return d, nil
}

// FormatAge renders d in the shortest form ParseAge reads back: whole days as
// "30d", whole hours as "12h", whole minutes as "90m", anything else as a Go
// duration.
func FormatAge(d time.Duration) string {
	switch {
	case d <= 0:
		return d.String()
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
