package storetest

import (
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func (c *clock) smtp(id, nickname string) *notify.SMTP {
	now := c.now()
	return &notify.SMTP{
		ID: id, Nickname: nickname, Host: "smtp.example.com", Port: 587, AdminAddress: "admin@example.com",
		TimeoutSeconds: 10, TLS: notify.TLSStartTLS, UseAuth: true, Username: "mailer", PasswordSet: true,
		PasswordRef: "ref-of-" + id, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
}

func testSMTP(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create, get, update, list, delete", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		a := c.smtp("s1", "Corporate")
		want := *a
		must(t, "create", s.PutSMTP(ctx, a))
		got, err := s.GetSMTP(ctx, "s1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after create; PasswordRef must be kept (-want +got):\n%s", d)
		}
		_, err = s.GetSMTP(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)

		got.Nickname, got.Port, got.Version, got.PasswordRef, got.UpdatedAt = "Corp", 465, 2, "new-ref", c.now()
		want = *got
		must(t, "update", s.PutSMTP(ctx, got))
		got, err = s.GetSMTP(ctx, "s1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after update (-want +got):\n%s", d)
		}
		b := c.smtp("s0", "corporate") // the old nickname is free; its id sorts first
		must(t, "create second", s.PutSMTP(ctx, b))
		list, err := s.ListSMTP(ctx)
		must(t, "list", err)
		if len(list) != 2 || list[0].ID != "s1" || list[1].ID != "s0" {
			t.Errorf("ListSMTP = %v, want s1 then s0 (creation order)", smtpIDs(list))
		}
		must(t, "delete", s.DeleteSMTP(ctx, "s1"))
		_, err = s.GetSMTP(ctx, "s1")
		wantCode(t, "get deleted", err, notify.ENotFound)
		wantCode(t, "delete again", s.DeleteSMTP(ctx, "s1"), notify.ENotFound)
		must(t, "the nickname is free", s.PutSMTP(ctx, c.smtp("s2", "CORP")))
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		a := c.smtp("s1", "Corporate")
		want := *a
		must(t, "create", s.PutSMTP(ctx, a))
		must(t, "create", s.PutSMTP(ctx, c.smtp("s2", "Backup")))
		wantCode(t, "create same id", s.PutSMTP(ctx, c.smtp("s1", "Other")), notify.EConflict)
		wantCode(t, "create same nickname", s.PutSMTP(ctx, c.smtp("s3", "CORPORATE")), notify.EConflict)
		for _, tc := range []struct {
			name     string
			nickname string
			version  int64
			code     string
		}{
			{"nickname of another", "backup", 2, notify.EConflict},
			{"stale version", "Corporate 2", 3, notify.EStale},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := want
				u.Nickname, u.Version = tc.nickname, tc.version
				wantCode(t, "update", s.PutSMTP(ctx, &u), tc.code)
				got, err := s.GetSMTP(ctx, "s1")
				must(t, "get", err)
				if d := diff(&want, got); d != "" {
					t.Errorf("refused update changed it (-want +got):\n%s", d)
				}
			})
		}
		u := c.smtp("nope", "Nope")
		u.Version = 2
		wantCode(t, "update unknown", s.PutSMTP(ctx, u), notify.ENotFound)
		list, err := s.ListSMTP(ctx)
		must(t, "list", err)
		if len(list) != 2 {
			t.Errorf("ListSMTP = %v, want s1 and s2", smtpIDs(list))
		}
	})
}

func smtpIDs(l []*notify.SMTP) []string {
	ids := make([]string, len(l))
	for i, s := range l {
		ids[i] = s.ID
	}
	return ids
}

func testSlack(t *testing.T, newStore func(t *testing.T) store.Store) {
	s, c := newStore(t), &clock{}
	_, err := s.GetSlack(ctx)
	wantCode(t, "get before connect", err, notify.ENotFound)
	wantCode(t, "delete before connect", s.DeleteSlack(ctx), notify.ENotFound)
	now := c.now()
	w := &notify.Slack{TeamID: "T1", Team: "Acme", TeamURL: "https://acme.slack.com/", BotUserID: "U1", BotName: "argo",
		TokenRef: "token-ref-1", Version: 1, CreatedAt: now, UpdatedAt: now}
	want := *w
	must(t, "put", s.PutSlack(ctx, w))
	got, err := s.GetSlack(ctx)
	must(t, "get", err)
	if d := diff(&want, got); d != "" {
		t.Errorf("get after put; TokenRef must be kept (-want +got):\n%s", d)
	}
	w2 := want
	w2.TeamID, w2.Team, w2.TokenRef, w2.Version = "T2", "Other", "token-ref-2", 2
	must(t, "replace", s.PutSlack(ctx, &w2))
	got, err = s.GetSlack(ctx)
	must(t, "get", err)
	if d := diff(&w2, got); d != "" {
		t.Errorf("get after replace (-want +got):\n%s", d)
	}
	must(t, "delete", s.DeleteSlack(ctx))
	_, err = s.GetSlack(ctx)
	wantCode(t, "get after delete", err, notify.ENotFound)
}

func testSecrets(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	const v1, v2 = "s3cr3t-value-one", "s3cr3t-value-two"
	ref1, err := s.PutSecret(ctx, "smtp-s1-password", v1)
	must(t, "put", err)
	if ref1 == "" || strings.Contains(ref1, v1) {
		t.Errorf("ref %q is empty or holds the value", ref1)
	}
	ref2, err := s.PutSecret(ctx, "slack-token", v2)
	must(t, "put other", err)
	for ref, want := range map[string]string{ref1: v1, ref2: v2} {
		got, err := s.GetSecret(ctx, ref)
		must(t, "get", err)
		if got != want {
			t.Errorf("GetSecret(%q) = %q, want %q", ref, got, want)
		}
	}
	ref1b, err := s.PutSecret(ctx, "smtp-s1-password", "rotated")
	must(t, "put again", err)
	if got, err := s.GetSecret(ctx, ref1b); err != nil || got != "rotated" {
		t.Errorf("after a second put: %q, %v; want the new value", got, err)
	}
	_, err = s.GetSecret(ctx, "no-such-ref")
	wantCode(t, "get unknown", err, notify.ENotFound)
	if err != nil && strings.Contains(err.Error(), v1) {
		t.Errorf("an error shows a secret: %v", err)
	}
	must(t, "delete", s.DeleteSecret(ctx, ref1b))
	_, err = s.GetSecret(ctx, ref1b)
	wantCode(t, "get deleted", err, notify.ENotFound)
	wantCode(t, "delete again", s.DeleteSecret(ctx, ref1b), notify.ENotFound)
	if got, err := s.GetSecret(ctx, ref2); err != nil || got != v2 {
		t.Errorf("the other secret after a delete: %q, %v", got, err)
	}
}
