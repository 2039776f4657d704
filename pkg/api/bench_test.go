package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

const benchRules = 10_000

// TestMain removes the benchmarks' template store.
func TestMain(m *testing.M) {
	code := m.Run()
	if templatePath != "" {
		os.RemoveAll(filepath.Dir(templatePath))
	}
	os.Exit(code)
}

var (
	templateOnce sync.Once
	templatePath string
	templateErr  error
)

// benchStore returns a store holding benchRules rules and two users, copied
// from a template built once per test binary.
func benchStore(b *testing.B) *bolt.Store {
	b.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "argo-notify-bench")
		if err != nil {
			templateErr = err
			return
		}
		templatePath = filepath.Join(dir, "template.db")
		templateErr = buildTemplate(templatePath)
	})
	if templateErr != nil {
		b.Fatalf("build the template store: %v", templateErr)
	}
	data, err := os.ReadFile(templatePath)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "argo-notify.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	st, err := bolt.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func buildTemplate(path string) error {
	ctx := context.Background()
	st, err := bolt.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"alice", "bob"} {
		if err := st.CreateUser(ctx, &notify.User{ID: id, Name: id, Email: id + "@example.com", Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
	}
	for i := range benchRules {
		at := now.Add(time.Duration(i) * time.Millisecond)
		r := &notify.Rule{
			ID: fmt.Sprintf("rul_seed%06d", i), Name: fmt.Sprintf("seed rule %d", i), Enabled: i%3 != 0,
			EventTypes: []notify.EventType{notify.EventTypes[i%5]}, Severities: []notify.Severity{notify.Severities[i%3]},
			Recipients: notify.Recipients{Users: []string{"alice"}, Emails: []string{fmt.Sprintf("team%d@example.com", i%50)}},
			Source:     notify.SourceUser, Version: 1, CreatedAt: at, UpdatedAt: at,
		}
		r.Recipients.Normalize()
		if err := st.CreateRule(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func benchHandler(b *testing.B) http.Handler {
	return api.New(api.Config{Store: benchStore(b), AdminToken: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// BenchmarkCreateRule posts a rule through the handler into a store of
// 10,000 rules (the rule names a user, whose existence is checked).
func BenchmarkCreateRule(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest("POST", "/v1/rules", strings.NewReader(ruleJSON(fmt.Sprintf("bench %d", i), `"users":["alice"],"emails":["x@example.com"]`)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkListRules gets the first page (50 rules) of a store of 10,000.
func BenchmarkListRules(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/v1/rules", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
