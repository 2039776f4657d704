package ingest_test

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`[{"a":1},{"a":2}]`, ""},
		{`{"a":{"b":1},"c":{"b":2}}`, ""},
		{`{"a":{"b":1,"b":[1,2]}}`, "b"},
		{`{"a":[{"x":1}],"b":"a","a":3}`, "a"},
		{`{"labels":{"k":"1","k":"2"}}`, "k"},
		{`{"a":"b","b":"a"}`, ""},
		{`{"a":`, ""},
		{`"a"`, ""},
	}
	for _, tt := range tests {
		got, ok := ingest.DuplicateKey([]byte(tt.body))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("DuplicateKey(%s) = %q, %v; want %q", tt.body, got, ok, tt.want)
		}
	}
}
