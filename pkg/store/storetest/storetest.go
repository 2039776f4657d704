// Package storetest is the conformance suite of store.Store: every
// implementation (bolt, dynamo) runs Run against itself, so that they
// behave the same behind the API and the dispatcher.
//
// What the suite asserts beyond the doc comments of package store:
//   - Lists in creation order mean ordered by CreatedAt; the suite gives every
//     record a distinct CreatedAt (1 ms apart, truncated to the millisecond)
//     and ids that sort the other way, so ordering by id fails.
//   - Pages: no page holds more than its limit; every page but the last is
//     full; the last page has next == "" and is empty only if the whole list
//     is; Limit 0 means store.DefaultLimit; a cursor that is not one the store
//     returned gives EInvalid.
//   - Unique names (rule names, user emails, group names, SMTP nicknames)
//     compare case-insensitively (strings.ToLower).
//   - Returned values are copies: changing one does not change the store.
//   - Times are compared with time.Time.Equal, so a store may return them in
//     another location; nil and empty slices compare equal.
//
// The package imports only the domain, the store contract and the test
// tools; it knows nothing of any implementation.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Run runs the conformance suite. Every subtest calls newStore for a fresh,
// empty store; newStore registers its own cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Rules", func(t *testing.T) { testRules(t, newStore) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, newStore) })
	t.Run("ReplaceDirectory", func(t *testing.T) { testReplaceDirectory(t, newStore) })
	t.Run("Integrity", func(t *testing.T) { testIntegrity(t, newStore) })
	t.Run("SMTP", func(t *testing.T) { testSMTP(t, newStore) })
	t.Run("Slack", func(t *testing.T) { testSlack(t, newStore) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, newStore) })
	t.Run("Secrets", func(t *testing.T) { testSecrets(t, newStore) })
	t.Run("Deliveries", func(t *testing.T) { testDeliveries(t, newStore) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, newStore) })
	t.Run("ProvisionedUser", func(t *testing.T) { testProvisionedUser(t, newStore) })
}

// base is the time the suite's clock starts at.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock hands out distinct times, 1 ms apart, already truncated to the
// millisecond so that stores that keep milliseconds compare equal.
type clock struct {
	mu sync.Mutex
	n  int
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return base.Add(time.Duration(c.n) * time.Millisecond)
}

// opts compares domain values: times with Equal (cmp's default for types
// with an Equal method), nil and empty slices as equal.
var opts = cmp.Options{cmpopts.EquateEmpty()}

func diff(want, got any) string { return cmp.Diff(want, got, opts) }

// wantCode fails the test unless err carries code ("" means nil).
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := notify.ErrorCode(err); got != code {
		t.Errorf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// must fails the test now if err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// refsOf returns the sorted Refs of err, or nil if it is not a *notify.Error.
func refsOf(err error) []string {
	e, ok := err.(*notify.Error)
	if !ok {
		return nil
	}
	r := slices.Clone(e.Refs)
	slices.Sort(r)
	return r
}

// walk reads a whole list page by page with the limit and checks the page
// rules the package comment states.
func walk[T any](t *testing.T, what string, limit int, list func(p store.Page) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	cursor := ""
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("%s: the list does not end", what)
		}
		items, next, err := list(store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("%s: page %d: %v", what, page, err)
		}
		if len(items) > limit {
			t.Errorf("%s: page %d holds %d items, limit %d", what, page, len(items), limit)
		}
		if next != "" && len(items) < limit {
			t.Errorf("%s: page %d holds %d items < limit %d but has a next cursor", what, page, len(items), limit)
		}
		if next == "" && len(items) == 0 && page > 0 {
			t.Errorf("%s: page %d is empty: the page before it should have had no next cursor", what, page)
		}
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// concurrently runs fn(i) for i in [0, n) at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWins checks that exactly one of errs is nil and the others have code.
func oneWins(t *testing.T, what string, errs []error, code string) {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case notify.ErrorCode(err) != code:
			t.Errorf("%s: a loser got %v, want code %q", what, err, code)
		}
	}
	if won != 1 {
		t.Errorf("%s: %d of %d won, want exactly 1", what, won, len(errs))
	}
}

// revID returns ids that sort in the opposite order of i.
func revID(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, 9999-i) }

var ctx = context.Background()
