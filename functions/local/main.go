// Command local runs all of argo-notify in one process on this machine
// (`make run`): the admin API and event ingest on the embedded store, and
// the dispatcher delivering queued events (to the console until an SMTP
// server is connected). Configuration comes
// from the ARGO_NOTIFY_* environment variables (see pkg/local).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/argoproj-labs/argo-notify/pkg/local"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process at once
	}()
	logger := local.NewLogger(os.Stderr)
	err := local.Run(ctx, local.ConfigFromEnv(os.Getenv), local.Options{Stdout: os.Stdout, Logger: logger})
	if err != nil {
		logger.Error("argo-notify failed", "err", err.Error())
		os.Exit(1)
	}
}
