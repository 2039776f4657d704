package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

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

type slackOutput struct {
	Status int
	Body   SlackWorkspace
}

type slackChannelsInput struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"200" doc:"Channels per page."`
	Cursor string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page."`
}

func (s *server) registerSlack(api huma.API) {
	reg := integrationOp
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

func (s *server) getSlack(ctx context.Context, _ *struct{}) (*struct{ Body SlackWorkspace }, error) {
	sl, err := s.slack.Get(ctx)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return &struct{ Body SlackWorkspace }{}, nil
	case err != nil:
		return nil, s.fail(ctx, "get Slack workspace", err)
	}
	return &struct{ Body SlackWorkspace }{Body: slackFrom(sl)}, nil
}

func (s *server) connectSlack(ctx context.Context, in *struct{ Body SlackToken }) (*slackOutput, error) {
	sl, replaced, err := s.slack.Connect(ctx, in.Body.Token)
	if err != nil {
		return nil, s.fail(ctx, "connect Slack workspace", err)
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	return &slackOutput{Status: status, Body: slackFrom(sl)}, nil
}

func (s *server) disconnectSlack(ctx context.Context, _ *struct{}) (*struct{}, error) {
	if err := s.slack.Disconnect(ctx); err != nil {
		return nil, s.fail(ctx, "disconnect Slack workspace", err)
	}
	return nil, nil
}

func (s *server) testSlack(ctx context.Context, in *struct{ Body *SlackTestRequest }) (*struct{ Body SlackTestResult }, error) {
	tok := ""
	if in.Body != nil {
		tok = in.Body.Token
	}
	res, err := s.slack.Test(ctx, tok)
	if err != nil {
		return nil, s.fail(ctx, "test Slack token", err)
	}
	if res.Failure != "" {
		return &struct{ Body SlackTestResult }{Body: SlackTestResult{Error: res.Failure}}, nil
	}
	return &struct{ Body SlackTestResult }{Body: SlackTestResult{
		OK: true, Team: res.Team, TeamID: res.TeamID, TeamURL: res.TeamURL, BotName: res.BotName, BotUserID: res.BotUserID,
	}}, nil
}

func (s *server) listSlackChannels(ctx context.Context, in *slackChannelsInput) (*struct{ Body SlackChannelList }, error) {
	chs, next, err := s.slack.Channels(ctx, in.Cursor, in.Limit)
	if err != nil {
		return nil, s.fail(ctx, "list Slack channels", err)
	}
	out := &struct{ Body SlackChannelList }{Body: SlackChannelList{Items: make([]SlackChannel, 0, len(chs)), Next: next}}
	for _, c := range chs {
		out.Body.Items = append(out.Body.Items, SlackChannel(c))
	}
	return out, nil
}
