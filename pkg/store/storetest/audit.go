package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// testAudit: entries come back newest first (by id), paged, with their
// before/after JSON intact; a repeated id is EConflict.
func testAudit(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	c := &clock{}
	var want []*notify.AuditEntry
	for i := range 7 {
		e := &notify.AuditEntry{
			ID: fmt.Sprintf("01J0000000000000000000%04d", i), At: c.now(), Actor: "scim",
			Action: "rule.update", Resource: "rule", ResourceID: fmt.Sprintf("rul_%d", i), Summary: "pruned",
			Before: json.RawMessage(`{"enabled":true}`),
		}
		if i%2 == 0 {
			e.After = json.RawMessage(`{"enabled":false}`)
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
		want = append([]*notify.AuditEntry{e}, want...)
	}
	wantCode(t, "repeated id", s.AppendAudit(ctx, &notify.AuditEntry{ID: want[0].ID, At: c.now()}), notify.EConflict)

	var got []*notify.AuditEntry
	pages := 0
	for p := (store.Page{Limit: 3}); ; pages++ {
		es, next, err := s.ListAudit(ctx, p)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if len(es) > 3 {
			t.Fatalf("page of %d entries, limit 3", len(es))
		}
		got = append(got, es...)
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if pages != 2 {
		t.Errorf("%d pages after the first, want 2", pages)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("ListAudit (-want +got):\n%s", d)
	}
	_, _, err := s.ListAudit(ctx, store.Page{Cursor: "%%not a cursor"})
	wantCode(t, "bad cursor", err, notify.EInvalid)
}

// testCredentials: a credential is replaced by name and read back.
func testCredentials(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	c := &clock{}
	_, err := s.GetCredential(ctx, "scim")
	wantCode(t, "absent", err, notify.ENotFound)
	for _, h := range []string{"aa", "bb"} {
		cr := &notify.Credential{Name: "scim", Hash: h, CreatedAt: c.now()}
		if err := s.PutCredential(ctx, cr); err != nil {
			t.Fatalf("PutCredential: %v", err)
		}
		got, err := s.GetCredential(ctx, "scim")
		if err != nil {
			t.Fatalf("GetCredential: %v", err)
		}
		if d := diff(cr, got); d != "" {
			t.Errorf("GetCredential (-want +got):\n%s", d)
		}
	}
}

// testProvisionedUser: the fields an identity provider sets on users and
// groups are kept.
func testProvisionedUser(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	c := &clock{}
	now := c.now()
	u := &notify.User{ID: "usr_1", Name: "Ann Lee", Email: "ann@example.com", Role: notify.RoleDeveloper, Inactive: true,
		Provisioned: &notify.Provisioned{UserName: "ann@example.com", ExternalID: "00u1", GivenName: "Ann", FamilyName: "Lee"},
		Version:     1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if d := diff(u, got); d != "" {
		t.Errorf("GetUser (-want +got):\n%s", d)
	}
	g := &notify.Group{ID: "grp_1", Name: "Ops", Members: []string{"usr_1"}, ExternalID: "00g1", Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateGroup(ctx, g); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	gg, err := s.GetGroup(ctx, g.ID)
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if d := diff(g, gg); d != "" {
		t.Errorf("GetGroup (-want +got):\n%s", d)
	}
}
