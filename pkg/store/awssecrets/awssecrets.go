// Package awssecrets keeps write-only secrets (SMTP passwords, Slack tokens) in
// AWS Secrets Manager. It implements store.Secrets: the table keeps only the
// ARN that PutSecret returns.
//
// Secret values never appear in errors or logs. The package imports the
// domain (pkg/notify, pkg/store) and the AWS SDK; it must not import other
// adapters.
package awssecrets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Limits Secrets Manager puts on names and values.
const (
	MaxNameLength  = 512
	MaxValueLength = 65536
	// DefaultTTL is how long a read value is cached.
	DefaultTTL = 5 * time.Minute
)

// namePattern is what Secrets Manager allows in a secret name, compiled
// on first use rather than at every cold start.
var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`) })

// Client is the part of the Secrets Manager client a Store uses.
type Client interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	RestoreSecret(ctx context.Context, in *secretsmanager.RestoreSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// Config says where secrets live.
type Config struct {
	// Prefix is put before every name (ARGO_NOTIFY_SECRET_PREFIX, e.g.
	// "argo-notify/"), so IAM can scope access to the prefix.
	Prefix string
	// KMSKeyID encrypts new secrets; "" uses the account's default key.
	KMSKeyID string
	// TTL is how long a read value is cached in memory; 0 means
	// DefaultTTL, negative disables the cache.
	TTL time.Duration
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Store implements store.Secrets on Secrets Manager, with an in-memory
// read cache. Writes and deletes through the same Store invalidate it;
// changes made elsewhere are seen once the cached value expires.
type Store struct {
	client Client
	cfg    Config

	mu    sync.Mutex
	cache map[string]entry // by the ref it was read with
}

type entry struct {
	value   string
	arn     string
	name    string
	expires time.Time
}

var _ store.Secrets = (*Store)(nil)

// New returns a Store.
func New(client Client, cfg Config) *Store {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{client: client, cfg: cfg, cache: map[string]entry{}}
}

// PutSecret stores value under Prefix+name, creating the secret or adding
// a new current version, and returns its ARN. A secret of that name that is
// scheduled for deletion is restored first. EInvalid for a bad name or an
// empty or oversized value.
func (s *Store) PutSecret(ctx context.Context, name, value string) (string, error) {
	full := s.cfg.Prefix + name
	switch {
	case name == "" || len(full) > MaxNameLength || !namePattern().MatchString(full):
		return "", notify.Invalid("name", "must be 1-%d characters of letters, digits and /_+=.@- (prefix included)", MaxNameLength)
	case value == "":
		return "", notify.Invalid("value", "must not be empty")
	case len(value) > MaxValueLength:
		return "", notify.Invalid("value", "must be at most %d bytes", MaxValueLength)
	}
	in := &secretsmanager.CreateSecretInput{
		Name:         &full,
		SecretString: &value,
		Description:  strPtr("argo-notify credential"),
	}
	if s.cfg.KMSKeyID != "" {
		in.KmsKeyId = &s.cfg.KMSKeyID
	}
	arn := ""
	out, err := s.client.CreateSecret(ctx, in)
	switch {
	case err == nil:
		arn = deref(out.ARN)
	case code(err) == "ResourceExistsException" || scheduledForDeletion(err):
		arn, err = s.update(ctx, full, value)
	default:
		err = wrap(err, "create secret %q", full)
	}
	if err != nil {
		return "", err
	}
	s.invalidate(arn, full)
	return arn, nil
}

// update adds a new current version to an existing secret, restoring it
// first if it is scheduled for deletion.
func (s *Store) update(ctx context.Context, full, value string) (string, error) {
	in := &secretsmanager.PutSecretValueInput{SecretId: &full, SecretString: &value}
	out, err := s.client.PutSecretValue(ctx, in)
	if scheduledForDeletion(err) {
		if _, rerr := s.client.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: &full}); rerr != nil {
			// Force-deleted but not gone yet: it will be shortly.
			return "", fmt.Errorf("%w: restore secret %q: %w",
				notify.Errorf(notify.EUnavailable, "secret %q is being deleted; try again shortly", full), full, rerr)
		}
		out, err = s.client.PutSecretValue(ctx, in)
	}
	if err != nil {
		return "", wrap(err, "update secret %q", full)
	}
	return deref(out.ARN), nil
}

// GetSecret returns the current value of the secret ref names (an ARN or
// a full name), from the cache if it was read within the TTL. ENotFound if
// there is no such secret or it is scheduled for deletion.
func (s *Store) GetSecret(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", notify.Errorf(notify.ENotFound, "no secret reference")
	}
	now := s.cfg.Now()
	s.mu.Lock()
	e, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.value, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &ref})
	if err != nil {
		return "", wrap(err, "read secret %q", ref)
	}
	if out.SecretString == nil {
		return "", notify.Errorf(notify.EInternal, "secret %q holds no string value", ref)
	}
	if s.cfg.TTL > 0 {
		s.mu.Lock()
		s.cache[ref] = entry{value: *out.SecretString, arn: deref(out.ARN), name: deref(out.Name), expires: now.Add(s.cfg.TTL)}
		s.mu.Unlock()
	}
	return *out.SecretString, nil
}

// DeleteSecret deletes the secret ref names at once, without a recovery
// window. ENotFound if there is no such secret.
func (s *Store) DeleteSecret(ctx context.Context, ref string) error {
	if ref == "" {
		return notify.Errorf(notify.ENotFound, "no secret reference")
	}
	out, err := s.client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &ref, ForceDeleteWithoutRecovery: boolPtr(true)})
	s.invalidate(ref)
	if err != nil {
		return wrap(err, "delete secret %q", ref)
	}
	s.invalidate(deref(out.ARN), deref(out.Name))
	return nil
}

// invalidate drops cached values read under any of refs, or belonging to a
// secret whose ARN or name is one of refs.
func (s *Store) invalidate(refs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.cache {
		for _, r := range refs {
			if r != "" && (k == r || e.arn == r || e.name == r) {
				delete(s.cache, k)
				break
			}
		}
	}
}

// wrap gives err context and a notify code: ENotFound for a missing secret
// (or one scheduled for deletion), EUnavailable for throttling and service
// errors, EInternal otherwise. The value is never part of it.
func wrap(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var nerr *notify.Error
	switch c := code(err); {
	case c == "ResourceNotFoundException" || scheduledForDeletion(err):
		nerr = notify.Errorf(notify.ENotFound, "%s: no such secret", what)
	case c == "ThrottlingException" || c == "InternalServiceError" || c == "LimitExceededException" || c == "":
		nerr = notify.Errorf(notify.EUnavailable, "%s: secrets manager unavailable", what)
	default:
		nerr = notify.Errorf(notify.EInternal, "%s failed", what)
	}
	return fmt.Errorf("%w: %w", nerr, err)
}

// code returns the API error code of err, or "" if it is not an API error.
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// scheduledForDeletion reports whether err says the secret is scheduled for
// (or marked for) deletion.
func scheduledForDeletion(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidRequestException" {
		return false
	}
	msg := strings.ToLower(ae.ErrorMessage())
	return strings.Contains(msg, "scheduled for deletion") || strings.Contains(msg, "marked for deletion")
}

func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
