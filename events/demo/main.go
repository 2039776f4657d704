// Command demo signs the sample Argo events in events/argo and posts them,
// one request each, to a running argo-notify (`make run`), printing what the
// server answered.
//
//	go run ./events/demo [-url http://127.0.0.1:8080] [-dir events/argo] [-batch]
//
// The URL defaults to http:// and the address `make run` listens on:
// $ARGO_NOTIFY_ADDR (host:port), else 127.0.0.1:8080; -url points it at
// another deployment (the API URL of the AWS stack, say). The
// ingest secret is $ARGO_NOTIFY_INGEST_SECRET, else the file ingest-secret in
// the data directory ($ARGO_NOTIFY_DATA, default ./.argo-notify) that `make
// run` writes. The secret is never printed.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs passed in so a test can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	base := fs.String("url", localURL(getenv("ARGO_NOTIFY_ADDR")), "argo-notify base URL (default: http:// and $ARGO_NOTIFY_ADDR, as make run)")
	dir := fs.String("dir", "events/argo", "directory of sample Argo events (*.json)")
	batch := fs.Bool("batch", false, "post every sample in one request (a JSON array) instead of one request each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret, err := ingestSecret(getenv)
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil {
		return fmt.Errorf("list samples: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("no *.json samples in %s (run from the repository root, or pass -dir)", *dir)
	}
	sort.Strings(files)
	endpoint := strings.TrimSuffix(*base, "/") + "/v1/events"
	client := &http.Client{Timeout: 10 * time.Second}

	if *batch {
		var parts [][]byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("read sample: %w", err)
			}
			parts = append(parts, bytes.TrimSpace(b))
		}
		body := append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
		return post(ctx, client, endpoint, secret, fmt.Sprintf("%d samples", len(files)), body, out)
	}
	failed := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read sample: %w", err)
		}
		if err := post(ctx, client, endpoint, secret, filepath.Base(f), body, out); err != nil {
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(out, "  %v\n", err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d samples were not accepted", failed, len(files))
	}
	fmt.Fprintf(out, "posted %d samples to %s\n", len(files), endpoint)
	return nil
}

func post(ctx context.Context, client *http.Client, endpoint, secret, name string, body []byte, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ingest.SignatureHeader, ingest.Sign(secret, body, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w (is `make run` running?)", name, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "%-32s %d %s\n", name, resp.StatusCode, bytes.TrimSpace(answer))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("post %s: status %d", name, resp.StatusCode)
	}
	return nil
}

// ingestSecret finds the ingest secret: the environment, else the file the
// local service keeps in its data directory.
func ingestSecret(getenv func(string) string) (string, error) {
	if s := getenv("ARGO_NOTIFY_INGEST_SECRET"); s != "" {
		return s, nil
	}
	path := filepath.Join(firstOf(getenv("ARGO_NOTIFY_DATA"), ".argo-notify"), "ingest-secret")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no ingest secret: set ARGO_NOTIFY_INGEST_SECRET or start `make run` once so it writes %s", path)
	}
	if err != nil {
		return "", fmt.Errorf("read ingest secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("ingest secret file %s is empty", path)
	}
	return s, nil
}

// localURL is the base URL of a local service listening on addr (host:port,
// as ARGO_NOTIFY_ADDR takes it; "" is the default 127.0.0.1:8080). A
// wildcard or empty host is reached on 127.0.0.1.
func localURL(addr string) string {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
