package api

import "github.com/danielgtaylor/huma/v2"

// registerIntegrations registers the SMTP and Slack integration routes.
func (s *server) registerIntegrations(api huma.API) {}
