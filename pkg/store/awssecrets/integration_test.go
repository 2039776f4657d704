package awssecrets

// Integration tests on kumo (see _tools/README.md): they skip unless
// ARGO_NOTIFY_INTEGRATION=1 and fail if it is set and kumo does not answer.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// kumoClient returns a Secrets Manager client on kumo, or skips the test
// when integration tests are off.
func kumoClient(t *testing.T) *secretsmanager.Client {
	t.Helper()
	return secretsmanager.NewFromConfig(kumotest.Config(t))
}

func uniquePrefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "argo-notify-test-" + hex.EncodeToString(b) + "/"
}

func TestKumoSecrets(t *testing.T) {
	c := kumoClient(t)
	ctx := context.Background()
	prefix := uniquePrefix()
	s := New(c, Config{Prefix: prefix})
	const v1, v2 = "s3cr3t-smtp-password", "xoxb-s3cr3t-token"

	ref1, err := s.PutSecret(ctx, "smtp/s1", v1)
	if err != nil {
		t.Fatalf("PutSecret() = %v", err)
	}
	if !strings.HasPrefix(ref1, "arn:") || !strings.Contains(ref1, prefix+"smtp/s1") || strings.Contains(ref1, v1) {
		t.Errorf("ref %q: want the ARN of %s, without the value", ref1, prefix+"smtp/s1")
	}
	ref2, err := s.PutSecret(ctx, "slack", v2)
	if err != nil {
		t.Fatal(err)
	}
	// A second Store has no cache: it reads Secrets Manager itself.
	fresh := New(c, Config{Prefix: prefix})
	for ref, want := range map[string]string{ref1: v1, ref2: v2, prefix + "slack": v2} {
		for _, st := range []*Store{s, fresh} {
			if got, err := st.GetSecret(ctx, ref); err != nil || got != want {
				t.Errorf("GetSecret(%q) = %q, %v; want %q", ref, got, err, want)
			}
		}
	}

	// Update: same ARN, new value, seen at once by the writing Store.
	ref1b, err := s.PutSecret(ctx, "smtp/s1", "rotated")
	if err != nil {
		t.Fatalf("PutSecret() again = %v", err)
	}
	if ref1b != ref1 {
		t.Errorf("update returned %q, want the same ARN %q", ref1b, ref1)
	}
	if got, err := s.GetSecret(ctx, ref1); err != nil || got != "rotated" {
		t.Errorf("after update GetSecret() = %q, %v; want rotated", got, err)
	}
	// The other Store still serves its cached value until the TTL ends.
	if got, _ := fresh.GetSecret(ctx, ref1); got != v1 {
		t.Errorf("cached value in another Store = %q, want the old one until the TTL", got)
	}

	_, err = s.GetSecret(ctx, "arn:aws:secretsmanager:us-east-1:000000000000:secret:"+prefix+"nope-AbCdEf")
	if !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("GetSecret(unknown) = %v, want ENotFound", err)
	}

	if err := s.DeleteSecret(ctx, ref1); err != nil {
		t.Fatalf("DeleteSecret() = %v", err)
	}
	if _, err := s.GetSecret(ctx, ref1); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("GetSecret() after delete = %v, want ENotFound", err)
	}
	if err := s.DeleteSecret(ctx, ref1); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("DeleteSecret() twice = %v, want ENotFound", err)
	}
	if got, err := s.GetSecret(ctx, ref2); err != nil || got != v2 {
		t.Errorf("the other secret after a delete: %q, %v", got, err)
	}
	// The name can be used again at once (force delete: no recovery window).
	ref1c, err := s.PutSecret(ctx, "smtp/s1", "again")
	if err != nil {
		t.Fatalf("PutSecret() after delete = %v", err)
	}
	if got, err := s.GetSecret(ctx, ref1c); err != nil || got != "again" {
		t.Errorf("recreated secret = %q, %v", got, err)
	}
	for _, ref := range []string{ref1c, ref2} {
		if err := s.DeleteSecret(ctx, ref); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}
