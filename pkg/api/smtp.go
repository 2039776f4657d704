package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// SMTPServer is the JSON representation of a connected SMTP server. The
// password is write-only: it is kept in the secret store and never
// returned; passwordSet says whether one is kept. Read-only fields are
// ignored in requests, so a client can GET a server, change a field and
// PUT it back (without a password, to keep the stored one).
type SMTPServer struct {
	ID             string    `json:"id,omitzero" readOnly:"true" doc:"Assigned by the service: smtp_<ulid>." example:"smtp_01JDZ5Q8X9K7W3M2N4P6R8T0VB"`
	Nickname       string    `json:"nickname" doc:"Unique (case-insensitive), 1-128 characters." example:"Corporate relay"`
	Host           string    `json:"host" maxLength:"253" doc:"Host name or IP address." example:"smtp.example.com"`
	Port           int       `json:"port,omitzero" minimum:"1" maximum:"65535" doc:"Default 587." example:"587"`
	AdminAddress   string    `json:"adminAddress" doc:"The From address of every notification." example:"argo-notify@example.com"`
	TimeoutSeconds int       `json:"timeoutSeconds,omitzero" minimum:"1" maximum:"120" doc:"Bounds each step of a connection; default 10." example:"10"`
	TLS            string    `json:"tls,omitzero" enum:"starttls,tls,none" doc:"starttls (default): plain connect, then STARTTLS, required; tls: TLS from the first byte (port 465); none: no TLS, for a relay on a trusted network only."`
	UseAuth        bool      `json:"useAuth" required:"false" doc:"Authenticate with username and password (SMTP AUTH PLAIN or LOGIN)."`
	Username       string    `json:"username,omitempty" maxLength:"256" doc:"Required when useAuth is true."`
	Password       string    `json:"password,omitempty" writeOnly:"true" maxLength:"1024" doc:"Write-only. Required on connect when useAuth is true; omit it (or send \"\") on PUT to keep the stored one."`
	PasswordSet    bool      `json:"passwordSet" readOnly:"true" required:"false" doc:"Whether a password is kept."`
	Version        int64     `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt      time.Time `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt      time.Time `json:"updatedAt,omitzero" readOnly:"true"`
}

func smtpFrom(s *notify.SMTP) SMTPServer {
	return SMTPServer{
		ID: s.ID, Nickname: s.Nickname, Host: s.Host, Port: s.Port, AdminAddress: s.AdminAddress,
		TimeoutSeconds: s.TimeoutSeconds, TLS: s.TLS, UseAuth: s.UseAuth, Username: s.Username,
		PasswordSet: s.PasswordRef != "", Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// settings are the SMTP settings of the body; the service applies the
// defaults and validates them.
func (b *SMTPServer) settings() notify.SMTP {
	return notify.SMTP{
		Nickname: b.Nickname, Host: b.Host, Port: b.Port, AdminAddress: b.AdminAddress,
		TimeoutSeconds: b.TimeoutSeconds, TLS: b.TLS, UseAuth: b.UseAuth, Username: b.Username,
	}
}

// SMTPServerList is every connected SMTP server.
type SMTPServerList struct {
	Items []SMTPServer `json:"items" doc:"The servers, oldest first; notifications go through the first."`
}

// SMTPTestRequest is an SMTP server to test without saving it.
type SMTPTestRequest struct {
	SMTPServer
	To string `json:"to,omitempty" doc:"If set, a short test message is sent to this address." example:"you@example.com"`
}

// SMTPTestTarget says where a test of a stored server sends its message.
type SMTPTestTarget struct {
	To string `json:"to,omitempty" doc:"If set, a short test message is sent to this address." example:"you@example.com"`
}

// SMTPTestStep is the outcome of one step of a connection test.
type SMTPTestStep struct {
	Name   string `json:"name" enum:"dial,tls,auth,send" doc:"dial: connect, greeting, EHLO; tls: STARTTLS or implicit TLS; auth: SMTP AUTH; send: the test message."`
	OK     bool   `json:"ok" doc:"Whether the step succeeded."`
	Detail string `json:"detail,omitempty" doc:"What happened." example:"STARTTLS, TLS 1.3"`
	Error  string `json:"error,omitempty" doc:"Why it failed."`
	Reply  string `json:"reply,omitempty" doc:"The server's reply on failure." example:"535 5.7.8 Authentication failed"`
}

// SMTPTestResult is the outcome of a connection test: every step that
// ran, the failed one last.
type SMTPTestResult struct {
	OK    bool           `json:"ok" doc:"Whether every step succeeded."`
	Steps []SMTPTestStep `json:"steps" doc:"The steps in order; those after a failure are not attempted."`
}

type smtpIDInput struct {
	ID string `path:"id" maxLength:"200" doc:"The SMTP server id."`
}

type smtpOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     SMTPServer
}

type updateSMTPInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The SMTP server id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version you read, e.g. \"3\"."`
	Body    SMTPServer
}

type deleteSMTPInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The SMTP server id."`
	IfMatch string `header:"If-Match" doc:"Optional: delete only if the server is still at this version (its ETag)."`
}

type testStoredSMTPInput struct {
	ID   string `path:"id" maxLength:"200" doc:"The SMTP server id."`
	Body *SMTPTestTarget
}

// integrationOp applies what every integration route shares: its tag and,
// for a body, the size limit.
func integrationOp(op huma.Operation) huma.Operation {
	op.Tags = []string{"integrations"}
	if op.Method == http.MethodPost || op.Method == http.MethodPut {
		op.MaxBodyBytes = maxBody + 1
	}
	return op
}

func (s *server) registerSMTP(api huma.API) {
	reg := integrationOp
	huma.Register(api, reg(huma.Operation{
		OperationID: "listSMTPServers", Method: http.MethodGet, Path: "/v1/integrations/smtp",
		Summary: "List SMTP servers", Errors: []int{401},
	}), s.listSMTP)
	huma.Register(api, reg(huma.Operation{
		OperationID: "connectSMTPServer", Method: http.MethodPost, Path: "/v1/integrations/smtp",
		Summary:       "Connect an SMTP server",
		Description:   "Saves an SMTP server; the password goes to the secret store. Test it first with POST /v1/integrations/smtp/test. Email goes through the oldest connected server.",
		DefaultStatus: http.StatusCreated, Errors: []int{400, 401, 409, 413, 415, 422},
	}), s.connectSMTP)
	huma.Register(api, reg(huma.Operation{
		OperationID: "testSMTPSettings", Method: http.MethodPost, Path: "/v1/integrations/smtp/test",
		Summary:     "Test SMTP settings",
		Description: "Connects with the settings of the body, nothing saved: dial, TLS, AUTH and, if `to` is set, a test message. The outcome of each step is in the 200 answer.",
		Errors:      []int{400, 401, 413, 415, 422},
	}), s.testSMTPSettings)
	huma.Register(api, reg(huma.Operation{
		OperationID: "getSMTPServer", Method: http.MethodGet, Path: "/v1/integrations/smtp/{id}",
		Summary: "Get an SMTP server", Errors: []int{401, 404},
	}), s.getSMTP)
	huma.Register(api, reg(huma.Operation{
		OperationID: "updateSMTPServer", Method: http.MethodPut, Path: "/v1/integrations/smtp/{id}",
		Summary:     "Replace an SMTP server",
		Description: "Replaces the settings; an omitted or empty password keeps the stored one.",
		Errors:      []int{400, 401, 404, 409, 412, 413, 415, 422, 428},
	}), s.updateSMTP)
	huma.Register(api, reg(huma.Operation{
		OperationID: "disconnectSMTPServer", Method: http.MethodDelete, Path: "/v1/integrations/smtp/{id}",
		Summary: "Disconnect an SMTP server", Description: "Removes the server and its password.",
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 412},
	}), s.disconnectSMTP)
	huma.Register(api, reg(huma.Operation{
		OperationID: "testSMTPServer", Method: http.MethodPost, Path: "/v1/integrations/smtp/{id}/test",
		Summary:     "Test a connected SMTP server",
		Description: "Connects with the stored settings and password: dial, TLS, AUTH and, if `to` is set, a test message.",
		Errors:      []int{400, 401, 404, 413, 415, 422},
	}), s.testStoredSMTP)

}

func (s *server) listSMTP(ctx context.Context, _ *struct{}) (*struct{ Body SMTPServerList }, error) {
	all, err := s.smtp.List(ctx)
	if err != nil {
		return nil, s.fail(ctx, "list SMTP servers", err)
	}
	out := &struct{ Body SMTPServerList }{Body: SMTPServerList{Items: make([]SMTPServer, 0, len(all))}}
	for _, srv := range all {
		out.Body.Items = append(out.Body.Items, smtpFrom(srv))
	}
	return out, nil
}

func smtpResponse(status int, srv *notify.SMTP) *smtpOutput {
	return &smtpOutput{Status: status, ETag: etag(srv.Version), Body: smtpFrom(srv)}
}

func (s *server) getSMTP(ctx context.Context, in *smtpIDInput) (*smtpOutput, error) {
	srv, err := s.smtp.Get(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get SMTP server", err)
	}
	return smtpResponse(http.StatusOK, srv), nil
}

func (s *server) connectSMTP(ctx context.Context, in *struct{ Body SMTPServer }) (*smtpOutput, error) {
	srv, err := s.smtp.Connect(ctx, in.Body.settings(), in.Body.Password)
	if err != nil {
		return nil, s.fail(ctx, "connect SMTP server", err)
	}
	out := smtpResponse(http.StatusCreated, srv)
	out.Location = "/v1/integrations/smtp/" + srv.ID
	return out, nil
}

func (s *server) updateSMTP(ctx context.Context, in *updateSMTPInput) (*smtpOutput, error) {
	srv, err := s.smtp.Update(ctx, in.ID, in.Body.settings(), in.Body.Password, ifMatchLater(in.IfMatch, true))
	if err != nil {
		return nil, s.fail(ctx, "update SMTP server", err)
	}
	return smtpResponse(http.StatusOK, srv), nil
}

func (s *server) disconnectSMTP(ctx context.Context, in *deleteSMTPInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := s.smtp.Disconnect(ctx, in.ID, pre.admin()); err != nil {
		return nil, s.fail(ctx, "disconnect SMTP server", err)
	}
	return nil, nil
}

func (s *server) testSMTPSettings(ctx context.Context, in *struct{ Body SMTPTestRequest }) (*struct{ Body SMTPTestResult }, error) {
	steps, err := s.smtp.TestSettings(ctx, in.Body.settings(), in.Body.Password, in.Body.To)
	if err != nil {
		return nil, s.fail(ctx, "test SMTP settings", err)
	}
	return smtpTestResult(steps), nil
}

func (s *server) testStoredSMTP(ctx context.Context, in *testStoredSMTPInput) (*struct{ Body SMTPTestResult }, error) {
	to := ""
	if in.Body != nil {
		to = in.Body.To
	}
	steps, err := s.smtp.TestStored(ctx, in.ID, to)
	if err != nil {
		return nil, s.fail(ctx, "test SMTP server", err)
	}
	return smtpTestResult(steps), nil
}

func smtpTestResult(steps []admin.SMTPStep) *struct{ Body SMTPTestResult } {
	res := SMTPTestResult{OK: len(steps) > 0, Steps: make([]SMTPTestStep, 0, len(steps))}
	for _, st := range steps {
		res.OK = res.OK && st.OK
		res.Steps = append(res.Steps, SMTPTestStep(st))
	}
	return &struct{ Body SMTPTestResult }{Body: res}
}
