package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// patchOp is one operation of a PatchOp request (RFC 7644 §3.5.2).
type patchOp struct {
	Op    string
	Path  string
	Value any
}

// readPatch reads a PatchOp body.
func readPatch(r *http.Request) ([]patchOp, error) {
	m, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if s, _ := get(m, "schemas"); s != nil && !slices.ContainsFunc(list(s), func(v any) bool {
		x, _ := v.(string)
		return strings.EqualFold(x, schemaPatch)
	}) {
		return nil, badRequest("invalidSyntax", "schemas must list %s", schemaPatch)
	}
	raw, _ := get(m, "Operations")
	l, ok := raw.([]any)
	if !ok || len(l) == 0 {
		return nil, badRequest("invalidSyntax", "Operations must be a non-empty list")
	}
	ops := make([]patchOp, 0, len(l))
	for i, e := range l {
		em, ok := e.(map[string]any)
		if !ok {
			return nil, badRequest("invalidSyntax", "Operations[%d] must be an object", i)
		}
		op, err := str(em, "op")
		if err != nil {
			return nil, err
		}
		path, err := str(em, "path")
		if err != nil {
			return nil, err
		}
		v, _ := get(em, "value")
		op = strings.ToLower(op)
		switch op {
		case "add", "replace":
			if v == nil {
				return nil, badRequest("invalidValue", "Operations[%d]: %s needs a value", i, op)
			}
			if path == "" {
				if _, ok := v.(map[string]any); !ok {
					return nil, badRequest("invalidValue", "Operations[%d]: without a path the value must be an object", i)
				}
			}
		case "remove":
			if path == "" {
				return nil, badRequest("noTarget", "Operations[%d]: remove needs a path", i)
			}
		default:
			return nil, badRequest("invalidSyntax", "Operations[%d]: op %q is not add, replace or remove", i, op)
		}
		ops = append(ops, patchOp{Op: op, Path: path, Value: v})
	}
	return ops, nil
}

// path is a parsed PATCH path: attr, an optional value filter
// attr[fattr eq "fval"] and an optional sub-attribute.
type path struct {
	attr   string
	filter *cond
	sub    string
}

// parsePath parses attr, attr.sub, attr[x eq "v"], attr[x eq "v"].sub, with
// an optional core or enterprise schema URN prefix.
func parsePath(p string) (path, error) {
	bad := badRequest("invalidPath", "%q is not a supported path", p)
	p = stripCoreURN(strings.TrimSpace(p))
	if len(p) > len(SchemaEnterprise) && strings.EqualFold(p[:len(SchemaEnterprise)], SchemaEnterprise) && p[len(SchemaEnterprise)] == ':' {
		return path{attr: SchemaEnterprise, sub: p[len(SchemaEnterprise)+1:]}, nil
	}
	var out path
	if i := strings.IndexByte(p, '['); i >= 0 {
		j := strings.LastIndexByte(p, ']')
		if j < i {
			return out, bad
		}
		conds, err := parseFilter(p[i+1 : j])
		if err != nil || len(conds) != 1 {
			return out, badRequest("invalidPath", "%q: the value filter must be one eq comparison", p)
		}
		out.attr, out.filter = p[:i], &conds[0]
		rest := p[j+1:]
		if rest != "" {
			if rest[0] != '.' {
				return out, bad
			}
			out.sub = rest[1:]
		}
	} else {
		out.attr, out.sub, _ = strings.Cut(p, ".")
	}
	if !validAttrPath(out.attr) || strings.Contains(out.attr, ".") || strings.Contains(out.sub, ".") {
		return out, bad
	}
	return out, nil
}

// applyPatch applies ops to resource m, whose attributes are known
// (lower-case); readOnly attributes may only be "set" to what they are.
func applyPatch(m map[string]any, ops []patchOp, known, readOnly []string) error {
	for _, op := range ops {
		if op.Path == "" {
			// add/replace with no path: each attribute of the value,
			// whose names may themselves be paths (Entra ID sends
			// "name.givenName").
			for k, v := range op.Value.(map[string]any) {
				if err := applyOne(m, op.Op, k, v, known, readOnly); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyOne(m, op.Op, op.Path, op.Value, known, readOnly); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(m map[string]any, op, rawPath string, value any, known, readOnly []string) error {
	p, err := parsePath(rawPath)
	if err != nil {
		return err
	}
	la := strings.ToLower(p.attr)
	if !slices.Contains(known, la) {
		return badRequest("invalidPath", "unknown attribute %q", p.attr)
	}
	cur, key := get(m, p.attr)
	if key == "" {
		key = p.attr
	}
	if slices.Contains(readOnly, la) {
		if op != "remove" && p.filter == nil && p.sub == "" && reflect.DeepEqual(normalize(cur), normalize(value)) {
			return nil // Okta repeats the id in a replace
		}
		return badRequest("mutability", "%s is read-only", p.attr)
	}
	switch {
	case p.filter == nil && p.sub == "":
		switch op {
		case "remove":
			if value != nil {
				// Entra ID: remove members by value list.
				drop := list(value)
				kept := slices.DeleteFunc(slices.Clone(list(cur)), func(e any) bool {
					return slices.ContainsFunc(drop, func(d any) bool { return sameElement(e, d) })
				})
				m[key] = kept
				return nil
			}
			delete(m, key)
		case "add":
			if l, ok := cur.([]any); ok {
				if hasPrimary(list(value)) {
					// RFC 7644 §3.5.2.1: the new primary value
					// takes over.
					for _, e := range l {
						if em, ok := e.(map[string]any); ok {
							setSub(em, "replace", "primary", false)
						}
					}
				}
				for _, e := range list(value) {
					if !slices.ContainsFunc(l, func(x any) bool { return sameElement(x, e) }) {
						l = append(l, e)
					}
				}
				m[key] = l
				return nil
			}
			if vm, ok := value.(map[string]any); ok {
				if cm, ok := cur.(map[string]any); ok {
					for k, v := range vm {
						_, ck := get(cm, k)
						if ck == "" {
							ck = k
						}
						cm[ck] = v
					}
					return nil
				}
			}
			m[key] = value
		default: // replace
			if vm, ok := value.(map[string]any); ok {
				if cm, ok := cur.(map[string]any); ok {
					for k, v := range vm {
						_, ck := get(cm, k)
						if ck == "" {
							ck = k
						}
						cm[ck] = v
					}
					return nil
				}
			}
			m[key] = value
		}
		return nil
	case p.filter == nil: // attr.sub
		cm, _ := cur.(map[string]any)
		if cm == nil {
			if l, ok := cur.([]any); ok { // a sub-attribute of every element
				for _, e := range l {
					if em, ok := e.(map[string]any); ok {
						setSub(em, op, p.sub, value)
					}
				}
				return nil
			}
			if op == "remove" {
				return nil
			}
			cm = map[string]any{}
			m[key] = cm
		}
		setSub(cm, op, p.sub, value)
		return nil
	}
	// attr[filter] or attr[filter].sub on a multi-valued attribute.
	l := list(cur)
	hit := false
	var kept []any
	for _, e := range l {
		em, ok := e.(map[string]any)
		if !ok || !matches(em, []cond{*p.filter}, nil) {
			kept = append(kept, e)
			continue
		}
		hit = true
		switch {
		case op == "remove" && p.sub == "":
			continue // drop the element
		case p.sub == "":
			if vm, ok := value.(map[string]any); ok {
				for k, v := range vm {
					em[k] = v
				}
			}
		default:
			setSub(em, op, p.sub, value)
		}
		kept = append(kept, em)
	}
	if !hit && op != "remove" {
		// Entra ID adds emails[type eq "work"].value to a user without one.
		e := map[string]any{p.filter.attr: p.filter.value}
		if p.sub != "" {
			e[p.sub] = value
		} else if vm, ok := value.(map[string]any); ok {
			for k, v := range vm {
				e[k] = v
			}
		}
		kept = append(kept, e)
	}
	if kept == nil {
		kept = []any{}
	}
	m[key] = kept
	return nil
}

func setSub(m map[string]any, op, sub string, value any) {
	_, k := get(m, sub)
	if k == "" {
		k = sub
	}
	if op == "remove" {
		delete(m, k)
		return
	}
	m[k] = value
}

// sameElement compares elements of a multi-valued attribute by their
// value sub-attribute (or themselves, if they have none).
func sameElement(a, b any) bool {
	va, vb := a, b
	if am, ok := a.(map[string]any); ok {
		va, _ = get(am, "value")
	}
	if bm, ok := b.(map[string]any); ok {
		vb, _ = get(bm, "value")
	}
	return reflect.DeepEqual(normalize(va), normalize(vb))
}

// normalize makes decoded JSON values comparable.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// hasPrimary reports whether an element of l says primary: true.
func hasPrimary(l []any) bool {
	for _, e := range l {
		if em, ok := e.(map[string]any); ok {
			if p, _ := get(em, "primary"); p != nil {
				if b, err := boolean("primary", p); err == nil && b {
					return true
				}
			}
		}
	}
	return false
}
