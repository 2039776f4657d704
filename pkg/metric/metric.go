// Package metric writes counters in CloudWatch embedded metric format
// (EMF): one JSON log line per count, which CloudWatch Logs turns into a
// metric when a Lambda function writes it to stdout. No API call, no
// client, no buffering: a line is written when the count happens.
//
// It imports only the standard library.
package metric

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// EMF writes embedded-format metrics to W. It is safe for concurrent use.
type EMF struct {
	namespace string
	now       func() time.Time
	mu        sync.Mutex
	w         io.Writer
}

// NewEMF returns an EMF writing to w (os.Stdout in a Lambda function)
// under namespace. now is the clock (time.Now if nil).
func NewEMF(w io.Writer, namespace string, now func() time.Time) *EMF {
	if now == nil {
		now = time.Now
	}
	return &EMF{namespace: namespace, now: now, w: w}
}

// Count adds n to the metric name with the given dimensions (each metric
// is published with all of them). A write error is returned; the caller
// usually only logs it.
func (e *EMF) Count(name string, n float64, dims map[string]string) error {
	if e == nil {
		return nil
	}
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": e.now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  e.namespace,
				"Dimensions": [][]string{keys},
				"Metrics":    []any{map[string]string{"Name": name, "Unit": "Count"}},
			}},
		},
		name: n,
	}
	for k, v := range dims {
		line[k] = v
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("metric %s: %w", name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("metric %s: %w", name, err)
	}
	return nil
}
