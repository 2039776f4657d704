package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/scim"
)

// mountSCIM serves /scim/v2 with pkg/scim on the directory service, outside
// the admin token: the SCIM handler checks its own token.
func (s *server) mountSCIM(cfg Config) {
	if cfg.SCIM == nil {
		return
	}
	sc := *cfg.SCIM
	sc.Directory = s.dir
	if sc.Logger == nil {
		sc.Logger = s.log
	}
	pattern := scim.BasePath + "/"
	s.mux.Handle(pattern, scim.New(sc))
	s.public[pattern] = true
}

// SCIMToken is a newly generated SCIM bearer token.
type SCIMToken struct {
	Token string `json:"token" doc:"The SCIM bearer token. It is shown this once: only its hash is kept. Paste it, with the URL <base>/scim/v2, into the identity provider."`
}

// DirectorySource says where the directory comes from.
type DirectorySource struct {
	Source   string `json:"source" enum:"api,scim" doc:"scim while an identity provider syncs the directory (a SCIM token exists), else api."`
	Writable bool   `json:"writable" doc:"Whether the admin API may change users and groups (false while synced: writes answer 409 directory_synced)."`
}

func (s *server) registerSCIM(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "rotateSCIMToken", Method: http.MethodPost, Path: "/v1/scim/token", Tags: []string{"directory"},
		Summary: "Generate or rotate the SCIM token",
		Description: "Generates a new bearer token for the SCIM 2.0 service provider at /scim/v2, replacing any previous one, and " +
			"returns it once. From then on the directory is synced from the identity provider.",
		Errors: []int{401, 503},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body SCIMToken }, error) {
		tok, err := s.dir.RotateSCIMToken(ctx)
		if err != nil {
			return nil, s.fail(ctx, "rotate SCIM token", err)
		}
		return &struct{ Body SCIMToken }{Body: SCIMToken{Token: tok}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "getDirectorySource", Method: http.MethodGet, Path: "/v1/directory/source", Tags: []string{"directory"},
		Summary: "Where the directory comes from", Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body DirectorySource }, error) {
		src, err := s.dir.Source(ctx)
		if err != nil {
			return nil, s.fail(ctx, "directory source", err)
		}
		return &struct{ Body DirectorySource }{Body: DirectorySource{Source: src, Writable: s.dir.Writable(ctx)}}, nil
	})
}
