package ingest

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

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
	if base := consoleBase(env.Region); base != "" && accountPattern().MatchString(env.Account) && d.ProjectName != "" {
		if b := lastSegment(d.BuildID); b != "" {
			j.url = base + "/codesuite/codebuild/" + env.Account + "/projects/" + url.PathEscape(d.ProjectName) +
				"/build/" + url.PathEscape(b) + "/?region=" + env.Region
		}
	}
	return j, true, nil
}

// codeBuildOutcomes are what CodeBuild build statuses mean.
var codeBuildOutcomes = map[string]outcome{
	"IN_PROGRESS": {},
	"SUCCEEDED":   succeeded, "FAILED": failed,
	"STOPPED": {notify.JobFailed, "was stopped"}, "FAULT": {notify.JobFailed, "faulted"},
	"TIMED_OUT": {notify.JobFailed, "timed out"},
}
