package ingest

import (
	"bytes"
	"encoding/json"
)

// DuplicateKey returns a key that appears twice in one JSON object of
// data, and true; "" and false when there is none or data is not valid
// JSON (the decoder reports that). encoding/json keeps the last of two
// equal keys silently, so a body saying {"severity":"INFO",
// "severity":"CRITICAL"} would mean whatever the last reader picked.
func DuplicateKey(data []byte) (string, bool) {
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				top := stack[n-1]
				if top.keys[k] {
					return k, true
				}
				top.keys[k] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, wantKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
		// A value is complete: the object holding it wants a key next.
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
}
