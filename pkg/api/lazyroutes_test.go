package api_test

import (
	"net/http"
	"sync"
	"testing"
)

// The operations are registered by the first request that may reach one,
// while others (the health check, unauthenticated calls, the signed ingest
// route) are served at the same time: every request gets its usual answer
// (and, under -race, nothing they share is unguarded).
func TestFirstRequestsConcurrentWithRegistration(t *testing.T) {
	for range 5 {
		e := newEnv(t)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				<-start
				switch i % 4 {
				case 0, 2:
					for range 20 {
						if r := e.do("GET", "/healthz", ""); r.status != http.StatusOK {
							t.Errorf("GET /healthz: %d", r.status)
						}
					}
				case 1:
					if r := e.do("GET", "/v1/rules", ""); r.status != http.StatusOK {
						t.Errorf("GET /v1/rules: %d %s", r.status, r.body)
					}
				case 3:
					// Unsigned: refused by the ingest handler (401), not by
					// the bearer check (which sends WWW-Authenticate).
					if r := e.do("POST", "/v1/events", `{"type":"JOB"}`, "Authorization", ""); r.status != http.StatusUnauthorized || r.header.Get("Www-Authenticate") != "" {
						t.Errorf("POST /v1/events unsigned: %d %v %s", r.status, r.header, r.body)
					}
				}
			})
		}
		close(start)
		wg.Wait()
	}
}
