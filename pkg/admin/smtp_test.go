package admin

import (
	"context"
	"errors"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

type fakeTester struct{ password string }

func (t *fakeTester) TestSMTP(_ context.Context, _ notify.SMTP, password, _ string) []SMTPStep {
	t.password = password
	return []SMTPStep{{Name: "dial", OK: true}}
}

func smtpSettings() notify.SMTP {
	return notify.SMTP{Nickname: "Relay", Host: "smtp.example.com", AdminAddress: "argo@example.com", UseAuth: true, Username: "argo"}
}

func TestSMTPSecretLifecycle(t *testing.T) {
	ctx := context.Background()
	f, tester := newFakeStore(), &fakeTester{}
	s := NewSMTP(SMTPConfig{Integrations: f, Secrets: f, Tester: tester, Now: fixedNow, IDs: seq()})

	if _, err := s.Connect(ctx, smtpSettings(), ""); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("connect with auth and no password: %v, want EInvalid", err)
	}
	srv, err := s.Connect(ctx, smtpSettings(), "pw1")
	if err != nil {
		t.Fatal(err)
	}
	if srv.PasswordRef != "mem:smtp/smtp_1/v1" || !srv.PasswordSet || srv.Port != notify.DefaultSMTPPort {
		t.Errorf("connected %+v", srv)
	}
	if _, err := s.Connect(ctx, smtpSettings(), "pw"); !notify.IsCode(err, notify.EConflict) {
		t.Errorf("connect with a taken nickname: %v, want EConflict", err)
	}

	kept, err := s.Update(ctx, srv.ID, smtpSettings(), "", nil)
	if err != nil || kept.PasswordRef != srv.PasswordRef {
		t.Fatalf("update without a password: %+v, %v: want the stored secret kept", kept, err)
	}
	changed, err := s.Update(ctx, srv.ID, smtpSettings(), "pw3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed.PasswordRef != "mem:smtp/smtp_1/v3" || f.secrets[changed.PasswordRef] != "pw3" {
		t.Errorf("new password kept as %q", changed.PasswordRef)
	}
	if _, ok := f.secrets[srv.PasswordRef]; ok {
		t.Error("the replaced password is still in the secret store")
	}
	if _, err := s.TestStored(ctx, srv.ID, ""); err != nil || tester.password != "pw3" {
		t.Errorf("TestStored: %v, password %q", err, tester.password)
	}
	noAuth := smtpSettings()
	noAuth.UseAuth = false
	plain, err := s.Update(ctx, srv.ID, noAuth, "", nil)
	if err != nil || plain.PasswordRef != "" || len(f.secrets) != 0 {
		t.Errorf("update to no auth: %+v, %v, secrets %v: want no secret left", plain, err, f.secrets)
	}

	f.failPut = errors.New("boom")
	if _, err := s.Connect(ctx, func() notify.SMTP { x := smtpSettings(); x.Nickname = "Other"; return x }(), "pw"); err == nil {
		t.Error("connect with a failing store succeeded")
	}
	if len(f.secrets) != 0 {
		t.Errorf("a failed connect left secrets %v", f.secrets)
	}
	f.failPut = nil
	if err := s.Disconnect(ctx, srv.ID, nil); err != nil {
		t.Fatal(err)
	}
}
