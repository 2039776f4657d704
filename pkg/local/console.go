package local

import (
	"net/http"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/console"
)

// withConsole serves the admin console (pkg/console) beside the API:
// /v1/… and /healthz go to api, every other path to the console, whose
// assets are public; each data call it makes is authorized by the API.
func withConsole(api http.Handler) http.Handler {
	ui := console.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/healthz" {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}
