package browser

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/console"
)

// TestConsoleOIDCInBrowser signs in to the console as on AWS, in headless
// Chromium (_console/test/oidc.mjs), without AWS: a tiny OpenID Connect
// provider on 127.0.0.1 (discovery, an authorize endpoint that redirects
// back with a code, a token endpoint that checks the PKCE verifier against
// the S256 challenge and returns signed JWTs, an end-session endpoint) and,
// in front of the local service, an authorizer that does what API
// Gateway's JWT authorizer does (signature, issuer, client_id audience,
// expiry) before the request reaches the API. The console is the embedded
// build, served by console.BesideWith from the provider's configuration,
// so the CSP's connect-src is the one built from it.
func TestConsoleOIDCInBrowser(t *testing.T) {
	if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" && os.Getenv("ARGO_NOTIFY_CONSOLE_TEST") != "1" {
		t.Skip("the browser test runs in make test and make console-test (ARGO_NOTIFY_CONSOLE_TEST=1)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the console's browser test needs Node.js 20 or later (Debian: apt-get install nodejs npm)")
	}
	chrome := findChrome(t)
	if _, err := os.Stat(filepath.Join(repo, "_console/node_modules/playwright-core/package.json")); err != nil {
		t.Fatal("_console/node_modules is missing: run make console-test (it runs npm ci in _console)")
	}

	svc := startService(t)
	seed(t, svc)
	// The console's listener first: the provider knows its URL from the start.
	ui := httptest.NewUnstartedServer(nil)
	idp := startIDP(t, "http://"+ui.Listener.Addr().String()+"/")

	// The console's origin: the console beside an authorizer in front of
	// the service, as the api function sits behind API Gateway.
	target, _ := url.Parse(svc.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	authorized := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !idp.authorize(r.Header.Get("Authorization")) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthorized"}`))
			return
		}
		r.Header.Set("Authorization", "Bearer "+svc.token)
		proxy.ServeHTTP(w, r)
	})
	h, err := console.BesideWith(authorized, console.SignIn{Issuer: idp.url, ClientID: idp.clientID})
	if err != nil {
		t.Fatal(err)
	}
	ui.Config.Handler = h
	ui.Start()
	t.Cleanup(ui.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(repo, "_console/test/oidc.mjs"))
	cmd.Env = append(os.Environ(), "CONSOLE_URL="+ui.URL, "ISSUER="+idp.url, "CHROME_PATH="+chrome,
		"SCREENSHOTS="+os.Getenv("ARGO_NOTIFY_SCREENSHOTS"))
	out := &logWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.flush()
	if err != nil {
		t.Fatalf("node _console/test/oidc.mjs: %v", err)
	}

	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.exchanges != 1 {
		t.Errorf("%d code exchanges with a verified PKCE verifier, want 1 (a reload must not sign in again)", idp.exchanges)
	}
	if idp.accepted == 0 {
		t.Error("the authorizer never saw the access token")
	}
	if idp.logouts != 1 {
		t.Errorf("%d calls of the end-session endpoint, want 1", idp.logouts)
	}
	if len(idp.problems) > 0 {
		t.Errorf("the provider refused requests:\n%s", strings.Join(idp.problems, "\n"))
	}
}

// idp is the OpenID Connect provider stub: one client, public (no secret),
// authorization code with PKCE S256 only.
type idp struct {
	url, clientID, consoleURL string
	key                       []byte // HS256 key, shared with the authorizer

	mu        sync.Mutex
	codes     map[string]grant
	tokens    map[string]bool // access tokens issued
	exchanges int             // codes exchanged with a verifier that matched
	accepted  int             // API requests the authorizer let through
	logouts   int
	problems  []string
}

type grant struct {
	challenge, redirect, nonce string
}

func startIDP(t *testing.T, consoleURL string) *idp {
	t.Helper()
	p := &idp{consoleURL: consoleURL, clientID: "argo-console", key: []byte("idp-test-key-" + rand.Text()), codes: map[string]grant{}, tokens: map[string]bool{}}
	fail := func(w http.ResponseWriter, status int, format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		p.mu.Lock()
		p.problems = append(p.problems, msg)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": msg})
	}
	cors := func(w http.ResponseWriter) {
		w.Header().Set("Access-Control-Allow-Origin", strings.TrimSuffix(p.consoleURL, "/"))
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.url, "authorization_endpoint": p.url + "/authorize", "token_endpoint": p.url + "/token",
			"end_session_endpoint": p.url + "/logout", "jwks_uri": p.url + "/jwks",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"HS256"},
		})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("response_type") != "code":
			fail(w, 400, "authorize: response_type %q, want code", q.Get("response_type"))
		case q.Get("client_id") != p.clientID:
			fail(w, 400, "authorize: client_id %q", q.Get("client_id"))
		case q.Get("redirect_uri") != p.consoleURL:
			fail(w, 400, "authorize: redirect_uri %q, want the console URL %q", q.Get("redirect_uri"), p.consoleURL)
		case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
			fail(w, 400, "authorize: PKCE challenge %q (%q), want S256", q.Get("code_challenge"), q.Get("code_challenge_method"))
		case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
			fail(w, 400, "authorize: scope %q lacks openid", q.Get("scope"))
		case q.Get("state") == "":
			fail(w, 400, "authorize: no state")
		default:
			code := rand.Text()
			p.mu.Lock()
			p.codes[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), nonce: q.Get("nonce")}
			p.mu.Unlock()
			http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
		}
	})
	mux.HandleFunc("OPTIONS /token", func(w http.ResponseWriter, r *http.Request) { cors(w); w.WriteHeader(204) })
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		_ = r.ParseForm()
		f := r.PostForm
		p.mu.Lock()
		g, ok := p.codes[f.Get("code")]
		delete(p.codes, f.Get("code")) // a code is good once
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case f.Get("grant_type") != "authorization_code":
			fail(w, 400, "token: grant_type %q", f.Get("grant_type"))
		case !ok:
			fail(w, 400, "token: unknown or used code")
		case f.Get("client_id") != p.clientID || f.Get("client_secret") != "":
			fail(w, 400, "token: client %q (a public client has no secret)", f.Get("client_id"))
		case f.Get("redirect_uri") != g.redirect:
			fail(w, 400, "token: redirect_uri %q, want %q", f.Get("redirect_uri"), g.redirect)
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			fail(w, 400, "token: the PKCE verifier does not match the challenge")
		default:
			now := time.Now().Unix()
			access := p.sign(map[string]any{"iss": p.url, "sub": "admin-1", "client_id": p.clientID, "scope": "openid email profile", "token_use": "access", "iat": now, "exp": now + 3600})
			idClaims := map[string]any{"iss": p.url, "sub": "admin-1", "aud": p.clientID, "email": "admin@console.test", "iat": now, "exp": now + 3600}
			if g.nonce != "" {
				idClaims["nonce"] = g.nonce
			}
			p.mu.Lock()
			p.exchanges++
			p.tokens[access] = true
			p.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": access, "id_token": p.sign(idClaims), "token_type": "Bearer", "expires_in": 3600, "scope": "openid email profile"})
		}
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("post_logout_redirect_uri") != p.consoleURL || q.Get("id_token_hint") == "" {
			fail(w, 400, "logout: post_logout_redirect_uri %q (want %q), id_token_hint %q", q.Get("post_logout_redirect_uri"), p.consoleURL, q.Get("id_token_hint"))
			return
		}
		p.mu.Lock()
		p.logouts++
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("post_logout_redirect_uri"), http.StatusFound)
	})
	srv := httptest.NewUnstartedServer(mux)
	p.url = "http://" + srv.Listener.Addr().String() // before any handler runs
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// sign makes an HS256 JWT.
func (p *idp) sign(claims map[string]any) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	head := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// authorize checks a bearer token as API Gateway's JWT authorizer would:
// the signature, the issuer, the audience (client_id of an access token),
// the expiry.
func (p *idp) authorize(header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, p.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Iss      string `json:"iss"`
		ClientID string `json:"client_id"`
		Exp      int64  `json:"exp"`
	}
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Iss != p.url || c.ClientID != p.clientID || c.Exp < time.Now().Unix() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accepted++
	return true
}
