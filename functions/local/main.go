// Command local runs all of argo-notify in one process on this machine
// (`make run`): the admin API and event ingest on the embedded store, and
// the dispatcher delivering queued events (to the console until an SMTP
// server is connected).
//
// Wiring only, in the shape of every functions/*/main.go: main builds the
// logger and reports what run returns; run reads the configuration (the
// ARGO_NOTIFY_* environment variables, see pkg/local) and serves until
// SIGINT or SIGTERM.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/argoproj-labs/argo-notify/pkg/local"
)

func main() {
	logger := local.NewLogger(os.Stderr)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("argo-notify failed", "err", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process at once
	}()
	return local.Run(ctx, local.ConfigFromEnv(os.Getenv), local.Options{Stdout: os.Stdout, Logger: logger})
}
