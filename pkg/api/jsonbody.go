package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// duplicateKeys answers 400 to a JSON write whose body repeats a key in
// one object ({"name":"a","name":"b"}): encoding/json would keep the last
// silently, and what was meant is unknowable. It reads at most maxBody+1
// bytes and puts them back, so the route still sees the whole body (and
// refuses one too large itself). POST /v1/events checks its own body, after
// the signature.
func duplicateKeys(r *http.Request, pattern string) *Problem {
	if r.Body == nil || pattern == "POST /v1/events" ||
		(r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil || len(head) > maxBody {
		return nil // the route reports it
	}
	if k, dup := ingest.DuplicateKey(head); dup {
		return newProblem(CodeMalformed, fmt.Sprintf("the body is not valid JSON for this API: the key %q appears twice in one object", clipKey(k)))
	}
	return nil
}

func clipKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "…"
	}
	return k
}
