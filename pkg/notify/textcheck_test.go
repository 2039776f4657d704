package notify

import "testing"

func TestTextAndNameProblems(t *testing.T) {
	tests := []struct {
		s           string
		text, lines bool // acceptable as one-line text, multi-line text
		name        bool
	}{
		{"Nightly ETL — failed ✓", true, true, true},
		{"a\tb", true, true, true},
		{"a\nb", false, true, false},
		{"a\r\nb", false, true, false},
		{"a\x00b", false, false, false},
		{"a\x1b[2Jb", false, false, false},
		{"a\x7fb", false, false, false},
		{"a\u0085b", false, false, false},
		{"a\u202eb", false, false, false},
		{"a\u2066b", false, false, false},
		{"a\u200bb", true, true, false},
		{"a\u200db", true, true, false},
		{"a\ufeffb", true, true, false},
		{"a\u200fb", true, true, false},
	}
	for _, tt := range tests {
		if got := TextProblem(tt.s, false) == ""; got != tt.text {
			t.Errorf("TextProblem(%q, one line) ok = %v, want %v", tt.s, got, tt.text)
		}
		if got := TextProblem(tt.s, true) == ""; got != tt.lines {
			t.Errorf("TextProblem(%q, lines) ok = %v, want %v", tt.s, got, tt.lines)
		}
		if got := NameProblem(tt.s) == ""; got != tt.name {
			t.Errorf("NameProblem(%q) ok = %v, want %v", tt.s, got, tt.name)
		}
	}
}
