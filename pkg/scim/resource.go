package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// get returns m's value for the attribute name, compared
// case-insensitively (RFC 7643 §2.1), and the key it is stored under.
func get(m map[string]any, name string) (any, string) {
	if v, ok := m[name]; ok {
		return v, name
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, k
		}
	}
	return nil, ""
}

// str returns m's string attribute name ("" if absent); a non-string is a
// bad request.
func str(m map[string]any, name string) (string, error) {
	v, _ := get(m, name)
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	}
	return "", badRequest("invalidValue", "%s must be a string", name)
}

// boolean reads a SCIM boolean, accepting the strings "True" and "False"
// Entra ID sends.
func boolean(name string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(x)); err == nil {
			return b, nil
		}
	}
	return false, badRequest("invalidValue", "%s must be a boolean", name)
}

// list returns the elements of a multi-valued attribute.
func list(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	}
	return []any{v}
}

// valuesAt returns every value at a path (attr or attr.sub) of m: a
// multi-valued attribute gives each element's sub-attribute.
func valuesAt(m map[string]any, path string) []any {
	attr, sub, _ := strings.Cut(path, ".")
	v, _ := get(m, attr)
	if sub == "" {
		if l, ok := v.([]any); ok {
			var out []any
			for _, e := range l {
				if em, ok := e.(map[string]any); ok {
					x, _ := get(em, "value")
					out = append(out, x)
				} else {
					out = append(out, e)
				}
			}
			return out
		}
		return []any{v}
	}
	var out []any
	for _, e := range list(v) {
		if em, ok := e.(map[string]any); ok {
			x, _ := get(em, sub)
			out = append(out, x)
		}
	}
	return out
}

// matches reports whether resource m passes every condition; caseExact
// lists the (lower-case) attributes compared exactly.
func matches(m map[string]any, conds []cond, caseExact []string) bool {
	for _, c := range conds {
		if !slices.ContainsFunc(valuesAt(m, c.attr), func(v any) bool {
			return equal(v, c.value, slices.Contains(caseExact, c.attr))
		}) {
			return false
		}
	}
	return true
}

// checkFilter fails with invalidFilter if a condition names an attribute
// not in allowed (lower-case).
func checkFilter(conds []cond, allowed []string) error {
	for _, c := range conds {
		if !slices.Contains(allowed, c.attr) {
			return badRequest("invalidFilter", "filtering on %q is not supported; use one of %s", c.attr, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// listQuery is what a GET of a collection asks for.
type listQuery struct {
	conds               []cond
	start, count        int // 1-based; count -1: not given
	attributes, exclude []string
}

func parseList(r *http.Request, allowed []string) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{start: 1, count: -1}
	if f := q.Get("filter"); f != "" {
		conds, err := parseFilter(f)
		if err != nil {
			return lq, err
		}
		if err := checkFilter(conds, allowed); err != nil {
			return lq, err
		}
		lq.conds = conds
	}
	if s := q.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return lq, badRequest("invalidValue", "startIndex must be an integer")
		}
		lq.start = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 is 1
	}
	if s := q.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return lq, badRequest("invalidValue", "count must be an integer")
		}
		lq.count = min(max(n, 0), maxCount)
	}
	lq.attributes, lq.exclude = attrList(q.Get("attributes")), attrList(q.Get("excludedAttributes"))
	return lq, nil
}

func attrList(s string) []string {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, strings.ToLower(stripCoreURN(a)))
		}
	}
	return out
}

// project applies attributes and excludedAttributes (RFC 7644 §3.9) at the
// level of top-level attributes ("name.givenName" selects all of name);
// id, schemas and meta are always returned.
func project(m map[string]any, attributes, exclude []string) map[string]any {
	if len(attributes) == 0 && len(exclude) == 0 {
		return m
	}
	top := func(a string) string { t, _, _ := strings.Cut(a, "."); return t }
	out := map[string]any{}
	for k, v := range m {
		lk := strings.ToLower(k)
		always := lk == "id" || lk == "schemas" || lk == "meta"
		switch {
		case always:
		case len(attributes) > 0 && !slices.ContainsFunc(attributes, func(a string) bool { return top(a) == lk }):
			continue
		case slices.ContainsFunc(exclude, func(a string) bool { return a == lk }):
			continue
		}
		out[k] = v
	}
	return out
}

// page applies startIndex and count to all and writes the ListResponse.
func writeList(w http.ResponseWriter, all []map[string]any, lq listQuery) {
	total := len(all)
	from := min(lq.start-1, total)
	to := total
	if lq.count >= 0 {
		to = min(from+lq.count, total)
	} else {
		to = min(from+maxCount, total)
	}
	items := make([]map[string]any, 0, to-from)
	for _, m := range all[from:to] {
		items = append(items, project(m, lq.attributes, lq.exclude))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{schemaList}, "totalResults": total, "startIndex": lq.start,
		"itemsPerPage": len(items), "Resources": items,
	})
}

// writeResource writes one resource with its ETag.
func writeResource(w http.ResponseWriter, status int, m map[string]any, version int64, r *http.Request) {
	w.Header().Set("ETag", etag(version))
	if status == http.StatusCreated {
		if meta, ok := m["meta"].(map[string]any); ok {
			w.Header().Set("Location", meta["location"].(string))
		}
	}
	lq, _ := parseList(&http.Request{URL: r.URL}, nil)
	writeJSON(w, status, project(m, lq.attributes, lq.exclude))
}

func meta(resourceType, id string, created, updated time.Time, version int64) map[string]any {
	return map[string]any{
		"resourceType": resourceType,
		"created":      created.UTC().Format(time.RFC3339Nano),
		"lastModified": updated.UTC().Format(time.RFC3339Nano),
		"version":      etag(version),
		"location":     BasePath + "/" + resourceType + "s/" + id,
	}
}

// clone deep-copies a resource through JSON, so a PATCH works on its own
// copy.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}
