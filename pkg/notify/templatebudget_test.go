package notify

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// budgetTemplates each run over execute's budget, in steps, bytes or
// value size: each fails, quickly, without allocating much.
var budgetTemplates = []struct{ src, msg string }{
	{"{{range 99999999999}}{{end}}", "the template takes more than 100000 steps"},
	{`{{printf "%999999999d" 1}}`, "error calling printf: a width or precision is over 1024"},
	{`{{printf "%.999999999f" 1.5}}`, "a width or precision is over 1024"},
	{`{{printf "%0[1]*d" 999999999 1}}`, "a width or precision (*) is over 1024"},
	{`{{printf "%.*s" 99999999 .Title}}`, "a width or precision (*) is over 1024"},
	{"{{range 1000}}{{range 1000}}{{end}}{{end}}", "the template takes more than 100000 steps"},
	{"{{range .Labels}}{{range $.Labels}}{{range $.Labels}}{{$y := .}}{{end}}{{end}}{{end}}{{if le (len .Labels) 1}}{{range 99999}}{{end}}{{end}}", "the template takes more than 100000 steps"},
	{"{{range 99999}}{{end}}", "the template takes more than 100000 steps"},
	{"{{$x := 0}}{{range 50000}}{{$x = .}}{{end}}", "the template takes more than 100000 steps"},
	// Doubling a string through a variable.
	{`{{$x := "ab"}}{{range 40}}{{$x = print $x $x}}{{end}}{{len $x}}`, "error calling print: the result would exceed 65536 bytes"},
	{`{{$x := "ab"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}`, "error calling printf: the result would exceed 65536 bytes"},
	{`{{$x := "ab"}}{{range 40}}{{$x = println $x $x}}{{end}}`, "the result would exceed"},
	{`{{$x := printf "%1000s" ""}}{{printf "%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s%[1]s" $x}}`, "the result would exceed"},
	{`{{$x := printf "%1000s" ""}}{{replace "" $x $x}}`, "error calling replace: the result would exceed 65536 bytes"},
	{`{{$x := printf "%1000s" ""}}{{range 9}}{{$x = replace " " "  " $x}}{{end}}`, "error calling replace: the result would exceed"},
	// Copying a 32 KiB string again and again.
	{`{{$x := printf "%1024s" ""}}{{range 5}}{{$x = print $x $x}}{{end}}{{range 9999}}{{$y := upper $x}}{{end}}`, "functions handle more than 4194304 bytes"},
	{`{{$x := printf "%1024s" ""}}{{range 5}}{{$x = print $x $x}}{{end}}{{range 9999}}{{$y := print $x}}{{end}}`, "functions handle more than"},
	{`{{$x := printf "%1024s" "é"}}{{range 5}}{{$x = print $x $x}}{{end}}{{range 9999}}{{$y := trunc 20000 $x}}{{end}}`, "functions handle more than"},
	{`{{$x := printf "%1024s" ""}}{{range 5}}{{$x = print $x $x}}{{end}}{{range 9999}}{{$y := urlquery $x}}{{end}}`, "functions handle more than"},
	{`{{$x := printf "%1024s" "<"}}{{range 5}}{{$x = print $x $x}}{{end}}{{range 9999}}{{$y := html $x}}{{end}}`, "functions handle more than"},
	{`{{$x := printf "%1024s" ""}}{{range 5}}{{$x = print $x $x}}{{end}}{{$x = replace " " "<" $x}}{{html $x}}`, "error calling html: the result exceeds 65536 bytes"},
	{`{{range 9999}}{{$y := printf "%1000s%s" $.Title $.Message}}{{end}}`, "functions handle more than"},
	{"{{range 50000}}{{.}}{{end}}", "the output exceeds 65536 bytes"},
}

// bigEvent has the most labels a template could meet (and more: 100) and
// the longest message.
func bigEvent() *Event {
	ev := SampleEvent
	ev.Message = strings.Repeat("m", MaxMessage)
	ev.Labels = map[string]string{}
	for i := range 100 {
		ev.Labels[fmt.Sprintf("label-%03d", i)] = strings.Repeat("v", MaxLabelValue)
	}
	return &ev
}

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestTemplateBudget: every template over the budget fails with its
// error, over the sample event and a big one, allocating under 10 MB.
func TestTemplateBudget(t *testing.T) {
	const most = 10 << 20
	for _, tc := range budgetTemplates {
		for _, ev := range []*Event{&SampleEvent, bigEvent()} {
			var err error
			n := allocated(func() { _, err = render("text", tc.src, ev) })
			te, ok := err.(*TemplateError)
			if !ok || !strings.Contains(te.Msg, tc.msg) || te.Line != 1 || te.Column == 0 && !strings.Contains(tc.msg, "output") {
				t.Errorf("%q over %d labels: %v, want a TemplateError at line 1, column n: …%s…", tc.src, len(ev.Labels), err, tc.msg)
			}
			t.Logf("%7d bytes allocated: %.60q over %d labels", n, tc.src, len(ev.Labels))
			if n > most {
				t.Errorf("%q over %d labels: allocated %d bytes, want under %d", tc.src, len(ev.Labels), n, most)
			}
		}
	}
}

// TestTemplateBudgetRefusedOnSave: the two templates of the issue are
// refused on save, with the position of the node where they stop.
func TestTemplateBudgetRefusedOnSave(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{"a\n{{range 99999999999}}{{end}}", "line 2, column 9: executing \"text\" at <{{range 99999999999}}{{end}}>: the template takes more than 100000 steps"},
		{`{{printf "%999999999d" 1}}`, `line 1, column 3: executing "text" at <printf "%999999999d" 1>: error calling printf: a width or precision is over 1024`},
	} {
		var v validator
		(&Template{Text: tc.src}).validate(&v)
		e, ok := v.err().(*Error)
		if !ok || len(e.Fields) != 1 || e.Fields[0].Field != "template.text" || e.Fields[0].Message != tc.msg {
			t.Errorf("%q: %v (%+v), want template.text: %s", tc.src, v.err(), e, tc.msg)
		}
	}
}

// TestTemplateBudgetGenerous: a real template ranging over 100 labels,
// with a few actions each, over the longest message, is far within it.
func TestTemplateBudgetGenerous(t *testing.T) {
	src := `{{.Severity | upper}} {{.Title}} at {{.Time}}
{{range $k, $v := .Labels}}{{if ne $k "secret"}}- {{$k | upper}}: {{trunc 40 $v | printf "%-12s"}} {{$.Message | trunc 60}} ({{len $v}}){{end}}
{{end}}{{with .URL}}{{.}}{{end}}`
	tree, err := parseTemplate("text", src)
	if err != nil {
		t.Fatal(err)
	}
	s := newExecState("text", src, dataOf(bigEvent()))
	out, err := s.run(tree, dataOf(bigEvent()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "LABEL-099") || s.steps > maxSteps/10 || s.work > maxWork/10 {
		t.Errorf("%d steps, %d bytes of work, want under a tenth of the budget; output %d bytes", s.steps, s.work, len(out))
	}
	t.Logf("%d steps, %d bytes of work", s.steps, s.work)
}

// TestTrunc: trunc is string([]rune(s)[:n]) + "…", invalid bytes included.
func TestTrunc(t *testing.T) {
	for _, s := range []string{"", "a", "abc", "héllo wörld", "a\xffb\xfe\xc3", "\xc3\xa9\xe2\x82"} {
		for n := -1; n <= 6; n++ {
			want := s
			if n >= 0 && len([]rune(s)) > n {
				want = string([]rune(s)[:n]) + "…"
			}
			if got := trunc(n, s); got != want {
				t.Errorf("trunc(%d, %q) = %q, want %q", n, s, got, want)
			}
		}
	}
}
