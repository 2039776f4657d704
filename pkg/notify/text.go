package notify

import (
	"strings"
	"unicode"
)

// OneLine replaces control characters (newlines included) with spaces, for
// text from an event that goes into a one-line title or subject.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
