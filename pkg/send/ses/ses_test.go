package ses

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
)

// fakeSES records every SendEmail and answers with errs[i] for call i (nil
// or missing: success).
type fakeSES struct {
	calls []*sesv2.SendEmailInput
	errs  []error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.calls = append(f.calls, in)
	if i := len(f.calls) - 1; i < len(f.errs) && f.errs[i] != nil {
		return nil, f.errs[i]
	}
	id := fmt.Sprintf("m%d", len(f.calls))
	return &sesv2.SendEmailOutput{MessageId: &id}, nil
}

func notification(to ...string) *send.Notification {
	return &send.Notification{
		Event: &notify.Event{ID: "e1", Type: notify.EventType("JOB"), Severity: notify.Severity("CRITICAL"), Title: "Job <b>failed</b>",
			Message: "exit 1", OccurredAt: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)},
		Rules:   []send.RuleRef{{ID: "r1", Name: "on-call"}},
		Channel: notify.ChannelEmail,
		To:      to,
	}
}

func addrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%d@example.com", i)
	}
	return out
}

func TestNew(t *testing.T) {
	for _, from := range []string{"", "not an address", "a@b.c, d@e.f"} {
		t.Run(from, func(t *testing.T) {
			if _, err := New(&fakeSES{}, Config{From: from}); !notify.IsCode(err, notify.EInvalid) {
				t.Errorf("New(From: %q) = %v, want EInvalid", from, err)
			}
		})
	}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		n          *send.Notification
		wantChunks []int
		wantID     string
	}{
		{name: "one recipient", cfg: Config{From: "notify@example.com"}, n: notification("a@example.com"), wantChunks: []int{1}, wantID: "m1"},
		{name: "120 recipients in three", cfg: Config{From: "Argo <notify@example.com>", ConfigurationSet: "cs"}, n: notification(addrs(120)...), wantChunks: []int{50, 50, 20}, wantID: "m1,m2,m3"},
		{name: "exactly 50", cfg: Config{From: "notify@example.com"}, n: notification(addrs(50)...), wantChunks: []int{50}, wantID: "m1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSES{}
			s, err := New(f, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Send(context.Background(), tt.n)
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			if res.Provider != "ses" || res.MessageID != tt.wantID {
				t.Errorf("Result = %+v, want provider ses and id %q", res, tt.wantID)
			}
			subject, text, html := send.RenderEmail(tt.n)
			var chunks []int
			var to []string
			for _, in := range f.calls {
				chunks = append(chunks, len(in.Destination.ToAddresses))
				to = append(to, in.Destination.ToAddresses...)
				want := tt.cfg.From
				if want == "Argo <notify@example.com>" {
					want = `"Argo" <notify@example.com>`
				}
				if got := *in.FromEmailAddress; got != want {
					t.Errorf("From = %q, want %q", got, want)
				}
				if tt.cfg.ConfigurationSet == "" && in.ConfigurationSetName != nil {
					t.Errorf("configuration set %q sent, want none", *in.ConfigurationSetName)
				}
				if tt.cfg.ConfigurationSet != "" && (in.ConfigurationSetName == nil || *in.ConfigurationSetName != tt.cfg.ConfigurationSet) {
					t.Errorf("configuration set = %v, want %q", in.ConfigurationSetName, tt.cfg.ConfigurationSet)
				}
				m := in.Content.Simple
				if *m.Subject.Data != subject || *m.Body.Text.Data != text || *m.Body.Html.Data != html {
					t.Errorf("content differs from send.RenderEmail")
				}
			}
			if diff := cmp.Diff(tt.wantChunks, chunks); diff != "" {
				t.Errorf("recipients per call (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.n.To, to); diff != "" {
				t.Errorf("recipients (-want +got):\n%s", diff)
			}
		})
	}
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func httpErr(status int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name          string
		n             *send.Notification
		err           error
		wantPermanent bool
		wantAfter     time.Duration
		wantCalls     int
		wantAccount   bool
	}{
		{name: "no recipients", n: notification(), wantPermanent: true},
		{name: "bad address", n: notification("ok@example.com", "not-an-address"), wantPermanent: true},
		{name: "address with a name", n: notification("Eve <eve@example.com>"), wantPermanent: true},
		{name: "header injection", n: notification("a@example.com\r\nBcc: x@example.com"), wantPermanent: true},
		{name: "slack channel", n: &send.Notification{Event: notification().Event, Channel: notify.ChannelSlack, To: []string{"C1"}}, wantPermanent: true},
		{name: "no event", n: &send.Notification{To: []string{"a@example.com"}}, wantPermanent: true},
		{name: "too many requests", err: &types.TooManyRequestsException{Message: strPtr("slow down")}, wantAfter: ThrottleDelay, wantCalls: 1},
		{name: "maximum sending rate", err: apiErr("Throttling", "Maximum sending rate exceeded."), wantAfter: ThrottleDelay, wantCalls: 1},
		{name: "daily quota", err: &types.LimitExceededException{Message: strPtr("Daily message quota exceeded.")}, wantAfter: QuotaDelay, wantCalls: 1},
		{name: "other limit", err: &types.LimitExceededException{Message: strPtr("too many")}, wantAfter: LimitDelay, wantCalls: 1},
		{name: "sandbox: recipient not verified", err: &types.MessageRejected{Message: strPtr("Email address is not verified. The following identities failed the check in region EU-WEST-1: a@example.com")}, wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "message rejected for its content", err: &types.MessageRejected{Message: strPtr("Illegal header")}, wantPermanent: true, wantCalls: 1},
		{name: "mail from not verified", err: &types.MailFromDomainNotVerifiedException{Message: strPtr("no")}, wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "bad request (bad address at SES)", err: &types.BadRequestException{Message: strPtr("Missing final '@domain'")}, wantPermanent: true, wantCalls: 1},
		{name: "configuration set missing", err: &types.NotFoundException{Message: strPtr("cs")}, wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "account paused", err: &types.SendingPausedException{Message: strPtr("paused")}, wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "account suspended", err: &types.AccountSuspendedException{Message: strPtr("suspended")}, wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "sandbox AccessDenied on a recipient identity", err: httpErr(403, apiErr("AccessDeniedException", "not authorized to perform ses:SendEmail on resource identity/a@example.com")), wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "internal", err: &types.InternalServiceErrorException{Message: strPtr("oops")}, wantCalls: 1},
		{name: "unknown 403", err: httpErr(403, apiErr("Forbidden", "no")), wantAfter: AccountDelay, wantCalls: 1, wantAccount: true},
		{name: "unknown 400", err: httpErr(400, apiErr("Whatever", "no")), wantPermanent: true, wantCalls: 1},
		{name: "unknown 503", err: httpErr(503, apiErr("Whatever", "no")), wantCalls: 1},
		{name: "network", err: errors.New("dial tcp: connection refused"), wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSES{errs: []error{tt.err}}
			s, err := New(f, Config{From: "notify@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			n := tt.n
			if n == nil {
				n = notification("a@example.com")
			}
			_, err = s.Send(context.Background(), n)
			var se *send.Error
			if !errors.As(err, &se) {
				t.Fatalf("Send() = %v, want a *send.Error", err)
			}
			if se.Permanent != tt.wantPermanent || se.RetryAfter != tt.wantAfter {
				t.Errorf("Send() = %v: permanent %v after %v, want %v after %v", err, se.Permanent, se.RetryAfter, tt.wantPermanent, tt.wantAfter)
			}
			var acct *AccountError
			if errors.As(err, &acct) != tt.wantAccount {
				t.Errorf("Send() = %v: account error %v, want %v", err, !tt.wantAccount, tt.wantAccount)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Send() = %v, want it to wrap %v", err, tt.err)
			}
			if len(f.calls) != tt.wantCalls {
				t.Errorf("%d SendEmail calls, want %d", len(f.calls), tt.wantCalls)
			}
		})
	}
}

func TestSendPartialFailure(t *testing.T) {
	f := &fakeSES{errs: []error{nil, &types.TooManyRequestsException{Message: strPtr("slow")}}}
	s, err := New(f, Config{From: "notify@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Send(context.Background(), notification(addrs(60)...))
	if send.IsPermanent(err) || send.RetryAfter(err) != ThrottleDelay {
		t.Fatalf("Send() = %v, want transient after %v", err, ThrottleDelay)
	}
	if res.MessageID != "m1" || res.Note == "" {
		t.Errorf("Result = %+v, want the first message's id and a note", res)
	}
}

// fakeQuota answers GetAccount with a send rate.
type fakeQuota struct {
	rate  float64
	calls int
	err   error
}

func (q *fakeQuota) GetAccount(ctx context.Context, in *sesv2.GetAccountInput, opts ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error) {
	q.calls++
	if q.err != nil {
		return nil, q.err
	}
	return &sesv2.GetAccountOutput{SendQuota: &types.SendQuota{MaxSendRate: q.rate}}, nil
}

func TestPacedToAccountRate(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	q := &fakeQuota{rate: 14}
	f := &fakeSES{}
	s, err := New(f, Config{From: "notify@example.com", Quota: q, Instances: 2, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rate() != SandboxRate/2 {
		t.Errorf("rate before reading the quota = %v, want %v", s.Rate(), SandboxRate/2)
	}
	if _, err := s.Send(context.Background(), notification("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Rate()-7) > 1e-6 || q.calls != 1 {
		t.Errorf("rate = %v after %d GetAccount calls, want 14/2 after 1", s.Rate(), q.calls)
	}
	// Cached: no second read within QuotaTTL.
	if _, err := s.Send(context.Background(), notification("b@example.com")); err != nil {
		t.Fatal(err)
	}
	if q.calls != 1 {
		t.Errorf("GetAccount called %d times within the TTL", q.calls)
	}
	now = now.Add(QuotaTTL)
	q.rate, q.err = 0, errors.New("denied")
	if _, err := s.Send(context.Background(), notification("c@example.com")); err != nil {
		t.Fatal(err)
	}
	if q.calls != 2 || math.Abs(s.Rate()-7) > 1e-6 {
		t.Errorf("after a failed read: %d calls, rate %v; want 2 and the rate kept", q.calls, s.Rate())
	}
}

func TestPacingDefersPastDeadline(t *testing.T) {
	now := time.Unix(1000, 0)
	f := &fakeSES{}
	s, err := New(f, Config{From: "notify@example.com", Quota: &fakeQuota{rate: 1}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(500*time.Millisecond))
	defer cancel()
	if _, err := s.Send(ctx, notification("a@example.com")); err != nil {
		t.Fatal(err)
	}
	// The next slot is a second later, past the deadline: deferred, not sent.
	_, err = s.Send(ctx, notification("b@example.com"))
	var d *pace.Deferred
	if !errors.As(err, &d) || send.IsPermanent(err) || send.RetryAfter(err) != time.Second {
		t.Fatalf("Send() = %v, want a transient deferral after 1s", err)
	}
	if len(f.calls) != 1 {
		t.Errorf("%d SendEmail calls, want 1", len(f.calls))
	}
}
