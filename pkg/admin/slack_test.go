package admin

import (
	"context"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

type fakeSlack struct{}

func (fakeSlack) AuthTest(_ context.Context, token string) (SlackIdentity, error) {
	if token == "bad" {
		return SlackIdentity{}, notify.Invalid("token", "Slack rejected the token (invalid_auth)")
	}
	return SlackIdentity{Team: "Acme", TeamID: "T1", BotUserID: "U1", BotName: "argo"}, nil
}

func (fakeSlack) Channels(context.Context, string, string, int) ([]SlackChannel, string, error) {
	return []SlackChannel{{ID: "C1", Name: "alerts"}}, "", nil
}

func TestSlackTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	s := NewSlack(SlackConfig{Integrations: f, Secrets: f, Client: fakeSlack{}, Now: fixedNow})

	if _, _, err := s.Channels(ctx, "", 0); !notify.IsCode(err, ENotConnected) {
		t.Errorf("channels before connecting: %v, want %s", err, ENotConnected)
	}
	if _, _, err := s.Connect(ctx, "bad"); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("connect with a rejected token: %v, want EInvalid", err)
	}
	first, replaced, err := s.Connect(ctx, "xoxb-1")
	if err != nil || replaced {
		t.Fatalf("connect: %v, replaced %v", err, replaced)
	}
	second, replaced, err := s.Connect(ctx, "xoxb-2")
	if err != nil || !replaced || second.Version != 2 || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("reconnect: %+v, replaced %v, %v", second, replaced, err)
	}
	if _, ok := f.secrets[first.TokenRef]; ok || f.secrets[second.TokenRef] != "xoxb-2" {
		t.Errorf("secrets after reconnect: %v", f.secrets)
	}
	res, err := s.Test(ctx, "bad")
	if err != nil || res.Failure != "Slack rejected the token (invalid_auth)" {
		t.Errorf("Test(bad) = %+v, %v", res, err)
	}
	res, err = s.Test(ctx, "")
	if err != nil || res.Failure != "" || res.TeamID != "T1" {
		t.Errorf("Test(stored) = %+v, %v", res, err)
	}
	if err := s.Disconnect(ctx); err != nil || len(f.secrets) != 0 {
		t.Errorf("disconnect: %v, secrets %v", err, f.secrets)
	}
}
