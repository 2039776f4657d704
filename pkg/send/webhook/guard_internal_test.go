package webhook

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestControlChecksTheDialledAddress: whatever a resolver said, the
// dialer's last check refuses a connection to a refused address (this is
// what a DNS rebinding between check and connect would reach).
func TestControlChecksTheDialledAddress(t *testing.T) {
	aws := &guard{}
	local := &guard{allowLoopback: true}
	plain := &guard{allowLoopback: true, loopbackOnly: true}
	tests := []struct {
		g       *guard
		addr    string
		refused bool
	}{
		{aws, "169.254.169.254:80", true},
		{aws, "[fe80::1]:443", true},
		{aws, "[fd00:ec2::254]:80", true},
		{aws, "[::ffff:169.254.169.254]:80", true},
		{aws, "127.0.0.1:443", true},
		{aws, "93.184.216.34:443", false},
		{aws, "10.1.2.3:443", false}, // in-house tools on a private network are allowed
		{local, "127.0.0.1:8080", false},
		{local, "169.254.169.254:80", true},
		{plain, "93.184.216.34:80", true},
		{plain, "[::1]:80", false},
	}
	for _, tt := range tests {
		err := tt.g.control("tcp", tt.addr, nil)
		var be *BlockedError
		if got := errors.As(err, &be); got != tt.refused {
			t.Errorf("control(%s) with %+v = %v, want refused %v", tt.addr, *tt.g, err, tt.refused)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := mustTime(t, "Mon, 30 Nov 2026 12:00:00 GMT")
	for v, want := range map[string]string{
		"": "0s", "7": "7s", "0": "0s", "-3": "0s", "junk": "0s", "999999": "1h0m0s",
		"Mon, 30 Nov 2026 12:01:30 GMT": "1m30s", "Mon, 30 Nov 2026 11:00:00 GMT": "0s",
	} {
		if got := retryAfter(v, now).String(); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func mustTime(t *testing.T, s string) (tm time.Time) {
	t.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
