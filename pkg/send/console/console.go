// Package console is the email sender of local mode when no SMTP server is
// connected: it writes each message, clearly labelled, to a writer
// (standard output in `make run`), so deliveries are visible out of the box.
//
// It imports pkg/send only.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Provider is the provider name in send.Result.
const Provider = "console"

// Banner starts every message written, so no one mistakes it for mail sent.
const Banner = "argo-notify console delivery (no SMTP server connected)"

// Sender writes notifications to a writer instead of sending them. It is
// safe for concurrent use: messages are written whole, one at a time.
type Sender struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Sender writing to w.
func New(w io.Writer) *Sender { return &Sender{w: w} }

// Send writes n (recipients, subject and the plain-text body) to the
// writer. The result's MessageID is a fresh "console-<ulid>".
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	if err := ctx.Err(); err != nil {
		return send.Result{}, send.Transient(fmt.Errorf("console delivery: %w", err), 0)
	}
	if n == nil || n.Event == nil {
		return send.Result{}, send.Permanent(fmt.Errorf("console delivery: notification has no event"))
	}
	id := "console-" + strings.ToLower(ulid.Make().String())
	subject, text, _ := send.RenderEmail(n)

	var b strings.Builder
	fmt.Fprintf(&b, "===== %s =====\n", Banner)
	fmt.Fprintf(&b, "To:         %s\n", strings.Join(n.To, ", "))
	fmt.Fprintf(&b, "Subject:    %s\n", subject)
	fmt.Fprintf(&b, "Message-ID: %s\n\n", id)
	b.WriteString(strings.TrimRight(text, "\n"))
	fmt.Fprintf(&b, "\n===== end of console delivery %s =====\n", id)

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return send.Result{}, send.Transient(fmt.Errorf("console delivery: write: %w", err), 0)
	}
	return send.Result{Provider: Provider, MessageID: id}, nil
}
