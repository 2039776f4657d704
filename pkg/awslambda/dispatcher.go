package awslambda

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/send/ses"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

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

// NewDispatcher returns the dispatcher function's handler. It needs
// ARGO_NOTIFY_TABLE and ARGO_NOTIFY_QUEUE_URL. Email goes to the SMTP
// server connected through the api if there is one, else through SES from
// ARGO_NOTIFY_EMAIL_FROM (with ARGO_NOTIFY_SES_CONFIGURATION_SET); with
// neither, email deliveries are recorded as skipped. Slack messages go to
// the connected workspace (at ARGO_NOTIFY_SLACK_API_URL if set).
func NewDispatcher(cfg Config, c Clients, opts Options) (*Dispatcher, error) {
	opts = opts.withDefaults()
	err := require("dispatcher", [2]string{EnvTable, cfg.Table}, [2]string{EnvQueueURL, cfg.QueueURL})
	if err != nil {
		return nil, err
	}
	if err := checkSlackURL("dispatcher", cfg.SlackAPIURL); err != nil {
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
	if cfg.EmailFrom != "" {
		s, err := ses.New(c.SES, ses.Config{From: cfg.EmailFrom, ConfigurationSet: cfg.SESConfigurationSet})
		if err != nil {
			return nil, err
		}
		rc.SES = s
	} else {
		opts.Logger.Warn("dispatcher: " + EnvEmailFrom + " is not set: email goes only to a connected SMTP server")
	}
	disp := dispatch.New(dispatch.Config{
		Rules:        st,
		Directory:    st,
		Deliveries:   st,
		Router:       route.New(rc),
		RuleCacheTTL: RuleCacheTTL,
		Now:          opts.Now,
		Logger:       opts.Logger,
	})
	return &Dispatcher{consumer: sqsqueue.NewConsumer(c.SQS, cfg.QueueURL, opts.Logger), disp: disp}, nil
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
