// Package amref measures argo-notify's rule matcher (pkg/match) against
// Prometheus Alertmanager's routing tree on the same generated rules and
// events, in one process: the reference row of `make bench` (issue 12).
//
// It is its own module so that Alertmanager and its dependencies stay out
// of the product's go.mod. Each rule becomes a child route of one root
// with continue: true, so Route.Match returns every matching route as
// match.Index.Match returns every matching rule:
//
//   - a user rule: type=~"A|B", severity=~"…" (its event types and
//     severities);
//   - a policy rule: type="JOB", policy="<id>", status=~"FAILED|SUCCEEDED"
//     (the outcomes it fires on), whatever the severity;
//   - a disabled rule: no route (match.New leaves it out too).
//
// Run with:
//
//	go test -run '^$' -bench . ./   (from _tools/amref)
package amref
