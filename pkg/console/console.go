// Package console serves the admin console: the static single-page
// application built from _console/ and committed under dist/, embedded in
// the binary. It owns only the serving of those assets (security headers,
// caching, client routes); every data call the console makes goes to the
// public REST API, which authorizes it. It imports only the standard
// library.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy is sent with every response: scripts, styles and
// data only from the console's own origin, no inline script, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Beside serves the console beside the REST API on one origin: /v1, /v1/…
// and /healthz go to api, every other path to Handler. The console's
// assets are public; every data call it makes goes to api, which
// authorizes it.
func Beside(api http.Handler) http.Handler {
	ui := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/healthz" {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// Handler returns the console: files under /assets/ (named by their
// content hash, so cached for a year), other files of the build by name,
// and index.html for every other path (the console's client routes).
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	return &handler{root: root}
}

type handler struct {
	root fs.FS
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
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
