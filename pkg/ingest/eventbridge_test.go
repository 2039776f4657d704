package ingest_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// ebEvent builds an EventBridge event around detail.
func ebEvent(source, detailType, region string, detail any) []byte {
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "11111111-2222-3333-4444-555555555555", "detail-type": detailType, "source": source,
		"account": "123456789012", "time": "2026-11-26T02:00:00Z", "region": region, "resources": []string{}, "detail": detail,
	})
	if err != nil {
		panic(err)
	}
	return b
}

type obj = map[string]any

func ecsTask(stopCode, reason string, containers ...obj) obj {
	cs := make([]any, len(containers))
	for i, c := range containers {
		cs[i] = c
	}
	return obj{
		"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/0123", "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
		"group": "family:job", "lastStatus": "STOPPED", "stopCode": stopCode, "stoppedReason": reason, "containers": cs,
	}
}

func exited(name string, code int) obj { return obj{"name": name, "exitCode": code} }

func TestFromEventBridge(t *testing.T) {
	batch := func(status string, extra obj) obj {
		d := obj{"jobArn": "arn:aws:batch:us-east-1:123456789012:job/j-1", "jobName": "nightly", "jobId": "j-1", "status": status}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	sfn := func(status string, input any) obj {
		return obj{"executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:run", "name": "run", "status": status, "input": input}
	}
	cb := func(status string, vars ...obj) obj {
		vs := make([]any, len(vars))
		for i, v := range vars {
			vs[i] = v
		}
		return obj{"build-status": status, "project-name": "p", "build-id": "arn:aws:codebuild:us-east-1:123456789012:build/p:u",
			"additional-information": obj{"environment": obj{"environment-variables": vs}}}
	}
	type want struct {
		status   notify.JobStatus // "" = no event
		what     string           // a fragment of the title
		policyID string
		url      string // a fragment of the url; "-" = no url
		label    [2]string
	}
	tests := []struct {
		name string
		raw  []byte
		want want
	}{
		{"batch succeeded", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("SUCCEEDED", nil)), want{status: notify.JobSucceeded, what: `AWS Batch job "nightly" succeeded`, url: "#jobs/detail/j-1"}},
		{"batch tag policy (object)", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("FAILED", obj{"tags": obj{"argo:policy-id": "p-1"}})), want{status: notify.JobFailed, what: "failed", policyID: "p-1"}},
		{"batch tag policy (list)", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("FAILED", obj{"tags": []obj{{"key": "argo:policy-id", "value": "p-2"}}})), want{status: notify.JobFailed, policyID: "p-2"}},
		{"batch tags of another shape ignored", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("FAILED", obj{"tags": 7})), want{status: notify.JobFailed}},
		{"batch invalid policy id kept out", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("FAILED", obj{"tags": obj{"argo:policy-id": "bad id!"}})), want{status: notify.JobFailed, label: [2]string{"policyIdIgnored", "not a valid policy id"}}},
		{"batch pending", ebEvent("aws.batch", "Batch Job State Change", "us-east-1", batch("RUNNABLE", nil)), want{}},
		{"batch bad region: no url", ebEvent("aws.batch", "Batch Job State Change", "evil.com/x", batch("FAILED", nil)), want{status: notify.JobFailed, url: "-"}},
		{"china region", ebEvent("aws.batch", "Batch Job State Change", "cn-north-1", batch("FAILED", nil)), want{status: notify.JobFailed, url: "https://cn-north-1.console.amazonaws.cn/"}},
		{"govcloud region", ebEvent("aws.batch", "Batch Job State Change", "us-gov-west-1", batch("FAILED", nil)), want{status: notify.JobFailed, url: "https://console.amazonaws-us-gov.com/"}},
		{"sfn aborted", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("ABORTED", nil)), want{status: notify.JobFailed, what: "was aborted"}},
		{"sfn timed out", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("TIMED_OUT", nil)), want{status: notify.JobFailed, what: "timed out"}},
		{"sfn policy from input", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("SUCCEEDED", `{"argo:policy-id":"p-3"}`)), want{status: notify.JobSucceeded, policyID: "p-3"}},
		{"sfn input not an object", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("SUCCEEDED", `[1]`)), want{status: notify.JobSucceeded}},
		{"sfn policy id not a string", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("SUCCEEDED", `{"argo:policy-id":5}`)), want{status: notify.JobSucceeded}},
		{"sfn redrive pending", ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", sfn("PENDING_REDRIVE", nil)), want{}},
		{"codebuild stopped", ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", cb("STOPPED")), want{status: notify.JobFailed, what: "was stopped", url: "/projects/p/build/p:u/"}},
		{"codebuild fault", ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", cb("FAULT")), want{status: notify.JobFailed, what: "faulted"}},
		{"codebuild policy from variable", ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", cb("SUCCEEDED", obj{"name": "argo:policy-id", "value": "p-4", "type": "PLAINTEXT"})), want{status: notify.JobSucceeded, policyID: "p-4"}},
		{"codebuild secret variable not read", ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", cb("SUCCEEDED", obj{"name": "ARGO_POLICY_ID", "value": "arn:secret", "type": "SECRETS_MANAGER"})), want{status: notify.JobSucceeded}},
		{"ecs all exited 0", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("EssentialContainerExited", "Essential container in task exited", exited("a", 0), exited("b", 0))), want{status: notify.JobSucceeded, what: `ECS task "job" succeeded`, url: "/ecs/v2/clusters/c/tasks/0123"}},
		{"ecs one non-zero", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("EssentialContainerExited", "Essential container in task exited", exited("a", 0), exited("b", 2))), want{status: notify.JobFailed, label: [2]string{"ecs.exitCodes", "a=0,b=2"}}},
		{"ecs container without exit code", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("EssentialContainerExited", "x", exited("a", 0), obj{"name": "b", "reason": "CannotPullContainerError"})), want{status: notify.JobFailed}},
		{"ecs stopped by user", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("UserInitiated", "Task stopped by user", exited("a", 0))), want{status: notify.JobFailed}},
		{"ecs failed to start", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("TaskFailedToStart", "CannotPullContainerError")), want{status: notify.JobFailed}},
		{"ecs policy from tags", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", func() obj {
			d := ecsTask("EssentialContainerExited", "", exited("a", 0))
			d["tags"] = []obj{{"key": "argo:policy-id", "value": "p-5"}}
			return d
		}()), want{status: notify.JobSucceeded, policyID: "p-5"}},
		{"ecs deprovisioning", ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", obj{"taskArn": "arn:x/t", "lastStatus": "DEPROVISIONING"}), want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok, err := ingest.FromEventBridge(tc.raw, now)
			if err != nil {
				t.Fatalf("FromEventBridge: %v", err)
			}
			if tc.want.status == "" {
				if ok || ev != nil {
					t.Fatalf("got an event %+v for a non-terminal state", ev)
				}
				return
			}
			if !ok || ev == nil {
				t.Fatal("got no event")
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("mapped event invalid: %v", err)
			}
			if ev.Status != tc.want.status || ev.Type != notify.TypeJob {
				t.Errorf("got %s %s, want JOB %s", ev.Type, ev.Status, tc.want.status)
			}
			if !strings.Contains(ev.Title, tc.want.what) {
				t.Errorf("title %q does not contain %q", ev.Title, tc.want.what)
			}
			if ev.PolicyID != tc.want.policyID {
				t.Errorf("policy = %q, want %q", ev.PolicyID, tc.want.policyID)
			}
			switch tc.want.url {
			case "":
			case "-":
				if ev.URL != "" {
					t.Errorf("url = %q, want none", ev.URL)
				}
			default:
				if !strings.Contains(ev.URL, tc.want.url) {
					t.Errorf("url = %q, want it to contain %q", ev.URL, tc.want.url)
				}
			}
			if k := tc.want.label[0]; k != "" && ev.Labels[k] != tc.want.label[1] {
				t.Errorf("label %s = %q, want %q", k, ev.Labels[k], tc.want.label[1])
			}
		})
	}
}

func TestFromEventBridgeIDs(t *testing.T) {
	a := ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", ecsTask("EssentialContainerExited", "", exited("a", 0)))
	var m map[string]any
	_ = json.Unmarshal(a, &m)
	m["id"] = "99999999-2222-3333-4444-555555555555" // a second STOPPED event for the same task
	b, _ := json.Marshal(m)
	evA, _, _ := ingest.FromEventBridge(a, now)
	evB, _, _ := ingest.FromEventBridge(b, now)
	if evA == nil || evB == nil || evA.ID != evB.ID || !strings.HasPrefix(evA.ID, "ecs:") {
		t.Errorf("ECS ids %v, %v: want one id per task", evA, evB)
	}

	weird := ebEvent("aws.batch", "Batch Job State Change", "us-east-1", obj{"jobId": "j", "status": "FAILED"})
	_ = json.Unmarshal(weird, &m)
	m["id"] = "not an id / with spaces"
	weird, _ = json.Marshal(m)
	ev, ok, err := ingest.FromEventBridge(weird, now)
	if err != nil || !ok || !notify.ValidID(ev.ID) || !strings.HasPrefix(ev.ID, "eb:") {
		t.Errorf("event with an odd EventBridge id: %v %v %v", ev, ok, err)
	}
}

func TestFromEventBridgeArgoBus(t *testing.T) {
	withID := ebEvent("argo", "Argo Event", "us-east-1", obj{"id": "own-id", "type": "SYSTEM", "severity": "CRITICAL", "title": "down"})
	ev, ok, err := ingest.FromEventBridge(withID, now)
	if err != nil || !ok || ev.ID != "own-id" || ev.Type != notify.TypeSystem || !ev.ReceivedAt.Equal(now) || ev.OccurredAt.IsZero() {
		t.Errorf("argo event with id: %+v %v %v", ev, ok, err)
	}
	noID := ebEvent("argo", "Argo Event", "us-east-1", obj{"type": "SYSTEM", "severity": "CRITICAL", "title": "down"})
	ev, ok, err = ingest.FromEventBridge(noID, now)
	if err != nil || !ok || ev.ID != "eb:11111111-2222-3333-4444-555555555555" {
		t.Errorf("argo event without id: %+v %v %v", ev, ok, err)
	}
}

func TestFromEventBridgeRejects(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		unsupported bool   // want ErrUnsupported rather than EInvalid
		field       string // for EInvalid: the field named
	}{
		{name: "not JSON", raw: `{`, field: "body"},
		{name: "not an object", raw: `[1]`, field: "body"},
		{name: "empty", raw: ``, field: "body"},
		{name: "no id", raw: `{"source":"aws.batch","detail-type":"Batch Job State Change","time":"2026-11-26T02:00:00Z","detail":{}}`, field: "body"},
		{name: "no source", raw: `{"id":"x","detail-type":"Batch Job State Change","time":"2026-11-26T02:00:00Z","detail":{}}`, field: "body"},
		{name: "id of the wrong type", raw: `{"id":5,"source":"aws.batch","detail-type":"d","detail":{}}`, field: "body"},
		{name: "detail missing", raw: `{"id":"x","source":"aws.batch","detail-type":"Batch Job State Change","time":"2026-11-26T02:00:00Z"}`, field: "detail"},
		{name: "detail not an object", raw: `{"id":"x","source":"aws.batch","detail-type":"Batch Job State Change","time":"2026-11-26T02:00:00Z","detail":"s"}`, field: "detail"},
		{name: "bad time", raw: `{"id":"x","source":"aws.batch","detail-type":"Batch Job State Change","time":"yesterday","detail":{}}`, field: "time"},
		{name: "batch without status", raw: string(ebEvent("aws.batch", "Batch Job State Change", "us-east-1", obj{"jobId": "j"})), field: "detail"},
		{name: "batch without job", raw: string(ebEvent("aws.batch", "Batch Job State Change", "us-east-1", obj{"status": "FAILED"})), field: "detail"},
		{name: "batch status not a string", raw: string(ebEvent("aws.batch", "Batch Job State Change", "us-east-1", obj{"jobId": "j", "status": 3})), field: "detail.status"},
		{name: "sfn without arn", raw: string(ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", obj{"status": "FAILED"})), field: "detail"},
		{name: "codebuild without build id", raw: string(ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", obj{"build-status": "FAILED"})), field: "detail"},
		{name: "ecs without task", raw: string(ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", obj{"lastStatus": "STOPPED"})), field: "detail"},
		{name: "ecs containers not a list", raw: string(ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", obj{"taskArn": "t", "lastStatus": "STOPPED", "containers": 1})), field: "detail.containers"},
		{name: "argo bus: invalid event", raw: string(ebEvent("argo", "Argo Event", "us-east-1", obj{"type": "JOB", "severity": "LOUD", "title": "x"})), field: "detail.severity"},
		{name: "argo bus: unknown field", raw: string(ebEvent("argo", "Argo Event", "us-east-1", obj{"type": "JOB", "severity": "INFO", "title": "x", "x": 1})), field: "detail.x"},
		{name: "unknown detail-type", raw: string(ebEvent("aws.ec2", "EC2 Instance State-change Notification", "us-east-1", obj{})), unsupported: true},
		{name: "known detail-type from another source", raw: string(ebEvent("custom.app", "Batch Job State Change", "us-east-1", obj{})), unsupported: true},
		{name: "unknown batch status", raw: string(ebEvent("aws.batch", "Batch Job State Change", "us-east-1", obj{"jobId": "j", "status": "VAPORIZED"})), unsupported: true},
		{name: "unknown sfn status", raw: string(ebEvent("aws.states", "Step Functions Execution Status Change", "us-east-1", obj{"executionArn": "e", "status": "PAUSED"})), unsupported: true},
		{name: "unknown codebuild status", raw: string(ebEvent("aws.codebuild", "CodeBuild Build State Change", "us-east-1", obj{"build-id": "b", "build-status": "QUEUED"})), unsupported: true},
		{name: "unknown ecs status", raw: string(ebEvent("aws.ecs", "ECS Task State Change", "us-east-1", obj{"taskArn": "t", "lastStatus": "ZOMBIE"})), unsupported: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok, err := ingest.FromEventBridge([]byte(tc.raw), now)
			if ok || ev != nil || err == nil {
				t.Fatalf("FromEventBridge = %v, %v, %v; want an error", ev, ok, err)
			}
			if tc.unsupported {
				if !errors.Is(err, ingest.ErrUnsupported) {
					t.Errorf("err = %v, want ErrUnsupported", err)
				}
				return
			}
			var ne *notify.Error
			if !errors.As(err, &ne) || ne.Code != notify.EInvalid {
				t.Fatalf("err = %v, want code invalid", err)
			}
			if len(ne.Fields) == 0 || ne.Fields[0].Field != tc.field {
				t.Errorf("fields = %+v, want %q first", ne.Fields, tc.field)
			}
		})
	}
}
