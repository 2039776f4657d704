package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	qlocal "github.com/argoproj-labs/argo-notify/pkg/queue/local"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/send/console"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

// Tuning of the local pipeline.
const (
	// Workers is how many queued events the dispatcher handles at once
	// (each with up to dispatch.DefaultConcurrency sends in flight). Each
	// event waits for about five commits (queue: receive, ack; store:
	// claim, outcome; plus its ingest), and concurrent events share them
	// (group commit), so more workers make larger groups: on 2 cores,
	// BenchmarkEndToEnd with 16 clients delivered 577 events/s with 8
	// workers, 1,265 with 32, 1,230 with 64. SMTP sessions stay bounded
	// by the sender's pool (8 per server), not by this.
	Workers = 32
	// RuleCacheTTL bounds how long the dispatcher reuses its rule index.
	// Rule changes made through this process's admin services invalidate
	// it at once (api.Config.OnRulesChanged);
	// the TTL only matters for changes made behind its back.
	RuleCacheTTL = 2 * time.Second
)

// pipeline is what carries an accepted event to its recipients: the
// durable queue, the router of senders and the dispatcher.
type pipeline struct {
	queue      *qlocal.Queue
	router     *channel.Registry
	dispatcher *dispatch.Dispatcher
	smtpOpts   []smtp.Option
}

// openPipeline opens the queue in dataDir and builds the router and the
// dispatcher on st. Email goes to the connected SMTP server, else to
// console (the start-up output). Close the queue after the consumer stops.
func openPipeline(cfg Config, dataDir string, st *bolt.Store, consoleOut io.Writer, log *slog.Logger, writeFault func() error) (*pipeline, error) {
	smtpOpts, err := smtpOptions(cfg.SMTPCAFile)
	if err != nil {
		return nil, err
	}
	q, err := qlocal.Open(filepath.Join(dataDir, QueueFile), qlocal.Options{Logger: log, FailWrites: writeFault})
	if err != nil {
		return nil, err
	}
	router := route.New(route.Config{
		Integrations:   st,
		Webhooks:       st,
		Secrets:        st,
		Console:        console.New(consoleOut),
		SlackAPIURL:    cfg.SlackAPIURL,
		SMTPOptions:    smtpOpts,
		WebhookOptions: webhookOptions(),
	})
	// Slack's limit per channel: a burst to one channel waits for its
	// slots, and past pace.MaxWait goes back on the queue until then.
	rate := cfg.SlackRate
	if rate <= 0 {
		rate = slack.ChannelRate
	}
	slackPace := pace.NewKeyed(rate, nil)
	slackPace.SetMaxWait(pace.MaxWait)
	d := dispatch.New(dispatch.Config{
		Rules:        st,
		Directory:    st,
		Deliveries:   st,
		Router:       pace.Router{Router: router, Channel: notify.ChannelSlack, Per: slackPace},
		Channels:     router,
		RuleCacheTTL: RuleCacheTTL,
		SendingLease: cfg.SendingLease,
		// Held deliveries (digests) are released by delayed messages on
		// the same durable queue: they survive restarts like any event.
		Scheduler: q,
		// This process holds the store's and the queue's file locks (a
		// second process on the data directory fails to open them), so a
		// delivery that was put in `sending` before now belongs to a
		// process that died: it is resent at once, not after the lease.
		ResumeBefore: time.Now().UTC().Truncate(time.Millisecond), // the precision of recorded times
		Logger:       log,
	})
	return &pipeline{queue: q, router: router, dispatcher: d, smtpOpts: smtpOpts}, nil
}

// consume runs the dispatcher on the queue until ctx is done.
func (p *pipeline) consume(ctx context.Context, _ Env) error {
	if err := p.queue.Run(ctx, p.dispatcher.Handle, Workers); err != nil {
		return fmt.Errorf("queue consumer: %w", err)
	}
	return nil
}

// smtpOptions returns the SMTP sender options: trust the certificates in
// caFile besides the system's.
func smtpOptions(caFile string) ([]smtp.Option, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", EnvSMTPCAFile, caFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", EnvSMTPCAFile, caFile)
	}
	return []smtp.Option{smtp.WithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})}, nil
}

// apiConfig is the API's configuration in local mode: the embedded store,
// and the pipeline behind ingest, dry runs and dead letters.
func (p *pipeline) apiConfig(cfg Config, st *bolt.Store, log *slog.Logger) api.Config {
	secrets := []string{cfg.IngestSecret}
	return api.Config{
		Store:         st,
		AdminToken:    cfg.AdminToken,
		Logger:        log,
		Producer:      p.queue,
		IngestSecrets: func(context.Context) ([]string, error) { return secrets, nil },
		Planner:       p.dispatcher,
		DeadLetters:   p.queue,
		SlackAPIURL:   cfg.SlackAPIURL,
		SMTPOptions:   p.smtpOpts,
		// The admin services announce every change that can change
		// matching: a rule takes effect for the next event accepted.
		OnRulesChanged: p.dispatcher.InvalidateRules,
		Webhooks:       webhookOptions(),
		SCIM:           &scim.Config{}, // /scim/v2, for identity providers
	}
}

// webhookOptions let webhooks on this machine be reached over http://
// (loopback only), for local receivers.
func webhookOptions() webhook.Options { return webhook.Options{AllowLoopbackHTTP: true} }
