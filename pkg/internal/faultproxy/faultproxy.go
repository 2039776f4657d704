// Package faultproxy is an HTTP reverse proxy for tests that sits in front
// of an emulator (kumo) and injects the faults a cloud service shows:
// throttling answers, 500s, and connections reset before or after the
// request reached the service (after: the write happened, the answer is
// lost). Which request gets which fault is decided by a script, so tests
// are reproducible. It is for tests only and listens on 127.0.0.1.
//
// It imports only the standard library.
package faultproxy

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Fault is what the proxy does with one request.
type Fault int

// The faults.
const (
	// Pass forwards the request and its answer.
	Pass Fault = iota
	// Throttle answers 400 with the service's throttling error, without
	// forwarding: DynamoDB's ProvisionedThroughputExceededException, or
	// for SES (sesv2, REST) 429 TooManyRequestsException.
	Throttle
	// Error500 answers 500 InternalServerError without forwarding.
	Error500
	// ResetBefore closes the connection without forwarding.
	ResetBefore
	// ResetAfter forwards the request, then closes the connection
	// instead of answering: the service did the work, the client does
	// not know it.
	ResetAfter
)

func (f Fault) String() string {
	return [...]string{"pass", "throttle", "500", "reset-before", "reset-after"}[f]
}

// Script decides the fault of the n-th request (from 1) the proxy sees for
// which ("dynamodb:PutItem", "ses:SendEmail", or the method and path).
type Script func(n int, which string) Fault

// Proxy is a running fault proxy.
type Proxy struct {
	URL string // http://127.0.0.1:port

	mu     sync.Mutex
	script Script
	n      int
	counts map[Fault]int
}

// New starts a proxy to target (an http:// URL) and stops it when t ends.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("faultproxy: target %q: %v", target, err)
	}
	p := &Proxy{counts: map[Fault]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		which := Which(r)
		p.mu.Lock()
		p.n++
		f := Pass
		if p.script != nil {
			f = p.script(p.n, which)
		}
		p.counts[f]++
		p.mu.Unlock()
		switch f {
		case Throttle:
			throttle(w, which)
		case Error500:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("X-Amzn-Errortype", "InternalServerError")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by faultproxy"}`)
		case ResetBefore:
			reset(w)
		case ResetAfter:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			reset(w)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SetScript replaces the script (nil: pass everything).
func (p *Proxy) SetScript(s Script) {
	p.mu.Lock()
	p.script = s
	p.mu.Unlock()
}

// Counts returns how many requests got each fault so far.
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Which names a request: "dynamodb:<Operation>" from X-Amz-Target, "ses:<path>"
// for SES v2, else "<METHOD> <path>".
func Which(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if _, op, ok := strings.Cut(t, "."); ok && strings.HasPrefix(t, "DynamoDB_") {
			return "dynamodb:" + op
		}
		return t
	}
	if strings.HasPrefix(r.URL.Path, "/v2/email/") {
		return "ses:" + strings.TrimPrefix(r.URL.Path, "/v2/email/")
	}
	return r.Method + " " + r.URL.Path
}

func throttle(w http.ResponseWriter, which string) {
	if strings.HasPrefix(which, "ses:") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"Maximum sending rate exceeded (injected by faultproxy)"}`)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Errortype", "ProvisionedThroughputExceededException")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded (injected by faultproxy)"}`)
}

// reset closes the client's connection without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: the response writer cannot be hijacked")
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	_ = c.Close()
}
