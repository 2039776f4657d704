package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// ErrUnsupported is wrapped by the error FromEventBridge returns for a
// well-formed EventBridge event it does not know: an unknown source or
// detail-type, or a job status it has never heard of. Such events should be
// logged and dropped, never retried.
var ErrUnsupported = errors.New("unsupported EventBridge event")

// The tag, input key or environment variable names that carry the Argo
// policy of an AWS job. Environment variable spellings are accepted where a
// colon may not be allowed in a name.
const (
	PolicyIDKey     = "argo:policy-id"
	PolicyNameKey   = "argo:policy-name"
	policyIDEnv     = "ARGO_POLICY_ID"
	policyNameEnv   = "ARGO_POLICY_NAME"
	maxJobNameTitle = 160 // runes of a job name put in a title
)

// envelope is the part of an EventBridge event common to every source.
// Unknown fields are allowed: AWS adds fields without notice.
type envelope struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

// FromEventBridge maps one EventBridge event (the JSON the Lambda receives)
// to an Argo event, received at now.
//
//   - source "argo" (the stack's custom bus): detail is an Argo event, decoded
//     and validated as POST /v1/events does (unknown fields rejected).
//   - AWS Batch "Batch Job State Change", Step Functions "Step Functions
//     Execution Status Change", CodeBuild "CodeBuild Build State Change" and
//     ECS "ECS Task State Change": a JOB event, status SUCCEEDED (severity
//     INFO) or FAILED (severity CRITICAL), for terminal states only.
//
// It returns ok=false with a nil error for a non-terminal state (RUNNING,
// IN_PROGRESS, …: acknowledge and drop); ok=false with an error wrapping
// ErrUnsupported for a well-formed event of an unknown source, detail-type or
// status (log and drop); and ok=false with an *notify.Error of code EInvalid
// for malformed input. None of these should be retried.
//
// The event id is derived from the EventBridge event id ("eb:<id>"), so a
// redelivered EventBridge event notifies once; ECS tasks use the task ARN
// instead ("ecs:<hash>"), as ECS may report a stopped task more than once.
// An Argo event on the custom bus keeps its own id when it has one.
//
// Where the policy comes from, per source: AWS Batch, the job tags
// (detail.tags) argo:policy-id and argo:policy-name; Step Functions, the
// top-level keys of the same names in the execution input (detail.input,
// a JSON object); CodeBuild, PLAINTEXT environment variables
// (detail.additional-information.environment.environment-variables) named
// argo:policy-id / ARGO_POLICY_ID and argo:policy-name / ARGO_POLICY_NAME;
// ECS, the same environment variable names in a container override
// (detail.overrides.containerOverrides[].environment), or task tags
// (detail.tags) if the event carries them.
func FromEventBridge(raw []byte, now time.Time) (ev *notify.Event, ok bool, err error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, false, notify.Invalid("body", "is not an EventBridge event: %s has the wrong type", clip(firstOf(te.Field, "the event"), 64))
		}
		return nil, false, notify.Invalid("body", "is not an EventBridge event: %s", syntaxMessage(err))
	}
	if env.ID == "" || env.Source == "" || env.DetailType == "" {
		return nil, false, notify.Invalid("body", "is not an EventBridge event: id, source and detail-type are required")
	}
	if t := firstNonSpace(env.Detail); t != '{' {
		return nil, false, notify.Invalid("detail", "must be a JSON object")
	}
	occurred, terr := time.Parse(time.RFC3339, env.Time)
	if terr != nil {
		return nil, false, notify.Invalid("time", "must be an RFC 3339 timestamp")
	}
	now = now.UTC().Truncate(time.Millisecond) // the one precision of every recorded time
	if env.Source == deploy.SourceArgo {
		return fromArgoBus(&env, occurred.UTC(), now)
	}
	var (
		j   *job
		jok bool
	)
	switch {
	case env.Source == deploy.SourceBatch && env.DetailType == deploy.DetailBatch:
		j, jok, err = batchJob(&env)
	case env.Source == deploy.SourceStates && env.DetailType == deploy.DetailStates:
		j, jok, err = statesJob(&env)
	case env.Source == deploy.SourceCodeBuild && env.DetailType == deploy.DetailCodeBuild:
		j, jok, err = codeBuildJob(&env)
	case env.Source == deploy.SourceECS && env.DetailType == deploy.DetailECS:
		j, jok, err = ecsJob(&env)
	default:
		return nil, false, fmt.Errorf("%w: source %q, detail-type %q", ErrUnsupported, clip(env.Source, 64), clip(env.DetailType, 128))
	}
	if err != nil || !jok {
		return nil, false, err
	}
	ev, err = j.event(&env, occurred.UTC(), now)
	if err != nil {
		return nil, false, err
	}
	return ev, true, nil
}

func fromArgoBus(env *envelope, occurred, now time.Time) (*notify.Event, bool, error) {
	ev, fields := decodeOne(env.Detail, "detail")
	if len(fields) > 0 {
		return nil, false, invalid(fields)
	}
	if ev.ID == "" {
		ev.ID = eventBridgeID(env.ID)
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = occurred
	}
	ev.ReceivedAt = now
	return &ev, true, nil
}

// eventBridgeID derives an event id from an EventBridge event id.
func eventBridgeID(id string) string {
	if s := "eb:" + id; notify.ValidID(s) {
		return s
	}
	return "eb:" + hashHex(id)
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:20])
}
