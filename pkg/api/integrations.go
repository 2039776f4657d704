package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
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

// settings are the SMTP settings of the body, with defaults, validated.
// The password is checked when needed: required (need) for a new
// connection with useAuth.
func (b *SMTPServer) settings(needPassword bool) (notify.SMTP, error) {
	s := notify.SMTP{
		Nickname: b.Nickname, Host: b.Host, Port: b.Port, AdminAddress: b.AdminAddress,
		TimeoutSeconds: b.TimeoutSeconds, TLS: b.TLS, UseAuth: b.UseAuth, Username: b.Username,
	}
	s.Defaults()
	if !s.UseAuth {
		s.Username = ""
	}
	var fields []ProblemField
	if err := s.Validate(); err != nil {
		p, ok := problemFrom(err)
		if !ok || p.Code != notify.EInvalid {
			return s, err
		}
		fields = p.Errors
	}
	if needPassword && s.UseAuth && b.Password == "" {
		fields = append(fields, ProblemField{Field: "password", Message: "is required when useAuth is true"})
	}
	if len(fields) > 0 {
		return s, invalidFields(fields)
	}
	return s, nil
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

// SlackWorkspace is the connected Slack workspace. The bot token is
// write-only and never returned.
type SlackWorkspace struct {
	Connected bool      `json:"connected" doc:"Whether a workspace is connected; the other fields are absent when not."`
	Team      string    `json:"team,omitempty" doc:"The workspace name." example:"Acme"`
	TeamID    string    `json:"teamId,omitempty" example:"T0123456789"`
	TeamURL   string    `json:"teamUrl,omitempty" example:"https://acme.slack.com/"`
	BotName   string    `json:"botName,omitempty" doc:"The bot user's name." example:"argo-notify"`
	BotUserID string    `json:"botUserId,omitempty" example:"U0123456789"`
	Version   int64     `json:"version,omitzero" doc:"Incremented on every reconnection."`
	CreatedAt time.Time `json:"createdAt,omitzero" doc:"When it was first connected."`
	UpdatedAt time.Time `json:"updatedAt,omitzero" doc:"When the token last changed."`
}

func slackFrom(s *notify.Slack) SlackWorkspace {
	return SlackWorkspace{
		Connected: true, Team: s.Team, TeamID: s.TeamID, TeamURL: s.TeamURL, BotName: s.BotName,
		BotUserID: s.BotUserID, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// SlackToken is a bot token to connect.
type SlackToken struct {
	Token string `json:"token" minLength:"1" maxLength:"512" writeOnly:"true" doc:"A bot token (xoxb-…) with chat:write, channels:read and groups:read. Checked with auth.test; never returned." example:"xoxb-…"`
}

// SlackTestRequest is the optional token to test.
type SlackTestRequest struct {
	Token string `json:"token,omitempty" maxLength:"512" writeOnly:"true" doc:"The token to test; absent: the stored one."`
}

// SlackTestResult is what auth.test said of a token.
type SlackTestResult struct {
	OK        bool   `json:"ok" doc:"Whether Slack accepted the token."`
	Team      string `json:"team,omitempty" doc:"The workspace name."`
	TeamID    string `json:"teamId,omitempty"`
	TeamURL   string `json:"teamUrl,omitempty"`
	BotName   string `json:"botName,omitempty"`
	BotUserID string `json:"botUserId,omitempty"`
	Error     string `json:"error,omitempty" doc:"Why the test failed." example:"Slack rejected the token (invalid_auth)"`
}

// SlackChannel is a channel the bot could post to.
type SlackChannel struct {
	ID        string `json:"id" example:"C0123456789"`
	Name      string `json:"name" example:"alerts"`
	IsPrivate bool   `json:"isPrivate"`
	IsMember  bool   `json:"isMember" doc:"The bot has joined the channel; it must, to post to it."`
}

// SlackChannelList is one page of channels.
type SlackChannelList struct {
	Items []SlackChannel `json:"items" doc:"Public and private channels the bot can see, archived ones excluded."`
	Next  string         `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
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

type slackOutput struct {
	Status int
	Body   SlackWorkspace
}

type slackChannelsInput struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"200" doc:"Channels per page."`
	Cursor string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page."`
}

func (s *server) registerIntegrations(api huma.API) {
	tags := []string{"integrations"}
	reg := func(op huma.Operation) huma.Operation {
		op.Tags = tags
		if op.Method == http.MethodPost || op.Method == http.MethodPut {
			op.MaxBodyBytes = maxBody + 1
		}
		return op
	}
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

	huma.Register(api, reg(huma.Operation{
		OperationID: "getSlackWorkspace", Method: http.MethodGet, Path: "/v1/integrations/slack",
		Summary: "Get the Slack workspace", Description: "The connected workspace and bot, or connected: false.",
		Errors: []int{401},
	}), s.getSlack)
	huma.Register(api, reg(huma.Operation{
		OperationID: "connectSlackWorkspace", Method: http.MethodPost, Path: "/v1/integrations/slack",
		Summary:       "Connect a Slack workspace",
		Description:   "Checks the bot token with auth.test and, if Slack accepts it, keeps it (201; 200 when it replaces a connected workspace). A rejected token is a 422 on field token.",
		DefaultStatus: http.StatusCreated, Errors: []int{400, 401, 413, 415, 422, 503},
	}), s.connectSlack)
	// The handler answers 201 or 200 (a replaced workspace) with the same
	// body; document both.
	connect := api.OpenAPI().Paths["/v1/integrations/slack"].Post
	replaced := *connect.Responses["201"]
	replaced.Description = "OK: the connected workspace was replaced"
	connect.Responses["200"] = &replaced
	huma.Register(api, reg(huma.Operation{
		OperationID: "disconnectSlackWorkspace", Method: http.MethodDelete, Path: "/v1/integrations/slack",
		Summary: "Disconnect the Slack workspace", Description: "Forgets the workspace and its token. Slack deliveries are then recorded as skipped.",
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404},
	}), s.disconnectSlack)
	huma.Register(api, reg(huma.Operation{
		OperationID: "testSlackToken", Method: http.MethodPost, Path: "/v1/integrations/slack/test",
		Summary:     "Test a Slack token",
		Description: "Calls auth.test with the token of the body or, without one, the stored token, and answers the workspace and bot or why it failed.",
		Errors:      []int{400, 401, 409, 413, 415, 422},
	}), s.testSlack)
	huma.Register(api, reg(huma.Operation{
		OperationID: "listSlackChannels", Method: http.MethodGet, Path: "/v1/integrations/slack/channels",
		Summary:     "List Slack channels",
		Description: "One page of the channels the connected bot can see (conversations.list), for picking a rule's slackChannels.",
		Errors:      []int{401, 409, 422, 503},
	}), s.listSlackChannels)
}

// smtpSecretName names the secret holding the password of SMTP server id
// at version v: a new version gets a new secret, so that the stored
// settings never point to a password written for other settings.
func smtpSecretName(id string, v int64) string {
	return "smtp/" + id + "/v" + strconv.FormatInt(v, 10)
}

func slackSecretName(v int64) string { return "slack/bot-token/v" + strconv.FormatInt(v, 10) }

// dropSecret deletes a secret that is no longer referenced; a failure is
// logged, not returned: the change it follows has been made.
func (s *server) dropSecret(ctx context.Context, ref string) {
	if ref == "" {
		return
	}
	if err := s.store.DeleteSecret(ctx, ref); err != nil && !notify.IsCode(err, notify.ENotFound) {
		s.log.ErrorContext(ctx, "delete an unused secret", "err", err.Error())
	}
}

func (s *server) listSMTP(ctx context.Context, _ *struct{}) (*struct{ Body SMTPServerList }, error) {
	all, err := s.store.ListSMTP(ctx)
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
	srv, err := s.store.GetSMTP(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get SMTP server", err)
	}
	return smtpResponse(http.StatusOK, srv), nil
}

// nicknameTaken fails with EConflict if another server has the nickname.
func (s *server) nicknameTaken(ctx context.Context, id, nickname string) error {
	all, err := s.store.ListSMTP(ctx)
	if err != nil {
		return s.fail(ctx, "list SMTP servers", err)
	}
	for _, o := range all {
		if o.ID != id && strings.EqualFold(o.Nickname, nickname) {
			return newProblem(notify.EConflict, "an SMTP server is already called "+quote(nickname))
		}
	}
	return nil
}

func (s *server) connectSMTP(ctx context.Context, in *struct{ Body SMTPServer }) (*smtpOutput, error) {
	srv, err := in.Body.settings(true)
	if err != nil {
		return nil, err
	}
	if err := s.nicknameTaken(ctx, "", srv.Nickname); err != nil {
		return nil, err
	}
	now := s.stamp()
	srv.ID, srv.Version, srv.CreatedAt, srv.UpdatedAt = "smtp_"+s.ids(), 1, now, now
	if srv.UseAuth {
		if srv.PasswordRef, err = s.store.PutSecret(ctx, smtpSecretName(srv.ID, 1), in.Body.Password); err != nil {
			return nil, s.fail(ctx, "keep the SMTP password", err)
		}
		srv.PasswordSet = true
	}
	if err := s.store.PutSMTP(ctx, &srv); err != nil {
		s.dropSecret(ctx, srv.PasswordRef)
		return nil, s.fail(ctx, "connect SMTP server", err)
	}
	out := smtpResponse(http.StatusCreated, &srv)
	out.Location = "/v1/integrations/smtp/" + srv.ID
	return out, nil
}

func (s *server) updateSMTP(ctx context.Context, in *updateSMTPInput) (*smtpOutput, error) {
	cur, err := s.store.GetSMTP(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get SMTP server", err)
	}
	pre, err := requireIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := pre.check("SMTP server "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	// A password is needed only if none is kept.
	srv, err := in.Body.settings(cur.PasswordRef == "")
	if err != nil {
		return nil, err
	}
	if err := s.nicknameTaken(ctx, cur.ID, srv.Nickname); err != nil {
		return nil, err
	}
	srv.ID, srv.Version, srv.CreatedAt, srv.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, s.stamp()
	srv.PasswordRef = cur.PasswordRef
	newSecret := srv.UseAuth && in.Body.Password != ""
	if newSecret {
		if srv.PasswordRef, err = s.store.PutSecret(ctx, smtpSecretName(srv.ID, srv.Version), in.Body.Password); err != nil {
			return nil, s.fail(ctx, "keep the SMTP password", err)
		}
	}
	if !srv.UseAuth {
		srv.PasswordRef = ""
	}
	srv.PasswordSet = srv.PasswordRef != ""
	if err := s.store.PutSMTP(ctx, &srv); err != nil {
		if newSecret {
			s.dropSecret(ctx, srv.PasswordRef)
		}
		return nil, s.fail(ctx, "update SMTP server", err)
	}
	if cur.PasswordRef != srv.PasswordRef {
		s.dropSecret(ctx, cur.PasswordRef)
	}
	return smtpResponse(http.StatusOK, &srv), nil
}

func (s *server) disconnectSMTP(ctx context.Context, in *deleteSMTPInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	cur, err := s.store.GetSMTP(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get SMTP server", err)
	}
	if err := pre.check("SMTP server "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	if err := s.store.DeleteSMTP(ctx, cur.ID); err != nil {
		return nil, s.fail(ctx, "disconnect SMTP server", err)
	}
	s.dropSecret(ctx, cur.PasswordRef)
	return nil, nil
}

func (s *server) testSMTPSettings(ctx context.Context, in *struct{ Body SMTPTestRequest }) (*struct{ Body SMTPTestResult }, error) {
	srv, err := in.Body.settings(true)
	if err != nil {
		return nil, err
	}
	if err := checkTestAddress(in.Body.To); err != nil {
		return nil, err
	}
	srv.ID = "test"
	return s.runSMTPTest(ctx, srv, in.Body.Password, in.Body.To), nil
}

func (s *server) testStoredSMTP(ctx context.Context, in *testStoredSMTPInput) (*struct{ Body SMTPTestResult }, error) {
	to := ""
	if in.Body != nil {
		to = in.Body.To
	}
	if err := checkTestAddress(to); err != nil {
		return nil, err
	}
	srv, err := s.store.GetSMTP(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get SMTP server", err)
	}
	password := ""
	if srv.UseAuth && srv.PasswordRef != "" {
		password, err = s.store.GetSecret(ctx, srv.PasswordRef)
		switch {
		case notify.IsCode(err, notify.ENotFound):
			return nil, newProblem(notify.EConflict, "the password of SMTP server "+srv.ID+" is missing from the secret store; PUT the server with its password")
		case err != nil:
			return nil, s.fail(ctx, "read the SMTP password", err)
		}
	}
	return s.runSMTPTest(ctx, *srv, password, to), nil
}

func checkTestAddress(to string) error {
	if to != "" && !notify.ValidEmail(to) {
		return fieldf("to", "%s is not a valid email address", quote(to))
	}
	return nil
}

func (s *server) runSMTPTest(ctx context.Context, srv notify.SMTP, password, to string) *struct{ Body SMTPTestResult } {
	steps := smtp.Test(ctx, srv, password, to, s.smtpOpts...)
	res := SMTPTestResult{OK: len(steps) > 0, Steps: make([]SMTPTestStep, 0, len(steps))}
	for _, st := range steps {
		res.OK = res.OK && st.OK
		res.Steps = append(res.Steps, SMTPTestStep{Name: st.Name, OK: st.OK, Detail: st.Detail, Error: st.Error, Reply: st.Reply})
	}
	return &struct{ Body SMTPTestResult }{Body: res}
}

func (s *server) getSlack(ctx context.Context, _ *struct{}) (*struct{ Body SlackWorkspace }, error) {
	sl, err := s.store.GetSlack(ctx)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return &struct{ Body SlackWorkspace }{}, nil
	case err != nil:
		return nil, s.fail(ctx, "get Slack workspace", err)
	}
	return &struct{ Body SlackWorkspace }{Body: slackFrom(sl)}, nil
}

func (s *server) connectSlack(ctx context.Context, in *struct{ Body SlackToken }) (*slackOutput, error) {
	id, err := slack.AuthTest(ctx, in.Body.Token, s.slackURL, s.slackOpts...)
	if err != nil {
		return nil, s.fail(ctx, "Slack auth.test", err)
	}
	cur, err := s.store.GetSlack(ctx)
	if err != nil && !notify.IsCode(err, notify.ENotFound) {
		return nil, s.fail(ctx, "get Slack workspace", err)
	}
	now := s.stamp()
	sl := &notify.Slack{
		TeamID: id.TeamID, Team: id.Team, TeamURL: id.TeamURL, BotUserID: id.BotUserID, BotName: id.BotName,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	status := http.StatusCreated
	if cur != nil {
		sl.Version, status = cur.Version+1, http.StatusOK
		if cur.TeamID == sl.TeamID {
			sl.CreatedAt = cur.CreatedAt
		}
	}
	if sl.TokenRef, err = s.store.PutSecret(ctx, slackSecretName(sl.Version), in.Body.Token); err != nil {
		return nil, s.fail(ctx, "keep the Slack token", err)
	}
	if err := s.store.PutSlack(ctx, sl); err != nil {
		s.dropSecret(ctx, sl.TokenRef)
		return nil, s.fail(ctx, "connect Slack workspace", err)
	}
	if cur != nil && cur.TokenRef != sl.TokenRef {
		s.dropSecret(ctx, cur.TokenRef)
	}
	return &slackOutput{Status: status, Body: slackFrom(sl)}, nil
}

func (s *server) disconnectSlack(ctx context.Context, _ *struct{}) (*struct{}, error) {
	cur, err := s.store.GetSlack(ctx)
	if err != nil {
		return nil, s.fail(ctx, "get Slack workspace", err)
	}
	if err := s.store.DeleteSlack(ctx); err != nil {
		return nil, s.fail(ctx, "disconnect Slack workspace", err)
	}
	s.dropSecret(ctx, cur.TokenRef)
	return nil, nil
}

// slackToken returns the stored bot token, or a not_connected problem.
func (s *server) slackToken(ctx context.Context) (string, error) {
	sl, err := s.store.GetSlack(ctx)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return "", newProblem(CodeNotConnected, "no Slack workspace is connected: connect one with POST /v1/integrations/slack")
	case err != nil:
		return "", s.fail(ctx, "get Slack workspace", err)
	}
	tok, err := s.store.GetSecret(ctx, sl.TokenRef)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return "", newProblem(notify.EConflict, "the Slack token is missing from the secret store; connect the workspace again")
	case err != nil:
		return "", s.fail(ctx, "read the Slack token", err)
	}
	return tok, nil
}

func (s *server) testSlack(ctx context.Context, in *struct{ Body *SlackTestRequest }) (*struct{ Body SlackTestResult }, error) {
	tok := ""
	if in.Body != nil {
		tok = in.Body.Token
	}
	if tok == "" {
		var err error
		if tok, err = s.slackToken(ctx); err != nil {
			return nil, err
		}
	}
	id, err := slack.AuthTest(ctx, tok, s.slackURL, s.slackOpts...)
	if err != nil {
		p, expected := problemFrom(err)
		if !expected {
			return nil, s.fail(ctx, "Slack auth.test", err)
		}
		msg := p.Detail
		if len(p.Errors) == 1 {
			msg = p.Errors[0].Message
		}
		return &struct{ Body SlackTestResult }{Body: SlackTestResult{Error: msg}}, nil
	}
	return &struct{ Body SlackTestResult }{Body: SlackTestResult{
		OK: true, Team: id.Team, TeamID: id.TeamID, TeamURL: id.TeamURL, BotName: id.BotName, BotUserID: id.BotUserID,
	}}, nil
}

func (s *server) listSlackChannels(ctx context.Context, in *slackChannelsInput) (*struct{ Body SlackChannelList }, error) {
	tok, err := s.slackToken(ctx)
	if err != nil {
		return nil, err
	}
	chs, next, err := slack.Channels(ctx, tok, s.slackURL, in.Cursor, in.Limit, s.slackOpts...)
	if err != nil {
		return nil, s.fail(ctx, "Slack conversations.list", err)
	}
	out := &struct{ Body SlackChannelList }{Body: SlackChannelList{Items: make([]SlackChannel, 0, len(chs)), Next: next}}
	for _, c := range chs {
		out.Body.Items = append(out.Body.Items, SlackChannel(c))
	}
	return out, nil
}
