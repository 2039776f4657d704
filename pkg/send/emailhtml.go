package send

import "strings"

// emailHTML is the HTML body of v's email, every field escaped as
// html/template escaped it: htmlEscape in text and attributes, and the
// link through safeURL and normalizeURL first.
func emailHTML(v *View) string {
	var b strings.Builder
	w := func(s ...string) {
		for _, x := range s {
			b.WriteString(x)
		}
	}
	w(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>`, htmlEscape(v.Subject), `</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #1d1c1d;">
<table role="presentation" cellpadding="0" cellspacing="0" style="border-left: 6px solid `, htmlEscape(v.Color), `; padding: 8px 16px; max-width: 640px;">
<tr><td>
<p style="margin: 0; font-size: 12px; font-weight: bold; color: `, htmlEscape(v.Color), `;">`, htmlEscape(v.Severity), ` · `, htmlEscape(v.Type), `</p>
<h2 style="margin: 4px 0 12px 0;">`, htmlEscape(v.Title), `</h2>`)
	if v.Message != "" {
		w(`
<p style="white-space: pre-wrap;">`, htmlEscape(v.Message), `</p>`)
	}
	w(`
<table role="presentation" cellpadding="4" cellspacing="0" style="font-size: 14px;">`)
	for _, f := range []struct{ name, value string }{
		{"Source", v.Source}, {"Time", v.Time}, {"Policy", v.Policy}, {"Job", v.Job}, {"Status", v.Status},
	} {
		if f.value != "" {
			w(`
<tr><th align="left">`, f.name, `</th><td>`, htmlEscape(f.value), `</td></tr>`)
		}
	}
	if v.URL != "" {
		w(`
<tr><th align="left">Link</th><td><a href="`, htmlEscape(normalizeURL(safeURL(v.URL))), `">`, htmlEscape(v.URL), `</a></td></tr>`)
	}
	w(`
</table>`)
	if len(v.Labels) > 0 {
		w(`
<p style="margin-bottom: 4px;"><b>Labels</b></p>
<table role="presentation" cellpadding="2" cellspacing="0" style="font-size: 13px;">`)
		for _, l := range v.Labels {
			w(`
<tr><td><code>`, htmlEscape(l.Key), `</code></td><td>`, htmlEscape(l.Value), `</td></tr>`)
		}
		w(`
</table>`)
	}
	w(`
<p style="font-size: 12px; color: #616061;">You receive this because `, matchPhrase(len(v.Rules)), `:</p>
<ul style="font-size: 12px; color: #616061;">`)
	for _, r := range v.Rules {
		w(`
<li>`, htmlEscape(r.Name), ` (`, htmlEscape(r.ID), `)</li>`)
	}
	w(`
</ul>
<p style="font-size: 11px; color: #868686;">argo-notify`)
	if v.EventID != "" {
		w(` · event `, htmlEscape(v.EventID))
	}
	w(`</p>
</td></tr>
</table>
</body>
</html>
`)
	return b.String()
}
