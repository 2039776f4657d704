package ingest

import (
	"encoding/json"
	"net/url"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

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

// statesOutcomes are what Step Functions execution statuses mean.
var statesOutcomes = map[string]outcome{
	"RUNNING": {}, "PENDING_REDRIVE": {},
	"SUCCEEDED": succeeded, "FAILED": failed,
	"TIMED_OUT": {notify.JobFailed, "timed out"}, "ABORTED": {notify.JobFailed, "was aborted"},
}
