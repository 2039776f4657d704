package bolt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/storetest"
)

func newStore(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "argo-notify.db"))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func TestReopenFindsEverything(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "argo-notify.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	u := &notify.User{ID: "u1", Name: "Ann", Email: "ann@example.com", Role: notify.RoleAdmin, Version: 1, CreatedAt: now, UpdatedAt: now}
	g := &notify.Group{ID: "g1", Name: "Ops", Members: []string{"u1"}, Version: 1, CreatedAt: now, UpdatedAt: now}
	r := &notify.Rule{ID: "r1", Name: "Failures", Enabled: true, EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityCritical}, Recipients: notify.Recipients{Users: []string{"u1"}, Groups: []string{"g1"}},
		Source: notify.SourceUser, Version: 1, CreatedAt: now, UpdatedAt: now}
	sm := &notify.SMTP{ID: "s1", Nickname: "Corp", Host: "smtp.example.com", Port: 587, AdminAddress: "a@example.com",
		TimeoutSeconds: 10, TLS: notify.TLSStartTLS, PasswordRef: "embedded:pw", Version: 1, CreatedAt: now, UpdatedAt: now}
	sl := &notify.Slack{TeamID: "T1", Team: "Acme", BotUserID: "U1", BotName: "argo", TokenRef: "embedded:tok", Version: 1, CreatedAt: now, UpdatedAt: now}
	d := &notify.Delivery{ID: "e1|email|ann@example.com", EventID: "e1", Channel: notify.ChannelEmail, Recipient: "ann@example.com",
		RuleIDs: []string{"r1"}, Status: notify.DeliveryQueued, Version: 1, CreatedAt: now, UpdatedAt: now}
	steps := []struct {
		name string
		err  error
	}{
		{"user", s.CreateUser(ctx, u)},
		{"group", s.CreateGroup(ctx, g)},
		{"rule", s.CreateRule(ctx, r)},
		{"smtp", s.PutSMTP(ctx, sm)},
		{"slack", s.PutSlack(ctx, sl)},
	}
	_, _, err = s.ClaimDelivery(ctx, d)
	steps = append(steps, struct {
		name string
		err  error
	}{"delivery", err})
	ref, err := s.PutSecret(ctx, "pw", "hunter2")
	steps = append(steps, struct {
		name string
		err  error
	}{"secret", err})
	for _, st := range steps {
		if st.err != nil {
			t.Fatalf("write %s: %v", st.name, st.err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode %v, want 0600", mode)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	check := func(what string, want any, get func() (any, error)) {
		t.Helper()
		got, err := get()
		if err != nil {
			t.Errorf("%s after reopen: %v", what, err)
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s after reopen (-want +got):\n%s", what, diff)
		}
	}
	check("user", u, func() (any, error) { return s.GetUser(ctx, "u1") })
	check("group", g, func() (any, error) { return s.GetGroup(ctx, "g1") })
	check("rule", r, func() (any, error) { return s.GetRule(ctx, "r1") })
	check("smtp", sm, func() (any, error) { return s.GetSMTP(ctx, "s1") })
	check("slack", sl, func() (any, error) { return s.GetSlack(ctx) })
	check("delivery", d, func() (any, error) { return s.GetDelivery(ctx, d.ID) })
	check("secret", "hunter2", func() (any, error) { return s.GetSecret(ctx, ref) })
	// The indexes survive too.
	r2 := *r
	r2.ID = "r2"
	r2.Name = "FAILURES"
	if code := notify.ErrorCode(s.CreateRule(ctx, &r2)); code != notify.EConflict {
		t.Errorf("duplicate name after reopen: code %q, want conflict", code)
	}
	if err := s.DeleteUser(ctx, "u1", 0); notify.ErrorCode(err) != notify.EInUse {
		t.Errorf("delete of a named user after reopen: %v, want in_use", err)
	}
	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{RuleID: "r1"})
	if err != nil || len(ds) != 1 {
		t.Errorf("deliveries of r1 after reopen: %d, %v; want 1", len(ds), err)
	}
}

func TestSecondOpenFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "argo-notify.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	// A second handle on the same file waits for the lock like a second
	// process would (flock locks belong to the open file).
	s2, err := open(path, 50*time.Millisecond)
	if err == nil {
		s2.Close()
		t.Fatalf("a second open succeeded while the file is held")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("error %q does not say the file is locked", err)
	}
}

func TestUpdateKeepsCreatedAt(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &notify.Rule{ID: "r1", Name: "one", Enabled: true, EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityInfo}, Recipients: notify.Recipients{Emails: []string{"a@example.com"}},
		Source: notify.SourceUser, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	u := *r
	u.Version, u.CreatedAt, u.UpdatedAt = 2, t0.Add(time.Hour), t0.Add(time.Hour)
	if err := s.UpdateRule(ctx, &u); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRule(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("createdAt %v updatedAt %v; want createdAt kept at %v", got.CreatedAt, got.UpdatedAt, t0)
	}
}
