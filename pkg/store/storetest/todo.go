package storetest

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func testSMTP(t *testing.T, newStore func(t *testing.T) store.Store)       {}
func testSlack(t *testing.T, newStore func(t *testing.T) store.Store)      {}
func testSecrets(t *testing.T, newStore func(t *testing.T) store.Store)    {}
func testDeliveries(t *testing.T, newStore func(t *testing.T) store.Store) {}
