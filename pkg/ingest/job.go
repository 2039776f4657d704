package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// job is what every AWS source is mapped to before it becomes an event.
type job struct {
	id         string // event id
	kind       string // "AWS Batch job"
	name       string
	arn        string
	status     notify.JobStatus
	rawStatus  string
	what       string // "failed", "timed out", …
	reason     string
	policyID   string
	policyName string
	url        string
	labels     map[string]string
}

// outcome is what a job status of an AWS service means: a terminal status
// and the words for the title, or, zero, a state on the way to one.
type outcome struct {
	status notify.JobStatus
	what   string
}

var (
	succeeded = outcome{notify.JobSucceeded, "succeeded"}
	failed    = outcome{notify.JobFailed, "failed"}
)

// classify sets j's status from its raw status and the service's outcomes:
// false with a nil error for a state on the way (acknowledged, nothing to
// send), false with an error for a status the table does not know.
func (j *job) classify(outcomes map[string]outcome, source string) (bool, error) {
	o, ok := outcomes[j.rawStatus]
	if !ok {
		return false, unsupportedStatus(source, j.rawStatus)
	}
	if o.status == "" {
		return false, nil
	}
	j.status, j.what = o.status, o.what
	return true, nil
}

// unsupportedStatus reports a status FromEventBridge does not know.
func unsupportedStatus(source, status string) error {
	return fmt.Errorf("%w: %s status %q", ErrUnsupported, source, clip(status, 64))
}

func (j *job) event(env *envelope, occurred, now time.Time) (*notify.Event, error) {
	severity := notify.SeverityInfo
	if j.status == notify.JobFailed {
		severity = notify.SeverityCritical
	}
	name := j.name
	if name == "" {
		name = j.arn
	}
	labels := map[string]string{
		"job.source":     env.Source,
		"job.name":       j.name,
		"job.id":         j.arn,
		"job.status":     j.rawStatus,
		"reason":         j.reason,
		"aws.account":    env.Account,
		"aws.region":     env.Region,
		"eventbridge.id": env.ID,
	}
	for k, v := range j.labels {
		labels[k] = v
	}
	for k, v := range labels {
		if v == "" {
			delete(labels, k)
		} else {
			labels[k] = clip(v, notify.MaxLabelValue)
		}
	}
	ev := &notify.Event{
		ID:         j.id,
		Type:       notify.TypeJob,
		Severity:   severity,
		Title:      j.kind + ` "` + clipRunes(notify.OneLine(name), maxJobNameTitle) + `" ` + j.what,
		Message:    clip(j.reason, notify.MaxMessage),
		Source:     env.Source,
		OccurredAt: occurred,
		ReceivedAt: now,
		JobID:      clip(j.arn, 2048),
		Status:     j.status,
		Labels:     labels,
	}
	if ev.ID == "" {
		ev.ID = eventBridgeID(env.ID)
	}
	if j.policyID != "" {
		if notify.ValidID(j.policyID) {
			ev.PolicyID = j.policyID
			ev.PolicyName = clip(j.policyName, 256)
		} else {
			labels["policyIdIgnored"] = "not a valid policy id"
		}
	}
	if len(j.url) <= 2048 {
		ev.URL = j.url
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("map %s event: %w", env.Source, err)
	}
	return ev, nil
}

// tagValue reads a tag from either shape AWS uses: an object of strings
// ({"k": "v"}) or a list of {"key"|"Key", "value"|"Value"} pairs.
func tagValue(raw json.RawMessage, key string) string {
	switch firstNonSpace(raw) {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			return jsonString(m[key])
		}
	case '[':
		var l []map[string]json.RawMessage
		if json.Unmarshal(raw, &l) == nil {
			for _, kv := range l {
				k := jsonString(kv["key"])
				if k == "" {
					k = jsonString(kv["Key"])
				}
				if k == key {
					return firstOf(jsonString(kv["value"]), jsonString(kv["Value"]))
				}
			}
		}
	}
	return ""
}

// jsonString returns raw as a string if it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func detailError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return notify.Invalid("detail."+clip(te.Field, 128), "has the wrong type")
	}
	return notify.Invalid("detail", "%s", syntaxMessage(err))
}

// regionPattern and accountPattern are compiled on first use, not at the
// start of every function that imports this package.
var (
	regionPattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`) })
	accountPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })
)

// consoleBase is the AWS console origin for a region, or "" for a region
// that does not look like one (so nothing from the event is put in a host).
func consoleBase(region string) string {
	switch {
	case !regionPattern().MatchString(region):
		return ""
	case strings.HasPrefix(region, "cn-"):
		return "https://" + region + ".console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "https://console.amazonaws-us-gov.com"
	}
	return "https://" + region + ".console.aws.amazon.com"
}

// lastSegment returns what follows the last "/" of an ARN (the whole string
// when it has none).
func lastSegment(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func nonEmpty(s ...string) []string {
	return slices.DeleteFunc(s, func(v string) bool { return strings.TrimSpace(v) == "" })
}

func nonEmptyJoin(a, b string) string { return strings.Join(nonEmpty(a, b), ": ") }

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clipRunes cuts s to at most n runes, marking the cut with "…".
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
