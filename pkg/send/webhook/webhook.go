// Package webhook is the webhook channel: a rule names connected webhooks
// by id under recipients.webhooks, and each delivery is an HTTP POST of
// {"deliveryId", "event", "rules"} signed as Argo signs its events
// (X-Argo-Signature, package signature), with Idempotency-Key set to the
// delivery id and the webhook's own headers.
//
// Only https:// URLs are called (http:// to loopback when Options allow it,
// in local mode), never a link-local or cloud-metadata address: the host is
// resolved, every address checked, and the checked address dialled, with a
// last check right before connect. Redirects are not followed.
//
// It imports the domain, the core send contract, the channel registry and
// package signature; never a store implementation.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/signature"
)

// Provider is the provider name in send.Result.
const Provider = "webhook"

// DefaultTimeout bounds one POST, connect to last byte.
const DefaultTimeout = 10 * time.Second

// maxRetryAfter caps the delay a receiver's Retry-After may ask for.
const maxRetryAfter = time.Hour

// Options configure the HTTP side of the channel.
type Options struct {
	// AllowLoopbackHTTP allows http:// and https:// URLs whose host is a
	// loopback address (local mode). Without it (AWS) loopback is refused:
	// there it would reach the Lambda runtime API.
	AllowLoopbackHTTP bool
	// Resolver resolves host names (net.DefaultResolver if nil); tests
	// inject one.
	Resolver Resolver
	// Timeout bounds one POST (DefaultTimeout if 0).
	Timeout time.Duration
	// Now is the clock of the signature's timestamp (time.Now if nil).
	Now func() time.Time
}

// Target is where one delivery goes and how it is signed.
type Target struct {
	URL     string
	Secret  string
	Headers map[string]string
}

// Payload is the JSON body of a delivery.
type Payload struct {
	DeliveryID string         `json:"deliveryId"`
	Event      *notify.Event  `json:"event"`
	Rules      []send.RuleRef `json:"rules"`
}

// Client posts signed payloads. It is safe for concurrent use.
type Client struct {
	https, http *http.Client
	guard       *guard
	now         func() time.Time
}

// NewClient returns a Client for opts.
func NewClient(opts Options) *Client {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &guard{resolver: opts.Resolver, allowLoopback: opts.AllowLoopbackHTTP}
	c := &Client{https: newHTTPClient(g, opts.Timeout), guard: g, now: opts.Now}
	if opts.AllowLoopbackHTTP {
		c.http = newHTTPClient(&guard{resolver: opts.Resolver, allowLoopback: true, loopbackOnly: true}, opts.Timeout)
	}
	return c
}

// maxIdlePerHost is how many idle connections a Client keeps to one
// receiver.
const maxIdlePerHost = 8

func newHTTPClient(g *guard, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:             nil, // a proxy would dial for us, past the guard
			DialContext:       g.dialContext,
			ForceAttemptHTTP2: true,
			MaxIdleConns:      16,
			// Keep a connection per concurrent delivery to one receiver
			// (the dispatcher's default concurrency): at the default of 2
			// per host, the others were closed after each post and the
			// next one paid a new TCP and TLS handshake.
			MaxIdleConnsPerHost:   maxIdlePerHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckURL checks a webhook URL when it is connected: https:// (or http://
// to loopback when allowed), resolvable, and no address refused. Failures
// are *notify.Error EInvalid on field "url".
func (c *Client) CheckURL(ctx context.Context, raw string) error {
	return c.guard.checkURL(ctx, raw)
}

// Post sends p to t, signed, and classifies the outcome: 2xx is sent;
// 408, 429, 5xx and network failures are transient (with the receiver's
// Retry-After, in seconds or as an HTTP date); a redirect (3xx, never
// followed), any other 4xx and a refused address are permanent. Errors
// name the host, never the whole URL (its query may carry a token).
func (c *Client) Post(ctx context.Context, t Target, p *Payload) (send.Result, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return send.Result{}, send.Permanent(errors.New("webhook: the URL is not absolute"))
	}
	hc := c.https
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.http != nil:
		hc = c.http
	default:
		return send.Result{}, send.Permanent(fmt.Errorf("webhook %s: scheme %q refused: https:// only", u.Host, u.Scheme))
	}
	body, err := json.Marshal(p)
	if err != nil {
		return send.Result{}, send.Permanent(fmt.Errorf("webhook: encode payload: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return send.Result{}, send.Permanent(fmt.Errorf("webhook %s: build request: %v", u.Host, err))
	}
	for k, v := range t.Headers {
		if !notify.ReservedWebhookHeader(k) {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "argo-notify-webhook/1")
	req.Header.Set("Idempotency-Key", p.DeliveryID)
	req.Header.Set(signature.Header, signature.Sign(t.Secret, body, c.now()))

	resp, err := hc.Do(req)
	if err != nil {
		return send.Result{}, classifyErr(ctx, u.Host, err)
	}
	defer resp.Body.Close()
	snippet := readSnippet(resp.Body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	res := send.Result{Provider: Provider, MessageID: p.DeliveryID}
	code := resp.StatusCode
	err = fmt.Errorf("webhook %s answered HTTP %d%s", u.Host, code, snippet)
	switch {
	case code >= 200 && code < 300:
		return res, nil
	case code >= 300 && code < 400:
		return res, send.Permanent(fmt.Errorf("webhook %s answered HTTP %d: redirects are not followed; connect the final URL", u.Host, code))
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return res, send.Transient(err, retryAfter(resp.Header.Get("Retry-After"), c.now()))
	default:
		return res, send.Permanent(err)
	}
}

// classifyErr wraps a failed round trip: a refused address is permanent,
// anything else (timeouts, refused connections, TLS, DNS) transient. The
// URL is dropped from *url.Error.
func classifyErr(ctx context.Context, host string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var be *BlockedError
	if errors.As(err, &be) {
		return send.Permanent(fmt.Errorf("webhook %s: %w", host, be))
	}
	if ctx.Err() != nil {
		return send.Transient(fmt.Errorf("webhook %s: %w", host, ctx.Err()), 0)
	}
	return send.Transient(fmt.Errorf("webhook %s: %w", host, err), 0)
}

// readSnippet returns ": <first line of the body>" (at most 200 bytes,
// printable), or "".
func readSnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 200))
	s := strings.TrimSpace(notify.OneLine(strings.ToValidUTF8(string(b), "")))
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

// retryAfter reads a Retry-After value: delay seconds or an HTTP date;
// 0 when absent or unreadable, capped at an hour.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
