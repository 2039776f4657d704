package notify

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written checks of ValidID and ValidSlackChannel accept exactly
// what the regexps they replaced matched (ValidID also refuses "..").
func TestValidIDAndSlackChannelAsTheirRegexps(t *testing.T) {
	idPattern := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$`)
	slackPattern := regexp.MustCompile(`^[CG][A-Z0-9]{8,20}$`)
	cases := []string{"", "a", "A", "0", ".", "-a", "a-", "a.b", "a..b", "a/b", "a b", "a\n", "\na", "é", "aé",
		"evt-1", "job:42@eu+x=y_z", "C01234567", "G0123456789ABCDEFGHIJ", "C0123456789ABCDEFGHIJK", "C0123456", "c01234567",
		"C0123456a", "X01234567", "C0123-567", "C01234567\n", strings.Repeat("a", 127), strings.Repeat("a", 128),
		strings.Repeat("a", 129), "a" + strings.Repeat(".", 127), "\x00", "a\x00", "a\x7f", "a\xff", "_a", ":a", "a:"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "a"+string([]byte{byte(c)}), "C0123456"+string([]byte{byte(c)}), string([]byte{byte(c)})+"01234567")
	}
	for _, s := range cases {
		if got, want := ValidID(s), idPattern.MatchString(s) && !strings.Contains(s, ".."); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
		if got, want := ValidSlackChannel(s), slackPattern.MatchString(s); got != want {
			t.Errorf("ValidSlackChannel(%q) = %v, want %v", s, got, want)
		}
	}
}
