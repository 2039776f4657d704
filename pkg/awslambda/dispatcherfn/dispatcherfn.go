// Package dispatcherfn is the dispatcher Lambda function: SQS batches of
// events, matched and delivered by email and Slack, with partial batch
// failures. It imports the SDK service packages the function calls
// (DynamoDB, SQS, SES, Secrets Manager) and neither the admin API nor the
// console.
package dispatcherfn

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda/fn"
	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/metric"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/send/ses"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// Main is the dispatcher function's main.
func Main() {
	fn.Main("dispatcher", func(awsCfg aws.Config, cfg fn.Config, o fn.Options) (any, error) {
		h, err := New(cfg, Clients{
			DynamoDB:       dynamodb.NewFromConfig(awsCfg),
			SQS:            sqs.NewFromConfig(awsCfg),
			SES:            sesv2.NewFromConfig(awsCfg),
			SecretsManager: secretsmanager.NewFromConfig(awsCfg),
		}, o)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

// SQS is the part of the SQS client the dispatcher calls (delayed
// messages and visibility changes). *sqs.Client implements it.
type SQS interface {
	sqsqueue.BatchSender
	sqsqueue.VisibilityChanger
}

// Clients are the SDK clients the dispatcher function calls. SES may be nil
// when ARGO_NOTIFY_EMAIL_FROM is not set.
type Clients struct {
	DynamoDB       dynamo.API        // *dynamodb.Client
	SQS            SQS               // *sqs.Client
	SES            ses.Client        // *sesv2.Client
	SecretsManager awssecrets.Client // *secretsmanager.Client
}

// RuleCacheTTL is how long a warm dispatcher reuses the rules it read: a
// rule changed through the api takes effect within this time.
const RuleCacheTTL = 15 * time.Second

// IntegrationReadTTL is how long a warm dispatcher reuses what it read of
// the SMTP and Slack integrations: connecting or disconnecting one takes
// effect within this time. It saves a Query and a GetItem per delivery.
const IntegrationReadTTL = 10 * time.Second

// deadlineMargin is kept free before the function's deadline, so the
// records not handled by then are reported as failed (and retried) instead
// of the whole batch timing out.
const deadlineMargin = 2 * time.Second

// Dispatcher is the handler of the dispatcher function: it runs
// dispatch.Dispatcher over the records of an SQS event and reports the
// records to retry as batch item failures (the event source mapping must
// enable ReportBatchItemFailures).
type Dispatcher struct {
	consumer *sqsqueue.Consumer
	disp     *dispatch.Dispatcher
}

// New returns the dispatcher function's handler. It needs
// ARGO_NOTIFY_TABLE and ARGO_NOTIFY_QUEUE_URL. Email goes to the SMTP
// server connected through the api if there is one, else through SES from
// ARGO_NOTIFY_EMAIL_FROM (with ARGO_NOTIFY_SES_CONFIGURATION_SET); with
// neither, email deliveries are recorded as skipped. Slack messages go to
// the connected workspace (at ARGO_NOTIFY_SLACK_API_URL if set).
func New(cfg fn.Config, c Clients, opts fn.Options) (*Dispatcher, error) {
	opts = opts.WithDefaults()
	err := fn.Require("dispatcher", [2]string{fn.EnvTable, cfg.Table}, [2]string{fn.EnvQueueURL, cfg.QueueURL})
	if err != nil {
		return nil, err
	}
	if err := fn.CheckSlackURL("dispatcher", cfg.SlackAPIURL); err != nil {
		return nil, err
	}
	st := dynamo.New(c.DynamoDB, cfg.Table)
	rc := route.Config{
		Integrations: st,
		Webhooks:     st,
		Secrets:      awssecrets.New(c.SecretsManager, awssecrets.Config{Prefix: cfg.SecretPrefix}),
		SlackAPIURL:  cfg.SlackAPIURL,
		ReadTTL:      IntegrationReadTTL,
		Now:          opts.Now,
	}
	instances := cfg.DispatcherConcurrency
	if instances < 1 {
		instances = deploy.DefaultDispatcherConcurrency
	}
	ns := cfg.MetricNamespace
	if ns == "" {
		ns = deploy.DefaultMetricNamespace
	}
	metrics := metric.NewEMF(opts.Metrics, ns, opts.Now)
	if cfg.EmailFrom != "" {
		sc := ses.Config{From: cfg.EmailFrom, ConfigurationSet: cfg.SESConfigurationSet, Instances: instances, Now: opts.Now, Logger: opts.Logger}
		if q, ok := c.SES.(ses.QuotaReader); ok {
			sc.Quota = q // *sesv2.Client: paced to the account's send rate
		}
		s, err := ses.New(c.SES, sc)
		if err != nil {
			return nil, err
		}
		rc.SES = accountErrorCounter{Sender: s, metrics: metrics, log: opts.Logger}
	} else {
		opts.Logger.Warn("dispatcher: " + fn.EnvEmailFrom + " is not set: email goes only to a connected SMTP server")
	}
	reg := route.New(rc)
	// Slack's limit per channel, shared by the dispatcher's instances; a
	// send further than pace.MaxWait from its slot puts the event back on
	// the queue (no receive spent) instead of sleeping in the function.
	slackPace := pace.NewKeyed(slack.ChannelRate/float64(instances), opts.Now)
	slackPace.SetMaxWait(pace.MaxWait)
	disp := dispatch.New(dispatch.Config{
		Rules:        st,
		Directory:    st,
		Deliveries:   failedCounter{Deliveries: st, metrics: metrics, log: opts.Logger},
		Router:       pace.Router{Router: reg, Channel: notify.ChannelSlack, Per: slackPace},
		Channels:     reg,
		RuleCacheTTL: RuleCacheTTL,
		// Held deliveries (digests) are released by delayed messages on
		// the event queue (DelaySeconds, then visibility for the rest).
		Scheduler: sqsqueue.NewProducer(c.SQS, cfg.QueueURL),
		Now:       opts.Now,
		Logger:    opts.Logger,
	})
	// On AWS the queue's redrive policy decides the last chance: what
	// still fails transiently after deploy.MaxReceiveCount receives goes
	// to the dead-letter queue (alarmed, redrivable), not to `failed`.
	consumer := sqsqueue.NewConsumer(c.SQS, cfg.QueueURL, opts.Logger, sqsqueue.LeaveLastReceiveToRedrive())
	return &Dispatcher{consumer: consumer, disp: disp}, nil
}

// failedCounter counts each delivery recorded failed, per channel, in the
// MetricDeliveriesFailed embedded metric the stack alarms on.
type failedCounter struct {
	store.Deliveries
	metrics *metric.EMF
	log     *slog.Logger
}

func (f failedCounter) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	err := f.Deliveries.UpdateDelivery(ctx, d)
	if err == nil && d.Status == notify.DeliveryFailed {
		if merr := f.metrics.Count(deploy.MetricDeliveriesFailed, 1, map[string]string{deploy.DimChannel: string(d.Channel)}); merr != nil {
			f.log.WarnContext(ctx, "dispatcher: metric not written", "err", merr)
		}
	}
	return err
}

// accountErrorCounter counts SES refusals caused by the account's setup
// (sandbox, unverified sender, paused sending, AccessDenied), which are
// retried, in the MetricSESAccountErrors embedded metric the stack alarms
// on: only a person can fix them.
type accountErrorCounter struct {
	send.Sender
	metrics *metric.EMF
	log     *slog.Logger
}

func (a accountErrorCounter) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	res, err := a.Sender.Send(ctx, n)
	if _, ok := errors.AsType[*ses.AccountError](err); ok {
		a.log.ErrorContext(ctx, "dispatcher: SES refused the send for the account's setup; retried until fixed", "err", err)
		if merr := a.metrics.Count(deploy.MetricSESAccountErrors, 1, nil); merr != nil {
			a.log.WarnContext(ctx, "dispatcher: metric not written", "err", merr)
		}
	}
	return res, err
}

// Handle dispatches the events of one SQS batch. It never fails the batch
// as a whole: each record that must come back is in BatchItemFailures.
func (d *Dispatcher) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	return d.consumer.HandleBatch(ctx, ev, d.disp.Handle), nil
}
