package notify

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ptype is the type of a template function's parameter.
type ptype int

const (
	pNone   ptype = iota // no type: the receiver of a chain, (pipe).Field
	pString              // string
	pInt                 // int
	pMap                 // map[string]string
	pAny                 // any: print's arguments
	pValue               // any value, nil included: the comparisons, and, or, not, len, index
)

func (t ptype) String() string {
	switch t {
	case pString:
		return "string"
	case pInt:
		return "int"
	case pMap:
		return "map[string]string"
	case pAny:
		return "interface {}"
	case pValue:
		return "reflect.Value"
	}
	return "<nil>"
}

// tfunc is a function a template may call: its parameters (the last one
// repeated if variadic) and its body, called with arguments of those types.
type tfunc struct {
	params   []ptype
	variadic bool
	call     func(args []value) (value, error)
}

// templateFuncs are the functions of ours: string helpers only, no I/O.
var templateFuncs = map[string]tfunc{
	"upper": {[]ptype{pString}, false, func(a []value) (value, error) { return strings.ToUpper(a[0].(string)), nil }},
	"lower": {[]ptype{pString}, false, func(a []value) (value, error) { return strings.ToLower(a[0].(string)), nil }},
	"trim":  {[]ptype{pString}, false, func(a []value) (value, error) { return strings.TrimSpace(a[0].(string)), nil }},
	"default": {[]ptype{pString, pString}, false, func(a []value) (value, error) {
		if a[1].(string) == "" {
			return a[0], nil
		}
		return a[1], nil
	}},
	"trunc": {[]ptype{pInt, pString}, false, func(a []value) (value, error) { return trunc(a[0].(int), a[1].(string)), nil }},
	"label": {[]ptype{pString, pMap}, false, func(a []value) (value, error) {
		return a[1].(map[string]string)[a[0].(string)], nil
	}},
	"replace": {[]ptype{pString, pString, pString}, false, func(a []value) (value, error) {
		return strings.ReplaceAll(a[2].(string), a[0].(string), a[1].(string)), nil
	}},
}

// trunc is s cut to n runes, with "…" when cut: string([]rune(s)[:n]),
// without reading past the cut nor converting the whole of s.
func trunc(n int, s string) string {
	if n < 0 {
		return s
	}
	runes := 0
	for i := range s {
		if runes == n {
			var b strings.Builder
			b.Grow(i + len("…"))
			for _, r := range s[:i] {
				b.WriteRune(r) // an invalid byte becomes U+FFFD, as with []rune
			}
			b.WriteString("…")
			return b.String()
		}
		runes++
	}
	return s
}

// cost is the bytes function name read and wrote, called with argv, for
// the work budget: the string arguments and result of the functions that
// copy them, the result alone for trunc (which reads no further than it
// writes), nothing for the others (they copy nothing, or compare).
func cost(name string, argv []value, result value) int {
	switch name {
	case "upper", "lower", "trim", "replace", "print", "printf", "println", "html", "urlquery":
		n := sizeOf(result)
		for _, a := range argv {
			n += sizeOf(a)
		}
		return n
	case "trunc":
		return sizeOf(result)
	}
	return 0
}

// sizeOf is about how many bytes v prints as.
func sizeOf(v value) int {
	switch v := v.(type) {
	case string:
		return len(v)
	case map[string]string:
		n := len("map[]")
		for k, x := range v {
			n += len(k) + len(x) + len(": ")
		}
		return n
	case TemplateData:
		n := sizeOf(v.Labels) + 200 // separators, or field names with %+v
		for _, f := range []string{v.ID, v.Type, v.Severity, v.Title, v.Message, v.Source, v.Policy, v.PolicyID, v.Job, v.Status, v.URL, v.Time} {
			n += len(f)
		}
		return n
	}
	return 32 // a number, bool or nil
}

// precheck refuses, before the call, a call of print, printf, println,
// html, urlquery or replace that would make a string longer than
// maxValue (or, for printf, a verb wider or more precise than maxWidth):
// so that no such string is ever allocated. The estimate is the size of
// what is printed, each argument once (any number of times for a format
// with explicit argument indexes), plus the widths and precisions.
func precheck(name string, argv []value) error {
	est := 0
	switch name {
	case "print", "println", "html", "urlquery":
		for _, a := range argv {
			est += sizeOf(a) + 1
		}
	case "printf":
		format := argv[0].(string)
		verbs, widths, indexed, star, err := scanFormat(format)
		if err != nil {
			return err
		}
		most := 0
		for _, a := range argv[1:] {
			est += sizeOf(a)
			most = max(most, sizeOf(a))
			if n, ok := a.(int); ok && star && (n > maxWidth || n < -maxWidth) {
				return fmt.Errorf("a width or precision (*) is over %d", maxWidth)
			}
		}
		if indexed {
			est = verbs * most
		}
		est += len(format) + widths
	case "replace":
		old, repl, s := argv[0].(string), argv[1].(string), argv[2].(string)
		if len(repl) <= len(old) {
			return nil
		}
		n := strings.Count(s, old)
		if n > 0 && (len(repl)-len(old)) > (maxValue-len(s))/n {
			return fmt.Errorf("the result would exceed %d bytes", maxValue)
		}
		return nil
	default:
		return nil
	}
	if est > maxValue {
		return fmt.Errorf("the result would exceed %d bytes", maxValue)
	}
	return nil
}

// scanFormat reads a printf format as fmt does: how many verbs it has,
// the sum of their widths and precisions, whether it indexes arguments
// ([n]) or takes a width or precision from them (*). A width or precision
// over maxWidth is an error.
func scanFormat(format string) (verbs, widths int, indexed, star bool, err error) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		// Flags, argument indexes, widths, precisions, up to the verb.
	verb:
		for ; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '#' || c == '0' || c == '+' || c == '-' || c == ' ' || c == '.':
			case c == '*':
				star = true
			case c == '[':
				indexed = true
				for i < len(format) && format[i] != ']' {
					i++
				}
				if i == len(format) {
					return verbs, widths, indexed, star, nil
				}
			case c >= '1' && c <= '9':
				n := 0
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					if n = n*10 + int(format[i]-'0'); n > maxWidth {
						return 0, 0, false, false, fmt.Errorf("a width or precision is over %d", maxWidth)
					}
				}
				widths += n
				i--
			default:
				if c != '%' {
					verbs++
				}
				break verb
			}
		}
	}
	return verbs, widths, indexed, star, nil
}

// builtinFuncs are text/template's builtins a template may use, as
// text/template defines them. call, js and slice are refused on save
// (templateCheck); they are named here so that they parse as before.
var builtinFuncs = map[string]tfunc{
	"and":      {[]ptype{pValue, pValue}, true, nil}, // evalCall: short-circuits
	"or":       {[]ptype{pValue, pValue}, true, nil}, // evalCall: short-circuits
	"not":      {[]ptype{pValue}, false, func(a []value) (value, error) { t, _ := truth(a[0]); return !t, nil }},
	"len":      {[]ptype{pValue}, false, lenFn},
	"index":    {[]ptype{pValue, pValue}, true, indexFn},
	"print":    {[]ptype{pAny}, true, func(a []value) (value, error) { return fmt.Sprint(a...), nil }},
	"printf":   {[]ptype{pString, pAny}, true, func(a []value) (value, error) { return fmt.Sprintf(a[0].(string), a[1:]...), nil }},
	"println":  {[]ptype{pAny}, true, func(a []value) (value, error) { return fmt.Sprintln(a...), nil }},
	"html":     {[]ptype{pAny}, true, func(a []value) (value, error) { return htmlEscape(printArgs(a)), nil }},
	"urlquery": {[]ptype{pAny}, true, func(a []value) (value, error) { return url.QueryEscape(printArgs(a)), nil }},
	"eq":       {[]ptype{pValue, pValue}, true, func(a []value) (value, error) { return eq(a[0], a[1:]...) }},
	"ne": {[]ptype{pValue, pValue}, false, func(a []value) (value, error) {
		equal, err := eq(a[0], a[1])
		return !equal, err
	}},
	"lt": {[]ptype{pValue, pValue}, false, func(a []value) (value, error) { return lt(a[0], a[1]) }},
	"le": {[]ptype{pValue, pValue}, false, func(a []value) (value, error) { return le(a[0], a[1]) }},
	"gt": {[]ptype{pValue, pValue}, false, func(a []value) (value, error) {
		lessOrEqual, err := le(a[0], a[1])
		return !lessOrEqual && err == nil, err
	}},
	"ge": {[]ptype{pValue, pValue}, false, func(a []value) (value, error) {
		lessThan, err := lt(a[0], a[1])
		return !lessThan && err == nil, err
	}},
}

// unsupportedFuncs are text/template builtins this evaluator does not
// run: a template naming one is refused on save.
var unsupportedFuncs = map[string]bool{"call": true, "js": true, "slice": true}

// templateFns are every function a template may call, by name.
var templateFns = func() map[string]tfunc {
	fns := map[string]tfunc{}
	for name, f := range builtinFuncs {
		fns[name] = f
	}
	for name, f := range templateFuncs {
		fns[name] = f
	}
	return fns
}()

// parseFuncs are the function names the parser accepts: ours and all of
// text/template's builtins, so that a template parses (or not) as with
// text/template.
var parseFuncs = func() map[string]any {
	names := map[string]any{}
	for name := range templateFns {
		names[name] = true
	}
	for name := range unsupportedFuncs {
		names[name] = true
	}
	return names
}()

// printArgs is the text of html's and urlquery's arguments: the one
// string, or fmt.Sprint of them all (nil as "<no value>").
func printArgs(a []value) string {
	if len(a) == 1 {
		if s, ok := a[0].(string); ok {
			return s
		}
	}
	for i, v := range a {
		if v == nil {
			a[i] = "<no value>"
		}
	}
	return fmt.Sprint(a...)
}

// htmlEscape is text/template's HTMLEscapeString, allocating its result
// once.
func htmlEscape(s string) string {
	grow, escaped := 0, false
	for i := 0; i < len(s); i++ {
		if repl := htmlEscapes[s[i]]; repl != "" {
			grow, escaped = grow+len(repl)-1, true
		}
	}
	if !escaped {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + grow)
	last := 0
	for i := 0; i < len(s); i++ {
		if repl := htmlEscapes[s[i]]; repl != "" {
			b.WriteString(s[last:i])
			b.WriteString(repl)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// htmlEscapes are the bytes htmlEscape replaces, and with what.
var htmlEscapes = [256]string{0: "\uFFFD", '"': "&#34;", '\'': "&#39;", '&': "&amp;", '<': "&lt;", '>': "&gt;"}

func lenFn(a []value) (value, error) {
	switch v := a[0].(type) {
	case string:
		return len(v), nil
	case map[string]string:
		return len(v), nil
	case nil:
		// text/template's words: its reflect call panics.
		return nil, errors.New("reflect: call of reflect.Value.Type on zero Value")
	}
	return nil, fmt.Errorf("len of type %T", a[0])
}

func indexFn(a []value) (value, error) {
	item := a[0]
	if item == nil {
		return nil, errors.New("index of untyped nil")
	}
	for _, ix := range a[1:] {
		switch v := item.(type) {
		case string:
			var x int
			switch i := ix.(type) {
			case int:
				x = i
			case uint8:
				x = int(i)
			case nil:
				return nil, errors.New("cannot index slice/array with nil")
			default:
				return nil, fmt.Errorf("cannot index slice/array with type %T", ix)
			}
			if x < 0 || x > len(v) {
				return nil, fmt.Errorf("index out of range: %d", x)
			}
			if x == len(v) {
				// text/template's words: its reflect call panics.
				return nil, errors.New("reflect: string index out of range")
			}
			item = v[x]
		case map[string]string:
			k, ok := ix.(string)
			if !ok {
				if ix == nil {
					return nil, errors.New("value is nil; should be of type string")
				}
				return nil, fmt.Errorf("value has type %T; should be string", ix)
			}
			item = v[k]
		default:
			return nil, fmt.Errorf("can't index item of type %T", item)
		}
	}
	return item, nil
}

// kind is a value's class for the comparisons.
type kind int

const (
	invalidKind kind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

var errBadComparisonType = errors.New("invalid type for comparison")

func basicKind(v value) (kind, error) {
	switch v.(type) {
	case bool:
		return boolKind, nil
	case int:
		return intKind, nil
	case uint8:
		return uintKind, nil
	case float64:
		return floatKind, nil
	case complex128:
		return complexKind, nil
	case string:
		return stringKind, nil
	}
	return invalidKind, errBadComparisonType
}

// eq is a == b || a == c || ...
func eq(a value, bs ...value) (bool, error) {
	if len(bs) == 0 {
		return false, errNoComparison
	}
	k1, _ := basicKind(a)
	for _, b := range bs {
		k2, _ := basicKind(b)
		t := false
		switch {
		case k1 == intKind && k2 == uintKind:
			t = a.(int) >= 0 && uint64(a.(int)) == uint64(b.(uint8))
		case k1 == uintKind && k2 == intKind:
			t = b.(int) >= 0 && uint64(a.(uint8)) == uint64(b.(int))
		case k1 != k2:
			if a != nil && b != nil {
				return false, fmt.Errorf("incompatible types for comparison: %T and %T", a, b)
			}
		case k1 == invalidKind:
			// nil, a map or TemplateData: only nil compares.
			an, bn := a == nil, b == nil
			if !an && !bn {
				if _, same := a.(map[string]string); same != isMap(b) {
					return false, fmt.Errorf("non-comparable types %s: %T, %T: %s", a, a, b, b)
				}
				return false, fmt.Errorf("non-comparable type %s: %T", b, b)
			}
			t = an == bn
		default:
			t = a == b
		}
		if t {
			return true, nil
		}
	}
	return false, nil
}

func isMap(v value) bool {
	_, ok := v.(map[string]string)
	return ok
}

// lt is a < b.
func lt(a, b value) (bool, error) {
	k1, err := basicKind(a)
	if err != nil {
		return false, err
	}
	k2, err := basicKind(b)
	if err != nil {
		return false, err
	}
	switch {
	case k1 == intKind && k2 == uintKind:
		return a.(int) < 0 || uint64(a.(int)) < uint64(b.(uint8)), nil
	case k1 == uintKind && k2 == intKind:
		return b.(int) >= 0 && uint64(a.(uint8)) < uint64(b.(int)), nil
	case k1 != k2:
		return false, fmt.Errorf("incompatible types for comparison: %T and %T", a, b)
	}
	switch a := a.(type) {
	case float64:
		return a < b.(float64), nil
	case int:
		return a < b.(int), nil
	case string:
		return a < b.(string), nil
	case uint8:
		return a < b.(uint8), nil
	}
	return false, errBadComparisonType
}

// le is a <= b.
func le(a, b value) (bool, error) {
	lessThan, err := lt(a, b)
	if lessThan || err != nil {
		return lessThan, err
	}
	return eq(a, b)
}
