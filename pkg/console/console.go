// Package console serves the admin console: the static single-page
// application built from _console/ and committed under dist/, embedded in
// the binary. It owns only the serving of those assets (security headers,
// caching, client routes) and of /console-config.json, which tells the
// console how to sign in; every data call the console makes goes to the
// public REST API, which authorizes it. It imports only the standard
// library.
package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy is sent with every response of a console that
// signs in with a token: scripts, styles and data only from the console's
// own origin, no inline script, no framing. With OpenID Connect sign-in,
// connect-src also names the issuer's origin (see SignIn.ContentSecurityPolicy).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// ConfigPath is where the console reads how to sign in.
const ConfigPath = "/console-config.json"

// DefaultScopes are the scopes the console asks an OpenID Connect issuer
// for when SignIn.Scopes is empty.
var DefaultScopes = []string{"openid", "email", "profile"}

// SignIn says how administrators sign in to the console. The zero value is
// token sign-in (local mode's admin token, pasted or handed over in the
// URL fragment). With an Issuer the console signs in with OpenID Connect:
// authorization code with PKCE, a public client (no secret), and sends
// the access token as the bearer token.
type SignIn struct {
	// Issuer is the OpenID Connect issuer URL (its discovery document is
	// Issuer + "/.well-known/openid-configuration").
	Issuer string
	// ClientID is the console's client id at the issuer.
	ClientID string
	// Scopes default to DefaultScopes.
	Scopes []string
	// LogoutURL is the issuer's logout endpoint when its discovery
	// document names no end_session_endpoint (Cognito: the user pool
	// domain's /logout, which takes client_id and logout_uri). Optional.
	LogoutURL string
}

// OIDC reports whether s signs in with OpenID Connect.
func (s SignIn) OIDC() bool { return s.Issuer != "" }

// Validate reports a SignIn the console could not use.
func (s SignIn) Validate() error {
	if !s.OIDC() {
		if s.ClientID != "" || s.LogoutURL != "" || len(s.Scopes) > 0 {
			return fmt.Errorf("console sign-in: a client id, scopes or a logout URL without an issuer")
		}
		return nil
	}
	if _, err := origin(s.Issuer); err != nil {
		return fmt.Errorf("console sign-in: issuer: %w", err)
	}
	if s.ClientID == "" {
		return fmt.Errorf("console sign-in: an issuer needs the console's client id")
	}
	if s.LogoutURL != "" {
		if _, err := origin(s.LogoutURL); err != nil {
			return fmt.Errorf("console sign-in: logout URL: %w", err)
		}
	}
	for _, sc := range s.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\"") {
			return fmt.Errorf("console sign-in: scope %q", sc)
		}
	}
	return nil
}

// origin is the scheme://host[:port] of an absolute http(s) URL without
// user info, query or fragment, fit to be named in a CSP source list.
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, " ;,'\"") {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// ContentSecurityPolicy is the policy sent with the console's responses:
// the constant ContentSecurityPolicy, with the issuer's origin (for its
// discovery document and token endpoint) and the logout URL's (Cognito's
// domain, which also serves its token endpoint) added to connect-src.
func (s SignIn) ContentSecurityPolicy() string {
	if !s.OIDC() {
		return ContentSecurityPolicy
	}
	srcs := []string{"'self'"}
	for _, raw := range []string{s.Issuer, s.LogoutURL} {
		if o, err := origin(raw); err == nil && !contains(srcs, o) {
			srcs = append(srcs, o)
		}
	}
	return strings.Replace(ContentSecurityPolicy, "connect-src 'self'", "connect-src "+strings.Join(srcs, " "), 1)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// clientConfig is the body of /console-config.json.
type clientConfig struct {
	// SignIn is "token" or "oidc".
	SignIn    string `json:"signIn"`
	Issuer    string `json:"issuer,omitempty"`
	ClientID  string `json:"clientId,omitempty"`
	Scopes    string `json:"scopes,omitempty"`
	LogoutURL string `json:"logoutUrl,omitempty"`
}

func (s SignIn) clientConfig() clientConfig {
	if !s.OIDC() {
		return clientConfig{SignIn: "token"}
	}
	scopes := s.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	return clientConfig{SignIn: "oidc", Issuer: strings.TrimRight(s.Issuer, "/"), ClientID: s.ClientID,
		Scopes: strings.Join(scopes, " "), LogoutURL: s.LogoutURL}
}

// Beside serves the console, signing in with a token, beside the REST API
// on one origin (local mode): see BesideWith.
func Beside(api http.Handler) http.Handler {
	h, err := BesideWith(api, SignIn{})
	if err != nil {
		panic(err) // the zero SignIn is valid
	}
	return h
}

// BesideWith serves the console beside the REST API on one origin: /v1,
// /v1/… and /healthz go to api, every other path to the console, which
// signs in as s says. The console's assets and its configuration are
// public; every data call it makes goes to api, which authorizes it.
func BesideWith(api http.Handler, s SignIn) (http.Handler, error) {
	ui, err := HandlerWith(s)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/healthz" {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	}), nil
}

// Handler returns the console signing in with a token: see HandlerWith.
func Handler() http.Handler {
	h, err := HandlerWith(SignIn{})
	if err != nil {
		panic(err)
	}
	return h
}

// HandlerWith returns the console: ConfigPath (how to sign in, from s),
// files under /assets/ (named by their content hash, so cached for a
// year), other files of the build by name, and index.html for every other
// path (the console's client routes).
func HandlerWith(s SignIn) (http.Handler, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	cfg, err := json.Marshal(s.clientConfig())
	if err != nil {
		return nil, err
	}
	return &handler{root: root, csp: s.ContentSecurityPolicy(), config: append(cfg, '\n')}, nil
}

type handler struct {
	root   fs.FS
	csp    string
	config []byte // the body of ConfigPath
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if "/"+name == ConfigPath {
		hd.Set("Cache-Control", "no-cache")
		serve(w, r, name, h.config)
		return
	}
	if name != "" && name != "index.html" {
		if data, err := fs.ReadFile(h.root, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				hd.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				hd.Set("Cache-Control", "no-cache")
			}
			serve(w, r, name, data)
			return
		}
		// A missing asset is a 404, never index.html: a stale page asking
		// for an old bundle must fail visibly, not parse HTML as script.
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
	}
	data, err := fs.ReadFile(h.root, "index.html")
	if err != nil {
		http.Error(w, "console not built: run make console-build", http.StatusNotFound)
		return
	}
	hd.Set("Cache-Control", "no-cache")
	serve(w, r, "index.html", data)
}

// serve writes data with the content type of name's extension.
func serve(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	ct := map[string]string{
		".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
		".json": "application/json", ".txt": "text/plain; charset=utf-8", ".ico": "image/x-icon",
	}[path.Ext(name)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(data)
}
