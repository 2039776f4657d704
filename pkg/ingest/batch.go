package ingest

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

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

// batchOutcomes are what AWS Batch job statuses mean.
var batchOutcomes = map[string]outcome{
	"SUBMITTED": {}, "PENDING": {}, "RUNNABLE": {}, "STARTING": {}, "RUNNING": {},
	"SUCCEEDED": succeeded, "FAILED": failed,
}
