package ingest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

const (
	argoSamples        = "../../events/argo"
	eventBridgeSamples = "../../events/eventbridge"
)

func samples(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in %s (%v)", dir, err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestArgoSamples decodes every Argo sample: <type>-<severity>.json must be
// an event of that type and severity, policy-job-<status>.json a policy JOB
// event with that status. Every type × severity must have a sample.
func TestArgoSamples(t *testing.T) {
	files := samples(t, argoSamples)
	seen := map[string]bool{}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			evs, err := ingest.Decode(body, now, counter())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			ev := evs[0]
			base := strings.TrimSuffix(name, ".json")
			if status, ok := strings.CutPrefix(base, "policy-job-"); ok {
				if ev.Type != notify.TypeJob || ev.PolicyID == "" || string(ev.Status) != strings.ToUpper(status) {
					t.Errorf("got type %s policy %q status %s, want a JOB event with a policy and status %s", ev.Type, ev.PolicyID, ev.Status, strings.ToUpper(status))
				}
				return
			}
			typ, sev, ok := strings.Cut(base, "-")
			if !ok || string(ev.Type) != strings.ToUpper(typ) || string(ev.Severity) != strings.ToUpper(sev) {
				t.Errorf("got %s/%s, want what the file name says", ev.Type, ev.Severity)
			}
			if ev.PolicyID != "" || ev.Status != "" {
				t.Errorf("plain sample carries policy %q status %q", ev.PolicyID, ev.Status)
			}
			seen[string(ev.Type)+"/"+string(ev.Severity)] = true
		})
	}
	for _, typ := range notify.EventTypes {
		for _, sev := range notify.Severities {
			if !seen[string(typ)+"/"+string(sev)] {
				t.Errorf("no sample for %s/%s", typ, sev)
			}
		}
	}
	for _, name := range []string{"policy-job-succeeded.json", "policy-job-failed.json"} {
		if files[name] == nil {
			t.Errorf("missing sample %s", name)
		}
	}
}

// TestEventBridgeSamples maps every EventBridge sample. The file name says
// what must happen: <name>.succeeded.json and <name>.failed.json map to a
// JOB event with that status; <name>.ignored.json is acknowledged and
// dropped; <name>.unsupported.json is dropped with ErrUnsupported;
// <name>.event.json (the custom bus) maps to the Argo event in its detail.
func TestEventBridgeSamples(t *testing.T) {
	files := samples(t, eventBridgeSamples)
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			expect := strings.TrimSuffix(name, ".json")
			expect = expect[strings.LastIndexByte(expect, '.')+1:]
			ev, ok, err := ingest.FromEventBridge(body, now)
			switch expect {
			case "succeeded", "failed":
				if err != nil || !ok {
					t.Fatalf("FromEventBridge = ok %v, err %v; want an event", ok, err)
				}
				wantSev := map[string]notify.Severity{"succeeded": notify.SeverityInfo, "failed": notify.SeverityCritical}[expect]
				if ev.Type != notify.TypeJob || string(ev.Status) != strings.ToUpper(expect) || ev.Severity != wantSev {
					t.Errorf("got %s %s %s, want JOB %s %s", ev.Type, ev.Status, ev.Severity, strings.ToUpper(expect), wantSev)
				}
				if err := ev.Validate(); err != nil {
					t.Errorf("mapped event invalid: %v", err)
				}
				if !strings.Contains(ev.Title, `"`) || ev.JobID == "" || ev.Labels["job.id"] == "" || ev.Labels["job.name"] == "" {
					t.Errorf("title %q, jobId %q, labels %v: want the job named in the title and labels", ev.Title, ev.JobID, ev.Labels)
				}
				if !strings.HasPrefix(ev.URL, "https://") || !strings.Contains(ev.URL, ".console.aws.amazon.com/") {
					t.Errorf("url = %q, want a console link", ev.URL)
				}
				if !strings.Contains(string(body), "argo:policy-id") && !strings.Contains(string(body), "ARGO_POLICY_ID") {
					if ev.PolicyID != "" {
						t.Errorf("policy %q from a sample that names none", ev.PolicyID)
					}
				} else if ev.PolicyID != "nightly-etl" || ev.PolicyName != "Nightly ETL" {
					t.Errorf("policy = %q %q, want nightly-etl / Nightly ETL", ev.PolicyID, ev.PolicyName)
				}
				again, _, _ := ingest.FromEventBridge(body, now.Add(1))
				if again == nil || again.ID != ev.ID {
					t.Errorf("id not stable across deliveries: %q then %v", ev.ID, again)
				}
			case "ignored":
				if err != nil || ok || ev != nil {
					t.Errorf("FromEventBridge = %v, %v, %v; want nil, false, nil", ev, ok, err)
				}
			case "unsupported":
				if !errors.Is(err, ingest.ErrUnsupported) || ok || ev != nil {
					t.Errorf("FromEventBridge = %v, %v, %v; want ErrUnsupported", ev, ok, err)
				}
			case "event":
				if err != nil || !ok {
					t.Fatalf("FromEventBridge = ok %v, err %v; want an event", ok, err)
				}
				if err := ev.Validate(); err != nil {
					t.Errorf("mapped event invalid: %v", err)
				}
			default:
				t.Fatalf("sample name %q does not say what to expect", name)
			}
		})
	}
	// Each AWS source has a success, a failure and a non-terminal sample.
	for _, src := range []string{"batch", "stepfunctions", "codebuild", "ecs"} {
		var got []string
		for name := range files {
			if strings.HasPrefix(name, src) {
				got = append(got, name)
			}
		}
		for _, want := range []string{".succeeded.json", ".failed.json", ".ignored.json"} {
			found := false
			for _, g := range got {
				found = found || strings.HasSuffix(g, want)
			}
			if !found {
				t.Errorf("no %s sample for %s", want, src)
			}
		}
	}
}
