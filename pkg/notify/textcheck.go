package notify

// Text checks for what people and events send: free text may not carry
// control characters (C0 other than tab — and newlines where the text may
// span lines — DEL, C1) or bidi embedding, override and isolate controls
// (they reorder what a reader sees: "Trojan Source"); names and nicknames,
// which people compare and pick from lists, may not carry zero-width or
// bidi mark characters either.

// TextProblem returns why s is not acceptable free text ("" if it is).
// multiline allows line feeds and carriage returns.
func TextProblem(s string, multiline bool) string {
	for _, r := range s {
		switch {
		case r == '\t':
		case multiline && (r == '\n' || r == '\r'):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "must not contain control characters"
		case bidiControl(r):
			return "must not contain bidirectional override or isolate characters"
		}
	}
	return ""
}

// NameProblem returns why s is not an acceptable name or nickname ("" if
// it is): TextProblem on one line, and no zero-width or invisible format
// characters.
func NameProblem(s string) string {
	if p := TextProblem(s, false); p != "" {
		return p
	}
	for _, r := range s {
		if invisible(r) {
			return "must not contain zero-width or invisible characters"
		}
	}
	return ""
}

// bidiControl reports whether r is a bidi embedding, override or isolate
// (U+202A-U+202E, U+2066-U+2069).
func bidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// invisible reports whether r is a zero-width or invisible format
// character: ZWSP, ZWNJ, ZWJ, LRM, RLM, word joiner and the invisible
// operators, ALM, the BOM, soft hyphen.
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, r >= 0x2060 && r <= 0x2064, r == 0x061c, r == 0xfeff, r == 0x00ad:
		return true
	}
	return false
}
