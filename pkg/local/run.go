package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/console"
	qlocal "github.com/argoproj-labs/argo-notify/pkg/queue/local"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

// ShutdownTimeout bounds how long in-flight requests may take to finish
// once shutdown starts.
const ShutdownTimeout = 10 * time.Second

// Env is what local mode has opened, handed to the extensions in Options:
// the store, the logger and the resolved configuration (secrets included).
type Env struct {
	Config  Config // AdminToken and IngestSecret are resolved (never empty)
	DataDir string // absolute
	Store   *bolt.Store
	Queue   *qlocal.Queue // the durable queue of accepted events
	Logger  *slog.Logger
}

// Options extend local mode. Everything is optional.
type Options struct {
	// Stdout receives the start-up block. Default: io.Discard.
	Stdout io.Writer
	// Logger receives the logs. Default: slog.Default().
	Logger *slog.Logger

	// Handler wraps the admin API handler, to mount more routes beside it
	// (e.g. POST /v1/events, whose HMAC check replaces the bearer token).
	// Default: the admin API alone.
	Handler func(env Env, admin http.Handler) http.Handler
	// Background functions start once the store is open and the listener
	// bound, each in its own goroutine, beside the built-in queue consumer
	// (the dispatcher). Their context is cancelled after the HTTP server has
	// shut down (so requests in flight can still enqueue); Run waits for
	// them to return before closing the store. A Background function that
	// fails stops the whole service.
	Background []func(ctx context.Context, env Env) error
	// Ready, if set, is called with the bound address once the server
	// accepts connections.
	Ready func(addr net.Addr)

	shutdownStarted func()       // tests: called when graceful shutdown begins
	queueWriteFault func() error // tests: an error fails every queue write, as a full disk would
}

// Run serves local mode until ctx is cancelled (main cancels it on SIGINT
// or SIGTERM), then shuts down gracefully: it stops accepting connections,
// lets in-flight requests finish for up to ShutdownTimeout, stops the
// Background functions and closes the store. It returns nil after a clean
// shutdown.
func Run(ctx context.Context, cfg Config, opts Options) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}

	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("resolve data directory %s: %w", cfg.DataDir, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	token, err := loadSecret(dataDir, AdminTokenFile, cfg.AdminToken)
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	ingest, err := loadSecret(dataDir, IngestSecretFile, cfg.IngestSecret)
	if err != nil {
		return fmt.Errorf("ingest secret: %w", err)
	}
	cfg.AdminToken, cfg.IngestSecret = token.value, ingest.value

	st, err := bolt.Open(filepath.Join(dataDir, StoreFile))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	pipe, err := openPipeline(cfg, dataDir, st, stdout, log, opts.queueWriteFault)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := pipe.queue.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	env := Env{Config: cfg, DataDir: dataDir, Store: st, Queue: pipe.queue, Logger: log}

	apiHandler := api.New(pipe.apiConfig(cfg, st, log))
	var handler http.Handler = scim.Beside(apiHandler, console.Beside(apiHandler)) // /scim/v2 is the API's, not the console's
	if opts.Handler != nil {
		handler = opts.Handler(env, handler)
	}
	background := append([]func(context.Context, Env) error{pipe.consume}, opts.Background...)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set %s to another host:port): %w", cfg.Addr, EnvAddr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if opts.shutdownStarted != nil {
		srv.RegisterOnShutdown(opts.shutdownStarted)
	}

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	failed := make(chan error, len(background)+1)
	var bg sync.WaitGroup
	for _, run := range background {
		bg.Go(func() {
			if err := run(bgCtx, env); err != nil && !errors.Is(err, context.Canceled) {
				failed <- err
			}
		})
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("serve HTTP: %w", err)
		}
	}()

	printStartup(stdout, ln.Addr(), dataDir, token, ingest)
	log.Info("argo-notify started", "addr", ln.Addr().String(), "data", dataDir)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight", "timeout", ShutdownTimeout.String())
	case runErr = <-failed:
		log.Error("stopping after a failure", "err", runErr.Error())
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight were cut off", "err", err.Error())
		srv.Close()
	}
	stopBackground()
	bg.Wait()
	log.Info("argo-notify stopped")
	return runErr
}

// printStartup writes the block a newcomer reads after `make run`.
func printStartup(w io.Writer, addr net.Addr, dataDir string, token, ingest secret) {
	base := "http://" + displayAddr(addr)
	origin := func(s secret, env string) string {
		switch {
		case s.file == "":
			return "from " + env
		case s.fresh:
			return "generated, kept in " + s.file
		}
		return "kept in " + s.file
	}
	fmt.Fprintf(w, `argo-notify is running (local mode). Ctrl-C stops it.
  console        %s/#token=%s   (one-click sign-in; the token stays in the URL fragment)
  API            %s/v1   (OpenAPI document: %s/v1/openapi.json, with the token)
  admin token    %s   (%s)
  ingest secret  %s   (%s)
  data           %s
  events         POST %s/v1/events, signed with the ingest secret (make demo sends samples)
  email          printed here until an SMTP server is connected (POST /v1/integrations/smtp)
  try it:        curl -H "Authorization: Bearer %s" %s/v1/rules
`, base, strings.ReplaceAll(url.QueryEscape(token.value), "+", "%20"), base, base, token.value, origin(token, EnvAdminToken), ingest.value, origin(ingest, EnvIngestSecret), dataDir, base, token.value, base)
}

// displayAddr is addr as a client on this machine reaches it.
func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// NewLogger returns a JSON logger on w, or a text logger when w is a
// terminal (a person reads it).
func NewLogger(w *os.File) *slog.Logger {
	if fi, err := w.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
