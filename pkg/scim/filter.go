package scim

import (
	"encoding/json"
	"strconv"
	"strings"
)

// cond is one comparison of a filter: attribute path, operator, value.
// Only eq is supported, joined by and (RFC 7644 §3.4.2.2 defines more).
type cond struct {
	attr  string // lower-case attribute path, e.g. "username", "emails.value"
	value any    // string, bool, json.Number or nil
}

// parseFilter parses a filter of eq comparisons joined by and.
func parseFilter(f string) ([]cond, error) {
	toks, err := tokenize(f)
	if err != nil {
		return nil, err
	}
	var out []cond
	for i := 0; ; {
		if i+3 > len(toks) {
			return nil, badRequest("invalidFilter", "the filter %q is not of the form attribute eq \"value\"", f)
		}
		attr, op, val := toks[i], toks[i+1], toks[i+2]
		if attr.quoted || op.quoted || !validAttrPath(attr.text) {
			return nil, badRequest("invalidFilter", "the filter %q is not of the form attribute eq \"value\"", f)
		}
		if !strings.EqualFold(op.text, "eq") {
			return nil, badRequest("invalidFilter", "operator %q is not supported; only eq (joined by and) is", op.text)
		}
		c := cond{attr: strings.ToLower(stripCoreURN(attr.text))}
		switch {
		case val.quoted:
			c.value = val.text
		case val.text == "true", val.text == "false":
			c.value = val.text == "true"
		case val.text == "null":
		default:
			if _, err := strconv.ParseFloat(val.text, 64); err != nil {
				return nil, badRequest("invalidFilter", "%q is not a value: quote strings", val.text)
			}
			c.value = json.Number(val.text)
		}
		out = append(out, c)
		i += 3
		if i == len(toks) {
			return out, nil
		}
		if toks[i].quoted || !strings.EqualFold(toks[i].text, "and") {
			return nil, badRequest("invalidFilter", "%q: only and may join comparisons", toks[i].text)
		}
		i++
	}
}

type token struct {
	text   string
	quoted bool
}

// tokenize splits a filter into words and JSON strings.
func tokenize(f string) ([]token, error) {
	var out []token
	for i := 0; i < len(f); {
		switch c := f[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			j := i + 1
			for ; j < len(f) && f[j] != '"'; j++ {
				if f[j] == '\\' {
					j++
				}
			}
			if j >= len(f) {
				return nil, badRequest("invalidFilter", "unterminated string in the filter %q", f)
			}
			var s string
			if err := json.Unmarshal([]byte(f[i:j+1]), &s); err != nil {
				return nil, badRequest("invalidFilter", "bad string in the filter %q", f)
			}
			out = append(out, token{text: s, quoted: true})
			i = j + 1
		case c == '(' || c == ')' || c == '[' || c == ']':
			return nil, badRequest("invalidFilter", "grouping and value filters are not supported in a filter (%q)", f)
		default:
			j := i
			for j < len(f) && f[j] != ' ' && f[j] != '\t' && f[j] != '"' {
				j++
			}
			out = append(out, token{text: f[i:j]})
			i = j
		}
	}
	return out, nil
}

func validAttrPath(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == ':' || r == '_' || r == '-' || r == '$') {
			return false
		}
	}
	return true
}

// stripCoreURN removes a core schema URN prefix from an attribute path.
func stripCoreURN(p string) string {
	for _, u := range []string{SchemaUser, SchemaGroup} {
		if len(p) > len(u) && strings.EqualFold(p[:len(u)], u) && p[len(u)] == ':' {
			return p[len(u)+1:]
		}
	}
	return p
}

// equal compares a resource's value with a filter value: strings
// case-insensitively unless caseExact.
func equal(got, want any, caseExact bool) bool {
	gs, ok1 := got.(string)
	ws, ok2 := want.(string)
	if ok1 && ok2 {
		if caseExact {
			return gs == ws
		}
		return strings.EqualFold(gs, ws)
	}
	return got == want
}
