package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
)

var ctx = context.Background()

const secret = "s3cret-signing-key"

// got is one request a receiver saw.
type got struct {
	header http.Header
	body   []byte
	host   string
	at     time.Time
}

func (g got) when() time.Time { return g.at }

// receiver is an httptest server on 127.0.0.1 that answers with handle
// and records every request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []got
}

func newReceiver(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, got{header: r.Header.Clone(), body: b, host: r.Host, at: time.Now()})
		rc.mu.Unlock()
		handle(w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.reqs...)
}

func payload() *webhook.Payload {
	ev := &notify.Event{ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "backup failed"}
	return &webhook.Payload{DeliveryID: notify.DeliveryID(ev.ID, notify.ChannelWebhook, "whk_1"), Event: ev,
		Rules: []send.RuleRef{{ID: "rul_1", Name: "Critical jobs"}}}
}

func local(opts ...func(*webhook.Options)) *webhook.Client {
	o := webhook.Options{AllowLoopbackHTTP: true}
	for _, f := range opts {
		f(&o)
	}
	return webhook.NewClient(o)
}

func TestPostSignsAndIdentifies(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	hostile := map[string]string{
		"Authorization":    "Bearer tok-123",
		"X-Team":           "storage",
		"Idempotency-Key":  "forged",
		"X-Argo-Signature": "t=1,v1=00",
		"Content-Type":     "text/plain",
		"Host":             "evil.example",
	}
	p := payload()
	res, err := local().Post(ctx, webhook.Target{URL: rc.URL + "/hook?x=1", Secret: secret, Headers: hostile}, p)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	if res.Provider != webhook.Provider || res.MessageID != p.DeliveryID {
		t.Errorf("result = %+v, want provider webhook and the delivery id", res)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if err := ingest.VerifySignature(r.header.Get("X-Argo-Signature"), r.body, []string{secret}, time.Now()); err != nil {
		t.Errorf("the ingest verifier rejects the signature: %v", err)
	}
	if err := ingest.VerifySignature(r.header.Get("X-Argo-Signature"), r.body, []string{"other"}, time.Now()); err == nil {
		t.Errorf("the signature verifies with another secret")
	}
	var body struct {
		DeliveryID string          `json:"deliveryId"`
		Event      notify.Event    `json:"event"`
		Rules      []send.RuleRef  `json:"rules"`
		Extra      json.RawMessage `json:"extra"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if body.DeliveryID != "evt-1|webhook|whk_1" || body.Event.ID != "evt-1" || body.Event.Title != "backup failed" ||
		len(body.Rules) != 1 || body.Rules[0].Name != "Critical jobs" {
		t.Errorf("body = %s", r.body)
	}
	for k, want := range map[string]string{
		"Idempotency-Key": p.DeliveryID, "Content-Type": "application/json",
		"Authorization": "Bearer tok-123", "X-Team": "storage",
	} {
		if g := r.header.Get(k); g != want {
			t.Errorf("header %s = %q, want %q", k, g, want)
		}
	}
	if !strings.HasPrefix(r.host, "127.0.0.1:") {
		t.Errorf("Host = %q: a configured Host header must not override it", r.host)
	}
}

func TestPostClassifies(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		wantErr    bool
		permanent  bool
		retryAfter time.Duration // approximate lower bound
		maxAfter   time.Duration
	}{
		{name: "200 sent", status: 200},
		{name: "202 sent", status: 202},
		{name: "408 transient", status: 408, wantErr: true},
		{name: "429 with Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "7"}, wantErr: true, retryAfter: 7 * time.Second, maxAfter: 7 * time.Second},
		{name: "503 with Retry-After date", status: 503, header: map[string]string{"Retry-After": date}, wantErr: true, retryAfter: 80 * time.Second, maxAfter: 91 * time.Second},
		{name: "500 transient", status: 500, wantErr: true},
		{name: "400 permanent", status: 400, wantErr: true, permanent: true},
		{name: "401 permanent", status: 401, wantErr: true, permanent: true},
		{name: "404 permanent", status: 404, wantErr: true, permanent: true},
		{name: "301 not followed", status: 301, header: map[string]string{"Location": "/elsewhere"}, wantErr: true, permanent: true},
		{name: "307 not followed", status: 307, header: map[string]string{"Location": "/elsewhere"}, wantErr: true, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, "receiver says hi\nsecond line")
			})
			_, err := local().Post(ctx, webhook.Target{URL: rc.URL + "/hook", Secret: secret}, payload())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if n := len(rc.requests()); n != 1 {
				t.Errorf("receiver saw %d requests, want 1 (a redirect must not be followed)", n)
			}
			if err == nil {
				return
			}
			var se *send.Error
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *send.Error", err)
			}
			if se.Permanent != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", se.Permanent, tt.permanent, err)
			}
			if ra := send.RetryAfter(err); ra < tt.retryAfter || (tt.maxAfter > 0 && ra > tt.maxAfter) {
				t.Errorf("RetryAfter = %s, want %s-%s", ra, tt.retryAfter, tt.maxAfter)
			}
			if strings.Contains(err.Error(), "/hook") {
				t.Errorf("the error names the URL's path: %v", err)
			}
		})
	}
}

func TestPostTimesOut(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	start := time.Now()
	_, err := local(func(o *webhook.Options) { o.Timeout = 300 * time.Millisecond }).Post(ctx, webhook.Target{URL: rc.URL, Secret: secret}, payload())
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Post took %s despite a 300ms timeout", d)
	}
}

func TestPostNetworkErrorIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = local().Post(ctx, webhook.Target{URL: "http://" + addr + "/x", Secret: secret}, payload())
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("err = %v, want transient", err)
	}
}

// resolver maps host names to addresses, counting lookups.
type resolver struct {
	mu    sync.Mutex
	hosts map[string][]string
	calls int
}

func (r *resolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	var out []net.IPAddr
	for _, a := range r.hosts[host] {
		out = append(out, net.IPAddr{IP: net.ParseIP(a)})
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func TestSSRFRefusedAtSend(t *testing.T) {
	res := &resolver{hosts: map[string][]string{
		"metadata.test": {"169.254.169.254"},
		"mixed.test":    {"93.184.216.34", "169.254.10.10"},
		"ec2v6.test":    {"fd00:ec2::254"},
		"lo.test":       {"127.0.0.1"},
	}}
	aws := webhook.NewClient(webhook.Options{Resolver: res, Timeout: time.Second})
	for _, u := range []string{
		"https://169.254.169.254/latest/meta-data/",
		"https://[fe80::1]/x",
		"https://[::ffff:169.254.169.254]/x",
		"https://metadata.test/x",
		"https://mixed.test/x",
		"https://ec2v6.test/x",
		"https://lo.test/x",      // loopback is refused on AWS
		"https://127.0.0.1:1/x",  // likewise
		"http://93.184.216.34/x", // http:// is refused on AWS
		"https://0.0.0.0/x",
	} {
		t.Run(u, func(t *testing.T) {
			_, err := aws.Post(ctx, webhook.Target{URL: u, Secret: secret}, payload())
			if !send.IsPermanent(err) {
				t.Fatalf("Post(%s) = %v, want a permanent refusal", u, err)
			}
			if err := aws.CheckURL(ctx, u); notify.ErrorCode(err) != notify.EInvalid || !hasField(err, "url") {
				t.Errorf("CheckURL(%s) = %v, want EInvalid on url", u, err)
			}
		})
	}
}

func TestLoopbackOnlyWhenAllowed(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	res := &resolver{hosts: map[string][]string{"meta.test": {"169.254.169.254"}, "public.test": {"93.184.216.34"}}}
	lc := local(func(o *webhook.Options) { o.Resolver = res })
	if err := lc.CheckURL(ctx, rc.URL+"/hook"); err != nil {
		t.Errorf("CheckURL(loopback http) in local mode = %v, want nil", err)
	}
	if _, err := lc.Post(ctx, webhook.Target{URL: rc.URL, Secret: secret}, payload()); err != nil {
		t.Errorf("Post to loopback http in local mode = %v", err)
	}
	for _, u := range []string{"http://meta.test/x", "http://public.test/x", "https://meta.test/x"} {
		if err := lc.CheckURL(ctx, u); !hasField(err, "url") {
			t.Errorf("CheckURL(%s) in local mode = %v, want refused on url", u, err)
		}
		if _, err := lc.Post(ctx, webhook.Target{URL: u, Secret: secret}, payload()); !send.IsPermanent(err) {
			t.Errorf("Post(%s) in local mode = %v, want a permanent refusal", u, err)
		}
	}
	if n := len(rc.requests()); n != 1 {
		t.Errorf("receiver saw %d requests, want 1", n)
	}
}

func hasField(err error, field string) bool {
	var e *notify.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// TestPostReusesConnections: concurrent posts to one receiver, repeated,
// travel over kept-alive connections, not one connection per post.
func TestPostReusesConnections(t *testing.T) {
	var mu sync.Mutex
	conns := 0
	rc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	rc.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	rc.Start()
	t.Cleanup(rc.Close)
	c := local()
	const workers, rounds = 4, 10
	for range rounds {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				if _, err := c.Post(ctx, webhook.Target{URL: rc.URL + "/hook", Secret: secret}, payload()); err != nil {
					t.Errorf("Post: %v", err)
				}
			})
		}
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	// A connection may go back to the pool just after the next round
	// began; without reuse it would be about 2 + 2 per round.
	if conns > 2*workers {
		t.Errorf("%d posts over %d connections, want at most %d", workers*rounds, conns, 2*workers)
	}
}
