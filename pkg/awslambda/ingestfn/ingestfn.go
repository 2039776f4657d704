// Package ingestfn is the ingest Lambda function: signed events from API
// Gateway and job state changes from EventBridge, onto SQS. It imports the
// SDK service packages the function calls (SQS, Secrets Manager) and no
// other: no DynamoDB, no SES.
package ingestfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/api/ingesthttp"
	"github.com/argoproj-labs/argo-notify/pkg/awslambda/fn"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
)

// Path is the one route the ingest function serves over HTTP.
const Path = "/v1/events"

// Main is the ingest function's main.
func Main() {
	fn.Main("ingest", func(awsCfg aws.Config, cfg fn.Config, o fn.Options) (any, error) {
		h, err := New(cfg, Clients{SQS: sqs.NewFromConfig(awsCfg), SecretsManager: secretsmanager.NewFromConfig(awsCfg)}, o)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

// Clients are the SDK clients the ingest function calls.
type Clients struct {
	SQS            sqsqueue.BatchSender // *sqs.Client
	SecretsManager awssecrets.Client    // *secretsmanager.Client
}

// Ingest is the handler of the ingest function. It takes two kinds of
// invocation: API Gateway v2 requests for POST /v1/events (HMAC-signed
// events, through api.NewIngest, the handler local mode's admin API mounts) and EventBridge
// events (the custom bus and AWS job state changes, through
// ingest.FromEventBridge). Either way an accepted event ends on the queue.
type Ingest struct {
	http     http.Handler
	producer queue.Producer
	log      *slog.Logger
	now      func() time.Time
}

// New returns the ingest function's handler. It needs
// ARGO_NOTIFY_QUEUE_URL and ARGO_NOTIFY_INGEST_SECRET_ARN. The HMAC key is
// read from Secrets Manager on the first signed request and cached for
// secrets.DefaultTTL, so a rotated key is in use within minutes.
func New(cfg fn.Config, c Clients, opts fn.Options) (*Ingest, error) {
	opts = opts.WithDefaults()
	err := fn.Require("ingest", [2]string{fn.EnvQueueURL, cfg.QueueURL}, [2]string{fn.EnvIngestSecretARN, cfg.IngestSecretARN})
	if err != nil {
		return nil, err
	}
	producer := sqsqueue.NewProducer(c.SQS, cfg.QueueURL)
	sec := awssecrets.New(c.SecretsManager, awssecrets.Config{})
	arn := cfg.IngestSecretARN
	// Only the ingest route: the admin API (and its OpenAPI document) is
	// not built here, and this function has no table access.
	h := ingesthttp.New(ingesthttp.Config{
		Producer: producer,
		Secrets: func(ctx context.Context) ([]string, error) {
			v, err := sec.GetSecret(ctx, arn)
			if err != nil {
				return nil, fmt.Errorf("read the ingest secret: %w", err)
			}
			return []string{strings.TrimSpace(v)}, nil
		},
		Logger: opts.Logger,
		Now:    opts.Now,
	})
	return &Ingest{http: h, producer: producer, log: opts.Logger, now: opts.Now}, nil
}

// shape is what tells the two kinds of invocation apart.
type shape struct {
	Version        string          `json:"version"`
	RawPath        *string         `json:"rawPath"`
	RequestContext json.RawMessage `json:"requestContext"`
	DetailType     *string         `json:"detail-type"`
}

// Handle serves one invocation. For an API Gateway v2 request it returns
// an events.APIGatewayV2HTTPResponse (202 once the event is on the queue;
// errors as problem+json); routes other than POST /v1/events answer 404.
//
// For an EventBridge event it returns (nil, nil) when the event is queued,
// or acknowledged and dropped: a non-terminal job state, an unsupported
// source or detail-type, a malformed or oversized event (each logged; a
// retry could not help). It returns an error only when the queue did not
// take the event, so that EventBridge retries it and at last parks it in
// its dead-letter queue.
//
// A payload that is neither is an error.
func (i *Ingest) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var s shape
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("ingest: invocation payload is not a JSON object: %w", err)
	}
	switch {
	case s.RawPath != nil || len(s.RequestContext) > 0:
		if s.Version != "" && s.Version != "2.0" {
			return nil, fmt.Errorf("ingest: API Gateway payload format %q is not supported (want 2.0)", s.Version)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("ingest: decode API Gateway v2 request: %w", err)
		}
		return i.serveHTTP(ctx, req)
	case s.DetailType != nil:
		return nil, i.eventBridge(ctx, raw)
	default:
		return nil, errors.New("ingest: invocation payload is neither an API Gateway v2 request nor an EventBridge event")
	}
}

// serveHTTP serves POST /v1/events through api.NewIngest. Anything else is
// 404: the admin routes belong to the api function, behind API Gateway's
// JWT authorizer.
func (i *Ingest) serveHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method := strings.ToUpper(req.RequestContext.HTTP.Method)
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	if path != Path {
		return fn.ProblemResponse(http.StatusNotFound, notify.ENotFound, fmt.Sprintf("no route %s %s", method, path)), nil
	}
	start := time.Now()
	resp, err := fn.Proxy(ctx, i.http, req)
	i.log.InfoContext(ctx, "request", "method", method, "path", path, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
	return resp, err
}

// eventBridge maps an EventBridge event and queues it.
func (i *Ingest) eventBridge(ctx context.Context, raw []byte) error {
	now := i.now()
	ev, ok, err := ingest.FromEventBridge(raw, now)
	var env struct {
		ID         string `json:"id"`
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	_ = json.Unmarshal(raw, &env)
	log := i.log.With("eventBridgeId", env.ID, "source", env.Source, "detailType", env.DetailType)
	switch {
	case errors.Is(err, ingest.ErrUnsupported):
		log.WarnContext(ctx, "ingest: unsupported EventBridge event dropped", "reason", err.Error())
		return nil
	case err != nil:
		log.ErrorContext(ctx, "ingest: malformed EventBridge event dropped", "err", err.Error())
		return nil
	case !ok:
		log.InfoContext(ctx, "ingest: non-terminal job state acknowledged")
		return nil
	}
	msg, err := queue.EncodeEvent(ev)
	if err != nil {
		log.ErrorContext(ctx, "ingest: event could not be encoded; dropped", "err", err.Error())
		return nil
	}
	msg.FirstSentAt = now
	if err := i.producer.Send(ctx, []queue.Message{msg}); err != nil {
		if notify.IsCode(err, notify.ETooLarge) || notify.IsCode(err, notify.EInvalid) {
			log.ErrorContext(ctx, "ingest: queue refused the event; dropped", "eventId", ev.ID, "err", err.Error())
			return nil
		}
		return fmt.Errorf("ingest: queue event %s: %w", ev.ID, err)
	}
	log.InfoContext(ctx, "ingest: EventBridge event queued", "eventId", ev.ID, "type", ev.Type, "status", ev.Status)
	return nil
}
