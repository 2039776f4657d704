package main

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// Context keys read by LoadConfig. Each can be set in cdk.json ("context")
// or on the command line with `cdk synth -c key=value`.
const (
	CtxAssetDir            = "assetDir"
	CtxStackName           = "stackName"
	CtxAccount             = "account"
	CtxRegion              = "region"
	CtxEmailFrom           = "emailFrom"
	CtxSESIdentity         = "sesIdentity"
	CtxSESIdentityARN      = "sesIdentityArn"
	CtxSESConfigurationSet = "sesConfigurationSet"
	CtxJWTIssuer           = "jwtIssuer"
	CtxJWTAudience         = "jwtAudience"
	CtxAlarmEmail          = "alarmEmail"
	CtxAlarmTopicARN       = "alarmTopicArn"
	CtxTracing             = "tracing"
	CtxLogRetentionDays    = "logRetentionDays"
	CtxRetain              = "retain"
	CtxDomainName          = "domainName"
	CtxCertificateARN      = "certificateArn"
	CtxSlackAPIURL         = "slackApiUrl"
	CtxAPIRateLimit        = "apiRateLimit"
	CtxAPIBurstLimit       = "apiBurstLimit"
	CtxOldestMessageAlarm  = "oldestMessageAlarmSeconds"
	CtxEventBusName        = "eventBusName"
	CtxJobSources          = "jobSources"
	CtxConsoleClientID     = "consoleClientId"
	CtxConsoleScopes       = "consoleScopes"
	CtxConsoleLogoutURL    = "consoleLogoutUrl"
	CtxCognitoDomainPrefix = "cognitoDomainPrefix"
)

// Context keys of production sizing and the SES sandbox (issue 16).
const (
	// CtxDispatcherMaxConcurrency bounds the dispatcher's concurrent
	// instances (the SQS event source's MaximumConcurrency, 2–1000; default
	// deploy.DefaultDispatcherConcurrency). SES sends are paced to the
	// account's rate divided by it.
	CtxDispatcherMaxConcurrency = "dispatcherMaxConcurrency"
	// CtxIngestReservedConcurrency reserves concurrency for ingest so the
	// dispatcher or the api can never starve it (default 5; 0 reserves
	// none, needed on a new account whose concurrency quota is 10).
	CtxIngestReservedConcurrency = "ingestReservedConcurrency"
	// CtxSESSandbox grants what sending from the SES sandbox needs: SES
	// checks IAM against the recipients' identities too, so the dispatcher
	// may send from every identity in the account and region (default
	// false; leave the sandbox and turn it off).
	CtxSESSandbox = "sesSandbox"
)

// Job sources: the AWS services whose job state changes the stack routes
// from the default event bus to the ingest function.
const (
	JobSourceBatch     = "batch"
	JobSourceStates    = "states"
	JobSourceCodeBuild = "codebuild"
	JobSourceECS       = "ecs"
)

// AllJobSources lists every job source, in the order rules are created.
var AllJobSources = []string{JobSourceBatch, JobSourceStates, JobSourceCodeBuild, JobSourceECS}

// Config is the deployment configuration of one argo-notify stack. The zero
// value is not usable; LoadConfig fills the defaults.
type Config struct {
	// AssetDir holds api/bootstrap, ingest/bootstrap and dispatcher/bootstrap.
	AssetDir string
	// StackName is the CloudFormation stack name; it also scopes secret names.
	StackName string
	// Account and Region pin the stack's environment; empty leaves the
	// stack environment-agnostic (no lookups are made either way).
	Account, Region string
	// EmailFrom is the sender address of notification emails.
	EmailFrom string
	// SESIdentity is the domain or address to create an SES identity for
	// (default: EmailFrom); ignored when SESIdentityARN is set.
	SESIdentity string
	// SESIdentityARN is an existing, verified SES identity to send from.
	SESIdentityARN string
	// SESConfigurationSet is the name of an existing SES configuration set.
	SESConfigurationSet string
	// JWTIssuer and JWTAudience configure the admin API's JWT authorizer.
	// With no issuer the stack creates a Cognito user pool instead.
	JWTIssuer   string
	JWTAudience []string
	// AlarmEmail subscribes an address to a new alarm topic; AlarmTopicARN
	// sends alarms to an existing topic instead. One is required.
	AlarmEmail    string
	AlarmTopicARN string
	// Tracing turns on AWS X-Ray active tracing for the functions (default
	// off: the functions are not instrumented, so traces would show only
	// the Lambda service's segments).
	Tracing bool
	// LogRetentionDays is how long function and access logs are kept.
	LogRetentionDays int
	// Retain keeps the table, user pool, secret and log groups when the
	// stack is deleted, and turns on deletion protection. Set false only for
	// throw-away test stacks.
	Retain bool
	// DomainName and CertificateARN give the HTTP API a custom domain.
	DomainName     string
	CertificateARN string
	// SlackAPIURL overrides the Slack Web API base URL (optional).
	SlackAPIURL string
	// APIRateLimit and APIBurstLimit throttle the HTTP API's default stage.
	APIRateLimit  float64
	APIBurstLimit float64
	// OldestMessageAlarmSeconds is the age of the oldest queued event that
	// raises an alarm.
	OldestMessageAlarmSeconds float64
	// EventBusName is the name of the custom event bus for Argo events
	// (default: "argo-" and the stack name, unique per stack and region).
	EventBusName string
	// JobSources are the AWS job services routed to ingest (AllJobSources
	// by default).
	JobSources []string
	// ConsoleClientID is the console's client id at JWTIssuer (a public
	// client: authorization code with PKCE); without it the console on a
	// JWTIssuer stack asks for a bearer token. ConsoleScopes (default
	// openid email profile) are the scopes it asks for; ConsoleLogoutURL
	// is the issuer's logout endpoint if its discovery document has no
	// end_session_endpoint. All three only with JWTIssuer.
	ConsoleClientID  string
	ConsoleScopes    []string
	ConsoleLogoutURL string
	// CognitoDomainPrefix is the Cognito hosted sign-in domain's prefix
	// (default argo-notify-<stack>-<account>); only without JWTIssuer.
	CognitoDomainPrefix string

	// DispatcherMaxConcurrency is the SQS event source's MaximumConcurrency.
	DispatcherMaxConcurrency int
	// IngestReservedConcurrency is ingest's reserved concurrency (0: none).
	IngestReservedConcurrency int
	// SESSandbox grants sending from any identity of the account (the
	// sandbox checks the recipients' identities).
	SESSandbox bool
}

// cognitoPrefix is the shape of a Cognito domain prefix.
var cognitoPrefix = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// retentionDays are the values CloudWatch Logs accepts for retention.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// LoadConfig reads the deployment configuration from CDK context through
// get (which returns nil for an unset key), applying defaults, and reports
// every invalid value at once.
func LoadConfig(get func(key string) any) (Config, error) {
	r := ctxReader{get: get}
	c := Config{
		AssetDir:                  r.str(CtxAssetDir, ".bin/lambda"),
		StackName:                 r.str(CtxStackName, "ArgoNotify"),
		Account:                   r.str(CtxAccount, ""),
		Region:                    r.str(CtxRegion, ""),
		EmailFrom:                 r.str(CtxEmailFrom, ""),
		SESIdentity:               r.str(CtxSESIdentity, ""),
		SESIdentityARN:            r.str(CtxSESIdentityARN, ""),
		SESConfigurationSet:       r.str(CtxSESConfigurationSet, ""),
		JWTIssuer:                 r.str(CtxJWTIssuer, ""),
		JWTAudience:               r.list(CtxJWTAudience, nil),
		AlarmEmail:                r.str(CtxAlarmEmail, ""),
		AlarmTopicARN:             r.str(CtxAlarmTopicARN, ""),
		Tracing:                   r.boolean(CtxTracing, false),
		LogRetentionDays:          int(r.number(CtxLogRetentionDays, 30)),
		Retain:                    r.boolean(CtxRetain, true),
		DomainName:                r.str(CtxDomainName, ""),
		CertificateARN:            r.str(CtxCertificateARN, ""),
		SlackAPIURL:               r.str(CtxSlackAPIURL, ""),
		APIRateLimit:              r.number(CtxAPIRateLimit, 50),
		APIBurstLimit:             r.number(CtxAPIBurstLimit, 100),
		OldestMessageAlarmSeconds: r.number(CtxOldestMessageAlarm, 900),
		EventBusName:              r.str(CtxEventBusName, ""),
		JobSources:                r.list(CtxJobSources, AllJobSources),
		ConsoleClientID:           r.str(CtxConsoleClientID, ""),
		ConsoleScopes:             r.list(CtxConsoleScopes, nil),
		ConsoleLogoutURL:          r.str(CtxConsoleLogoutURL, ""),
		CognitoDomainPrefix:       r.str(CtxCognitoDomainPrefix, ""),

		DispatcherMaxConcurrency:  int(r.number(CtxDispatcherMaxConcurrency, deploy.DefaultDispatcherConcurrency)),
		IngestReservedConcurrency: int(r.number(CtxIngestReservedConcurrency, 5)),
		SESSandbox:                r.boolean(CtxSESSandbox, false),
	}
	if c.SESIdentity == "" {
		// The identity is the address, without a display name.
		c.SESIdentity = c.EmailFrom
		if a, err := mail.ParseAddress(c.EmailFrom); err == nil {
			c.SESIdentity = a.Address
		}
	}
	if c.EventBusName == "" {
		c.EventBusName = "argo-" + c.StackName
	}
	if err := c.validate(); err != nil {
		r.errs = append(r.errs, err.Error())
	}
	if len(r.errs) > 0 {
		return Config{}, fmt.Errorf("invalid CDK context: %s", strings.Join(r.errs, "; "))
	}
	return c, nil
}

// validate checks the relations between values.
func (c Config) validate() error {
	var errs []string
	if c.EmailFrom == "" {
		errs = append(errs, fmt.Sprintf("%s is required (the sender address, e.g. -c %s=notify@example.com)", CtxEmailFrom, CtxEmailFrom))
	} else if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
		errs = append(errs, fmt.Sprintf("%s %q is not an email address", CtxEmailFrom, c.EmailFrom))
	}
	if c.AssetDir == "" {
		errs = append(errs, CtxAssetDir+" must not be empty")
	}
	if c.StackName == "" {
		errs = append(errs, CtxStackName+" must not be empty")
	}
	if (c.JWTIssuer == "") != (len(c.JWTAudience) == 0) {
		errs = append(errs, fmt.Sprintf("%s and %s go together (set both, or neither for a Cognito user pool)", CtxJWTIssuer, CtxJWTAudience))
	}
	if c.JWTIssuer != "" && !strings.HasPrefix(c.JWTIssuer, "https://") {
		errs = append(errs, fmt.Sprintf("%s must be an https:// URL", CtxJWTIssuer))
	}
	if c.JWTIssuer == "" && (c.ConsoleClientID != "" || c.ConsoleScopes != nil || c.ConsoleLogoutURL != "") {
		errs = append(errs, fmt.Sprintf("%s, %s and %s configure the console's sign-in at %s: set it too (the Cognito pool's client is the console's)",
			CtxConsoleClientID, CtxConsoleScopes, CtxConsoleLogoutURL, CtxJWTIssuer))
	}
	if c.JWTIssuer != "" && c.ConsoleClientID == "" && (c.ConsoleScopes != nil || c.ConsoleLogoutURL != "") {
		errs = append(errs, fmt.Sprintf("%s and %s need %s", CtxConsoleScopes, CtxConsoleLogoutURL, CtxConsoleClientID))
	}
	if strings.ContainsAny(c.ConsoleClientID, " \t\"") {
		errs = append(errs, fmt.Sprintf("%s %q is not a client id", CtxConsoleClientID, c.ConsoleClientID))
	}
	for _, s := range c.ConsoleScopes {
		if strings.ContainsAny(s, " \t\"") {
			errs = append(errs, fmt.Sprintf("%s: %q is not a scope (comma-separated)", CtxConsoleScopes, s))
		}
	}
	if c.ConsoleScopes != nil && !slices.Contains(c.ConsoleScopes, "openid") {
		errs = append(errs, fmt.Sprintf("%s must include openid", CtxConsoleScopes))
	}
	if c.ConsoleLogoutURL != "" && !strings.HasPrefix(c.ConsoleLogoutURL, "https://") {
		errs = append(errs, fmt.Sprintf("%s must be an https:// URL", CtxConsoleLogoutURL))
	}
	if c.CognitoDomainPrefix != "" {
		if c.JWTIssuer != "" {
			errs = append(errs, fmt.Sprintf("%s names the Cognito pool's domain: there is none with %s", CtxCognitoDomainPrefix, CtxJWTIssuer))
		}
		if !cognitoPrefix.MatchString(c.CognitoDomainPrefix) || regexp.MustCompile(`aws|amazon|cognito`).MatchString(c.CognitoDomainPrefix) {
			errs = append(errs, fmt.Sprintf("%s %q: want 1-63 lower-case letters, digits and inner hyphens, without aws, amazon or cognito", CtxCognitoDomainPrefix, c.CognitoDomainPrefix))
		}
	}
	switch {
	case c.AlarmEmail != "" && c.AlarmTopicARN != "":
		errs = append(errs, fmt.Sprintf("set at most one of %s and %s", CtxAlarmEmail, CtxAlarmTopicARN))
	case c.AlarmEmail == "" && c.AlarmTopicARN == "":
		errs = append(errs, fmt.Sprintf("an alarm target is required, or alarms reach nobody: -c %s=oncall@example.com (a new SNS topic, confirm the subscription) or -c %s=<an SNS topic ARN>", CtxAlarmEmail, CtxAlarmTopicARN))
	case c.AlarmEmail != "":
		if _, err := mail.ParseAddress(c.AlarmEmail); err != nil {
			errs = append(errs, fmt.Sprintf("%s %q is not an email address", CtxAlarmEmail, c.AlarmEmail))
		}
	case !strings.HasPrefix(c.AlarmTopicARN, "arn:"):
		errs = append(errs, fmt.Sprintf("%s %q is not an ARN", CtxAlarmTopicARN, c.AlarmTopicARN))
	}
	if c.DispatcherMaxConcurrency < 2 || c.DispatcherMaxConcurrency > 1000 {
		errs = append(errs, fmt.Sprintf("%s must be between 2 and 1000 (SQS event source MaximumConcurrency)", CtxDispatcherMaxConcurrency))
	}
	if c.IngestReservedConcurrency < 0 {
		errs = append(errs, fmt.Sprintf("%s must not be negative", CtxIngestReservedConcurrency))
	}
	if (c.DomainName == "") != (c.CertificateARN == "") {
		errs = append(errs, fmt.Sprintf("%s and %s go together", CtxDomainName, CtxCertificateARN))
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		errs = append(errs, fmt.Sprintf("%s %d is not one CloudWatch Logs accepts (%v)", CtxLogRetentionDays, c.LogRetentionDays, retentionDays))
	}
	if c.APIRateLimit <= 0 || c.APIBurstLimit <= 0 {
		errs = append(errs, fmt.Sprintf("%s and %s must be positive", CtxAPIRateLimit, CtxAPIBurstLimit))
	}
	if c.OldestMessageAlarmSeconds < 60 {
		errs = append(errs, fmt.Sprintf("%s must be at least 60", CtxOldestMessageAlarm))
	}
	if c.EventBusName == "" || c.EventBusName == "default" {
		errs = append(errs, fmt.Sprintf("%s must name a custom bus, not %q", CtxEventBusName, c.EventBusName))
	}
	for _, s := range c.JobSources {
		if !slices.Contains(AllJobSources, s) {
			errs = append(errs, fmt.Sprintf("%s: unknown source %q (known: %s)", CtxJobSources, s, strings.Join(AllJobSources, ",")))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// ctxReader converts context values, which are strings when given with -c
// and JSON values when given in cdk.json, collecting conversion errors.
type ctxReader struct {
	get  func(string) any
	errs []string
}

func (r *ctxReader) str(key, def string) string {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case string:
		return strings.TrimSpace(v)
	default:
		r.errs = append(r.errs, fmt.Sprintf("%s must be a string, not %T", key, v))
		return def
	}
}

func (r *ctxReader) boolean(key string, def bool) bool {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s must be true or false, not %q", key, v))
			return def
		}
		return b
	default:
		r.errs = append(r.errs, fmt.Sprintf("%s must be true or false, not %T", key, v))
		return def
	}
}

func (r *ctxReader) number(key string, def float64) float64 {
	switch v := r.get(key).(type) {
	case nil:
		return def
	case float64:
		return v
	case int:
		return float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s must be a number, not %q", key, v))
			return def
		}
		return f
	default:
		r.errs = append(r.errs, fmt.Sprintf("%s must be a number, not %T", key, v))
		return def
	}
}

// list reads a comma-separated string or a JSON array of strings. An empty
// string or "none" is the empty list.
func (r *ctxReader) list(key string, def []string) []string {
	var items []string
	switch v := r.get(key).(type) {
	case nil:
		return def
	case string:
		if s := strings.TrimSpace(v); s == "" || s == "none" {
			return []string{}
		}
		items = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r.errs = append(r.errs, fmt.Sprintf("%s must list strings, not %T", key, e))
				return def
			}
			items = append(items, s)
		}
	default:
		r.errs = append(r.errs, fmt.Sprintf("%s must be a comma-separated string or a list, not %T", key, v))
		return def
	}
	out := make([]string, 0, len(items))
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
