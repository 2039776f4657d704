// Command bench prints the table of issue 12's figures from what `make
// bench` collected in a directory: `go test -json` outputs (*.json) of the
// benchmarks and of TestInvokeTimes, and sizes.txt (one "<name> <bytes>"
// line per stripped arm64 bootstrap, hello included). Each row is the
// figure, its target, the reference measured in the same run and the
// ratio the target compares; a row whose input is missing says so.
//
// It uses the standard library only, so it runs from the _tools module
// without adding anything to the product's go.mod.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bench <directory of go test -json outputs and sizes.txt>")
		os.Exit(2)
	}
	r, err := read(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "row\tfigure\ttarget\tsame-run reference\tratio\tmet")
	for _, row := range r.rows() {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	_ = w.Flush()
}

// results are what the inputs held: benchmark metrics by benchmark name
// (without the -N suffix) and unit, cold starts in ms by function, sizes
// in bytes by function.
type results struct {
	bench map[string]map[string]float64
	cold  map[string]float64 // first invocation that does no I/O
	work  map[string]float64 // first invocation with representative work
	size  map[string]float64
	// ddbPerEvent and ddbCalls are TestDispatcherDynamoDBCalls's steady
	// state: calls per event, and the calls by operation.
	ddbPerEvent float64
	ddbCalls    string
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	coldLine  = regexp.MustCompile(`^\s*(\w+)\s+cold, no I/O\s+([\d.]+) ms\s+cold with work\s+([\d.]+) ms`)
)

func read(dir string) (*results, error) {
	r := &results{bench: map[string]map[string]float64{}, cold: map[string]float64{}, work: map[string]float64{}, size: map[string]float64{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := r.readJSON(f); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "sizes.txt"))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				r.size[f[0]] = v
			}
		}
	}
	return r, nil
}

func (r *results) readJSON(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var pending string // benchmark output may be split over events
	for sc.Scan() {
		var ev struct{ Action, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Action != "output" {
			continue
		}
		pending += ev.Output
		for {
			i := strings.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			r.line(pending[:i])
			pending = pending[i+1:]
		}
	}
	return sc.Err()
}

// ddbLine is TestDispatcherDynamoDBCalls's steady-state line, e.g.
// "steady state, per event:    6.0 (PutItem 25, TransactWriteItems 5 over 5 events)".
var ddbLine = regexp.MustCompile(`steady state, per event:\s+([0-9.]+) \(([^)]*)\)`)

func (r *results) line(l string) {
	if m := ddbLine.FindStringSubmatch(l); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			r.ddbPerEvent, r.ddbCalls = v, m[2]
		}
		return
	}
	if m := coldLine.FindStringSubmatch(l); m != nil {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			r.cold[m[1]] = v
		}
		if v, err := strconv.ParseFloat(m[3], 64); err == nil {
			r.work[m[1]] = v
		}
		return
	}
	m := benchLine.FindStringSubmatch(strings.TrimSpace(l))
	if m == nil {
		return
	}
	f := strings.Fields(m[2])
	metrics := map[string]float64{}
	for i := 0; i+1 < len(f); i += 2 {
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			metrics[f[i+1]] = v
		}
	}
	r.bench[m[1]] = metrics
}

func (r *results) metric(bench, unit string) (float64, bool) {
	v, ok := r.bench[bench][unit]
	return v, ok
}

const missing = "not measured"

func num(v float64, unit string) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func (r *results) rows() [][]string {
	var rows [][]string
	add := func(cells ...string) { rows = append(rows, cells) }

	// Throughput: the local service end to end, and the SMTP sender, each
	// against the SMTP peer's own capacity from a raw client.
	peer, peerOK := r.metric("BenchmarkPeerRaw", "msgs/s")
	peerRef := missing
	if peerOK {
		peerRef = num(peer, "msgs/s") + " (raw client, 8 sessions)"
	}
	if e2e, ok := r.metric("BenchmarkEndToEnd", "delivered-events/s"); ok && peerOK {
		add("local ingest → SMTP delivered", num(e2e, "events/s"), "≥ 5,000/s and ≥ 0.50× peer",
			peerRef, fmt.Sprintf("%.2f×", e2e/peer), yes(e2e >= 5000 && e2e >= peer/2))
	} else {
		add("local ingest → SMTP delivered", missing, "≥ 5,000/s and ≥ 0.50× peer", peerRef, "", "")
	}
	if acc, ok := r.metric("BenchmarkEndToEnd", "accepted-events/s"); ok {
		add("local ingest accepted", num(acc, "events/s"), "(figure only)", "", "", "")
	}
	for _, name := range []string{"pooled", "unpooled"} {
		if v, ok := r.metric("BenchmarkSender/"+name, "msgs/s"); ok && peerOK {
			per, _ := r.metric("BenchmarkSender/"+name, "msgs/session")
			add("SMTP sender, "+name, fmt.Sprintf("%s (%.0f msgs/session)", num(v, "msgs/s"), per), "≥ 0.50× peer",
				peerRef, fmt.Sprintf("%.2f×", v/peer), yes(v >= peer/2))
		}
	}

	// Dispatch per event and matching.
	if v, ok := r.metric("BenchmarkDispatch/embedded-workers32", "ns/op"); ok {
		ref, ratio := missing, ""
		if m, ok := r.metric("BenchmarkDispatch/memory-workers32", "ns/op"); ok {
			ref, ratio = num(m/1e6, "ms")+" (in-memory store, 32 workers)", fmt.Sprintf("%.1f×", v/m)
		}
		add("dispatch per event, embedded store, 5 recipients, 32 workers (local mode)", num(v/1e6, "ms"), "≤ 0.5 ms", ref, ratio, yes(v <= 0.5e6))
	}
	if v, ok := r.metric("BenchmarkDispatch/embedded", "ns/op"); ok {
		ref, ratio := missing, ""
		if m, ok := r.metric("BenchmarkDispatch/memory", "ns/op"); ok {
			ref, ratio = num(m/1e6, "ms")+" (in-memory store)", fmt.Sprintf("%.1f×", v/m)
		}
		add("dispatch per event, embedded store, 5 recipients, one at a time", num(v/1e6, "ms"), "(figure: two commits' latency)", ref, ratio, "")
	}
	if v, ok := r.metric("BenchmarkMatchVsAlertmanager/rules=10000/ours", "ns/op"); ok {
		ref, ratio, met := missing, "", ""
		if a, ok := r.metric("BenchmarkMatchVsAlertmanager/rules=10000/alertmanager", "ns/op"); ok {
			ref, ratio, met = num(a, "ns")+" (Alertmanager routing tree, same rules)", fmt.Sprintf("%.4f×", v/a), yes(v <= a)
		}
		add("match 10,000 rules: ns/event ours vs Alertmanager", num(v, "ns"), "≤ Alertmanager (ratio ≤ 1)", ref, ratio, met)
	} else {
		add("match 10,000 rules: ns/event ours vs Alertmanager", missing, "≤ Alertmanager (ratio ≤ 1)", "", "", "")
	}
	if v, ok := r.metric("BenchmarkMatch/rules=10000", "ns/op"); ok {
		ref, ratio := missing, ""
		if n, ok := r.metric("BenchmarkMatch/rules=10000/naive", "ns/op"); ok {
			ref, ratio = num(n, "ns")+" (naive scan)", fmt.Sprintf("%.4f×", v/n)
		}
		add("match, 10,000 rules (pkg/match)", num(v, "ns"), "(figure)", ref, ratio, "")
	}

	// Ingest latency under an open-loop load, against a bare net/http
	// handler under the same load.
	const ingestRow = "ingest p99 at 1,000 events/s (open loop, 5 s)"
	if p99, ok := r.metric("BenchmarkIngestLatency/service", "p99-ms"); ok {
		p50, _ := r.metric("BenchmarkIngestLatency/service", "p50-ms")
		mx, _ := r.metric("BenchmarkIngestLatency/service", "max-ms")
		ref, ratio := missing, ""
		if rp, ok := r.metric("BenchmarkIngestLatency/reference", "p99-ms"); ok {
			ref, ratio = num(rp, "ms")+" p99 (net/http 202 handler, same load)", fmt.Sprintf("%.1f×", p99/rp)
		}
		add(ingestRow, fmt.Sprintf("%s (p50 %s, max %s)", num(p99, "ms"), num(p50, "ms"), num(mx, "ms")), "≤ 5 ms", ref, ratio, yes(p99 <= 5))
	} else {
		add(ingestRow, missing, "≤ 5 ms", "", "", "")
	}

	// A burst to one Slack channel: the drain time at Slack's 1 post/s
	// (measured compressed), against the ideal of one post a second.
	for _, v := range []struct{ name, label string }{
		{"local", "local mode as wired (paced, put back past 5 s)"},
		{"aws-deadline", "paced, put back, 30 s handler deadline (AWS)"},
		{"unpaced", "no pacing (reference: local mode before)"},
	} {
		key, row := "BenchmarkSlackStorm/"+v.name, "storm: 1,000 events → one Slack channel, "+v.label
		const target = "0 dead letters, 0 failed, drain ≤ 1.25× ideal"
		d, ok := r.metric(key, "drain-s-at-1/s")
		ideal, idealOK := r.metric(key, "ideal-s-at-1/s")
		if !ok || !idealOK || ideal == 0 {
			add(row, missing, target, "", "", "")
			continue
		}
		m := func(unit string) int { x, _ := r.metric(key, unit); return int(x) }
		fig := fmt.Sprintf("drain %s; %d dead, %d failed; %d posts, %d×429, max receive %d, %d put back",
			num(d, "s"), m("dead"), m("failed"), m("posts"), m("rate-limited"), m("max-receives"), m("put-back"))
		add(row, fig, target, fmt.Sprintf("%s (%.0f posts at 1/s)", num(ideal, "s"), ideal),
			fmt.Sprintf("%.2f×", d/ideal), yes(m("dead") == 0 && m("failed") == 0 && d <= 1.25*ideal))
	}

	// Cold starts and sizes, against the hello-world bootstrap.
	hello, helloOK := r.cold["hello"]
	for _, fn := range []string{"api", "ingest", "dispatcher"} {
		v, ok := r.cold[fn]
		if !ok || !helloOK {
			add("cold start "+fn, missing, "≤ 1.5× hello", "", "", "")
			continue
		}
		add("cold start "+fn+" (RIE, no I/O)", num(v, "ms"), "≤ 1.5× hello", num(hello, "ms")+" (hello-world)",
			fmt.Sprintf("%.1f×", v/hello), yes(v <= 1.5*hello))
		if w, ok := r.work[fn]; ok {
			add("cold start "+fn+" (RIE, first real request)", num(w, "ms"), "(figure; includes kumo calls)",
				num(hello, "ms")+" (hello-world)", fmt.Sprintf("%.1f×", w/hello), "")
		}
	}
	const mb = 1 << 20
	helloSize, helloSizeOK := r.size["hello"]
	for _, fn := range []string{"api", "ingest", "dispatcher"} {
		v, ok := r.size[fn]
		if !ok {
			add("size "+fn, missing, "≤ 12 MB", "", "", "")
			continue
		}
		ref, ratio := missing, ""
		if helloSizeOK {
			ref, ratio = num(helloSize/mb, "MiB")+" (hello-world)", fmt.Sprintf("%.1f×", v/helloSize)
		}
		add("size "+fn+" (arm64, stripped)", fmt.Sprintf("%s (%s)", num(v/mb, "MiB"), num(v/1e6, "MB")), "≤ 12 MB", ref, ratio, yes(v <= 12e6))
	}
	if r.ddbCalls != "" {
		// The target for 5 deliveries: 6 calls, all writes (the test
		// fails on any read in steady state).
		add("DynamoDB calls per event, steady state, 5 deliveries", fmt.Sprintf("%.1f (%s)", r.ddbPerEvent, r.ddbCalls),
			"≤ 1 write/delivery + 1/event (6), 0 reads", "18-19.6 before (15 writes, 3-4.6 reads)", "", yes(r.ddbPerEvent <= 6 && !strings.Contains(r.ddbCalls, "Get") && !strings.Contains(r.ddbCalls, "Query")))
	} else {
		add("DynamoDB calls per event, steady state, 5 deliveries", missing, "≤ 1 write/delivery + 1/event (6), 0 reads", "", "", "")
	}
	return rows
}
