package awssecrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// fakeSM is an in-memory Secrets Manager behind Client. Deleted secrets are
// kept as scheduled for deletion when scheduled is set (as a recovery
// window would), else removed.
type fakeSM struct {
	mu        sync.Mutex
	secrets   map[string]*fakeSecret // by name
	gets      int
	scheduled bool
	failPut   error
}

type fakeSecret struct {
	arn, value string
	deleted    bool
}

func newFake() *fakeSM { return &fakeSM{secrets: map[string]*fakeSecret{}} }

func (f *fakeSM) find(id string) *fakeSecret {
	if s, ok := f.secrets[id]; ok {
		return s
	}
	for _, s := range f.secrets {
		if s.arn == id {
			return s
		}
	}
	return nil
}

func notFound() error {
	return &types.ResourceNotFoundException{Message: strPtr("Secrets Manager can't find the specified secret.")}
}
func scheduled() error {
	return &types.InvalidRequestException{Message: strPtr("You can't perform this operation on a secret that's scheduled for deletion.")}
}

func (f *fakeSM) CreateSecret(_ context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.secrets[*in.Name]; s != nil {
		if s.deleted {
			return nil, &types.InvalidRequestException{Message: strPtr("You can't create this secret because a secret with this name is already scheduled for deletion.")}
		}
		return nil, &types.ResourceExistsException{Message: strPtr("exists")}
	}
	s := &fakeSecret{arn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + *in.Name + "-AbCdEf", value: *in.SecretString}
	f.secrets[*in.Name] = s
	return &secretsmanager.CreateSecretOutput{ARN: &s.arn, Name: in.Name}, nil
}

func (f *fakeSM) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPut != nil {
		return nil, f.failPut
	}
	s := f.find(*in.SecretId)
	switch {
	case s == nil:
		return nil, notFound()
	case s.deleted:
		return nil, scheduled()
	}
	s.value = *in.SecretString
	return &secretsmanager.PutSecretValueOutput{ARN: &s.arn}, nil
}

func (f *fakeSM) RestoreSecret(_ context.Context, in *secretsmanager.RestoreSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.find(*in.SecretId)
	if s == nil {
		return nil, notFound()
	}
	s.deleted = false
	return &secretsmanager.RestoreSecretOutput{ARN: &s.arn}, nil
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	s := f.find(*in.SecretId)
	switch {
	case s == nil:
		return nil, notFound()
	case s.deleted:
		return nil, scheduled()
	}
	v := s.value
	return &secretsmanager.GetSecretValueOutput{ARN: &s.arn, SecretString: &v}, nil
}

func (f *fakeSM) DeleteSecret(_ context.Context, in *secretsmanager.DeleteSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.find(*in.SecretId)
	if s == nil || s.deleted {
		return nil, notFound()
	}
	if f.scheduled {
		s.deleted = true
	} else {
		for k, v := range f.secrets {
			if v == s {
				delete(f.secrets, k)
			}
		}
	}
	return &secretsmanager.DeleteSecretOutput{ARN: &s.arn}, nil
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestPutGetDelete(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	clk := &clock{t: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}
	s := New(f, Config{Prefix: "argo-notify/", Now: clk.now})

	arn, err := s.PutSecret(ctx, "smtp/s1", "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(arn, "argo-notify/smtp/s1") {
		t.Errorf("ARN %q does not name the prefixed secret", arn)
	}
	get := func(want string, wantGets int) {
		t.Helper()
		got, err := s.GetSecret(ctx, arn)
		if err != nil {
			t.Fatalf("GetSecret() = %v", err)
		}
		if got != want {
			t.Errorf("GetSecret() = %q, want %q", got, want)
		}
		if f.gets != wantGets {
			t.Errorf("%d reads from Secrets Manager, want %d", f.gets, wantGets)
		}
	}
	get("hunter2", 1)
	get("hunter2", 1) // cached
	clk.t = clk.t.Add(DefaultTTL - time.Second)
	get("hunter2", 1)
	clk.t = clk.t.Add(2 * time.Second) // expired
	get("hunter2", 2)

	arn2, err := s.PutSecret(ctx, "smtp/s1", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if arn2 != arn {
		t.Errorf("update returned ARN %q, want the same %q", arn2, arn)
	}
	get("correct horse", 3) // Put invalidated the cache

	// Changed elsewhere: seen only after the TTL.
	f.secrets["argo-notify/smtp/s1"].value = "rotated"
	get("correct horse", 3)
	clk.t = clk.t.Add(DefaultTTL)
	get("rotated", 4)

	if err := s.DeleteSecret(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(ctx, arn); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("GetSecret() after delete = %v, want ENotFound", err)
	}
	if err := s.DeleteSecret(ctx, arn); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("DeleteSecret() twice = %v, want ENotFound", err)
	}
}

func TestPutRestoresScheduled(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	f.scheduled = true
	s := New(f, Config{Prefix: "p/"})
	arn, err := s.PutSecret(ctx, "slack", "xoxb-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSecret(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(ctx, "p/slack"); !notify.IsCode(err, notify.ENotFound) {
		t.Fatalf("GetSecret() of a scheduled secret = %v, want ENotFound", err)
	}
	arn2, err := s.PutSecret(ctx, "slack", "xoxb-2")
	if err != nil {
		t.Fatalf("PutSecret() over a scheduled secret = %v", err)
	}
	if got, err := s.GetSecret(ctx, arn2); err != nil || got != "xoxb-2" {
		t.Errorf("GetSecret() = %q, %v; want xoxb-2", got, err)
	}
}

func TestPutInvalid(t *testing.T) {
	tests := []struct {
		name, secret, value, field string
	}{
		{name: "empty name", secret: "", value: "v", field: "name"},
		{name: "bad characters", secret: "smtp s1", value: "v", field: "name"},
		{name: "too long", secret: strings.Repeat("a", MaxNameLength), value: "v", field: "name"},
		{name: "empty value", secret: "a", value: "", field: "value"},
		{name: "huge value", secret: "a", value: strings.Repeat("x", MaxValueLength+1), field: "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			_, err := New(f, Config{Prefix: "argo-notify/"}).PutSecret(context.Background(), tt.secret, tt.value)
			var ne *notify.Error
			if !errors.As(err, &ne) || ne.Code != notify.EInvalid || len(ne.Fields) != 1 || ne.Fields[0].Field != tt.field {
				t.Fatalf("PutSecret() = %v, want EInvalid on %s", err, tt.field)
			}
			if len(f.secrets) != 0 {
				t.Errorf("a secret was stored")
			}
		})
	}
}

func TestErrorsKeepValuesOut(t *testing.T) {
	const value = "s3cr3t-value-do-not-log"
	tests := []struct {
		name     string
		failPut  error
		wantCode string
	}{
		{name: "throttled", failPut: &types.LimitExceededException{Message: strPtr("slow down")}, wantCode: notify.EUnavailable},
		{name: "network", failPut: errors.New("dial tcp 127.0.0.1:1: connection refused"), wantCode: notify.EUnavailable},
		{name: "denied", failPut: &types.InvalidParameterException{Message: strPtr("bad")}, wantCode: notify.EInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s := New(f, Config{})
			if _, err := s.PutSecret(context.Background(), "a", "first"); err != nil {
				t.Fatal(err)
			}
			f.failPut = tt.failPut
			_, err := s.PutSecret(context.Background(), "a", value)
			if notify.ErrorCode(err) != tt.wantCode || !errors.Is(err, tt.failPut) {
				t.Fatalf("PutSecret() = %v, want code %s wrapping %v", err, tt.wantCode, tt.failPut)
			}
			if strings.Contains(err.Error(), value) {
				t.Errorf("error %q contains the secret value", err)
			}
		})
	}
}

func TestNoCache(t *testing.T) {
	f := newFake()
	s := New(f, Config{TTL: -1})
	arn, err := s.PutSecret(context.Background(), "a", "v")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.GetSecret(context.Background(), arn); err != nil {
			t.Fatal(err)
		}
	}
	if f.gets != 3 {
		t.Errorf("%d reads, want 3 with the cache off", f.gets)
	}
}
