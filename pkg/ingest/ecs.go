package ingest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

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
