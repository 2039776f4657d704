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
// writer. The result's MessageID is send.MessageID's, derived from the
// delivery (the same on every attempt), in the console.invalid domain.
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	if err := ctx.Err(); err != nil {
		return send.Result{}, send.Transient(fmt.Errorf("console delivery: %w", err), 0)
	}
	if n == nil || n.Event == nil {
		return send.Result{}, send.Permanent(fmt.Errorf("console delivery: notification has no event"))
	}
	id := send.MessageID(n, "console.invalid")
	subject, text, _ := send.RenderEmail(n)

	var b strings.Builder
	fmt.Fprintf(&b, "===== %s =====\n", Banner)
	fmt.Fprintf(&b, "To:         %s\n", escape(strings.Join(n.To, ", "), false))
	fmt.Fprintf(&b, "Subject:    %s\n", escape(subject, false))
	fmt.Fprintf(&b, "Message-ID: %s\n\n", id)
	body := escape(strings.TrimRight(text, "\n"), true)
	// A body line cannot pass for the banner or the end of the message.
	body = strings.ReplaceAll("\n"+body, "\n=====", "\n =====")[1:]
	b.WriteString(body)
	fmt.Fprintf(&b, "\n===== end of console delivery %s =====\n", id)

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return send.Result{}, send.Transient(fmt.Errorf("console delivery: write: %w", err), 0)
	}
	return send.Result{Provider: Provider, MessageID: id}, nil
}

// escape makes s safe to print on a terminal: control characters (C0, DEL,
// C1: escape sequences, carriage returns that overwrite a line, a forged
// "===== end" line) and bidi overrides are written as \u escapes, so what
// the console shows is what was sent. With multiline, newlines and tabs
// are kept (the body); otherwise they are escaped too (one header line).
func escape(s string, multiline bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
