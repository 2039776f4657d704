package metric

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCountWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "ArgoNotify/Test", func() time.Time { return time.UnixMilli(1700000000123) })
	if err := e.Count("DeliveriesFailed", 1, map[string]string{"Channel": "email"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Count("SESAccountErrors", 2, nil); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal(lines[0], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_aws": map[string]any{
			"Timestamp": 1700000000123.0,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "ArgoNotify/Test",
				"Dimensions": []any{[]any{"Channel"}},
				"Metrics":    []any{map[string]any{"Name": "DeliveriesFailed", "Unit": "Count"}},
			}},
		},
		"Channel":          "email",
		"DeliveriesFailed": 1.0,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("EMF line (-want +got):\n%s", d)
	}
	if err := json.Unmarshal(lines[1], &got); err != nil || got["SESAccountErrors"] != 2.0 {
		t.Errorf("second line = %s (%v)", lines[1], err)
	}
	var nilEMF *EMF
	if err := nilEMF.Count("x", 1, nil); err != nil {
		t.Errorf("nil EMF: %v", err)
	}
}
