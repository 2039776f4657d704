package admin

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// SMTPStep is the outcome of one step of an SMTP connection test: dial,
// tls, auth or send.
type SMTPStep struct {
	Name   string
	OK     bool
	Detail string // what happened
	Error  string // why it failed
	Reply  string // the server's reply on failure
}

// SMTPTester connects to an SMTP server as the sender would and, if to is
// not empty, sends it a test message. It returns the steps that ran, the
// failed one last; the password never appears in them. pkg/send/smtp's
// Test, with the process's options, is the one in use.
type SMTPTester interface {
	TestSMTP(ctx context.Context, srv notify.SMTP, password, to string) []SMTPStep
}

// SMTPConfig holds what the SMTP integration service needs. Every field
// but Now and Logger is required.
type SMTPConfig struct {
	Integrations store.Integrations
	// Secrets keeps the passwords; the integration holds only a reference.
	Secrets store.Secrets
	Tester  SMTPTester
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id (a ULID).
	IDs func() string
	// Logger receives failures to delete secrets no longer used. Default:
	// slog.Default().
	Logger *slog.Logger
	// Audit, if set, records every connect, update and disconnect (names
	// only: URLs and settings can hold credentials).
	Audit store.Audit
}

// SMTP is the SMTP integration service: servers connected, tested and
// disconnected, each password kept in the secret store under a name of its
// own version, so that stored settings never point to a password written
// for other settings.
type SMTP struct {
	store   store.Integrations
	secrets store.Secrets
	tester  SMTPTester
	clock   clock
	log     *slog.Logger
	audit   auditor
}

// NewSMTP returns the SMTP integration service. It panics if a required
// field of cfg is nil, a programming error in the caller's wiring.
func NewSMTP(cfg SMTPConfig) *SMTP {
	if cfg.Integrations == nil || cfg.Secrets == nil || cfg.Tester == nil {
		panic("admin.NewSMTP: Config.Integrations, Secrets or Tester is nil")
	}
	c := newClock(cfg.Now, cfg.IDs)
	return &SMTP{store: cfg.Integrations, secrets: cfg.Secrets, tester: cfg.Tester,
		clock: c, log: orDefault(cfg.Logger), audit: newAuditor(cfg.Audit, c, cfg.Logger)}
}

// smtpSecretName names the secret holding the password of server id at
// version v.
func smtpSecretName(id string, v int64) string {
	return "smtp/" + id + "/v" + strconv.FormatInt(v, 10)
}

// List returns every connected server, oldest first.
func (s *SMTP) List(ctx context.Context) ([]*notify.SMTP, error) { return s.store.ListSMTP(ctx) }

// Get returns the server with the id, or ENotFound.
func (s *SMTP) Get(ctx context.Context, id string) (*notify.SMTP, error) {
	return s.store.GetSMTP(ctx, id)
}

// settings applies the defaults to srv and validates it; a password is
// required (needPassword) for a new connection with UseAuth.
func settings(srv notify.SMTP, password string, needPassword bool) (notify.SMTP, error) {
	srv.Defaults()
	if !srv.UseAuth {
		srv.Username = ""
	}
	var fields []notify.FieldError
	if err := srv.Validate(); err != nil {
		fs, ok := fieldsOf(err)
		if !ok {
			return srv, err
		}
		fields = fs
	}
	if needPassword && srv.UseAuth && password == "" {
		fields = append(fields, notify.FieldError{Field: "password", Message: "is required when useAuth is true"})
	}
	return srv, invalid(fields)
}

// nicknameTaken fails with EConflict if another server has the nickname.
func (s *SMTP) nicknameTaken(ctx context.Context, id, nickname string) error {
	all, err := s.store.ListSMTP(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != id && strings.EqualFold(o.Nickname, nickname) {
			return notify.Errorf(notify.EConflict, "an SMTP server is already called %s", quote(nickname))
		}
	}
	return nil
}

// Connect saves a new server (id smtp_<ulid>) with the settings of srv
// (defaults applied) and its password in the secret store. EInvalid if the
// settings are not valid or UseAuth is set without a password; EConflict
// if the nickname is taken.
func (s *SMTP) Connect(ctx context.Context, srv notify.SMTP, password string) (*notify.SMTP, error) {
	srv, err := settings(srv, password, true)
	if err != nil {
		return nil, err
	}
	if err := s.nicknameTaken(ctx, "", srv.Nickname); err != nil {
		return nil, err
	}
	now := s.clock.stamp()
	srv.ID, srv.Version, srv.CreatedAt, srv.UpdatedAt = "smtp_"+s.clock.ids(), 1, now, now
	srv.PasswordRef, srv.PasswordSet = "", false
	if srv.UseAuth {
		if srv.PasswordRef, err = s.secrets.PutSecret(ctx, smtpSecretName(srv.ID, 1), password); err != nil {
			return nil, err
		}
		srv.PasswordSet = true
	}
	if err := s.store.PutSMTP(ctx, &srv); err != nil {
		dropSecret(ctx, s.secrets, s.log, srv.PasswordRef)
		return nil, err
	}
	s.audit.record(ctx, "smtp.connect", "smtp", srv.ID, srv.Nickname, nil, nil)
	return &srv, nil
}

// Update replaces the settings of server id, if pre accepts its stored
// version. An empty password keeps the stored one; a new one goes to a new
// secret and the old secret is deleted once the server no longer names
// it. A password is required only if none is kept and UseAuth is set.
func (s *SMTP) Update(ctx context.Context, id string, in notify.SMTP, password string, pre Precondition) (*notify.SMTP, error) {
	cur, err := s.store.GetSMTP(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := pre.check("SMTP server "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	srv, err := settings(in, password, cur.PasswordRef == "")
	if err != nil {
		return nil, err
	}
	if err := s.nicknameTaken(ctx, cur.ID, srv.Nickname); err != nil {
		return nil, err
	}
	srv.ID, srv.Version, srv.CreatedAt, srv.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, s.clock.stamp()
	srv.PasswordRef = cur.PasswordRef
	newSecret := srv.UseAuth && password != ""
	if newSecret {
		if srv.PasswordRef, err = s.secrets.PutSecret(ctx, smtpSecretName(srv.ID, srv.Version), password); err != nil {
			return nil, err
		}
	}
	if !srv.UseAuth {
		srv.PasswordRef = ""
	}
	srv.PasswordSet = srv.PasswordRef != ""
	if err := s.store.PutSMTP(ctx, &srv); err != nil {
		if newSecret {
			dropSecret(ctx, s.secrets, s.log, srv.PasswordRef)
		}
		return nil, err
	}
	if cur.PasswordRef != srv.PasswordRef {
		dropSecret(ctx, s.secrets, s.log, cur.PasswordRef)
	}
	s.audit.record(ctx, "smtp.update", "smtp", srv.ID, srv.Nickname, nil, nil)
	return &srv, nil
}

// Disconnect removes server id and then its password, if pre accepts its
// stored version.
func (s *SMTP) Disconnect(ctx context.Context, id string, pre Precondition) error {
	cur, err := s.store.GetSMTP(ctx, id)
	if err != nil {
		return err
	}
	if _, err := pre.check("SMTP server "+cur.ID, cur.Version); err != nil {
		return err
	}
	if err := s.store.DeleteSMTP(ctx, cur.ID); err != nil {
		return err
	}
	s.audit.record(ctx, "smtp.disconnect", "smtp", cur.ID, cur.Nickname, nil, nil)
	dropSecret(ctx, s.secrets, s.log, cur.PasswordRef)
	return nil
}

// checkTestAddress fails with EInvalid on field "to" if to is set and not
// an email address.
func checkTestAddress(to string) error {
	if to != "" && !notify.ValidEmail(to) {
		return notify.Invalid("to", "%s is not a valid email address", quote(to))
	}
	return nil
}

// TestSettings tests the settings of srv, nothing saved: dial, TLS, AUTH
// and, if to is set, a test message. Errors only for settings that are not
// valid; the outcome of the test is in the steps.
func (s *SMTP) TestSettings(ctx context.Context, srv notify.SMTP, password, to string) ([]SMTPStep, error) {
	srv, err := settings(srv, password, true)
	if err != nil {
		return nil, err
	}
	if err := checkTestAddress(to); err != nil {
		return nil, err
	}
	srv.ID = "test"
	return s.tester.TestSMTP(ctx, srv, password, to), nil
}

// TestStored tests connected server id with its stored settings and
// password. EConflict if the password is missing from the secret store.
func (s *SMTP) TestStored(ctx context.Context, id, to string) ([]SMTPStep, error) {
	if err := checkTestAddress(to); err != nil {
		return nil, err
	}
	srv, err := s.store.GetSMTP(ctx, id)
	if err != nil {
		return nil, err
	}
	password := ""
	if srv.UseAuth && srv.PasswordRef != "" {
		password, err = s.secrets.GetSecret(ctx, srv.PasswordRef)
		switch {
		case notify.IsCode(err, notify.ENotFound):
			return nil, notify.Errorf(notify.EConflict, "the password of SMTP server %s is missing from the secret store; PUT the server with its password", srv.ID)
		case err != nil:
			return nil, err
		}
	}
	return s.tester.TestSMTP(ctx, *srv, password, to), nil
}
