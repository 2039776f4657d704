package dispatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// TestOneLogLinePerDeliveryOutcome checks the structured line each
// delivery's outcome gets: event, delivery, rules, channel, recipient,
// status, attempt, latency; failures at WARN with the reason.
func TestOneLogLinePerDeliveryOutcome(t *testing.T) {
	var buf bytes.Buffer
	f := newFixture(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	f.email.script["ext@partner.io"] = []error{send.Permanent(errors.New("550 no such user"))}
	if err := f.d.Handle(ctx, message(t, event("e1"), 1)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	lines := map[string]map[string]any{} // by recipient
	for _, raw := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if m["msg"] != "delivery" {
			continue
		}
		r, _ := m["recipient"].(string)
		if _, dup := lines[r]; dup {
			t.Errorf("two outcome lines for %s", r)
		}
		lines[r] = m
	}
	// e1 reaches 4 addresses (ann, bob, cy, ext) and one Slack channel.
	if len(lines) != 5 {
		t.Fatalf("%d outcome lines, want 5 (one per delivery): %v", len(lines), lines)
	}
	bob := lines["Bob@Example.com"]
	for k, want := range map[string]any{
		"level": "INFO", "event_id": "e1", "channel": "email", "status": "sent", "attempt": 1.0, "provider": "smtp",
		"delivery_id": notify.DeliveryID("e1", notify.ChannelEmail, "bob@example.com"),
	} {
		if bob[k] != want {
			t.Errorf("bob's line: %s = %v, want %v", k, bob[k], want)
		}
	}
	if ids, _ := bob["rule_ids"].([]any); len(ids) != 2 || ids[0] != "r1" || ids[1] != "r2" {
		t.Errorf("bob's line: rule_ids = %v, want [r1 r2]", bob["rule_ids"])
	}
	if _, ok := bob["latency_ms"]; !ok {
		t.Errorf("bob's line has no latency_ms")
	}
	ext := lines["ext@partner.io"]
	if ext["level"] != "WARN" || ext["status"] != "failed" || ext["err"] == nil {
		t.Errorf("ext's line = %v, want WARN, failed, with err", ext)
	}
}
