package api

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func TestIfMatch(t *testing.T) {
	tests := []struct {
		header  string
		current int64 // the stored version; 0: the resource does not exist
		want    string
	}{
		{header: "", current: 3, want: ""},
		{header: "", current: 0, want: ""},
		{header: `"3"`, current: 3, want: ""},
		{header: ` "3" `, current: 3, want: ""},
		{header: `"2"`, current: 3, want: notify.EStale},
		{header: `"3"`, current: 0, want: notify.EStale},
		{header: `*`, current: 3, want: ""},
		{header: `*`, current: 0, want: notify.EStale},
		{header: `3`, current: 3, want: notify.EStale},
		{header: `W/"3"`, current: 3, want: notify.EStale},
		{header: `"3", "4"`, current: 3, want: notify.EStale},
		{header: `"0"`, current: 3, want: notify.EStale},
		{header: `"-3"`, current: 3, want: notify.EStale},
		{header: `""`, current: 3, want: notify.EStale},
		{header: `"99999999999999999999"`, current: 3, want: notify.EStale},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			p, err := parseIfMatch(tc.header)
			if err == nil {
				err = p.check("rule r", tc.current)
			}
			got := ""
			if err != nil {
				got = err.(*Problem).Code
			}
			if got != tc.want {
				t.Errorf("If-Match %q at version %d: %q, want %q", tc.header, tc.current, got, tc.want)
			}
		})
	}
	if _, err := requireIfMatch(""); err == nil || err.(*Problem).Status != 428 {
		t.Errorf("requireIfMatch(\"\") = %v, want a 428", err)
	}
	if got := etag(12); got != `"12"` {
		t.Errorf("etag(12) = %s", got)
	}
}
