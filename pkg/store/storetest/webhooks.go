package storetest

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func (c *clock) webhook(id, name string) *notify.Webhook {
	now := c.now()
	return &notify.Webhook{
		ID: id, Name: name, URL: "https://hooks.example.com/" + id, HeaderNames: []string{"Authorization"},
		SecretRef: "ref-of-" + id, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
}

func webhookIDs(l []*notify.Webhook) []string {
	out := make([]string, len(l))
	for i, w := range l {
		out[i] = w.ID
	}
	return out
}

func testWebhooks(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create, get, update, list, delete", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		a := c.webhook("w1", "Pager")
		want := *a
		must(t, "create", s.CreateWebhook(ctx, a))
		got, err := s.GetWebhook(ctx, "w1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after create; SecretRef must be kept (-want +got):\n%s", d)
		}
		got.URL = "changed" // a copy: the store must not change
		if again, _ := s.GetWebhook(ctx, "w1"); again == nil || again.URL != want.URL {
			t.Errorf("changing a returned webhook changed the store")
		}
		_, err = s.GetWebhook(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)

		upd := want
		upd.Name, upd.URL, upd.HeaderNames, upd.SecretRef, upd.Version, upd.UpdatedAt = "Pager v2", "https://x.example.com/h", nil, "new-ref", 2, c.now()
		must(t, "update", s.UpdateWebhook(ctx, &upd))
		got, err = s.GetWebhook(ctx, "w1")
		must(t, "get", err)
		if d := diff(&upd, got); d != "" {
			t.Errorf("get after update (-want +got):\n%s", d)
		}
		b := c.webhook("w0", "pager") // the old name is free; its id sorts first
		must(t, "create second", s.CreateWebhook(ctx, b))
		list, err := s.ListWebhooks(ctx)
		must(t, "list", err)
		if ids := webhookIDs(list); len(ids) != 2 || ids[0] != "w1" || ids[1] != "w0" {
			t.Errorf("ListWebhooks = %v, want w1 then w0 (creation order)", ids)
		}
		wantCode(t, "delete at a wrong version", s.DeleteWebhook(ctx, "w1", 1), notify.EStale)
		must(t, "delete", s.DeleteWebhook(ctx, "w1", 2))
		_, err = s.GetWebhook(ctx, "w1")
		wantCode(t, "get deleted", err, notify.ENotFound)
		wantCode(t, "delete again", s.DeleteWebhook(ctx, "w1", 0), notify.ENotFound)
		must(t, "the name is free", s.CreateWebhook(ctx, c.webhook("w2", "PAGER V2")))
		must(t, "delete any version", s.DeleteWebhook(ctx, "w0", 0))
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		a, b := c.webhook("w1", "Pager"), c.webhook("w2", "Chat")
		must(t, "create a", s.CreateWebhook(ctx, a))
		must(t, "create b", s.CreateWebhook(ctx, b))
		wantA, wantB := *a, *b

		wantCode(t, "create with a taken name (other case)", s.CreateWebhook(ctx, c.webhook("w3", "PAGER")), notify.EConflict)
		wantCode(t, "create with a taken id", s.CreateWebhook(ctx, c.webhook("w1", "Other")), notify.EConflict)
		ren := wantB
		ren.Name, ren.Version = "pager", 2
		wantCode(t, "rename onto a taken name", s.UpdateWebhook(ctx, &ren), notify.EConflict)
		st := wantA
		st.URL, st.Version = "https://stale.example.com", 5
		wantCode(t, "update at a stale version", s.UpdateWebhook(ctx, &st), notify.EStale)
		gone := *c.webhook("w9", "Gone")
		gone.Version = 2
		wantCode(t, "update unknown", s.UpdateWebhook(ctx, &gone), notify.ENotFound)

		list, err := s.ListWebhooks(ctx)
		must(t, "list", err)
		if len(list) != 2 {
			t.Fatalf("ListWebhooks = %v, want w1 and w2", webhookIDs(list))
		}
		if d := diff([]*notify.Webhook{&wantA, &wantB}, list); d != "" {
			t.Errorf("webhooks changed by refused writes (-want +got):\n%s", d)
		}
		must(t, "w3 can take a free name", s.CreateWebhook(ctx, c.webhook("w3", "Pager 3")))
	})
}
