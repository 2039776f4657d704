package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// ErrUnsupported is wrapped by the error FromEventBridge returns for a
// well-formed EventBridge event it does not know: an unknown source or
// detail-type, or a job status it has never heard of. Such events should be
// logged and dropped, never retried.
var ErrUnsupported = errors.New("unsupported EventBridge event")

// The EventBridge sources and detail-types FromEventBridge maps.
const (
	SourceArgo = "argo" // the stack's custom bus; detail is an Argo event

	SourceBatch     = "aws.batch"
	DetailBatch     = "Batch Job State Change"
	SourceStates    = "aws.states"
	DetailStates    = "Step Functions Execution Status Change"
	SourceCodeBuild = "aws.codebuild"
	DetailCodeBuild = "CodeBuild Build State Change"
	SourceECS       = "aws.ecs"
	DetailECS       = "ECS Task State Change"
)

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
	now = now.UTC()
	if env.Source == SourceArgo {
		return fromArgoBus(&env, occurred.UTC(), now)
	}
	var (
		j   *job
		jok bool
	)
	switch {
	case env.Source == SourceBatch && env.DetailType == DetailBatch:
		j, jok, err = batchJob(&env)
	case env.Source == SourceStates && env.DetailType == DetailStates:
		j, jok, err = statesJob(&env)
	case env.Source == SourceCodeBuild && env.DetailType == DetailCodeBuild:
		j, jok, err = codeBuildJob(&env)
	case env.Source == SourceECS && env.DetailType == DetailECS:
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

	batchOutcomes = map[string]outcome{
		"SUBMITTED": {}, "PENDING": {}, "RUNNABLE": {}, "STARTING": {}, "RUNNING": {},
		"SUCCEEDED": succeeded, "FAILED": failed,
	}
	statesOutcomes = map[string]outcome{
		"RUNNING": {}, "PENDING_REDRIVE": {},
		"SUCCEEDED": succeeded, "FAILED": failed,
		"TIMED_OUT": {notify.JobFailed, "timed out"}, "ABORTED": {notify.JobFailed, "was aborted"},
	}
	codeBuildOutcomes = map[string]outcome{
		"IN_PROGRESS": {},
		"SUCCEEDED":   succeeded, "FAILED": failed,
		"STOPPED": {notify.JobFailed, "was stopped"}, "FAULT": {notify.JobFailed, "faulted"},
		"TIMED_OUT": {notify.JobFailed, "timed out"},
	}
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
		Title:      j.kind + ` "` + clipRunes(printable(name), maxJobNameTitle) + `" ` + j.what,
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

// AWS Batch: detail resembles the JobDetail of DescribeJobs.

type batchDetail struct {
	JobArn       string          `json:"jobArn"`
	JobName      string          `json:"jobName"`
	JobID        string          `json:"jobId"`
	JobQueue     string          `json:"jobQueue"`
	Status       string          `json:"status"`
	StatusReason string          `json:"statusReason"`
	Tags         json.RawMessage `json:"tags"`
	Container    *struct {
		ExitCode *int   `json:"exitCode"`
		Reason   string `json:"reason"`
	} `json:"container"`
}

func batchJob(env *envelope) (*job, bool, error) {
	var d batchDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return nil, false, detailError(err)
	}
	if d.Status == "" || (d.JobArn == "" && d.JobID == "") {
		return nil, false, notify.Invalid("detail", "a Batch job state change needs status and jobArn or jobId")
	}
	j := &job{kind: "AWS Batch job", name: d.JobName, arn: firstOf(d.JobArn, d.JobID), rawStatus: d.Status, reason: d.StatusReason}
	if terminal, err := j.classify(batchOutcomes, env.Source); !terminal {
		return nil, false, err
	}
	j.labels = map[string]string{"batch.jobQueue": d.JobQueue}
	if c := d.Container; c != nil {
		if c.ExitCode != nil {
			j.labels["batch.exitCode"] = strconv.Itoa(*c.ExitCode)
		}
		if j.reason == "" {
			j.reason = c.Reason
		} else if c.Reason != "" && c.Reason != j.reason {
			j.reason += ": " + c.Reason
		}
	}
	j.policyID, j.policyName = tagValue(d.Tags, PolicyIDKey), tagValue(d.Tags, PolicyNameKey)
	jobID := d.JobID
	if jobID == "" {
		jobID = lastSegment(d.JobArn)
	}
	if base := consoleBase(env.Region); base != "" && jobID != "" {
		j.url = base + "/batch/home?region=" + env.Region + "#jobs/detail/" + url.PathEscape(jobID)
	}
	return j, true, nil
}

// Step Functions: detail is the execution as DescribeExecution returns it,
// with input and output as JSON strings.

type statesDetail struct {
	ExecutionArn    string  `json:"executionArn"`
	StateMachineArn string  `json:"stateMachineArn"`
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	Input           *string `json:"input"`
	Error           *string `json:"error"`
	Cause           *string `json:"cause"`
}

func statesJob(env *envelope) (*job, bool, error) {
	var d statesDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return nil, false, detailError(err)
	}
	if d.Status == "" || d.ExecutionArn == "" {
		return nil, false, notify.Invalid("detail", "a Step Functions status change needs status and executionArn")
	}
	j := &job{kind: "Step Functions execution", name: d.Name, arn: d.ExecutionArn, rawStatus: d.Status}
	if terminal, err := j.classify(statesOutcomes, env.Source); !terminal {
		return nil, false, err
	}
	var errName, cause string
	if d.Error != nil {
		errName = *d.Error
	}
	if d.Cause != nil {
		cause = *d.Cause
	}
	j.reason = nonEmptyJoin(errName, cause)
	j.labels = map[string]string{"sfn.stateMachineArn": d.StateMachineArn, "sfn.error": errName}
	if d.Input != nil {
		var in map[string]json.RawMessage
		if json.Unmarshal([]byte(*d.Input), &in) == nil {
			j.policyID, j.policyName = jsonString(in[PolicyIDKey]), jsonString(in[PolicyNameKey])
		}
	}
	if base := consoleBase(env.Region); base != "" {
		j.url = base + "/states/home?region=" + env.Region + "#/v2/executions/details/" + url.PathEscape(d.ExecutionArn)
	}
	return j, true, nil
}

// CodeBuild: detail carries the build status and, in additional-information,
// the environment (variables included) and the phases.

type codeBuildDetail struct {
	BuildStatus string `json:"build-status"`
	ProjectName string `json:"project-name"`
	BuildID     string `json:"build-id"`
	Info        struct {
		Environment struct {
			Variables []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
				Type  string `json:"type"`
			} `json:"environment-variables"`
		} `json:"environment"`
		Phases []struct {
			Type    string   `json:"phase-type"`
			Status  string   `json:"phase-status"`
			Context []string `json:"phase-context"`
		} `json:"phases"`
	} `json:"additional-information"`
}

func codeBuildJob(env *envelope) (*job, bool, error) {
	var d codeBuildDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return nil, false, detailError(err)
	}
	if d.BuildStatus == "" || d.BuildID == "" {
		return nil, false, notify.Invalid("detail", "a CodeBuild state change needs build-status and build-id")
	}
	j := &job{kind: "CodeBuild build", name: d.ProjectName, arn: d.BuildID, rawStatus: d.BuildStatus}
	if terminal, err := j.classify(codeBuildOutcomes, env.Source); !terminal {
		return nil, false, err
	}
	j.labels = map[string]string{"codebuild.project": d.ProjectName}
	if j.status == notify.JobFailed {
		for _, p := range d.Info.Phases {
			if p.Status != "" && p.Status != "SUCCEEDED" {
				j.labels["codebuild.phase"] = p.Type
				j.reason = strings.Join(nonEmpty(append([]string{p.Type + " " + p.Status}, p.Context...)...), ": ")
				break
			}
		}
	}
	for _, v := range d.Info.Environment.Variables {
		if v.Type != "" && v.Type != "PLAINTEXT" {
			continue // the value is a reference to a parameter or secret, not the value
		}
		switch v.Name {
		case PolicyIDKey, policyIDEnv:
			j.policyID = v.Value
		case PolicyNameKey, policyNameEnv:
			j.policyName = v.Value
		}
	}
	// build-id: arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>
	if base := consoleBase(env.Region); base != "" && accountPattern.MatchString(env.Account) && d.ProjectName != "" {
		if b := lastSegment(d.BuildID); b != "" {
			j.url = base + "/codesuite/codebuild/" + env.Account + "/projects/" + url.PathEscape(d.ProjectName) +
				"/build/" + url.PathEscape(b) + "/?region=" + env.Region
		}
	}
	return j, true, nil
}

// ECS: detail is the task as DescribeTasks returns it.

type ecsDetail struct {
	TaskArn       string `json:"taskArn"`
	ClusterArn    string `json:"clusterArn"`
	Group         string `json:"group"`
	LastStatus    string `json:"lastStatus"`
	StoppedReason string `json:"stoppedReason"`
	StopCode      string `json:"stopCode"`
	Containers    []struct {
		Name     string `json:"name"`
		ExitCode *int   `json:"exitCode"`
		Reason   string `json:"reason"`
	} `json:"containers"`
	Overrides struct {
		ContainerOverrides []struct {
			Environment []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"environment"`
		} `json:"containerOverrides"`
	} `json:"overrides"`
	Tags json.RawMessage `json:"tags"`
}

func ecsJob(env *envelope) (*job, bool, error) {
	var d ecsDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return nil, false, detailError(err)
	}
	if d.LastStatus == "" || d.TaskArn == "" {
		return nil, false, notify.Invalid("detail", "an ECS task state change needs lastStatus and taskArn")
	}
	switch d.LastStatus {
	case "PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING":
		return nil, false, nil
	case "STOPPED":
	default:
		return nil, false, unsupportedStatus(env.Source, d.LastStatus)
	}
	name := strings.TrimPrefix(d.Group, "family:") // group is "family:<task definition>" or "service:<name>"
	if name == "" {
		name = lastSegment(d.TaskArn)
	}
	j := &job{
		id: "ecs:" + hashHex(d.TaskArn), kind: "ECS task", name: name, arn: d.TaskArn,
		rawStatus: d.LastStatus, reason: d.StoppedReason,
	}
	// The event does not say which containers are essential, so success is
	// judged conservatively: the task stopped because an essential container
	// exited, and every container reports exit code 0.
	var codes, failed []string
	allZero := len(d.Containers) > 0
	for _, c := range d.Containers {
		switch {
		case c.ExitCode == nil:
			allZero = false
			codes = append(codes, c.Name+"=none")
			failed = append(failed, nonEmptyJoin(c.Name+" did not exit", c.Reason))
		case *c.ExitCode != 0:
			allZero = false
			codes = append(codes, c.Name+"="+strconv.Itoa(*c.ExitCode))
			failed = append(failed, nonEmptyJoin(c.Name+" exited "+strconv.Itoa(*c.ExitCode), c.Reason))
		default:
			codes = append(codes, c.Name+"=0")
		}
	}
	essentialExited := d.StopCode == "EssentialContainerExited" || (d.StopCode == "" && d.StoppedReason == "Essential container in task exited")
	if essentialExited && allZero {
		j.status, j.what = notify.JobSucceeded, "succeeded"
	} else {
		j.status, j.what = notify.JobFailed, "failed"
		if len(failed) > 0 {
			j.reason = strings.Join(nonEmpty(append([]string{d.StoppedReason}, failed...)...), "; ")
		}
	}
	j.labels = map[string]string{
		"ecs.cluster":   lastSegment(d.ClusterArn),
		"ecs.group":     d.Group,
		"ecs.stopCode":  d.StopCode,
		"ecs.exitCodes": strings.Join(codes, ","),
	}
	for _, o := range d.Overrides.ContainerOverrides {
		for _, e := range o.Environment {
			switch e.Name {
			case PolicyIDKey, policyIDEnv:
				j.policyID = e.Value
			case PolicyNameKey, policyNameEnv:
				j.policyName = e.Value
			}
		}
	}
	if j.policyID == "" {
		j.policyID, j.policyName = tagValue(d.Tags, PolicyIDKey), tagValue(d.Tags, PolicyNameKey)
	}
	if base := consoleBase(env.Region); base != "" {
		if cluster, task := lastSegment(d.ClusterArn), lastSegment(d.TaskArn); cluster != "" && task != "" {
			j.url = base + "/ecs/v2/clusters/" + url.PathEscape(cluster) + "/tasks/" + url.PathEscape(task) + "?region=" + env.Region
		}
	}
	return j, true, nil
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

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

// consoleBase is the AWS console origin for a region, or "" for a region
// that does not look like one (so nothing from the event is put in a host).
func consoleBase(region string) string {
	switch {
	case !regionPattern.MatchString(region):
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

// printable replaces control characters (newlines included) with spaces,
// for text that goes into a one-line title.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// clipRunes cuts s to at most n runes, marking the cut with "…".
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
