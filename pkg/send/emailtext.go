package send

import "strings"

// The email bodies are written in plain Go rather than with text/template
// and html/template: template execution calls reflect.Value.MethodByName,
// which makes the linker keep every exported method of every type the
// binary can reach through an interface (issue 12, the Lambda sizes).
// render_ref_test.go holds the templates these functions replaced and
// checks the output is the same, byte for byte.

// emailText is the plain-text body of v's email.
func emailText(v *View) string {
	var b strings.Builder
	b.WriteString(v.Subject)
	b.WriteString("\n")
	if v.Message != "" {
		b.WriteString("\n")
		b.WriteString(v.Message)
		b.WriteString("\n")
	}
	b.WriteString("\nSeverity: ")
	b.WriteString(v.Severity)
	b.WriteString("\nType:     ")
	b.WriteString(v.Type)
	for _, f := range []struct{ name, value string }{
		{"Source:   ", v.Source}, {"Time:     ", v.Time}, {"Policy:   ", v.Policy},
		{"Job:      ", v.Job}, {"Status:   ", v.Status}, {"Link:     ", v.URL},
	} {
		if f.value != "" {
			b.WriteString("\n")
			b.WriteString(f.name)
			b.WriteString(f.value)
		}
	}
	if len(v.Labels) > 0 {
		b.WriteString("\n\nLabels:")
		for _, l := range v.Labels {
			b.WriteString("\n  ")
			b.WriteString(l.Key)
			b.WriteString(": ")
			b.WriteString(l.Value)
		}
	}
	b.WriteString("\n\nYou receive this because ")
	b.WriteString(matchPhrase(len(v.Rules)))
	b.WriteString(":")
	for _, r := range v.Rules {
		b.WriteString("\n  - ")
		b.WriteString(r.Name)
		b.WriteString(" (")
		b.WriteString(r.ID)
		b.WriteString(")")
	}
	b.WriteString("\n\n--\nargo-notify")
	if v.EventID != "" {
		b.WriteString(" · event ")
		b.WriteString(v.EventID)
	}
	b.WriteString("\n")
	return b.String()
}

// matchPhrase is "this rule matches" for one rule, "these rules match"
// otherwise.
func matchPhrase(rules int) string {
	if rules == 1 {
		return "this rule matches"
	}
	return "these rules match"
}
