package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// SCIMCredential is the name of the SCIM token's credential.
const SCIMCredential = "scim"

// Sources of the directory, as Source reports them.
const (
	SourceAPI  = "api"  // written through the admin API (PUT /v1/directory, /v1/users, /v1/groups)
	SourceSCIM = "scim" // synced by an identity provider through SCIM
)

// Source says where the directory comes from: SourceSCIM while a SCIM
// token exists, else SourceAPI.
func (s *Directory) Source(ctx context.Context) (string, error) {
	if s.creds == nil {
		return SourceAPI, nil
	}
	_, err := s.creds.GetCredential(ctx, SCIMCredential)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return SourceAPI, nil
	case err != nil:
		return "", err
	}
	return SourceSCIM, nil
}

// checkWritable fails with EDirectorySynced while an identity provider
// syncs the directory (unless configured writable).
func (s *Directory) checkWritable(ctx context.Context) error {
	if s.writable {
		return nil
	}
	src, err := s.Source(ctx)
	if err != nil {
		return err
	}
	if src == SourceSCIM {
		return notify.Errorf(notify.EDirectorySynced, "the directory is synced from an identity provider (SCIM); change users and groups there")
	}
	return nil
}

// RotateSCIMToken generates a new SCIM bearer token, replacing any, and
// returns it: only its SHA-256 is kept, so this is the one time it is
// seen. From now on the directory is synced.
func (s *Directory) RotateSCIMToken(ctx context.Context) (string, error) {
	if s.creds == nil {
		return "", notify.Errorf(notify.EUnavailable, "SCIM is not configured")
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate SCIM token: %w", err)
	}
	token := "scim_" + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(token))
	_, err := s.creds.GetCredential(ctx, SCIMCredential)
	rotated := err == nil
	if err := s.creds.PutCredential(ctx, &notify.Credential{Name: SCIMCredential, Hash: hex.EncodeToString(sum[:]), CreatedAt: s.clock.stamp()}); err != nil {
		return "", err
	}
	action := "scim.token.create"
	if rotated {
		action = "scim.token.rotate"
	}
	s.audit.record(ctx, action, "credential", SCIMCredential, "SCIM token generated; the previous one no longer works", nil, nil)
	return token, nil
}

// CheckSCIMToken returns EUnauthorized unless token is the current SCIM
// token (compared in constant time, by hash).
func (s *Directory) CheckSCIMToken(ctx context.Context, token string) error {
	deny := notify.Errorf(notify.EUnauthorized, "a valid SCIM bearer token is required")
	if s.creds == nil || token == "" {
		return deny
	}
	c, err := s.creds.GetCredential(ctx, SCIMCredential)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return deny
	case err != nil:
		return err
	}
	want, err := hex.DecodeString(c.Hash)
	if err != nil {
		return fmt.Errorf("read SCIM credential: %w", err)
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return deny
	}
	return nil
}

// Writable reports whether the admin API may change users and groups now.
func (s *Directory) Writable(ctx context.Context) bool { return s.checkWritable(ctx) == nil }
