package notify

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"text/template"
	"time"
	"unicode/utf8"
)

// refFuncs is the function set as it was given to text/template before
// execute replaced it: the reference of the differential tests.
var refFuncs = template.FuncMap{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	"default": func(def, s string) string {
		if s == "" {
			return def
		}
		return s
	},
	"trunc": func(n int, s string) string {
		if n < 0 || utf8.RuneCountInString(s) <= n {
			return s
		}
		return string([]rune(s)[:n]) + "…"
	},
	"label": func(key string, labels map[string]string) string { return labels[key] },
	"replace": func(old, repl, s string) string {
		return strings.ReplaceAll(s, old, repl)
	},
}

// referenceRender is render as it was: text/template.
func referenceRender(part, src string, ev *Event) (string, error) {
	t, err := template.New(part).Funcs(refFuncs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return "", templateError(part, err)
	}
	var out limited
	if err := t.Execute(&out, dataOf(ev)); err != nil {
		return "", templateError(part, err)
	}
	return out.String(), nil
}

// diffEvents are the events the differential tests render over.
var diffEvents = []Event{
	SampleEvent,
	{},
	{ID: "e2", Type: TypeDeployment, Severity: SeverityInfo, Title: "  Ünïcode — title  ", Message: "line1\nline2 <b>&'\"",
		PolicyID: "p", ReceivedAt: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC),
		Labels: map[string]string{"b": "2", "a": "1", "": "empty", "Title": "shadow", "x.y": "dot", "n": "10"}},
}

// isUnsupported is whether err is execute refusing a construct
// text/template runs.
func isUnsupported(err error) bool {
	var te *TemplateError
	return errors.As(err, &te) && strings.Contains(te.Msg, "not supported")
}

// limitMsgs are the words of execute's errors for a template over its
// budget, which text/template runs on (or not in bounded time).
var limitMsgs = []string{"the template takes more than", "functions handle more than", "the result would exceed",
	"the result exceeds", "width or precision"}

// isLimit is whether err is execute stopping a template over its budget.
func isLimit(err error) bool {
	var te *TemplateError
	if !errors.As(err, &te) {
		return false
	}
	for _, m := range limitMsgs {
		if strings.Contains(te.Msg, m) {
			return true
		}
	}
	return false
}

// differ renders src with both and reports a difference: output, or one
// erroring and not the other, or the error messages. execute runs first:
// when it stops src over its budget, text/template is not run (it could
// run for ever, or allocate gigabytes).
func differ(t *testing.T, src string) {
	t.Helper()
	for i := range diffEvents {
		ev := &diffEvents[i]
		got, gotErr := render("text", src, ev)
		if isUnsupported(gotErr) {
			return
		}
		if isLimit(gotErr) {
			continue
		}
		want, wantErr := referenceRender("text", src, ev)
		switch {
		case (wantErr == nil) != (gotErr == nil):
			t.Errorf("event %d, %q: text/template: %q, %v; execute: %q, %v", i, src, want, wantErr, got, gotErr)
		case wantErr != nil && wantErr.Error() != gotErr.Error():
			t.Errorf("event %d, %q: errors differ:\ntext/template: %v\n      execute: %v", i, src, wantErr, gotErr)
		case got != want:
			t.Errorf("event %d, %q: output differs:\ntext/template: %q\n      execute: %q", i, src, want, got)
		}
	}
}

// diffTemplates cover every construct execute runs, and its errors.
var diffTemplates = []string{
	// Text, fields, labels, missing labels.
	"plain text", "{{.ID}} {{.Type}} {{.Severity}} {{.Title}} {{.Message}} {{.Source}}",
	"{{.Policy}} {{.PolicyID}} {{.Job}} {{.Status}} {{.URL}} {{.Time}}",
	"{{.Labels}}", "{{.}}", "{{$}}", "{{.Labels.env}}", "[{{.Labels.nope}}]", "{{$.Labels.a}}", "{{.Nope}}", "x\n{{.Title.Foo}}",
	"{{.Labels.env.x}}", "{{.Title \"arg\"}}", "{{.Title | .Message}}", "{{.Labels.env 1}}",
	// Variables.
	"{{$x := .Title}}{{$x}}", "{{$x := 1}}{{$x = 2}}{{$x}}", "{{$x := .Labels}}{{$x.env}}", "{{with $x := .Title}}{{$x}}{{end}}",
	"{{$x := 1}}{{if true}}{{$x = 3}}{{$y := 4}}{{$y}}{{end}}{{$x}}", "{{$x := .Title}}{{$x 1}}", "{{$.Title}}", "{{$x := .}}{{$x.Labels.env}}",
	// Pipelines and functions.
	"{{.Title | upper}}", "{{.Title | lower | trim}}", "{{upper .Title}}", "{{trunc 5 .Title}}", "{{.Title | trunc 3}}",
	"{{trunc -1 .Title}}", "{{trunc 100 .Title}}", "{{trunc 5.0 .Title}}", "{{trunc 'a' .Title}}", "{{trunc 1.5 .Title}}",
	"{{trunc \"5\" .Title}}", "{{default \"none\" .Job}}", "{{.Job | default \"none\"}}", "{{label \"env\" .Labels}}",
	"{{label \"env\" nil}}", "{{label \"env\" .}}", "{{replace \"a\" \"b\" .Title}}", "{{upper}}", "{{upper 1}}", "{{upper nil}}",
	"{{upper .Labels}}", "{{(upper .Title)}}", "{{(.Labels).env}}", "{{(print .Labels).x}}", "{{(index .Labels \"env\" | upper)}}",
	"{{.Title | printf \"%s!\"}}", "{{\"%d\" | printf}}", "{{printf \"%d %s %v %q\" 3 .Title .Labels .Title}}", "{{printf}}", "{{printf 3}}",
	"{{print 1 2 \"a\" \"b\" 3.5 true nil}}", "{{println .Title 2}}", "{{print .}}", "{{printf \"%v\" nil}}", "{{print}}",
	"{{html .Message}}", "{{html 1 \"<\" nil}}", "{{urlquery .Message \"&\"}}", "{{.Message | html}}",
	// Literals.
	"{{1}} {{-1}} {{1.5}} {{1e3}} {{0x10}} {{'a'}} {{1i}} {{true}} {{\"s\"}} {{`raw`}}", "{{nil}}", "{{99999999999999999999}}",
	"{{0x1p4}}", "{{1_000}}", "{{0o17}} {{0b101}}",
	// Comparisons and logic.
	"{{eq .Severity \"CRITICAL\"}}", "{{eq 1 1}}", "{{eq 1 2 1}}", "{{eq 1}}", "{{eq 1 \"a\"}}", "{{eq nil nil}}", "{{eq nil 1}}",
	"{{eq .Labels .Labels}}", "{{eq . 1}}", "{{eq . .}}", "{{eq .Labels nil}}", "{{ne 1 2}}", "{{ne .Title .Title}}",
	"{{lt 1 2}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}}", "{{lt \"a\" \"b\"}}", "{{lt 1.5 2.5}}", "{{lt true false}}", "{{lt 1 1.5}}",
	"{{lt 1i 2i}}", "{{lt nil 1}}", "{{gt .Labels 1}}", "{{eq 1.0 1}}", "{{eq (index .Title 0) 74}}", "{{lt (index .Title 0) 100}}",
	"{{lt -1 (index .Title 0)}}", "{{and 1 0 2}}", "{{and 1 2}}", "{{or 0 \"\" 3}}", "{{or 0 \"\"}}", "{{and}}", "{{not 0}}",
	"{{not .Title}}", "{{not}}", "{{and nil}}", "{{or nil 1}}", "{{.Title | and 1}}", "{{.Title | or 0}}", "{{not nil}}",
	"{{and (eq 1 1) .Nope}}", "{{or 1 .Nope}}",
	// len and index.
	"{{len .Title}}", "{{len .Labels}}", "{{len 3}}", "{{len nil}}", "{{len .}}", "{{index .Labels \"env\"}}", "{{index .Labels \"nope\"}}",
	"{{index .Title 1}}", "{{index .Title 100}}", "{{index .Title -1}}", "{{index .Title \"a\"}}", "{{index .Labels 1}}",
	"{{index .Labels nil}}", "{{index nil 1}}", "{{index .Labels}}", "{{index . \"x\"}}", "{{index .Title 0 0}}", "{{index .Title (index .Title 0)}}",
	// if, with, range, break, continue.
	"{{if .Message}}m{{else}}no{{end}}", "{{if .Job}}j{{else if .Source}}s{{else}}none{{end}}", "{{if 0}}a{{else}}b{{end}}",
	"{{if .Labels}}L{{end}}", "{{if .}}dot{{end}}", "{{if nil}}x{{end}}", "{{if 1.5}}f{{end}}{{if 0i}}c{{end}}",
	"{{with .Job}}[{{.}}]{{else}}no job{{end}}", "{{with .Labels}}{{.env}}{{end}}", "{{with .Nope}}x{{end}}", "{{with $x := 2}}{{$x}}{{.}}{{end}}",
	"{{with .Job}}j{{else with .Source}}s:{{.}}{{else}}none{{end}}",
	"{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", "{{range .Labels}}{{.}},{{else}}none{{end}}", "{{range $v := .Labels}}{{$v}}{{end}}",
	"{{range 3}}{{.}}{{end}}", "{{range $i := 3}}{{$i}}{{end}}", "{{range $i, $v := 3}}{{end}}", "{{range 0}}x{{else}}empty{{end}}",
	"{{range -2}}x{{else}}neg{{end}}", "{{range .Title}}{{.}}{{end}}", "{{range .}}x{{end}}", "{{range nil}}x{{else}}nil{{end}}",
	"{{range 1.5}}x{{end}}", "{{range (index .Title 0)}}{{.}}{{end}}",
	"{{range $k, $v := .Labels}}{{if eq $k \"b\"}}{{break}}{{end}}{{$k}}{{end}}", "{{range $k, $v := .Labels}}{{if eq $k \"a\"}}{{continue}}{{end}}{{$k}}{{end}}",
	"{{range 5}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", "{{$x := 0}}{{range $k, $v := .Labels}}{{$x = $k}}{{end}}{{$x}}",
	"{{$k := 9}}{{range $k, $v := .Labels}}{{$k}}{{end}}{{$k}}", "{{range $k, $v := .Labels}}{{$.Title}}{{end}}",
	"{{range .Labels}}{{$x := .}}{{$x}}{{end}}", "{{$k := 0}}{{$v := 0}}{{range $k, $v = .Labels}}{{end}}{{$k}}{{$v}}",
	// Comments and trim markers.
	"a {{/* comment */}} b", "a  {{- /* c */ -}}  b", "a\n  {{- .Title -}}\n  b",
	// Output limit.
	"{{range 7000}}xxxxxxxxxx{{end}}", "{{range 700}}{{printf \"%100s\" \"\"}}{{end}}",
	// Parse errors.
	"{{.Title", "{{if .Title}}", "{{end}}", "{{exec .Title}}", "{{$nope}}", "{{range $a, $b, $c := .Labels}}{{end}}", "{{break}}",
}

// TestTemplateDifferential renders every template of diffTemplates with
// text/template and with execute: same output, or the same error.
func TestTemplateDifferential(t *testing.T) {
	if len(diffTemplates) < 40 {
		t.Fatalf("only %d templates", len(diffTemplates))
	}
	for _, src := range diffTemplates {
		differ(t, src)
	}
}

// TestTemplateUnsupported: what execute does not run is refused on save,
// with its position.
func TestTemplateUnsupported(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{`{{call .Title}}`, `line 1, column 3: function "call" is not supported`},
		{"x\n {{js .Title}}", `line 2, column 4: function "js" is not supported`},
		{`{{slice .Title 1}}`, `line 1, column 3: function "slice" is not supported`},
		{`{{define "x"}}a{{end}}`, `{{define}} and {{block}} are not supported`},
		{`{{define "text"}}a{{end}}`, `{{define}} and {{block}} are not supported`},
		{`ab {{template "x"}}`, `line 1, column 15: {{template}} is not supported`},
		{`{{block "x" .}}a{{end}}`, `line 1, column 9: {{template}} is not supported`},
		{`{{if 1}}{{print (slice .Title 1)}}{{end}}`, `function "slice" is not supported`},
	} {
		var v validator
		(&Template{Text: tc.src}).validate(&v)
		e, ok := v.err().(*Error)
		if !ok || len(e.Fields) != 1 || !strings.Contains(e.Fields[0].Message, tc.msg) {
			t.Errorf("%q: %v, want …%s…", tc.src, v.err(), tc.msg)
		}
	}
}

// FuzzTemplateDifferential compares text/template and execute on any
// source that parses, within execute's budget; and execute always ends,
// within it.
func FuzzTemplateDifferential(f *testing.F) {
	for _, src := range diffTemplates {
		f.Add(src)
	}
	for _, tc := range budgetTemplates {
		f.Add(tc.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > MaxTemplate {
			return
		}
		if _, err := template.New("text").Funcs(refFuncs).Parse(src); err != nil {
			return
		}
		withinBudget(t, src)
		differ(t, src)
	})
}

// withinBudget runs src over each event of diffEvents and fails if an
// execution goes over its budget: more steps or work than allowed, more
// output than maxRendered, or much more allocation than the budget lets
// a template make (a few megabytes).
func withinBudget(t *testing.T, src string) {
	t.Helper()
	tree, err := parseTemplate("text", src)
	if err != nil {
		return
	}
	for i := range diffEvents {
		data := dataOf(&diffEvents[i])
		s := newExecState("text", src, data)
		var out string
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err = s.run(tree, data)
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; s.steps > maxSteps || s.work > maxWork || len(out) > maxRendered || n > 16<<20 {
			t.Errorf("event %d, %q: %d steps, %d bytes of work, %d bytes of output, %d bytes allocated (%v)", i, src, s.steps, s.work, len(out), n, err)
		}
	}
}
