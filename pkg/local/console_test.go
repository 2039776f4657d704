package local

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleServed: the console answers / and its client routes, the API
// keeps /v1 and /healthz, and the start-up block carries the sign-in link
// with the token in the fragment only.
func TestConsoleServed(t *testing.T) {
	s := start(t, Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "data"), AdminToken: "tok en+/&"}, Options{})
	defer func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	}()
	for path, want := range map[string]int{"/": 200, "/rules/new": 200, "/healthz": 200, "/v1/rules": 401, "/v1/nope": 401} {
		if code, body := s.request(http.MethodGet, path, "", ""); code != want {
			t.Errorf("GET %s: %d, want %d: %.200s", path, code, want, body)
		}
	}
	if code, body := s.request(http.MethodGet, "/", "", ""); code != 200 || !strings.Contains(body, `<div id="app">`) {
		t.Errorf("GET / is not the console: %d %.200s", code, body)
	}
	want := s.base + "/#token=tok%20en%2B%2F%26 "
	if out := s.stdout.String(); !strings.Contains(out, want) || strings.Contains(out, "?token=") {
		t.Errorf("start-up block lacks the sign-in link %q:\n%s", want, out)
	}
}
