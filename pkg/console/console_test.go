package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w
}

// asset is the path of the first built file whose name ends in ext.
func asset(t *testing.T, ext string) string {
	t.Helper()
	entries, err := fs.ReadDir(dist, "dist/assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			return "/assets/" + e.Name()
		}
	}
	t.Fatalf("no %s asset in dist/assets", ext)
	return ""
}

func TestHandler(t *testing.T) {
	js := asset(t, ".js")
	tests := []struct {
		name, method, path string
		status             int
		contentType, cache string
		body               string // a substring of the body
	}{
		{"root is index.html", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"client route is index.html", "GET", "/rules/rul_1/edit", 200, "text/html; charset=utf-8", "no-cache", `<div id="app">`},
		{"hashed asset cached a year", "GET", js, 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{"head", "HEAD", "/", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"missing asset is 404, not index.html", "GET", "/assets/index-gone.js", 404, "text/plain; charset=utf-8", "", "404"},
		{"missing file is 404", "GET", "/favicon.ico", 404, "text/plain; charset=utf-8", "", "404"},
		{"traversal stays inside", "GET", "/../../go.mod", 404, "text/plain; charset=utf-8", "", ""},
		{"write refused", "POST", "/", 405, "text/plain; charset=utf-8", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, tc.method, tc.path)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			h := w.Header()
			if got := h.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if got := h.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			for k, v := range map[string]string{
				"Content-Security-Policy": ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"X-Frame-Options":         "DENY",
				"Referrer-Policy":         "no-referrer",
			} {
				if got := h.Get(k); got != v {
					t.Errorf("%s %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("body lacks %q", tc.body)
			}
			if tc.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD wrote a body")
			}
		})
	}
}

// The CSP allows no inline script: index.html must have none, and load
// everything from its own origin.
func TestIndexHasNoInlineScriptOrRemoteAsset(t *testing.T) {
	html := get(t, "GET", "/").Body.String()
	for _, m := range regexp.MustCompile(`(?s)<script[^>]*>(.*?)</script>`).FindAllStringSubmatch(html, -1) {
		if strings.TrimSpace(m[1]) != "" {
			t.Errorf("inline script in index.html: %.80s", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if u := m[1]; !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			if u != "data:," {
				t.Errorf("index.html loads %q from elsewhere", u)
			}
		}
	}
	if !strings.Contains(ContentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
		t.Errorf("CSP %q", ContentSecurityPolicy)
	}
}

func TestMethodNotAllowedSaysAllow(t *testing.T) {
	w := get(t, http.MethodDelete, "/rules")
	if w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", w.Header().Get("Allow"))
	}
}

func TestBeside(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Served-By", "api") })
	h := Beside(api)
	for path, want := range map[string]string{"/v1": "api", "/v1/rules": "api", "/healthz": "api", "/": "console", "/v1x": "console", "/rules": "console"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		got := "console"
		if w.Header().Get("X-Served-By") == "api" {
			got = "api"
		}
		if got != want {
			t.Errorf("%s served by %s, want %s", path, got, want)
		}
	}
}

func TestConsoleConfig(t *testing.T) {
	cognito := SignIn{
		Issuer:    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
		ClientID:  "client123",
		LogoutURL: "https://argo-notify-x.auth.eu-west-1.amazoncognito.com/logout",
	}
	tests := []struct {
		name       string
		s          SignIn
		body       string
		connectSrc string
	}{
		{"token", SignIn{}, `{"signIn":"token"}`, "connect-src 'self';"},
		{"cognito", cognito,
			`{"signIn":"oidc","issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC","clientId":"client123","scopes":"openid email profile","logoutUrl":"https://argo-notify-x.auth.eu-west-1.amazoncognito.com/logout"}`,
			"connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://argo-notify-x.auth.eu-west-1.amazoncognito.com;"},
		{"issuer, scopes", SignIn{Issuer: "http://127.0.0.1:9999/", ClientID: "c", Scopes: []string{"openid", "groups"}},
			`{"signIn":"oidc","issuer":"http://127.0.0.1:9999","clientId":"c","scopes":"openid groups"}`,
			"connect-src 'self' http://127.0.0.1:9999;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := BesideWith(http.NotFoundHandler(), tc.s)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{ConfigPath, "/", "/rules"} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
				if w.Code != 200 {
					t.Fatalf("%s: %d", p, w.Code)
				}
				csp := w.Header().Get("Content-Security-Policy")
				if !strings.Contains(csp, tc.connectSrc) || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
					t.Errorf("%s: CSP %q, want %q and no inline script", p, csp, tc.connectSrc)
				}
				if p == ConfigPath {
					if got := strings.TrimSpace(w.Body.String()); got != tc.body {
						t.Errorf("config = %s, want %s", got, tc.body)
					}
					if ct := w.Header().Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type %q", ct)
					}
				}
			}
		})
	}
	for _, bad := range []SignIn{
		{Issuer: "https://idp.example.com"},                                      // no client id
		{Issuer: "idp.example.com", ClientID: "c"},                               // not a URL
		{Issuer: "https://idp.example.com/ 'unsafe-inline'", ClientID: "c"},      // CSP injection
		{Issuer: "https://idp.example.com", ClientID: "c", LogoutURL: "ftp://x"}, // logout not http(s)
		{ClientID: "c"}, // no issuer
	} {
		if _, err := BesideWith(http.NotFoundHandler(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
