package smtp

import (
	"context"
	"errors"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// MaxTestDuration bounds a whole connection test (Test): below the
// 30 seconds API Gateway waits for the API function and the local HTTP
// server's 60-second write timeout.
const MaxTestDuration = 25 * time.Second

// Step is the outcome of one step of a connection test.
type Step struct {
	Name   string `json:"step"`             // StepDial, StepTLS, StepAuth or StepSend
	OK     bool   `json:"ok"`               // whether the step succeeded
	Detail string `json:"detail,omitempty"` // what happened, e.g. "STARTTLS, TLS 1.3"
	Error  string `json:"error,omitempty"`  // why it failed
	Reply  string `json:"reply,omitempty"`  // the server's reply on failure, e.g. "535 5.7.8 Authentication failed"
}

// Test connects to the server cfg as a Sender would — dial, TLS, AUTH —
// and, if to is not empty, sends it a short test message. It returns the
// steps in order: every step that succeeded and the one that failed, if
// any (the steps after a failure are not attempted). The password never
// appears in the result.
func Test(ctx context.Context, cfg notify.SMTP, password, to string, opts ...Option) []Step {
	cfg.Defaults()
	// The whole test, every step together, ends within the configured
	// timeout and never later than MaxTestDuration, so the administrator
	// who asked gets an answer before the HTTP server's write timeout.
	total := min(time.Duration(cfg.TimeoutSeconds)*time.Second, MaxTestDuration)
	if total <= 0 {
		total = min(defaultTimeout, MaxTestDuration)
	}
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	o := newOptions(opts)
	var steps []Step
	record := func(s Step) { steps = append(steps, s) }
	failed := func(err error) []Step {
		s := Step{Name: StepSend, Error: err.Error()}
		var e *Error
		if errors.As(err, &e) {
			s.Name, s.Error, s.Reply = e.Step, e.Err.Error(), e.Reply
		}
		return append(steps, s)
	}

	sess, err := dial(ctx, cfg, password, o, record)
	if err != nil {
		return failed(err)
	}
	defer sess.close()
	if to == "" {
		return steps
	}
	msg, _, err := buildMessage(cfg, o, []string{to}, "argo-notify SMTP test",
		"This is a test message from argo-notify.\n\nIf you can read it, argo-notify can send email through "+
			cfg.Nickname+" ("+cfg.Host+").\n", "", "")
	if err != nil {
		return failed(err)
	}
	reply, err := sess.send(ctx, msg)
	if err != nil {
		return failed(err)
	}
	detail := "test message to " + to + " accepted"
	if reply != "" {
		detail += ": " + reply
	}
	return append(steps, Step{Name: StepSend, OK: true, Detail: detail})
}
