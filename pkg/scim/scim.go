// Package scim is argo-notify's SCIM 2.0 service provider (RFC 7643, RFC
// 7644) at /scim/v2: identity providers (Okta, Microsoft Entra ID, …) push
// the organization's users and groups into the directory through it.
//
// It only translates: SCIM requests become calls of the directory service
// (pkg/admin: ProvisionUser, ModifyUser, RemoveUser, …) and its results
// SCIM resources; errors are SCIM errors (application/scim+json, with
// scimType). It authenticates its own bearer token (admin.Directory's
// CheckSCIMToken), never the admin token, and throttles requests with a
// per-process token bucket.
//
// The package imports the domain, pkg/admin and the standard library; it
// must not import a store, pkg/api or an AWS SDK.
package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// BasePath is where the service provider is mounted.
const BasePath = "/scim/v2"

// Schema URNs (RFC 7643 §8.7, RFC 7644 §3.12, §3.5.2, §3.4.2).
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// contentType is the media type of every answer.
const contentType = "application/scim+json"

// Defaults of Config.
const (
	DefaultRoleAttribute = "roles"
	DefaultRate          = 20 // requests per second
	DefaultBurst         = 100
	maxCount             = 500
	maxBody              = 1 << 20
)

// Config configures the service provider. Directory is required.
type Config struct {
	// Directory is the directory service SCIM changes go through.
	Directory *admin.Directory
	// RoleAttribute is the SCIM attribute a user's role is read from and
	// written to: "roles" (the primary, else the first, roles[].value; the
	// default), "userType", "title", or an enterprise extension attribute
	// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").
	// A value that is not one of the product's roles (admin, developer,
	// member, viewer; case-insensitive) gives DefaultRole.
	RoleAttribute string
	// DefaultRole is the role of a user whose role attribute is absent or
	// unknown. Default: member.
	DefaultRole string
	// RoleGroups maps group display names (case-insensitive) to roles: a
	// member of a mapped group takes its role (the highest, if several),
	// whatever the role attribute says.
	RoleGroups map[string]string
	// Rate and Burst size the token bucket that throttles requests (per
	// process): Rate requests per second on average, Burst at once.
	Rate  float64
	Burst int
	// Logger receives internal errors. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock of the throttle. Default: time.Now.
	Now func() time.Time
}

// Handler serves /scim/v2.
type Handler struct {
	cfg   Config
	dir   *admin.Directory
	log   *slog.Logger
	mux   *http.ServeMux
	limit *bucket
}

// New returns the SCIM handler. It panics if cfg.Directory is nil, a
// programming error in the caller's wiring.
func New(cfg Config) *Handler {
	if cfg.Directory == nil {
		panic("scim.New: Config.Directory is nil")
	}
	if cfg.RoleAttribute == "" {
		cfg.RoleAttribute = DefaultRoleAttribute
	}
	if cfg.DefaultRole == "" {
		cfg.DefaultRole = notify.RoleMember
	}
	if !slices.Contains(notify.Roles, cfg.DefaultRole) {
		panic("scim.New: Config.DefaultRole is not a role")
	}
	for g, role := range cfg.RoleGroups {
		if !slices.Contains(notify.Roles, role) {
			panic("scim.New: Config.RoleGroups maps " + strconv.Quote(g) + " to " + strconv.Quote(role) + ", not a role")
		}
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, dir: cfg.Directory, log: cfg.Logger, mux: http.NewServeMux(),
		limit: &bucket{rate: cfg.Rate, burst: float64(cfg.Burst), tokens: float64(cfg.Burst), now: cfg.Now}}
	if h.log == nil {
		h.log = slog.Default()
	}
	b := BasePath
	h.mux.HandleFunc("GET "+b+"/ServiceProviderConfig", h.serviceProviderConfig)
	h.mux.HandleFunc("GET "+b+"/ResourceTypes", h.resourceTypes)
	h.mux.HandleFunc("GET "+b+"/ResourceTypes/{id}", h.resourceType)
	h.mux.HandleFunc("GET "+b+"/Schemas", h.schemas)
	h.mux.HandleFunc("GET "+b+"/Schemas/{id}", h.schema)
	h.mux.HandleFunc("GET "+b+"/Users", h.listUsers)
	h.mux.HandleFunc("POST "+b+"/Users", h.createUser)
	h.mux.HandleFunc("GET "+b+"/Users/{id}", h.getUser)
	h.mux.HandleFunc("PUT "+b+"/Users/{id}", h.replaceUser)
	h.mux.HandleFunc("PATCH "+b+"/Users/{id}", h.patchUser)
	h.mux.HandleFunc("DELETE "+b+"/Users/{id}", h.deleteUser)
	h.mux.HandleFunc("GET "+b+"/Groups", h.listGroups)
	h.mux.HandleFunc("POST "+b+"/Groups", h.createGroup)
	h.mux.HandleFunc("GET "+b+"/Groups/{id}", h.getGroup)
	h.mux.HandleFunc("PUT "+b+"/Groups/{id}", h.replaceGroup)
	h.mux.HandleFunc("PATCH "+b+"/Groups/{id}", h.patchGroup)
	h.mux.HandleFunc("DELETE "+b+"/Groups/{id}", h.deleteGroup)
	return h
}

// ServeHTTP throttles and authenticates the request, then routes it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !h.limit.take() {
		w.Header().Set("Retry-After", "1")
		writeError(w, &Error{Status: http.StatusTooManyRequests, Detail: "too many requests; slow down"})
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		tok = ""
	}
	if err := h.dir.CheckSCIMToken(r.Context(), strings.TrimSpace(tok)); err != nil {
		if !notify.IsCode(err, notify.EUnauthorized) {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="argo-notify SCIM"`)
		writeError(w, &Error{Status: http.StatusUnauthorized, Detail: "a valid SCIM bearer token is required"})
		return
	}
	r = r.WithContext(admin.WithActor(r.Context(), admin.ActorSCIM))
	if _, pattern := h.mux.Handler(r); pattern == "" {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Error is a SCIM error response (RFC 7644 §3.12).
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail) }

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail answers err: a *Error as it is, a coded domain error as its SCIM
// equivalent, anything else as a logged 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *Error
	if errors.As(err, &se) {
		writeError(w, se)
		return
	}
	var ne *notify.Error
	if errors.As(err, &ne) {
		switch ne.Code {
		case notify.EInvalid:
			writeError(w, &Error{Status: http.StatusBadRequest, ScimType: "invalidValue", Detail: ne.Message})
			return
		case notify.EConflict:
			writeError(w, &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: ne.Message})
			return
		case notify.ENotFound:
			writeError(w, &Error{Status: http.StatusNotFound, Detail: ne.Message})
			return
		case notify.EStale:
			writeError(w, &Error{Status: http.StatusPreconditionFailed, Detail: ne.Message})
			return
		case notify.EUnauthorized:
			writeError(w, &Error{Status: http.StatusUnauthorized, Detail: ne.Message})
			return
		case notify.EInUse, notify.EReadOnly:
			writeError(w, &Error{Status: http.StatusConflict, Detail: ne.Message})
			return
		case notify.ETooLarge:
			writeError(w, &Error{Status: http.StatusRequestEntityTooLarge, Detail: ne.Message})
			return
		}
	}
	h.log.ErrorContext(r.Context(), "scim request failed", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	writeError(w, &Error{Status: http.StatusInternalServerError, Detail: "an internal error occurred; it has been logged"})
}

// readBody decodes a JSON object body (application/scim+json or
// application/json).
func readBody(r *http.Request) (map[string]any, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Detail: "send application/scim+json"}
		}
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest("invalidSyntax", "the body could not be read")
	}
	if len(data) > maxBody {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "the body is too large"}
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badRequest("invalidSyntax", "the body is not a JSON object")
	}
	return m, nil
}

// precondition turns If-Match (a meta.version, W/"3" or "3") into an admin
// precondition; nil without the header.
func precondition(r *http.Request) admin.Precondition {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return nil
	}
	return func(what string, current int64) (int64, error) {
		for _, t := range strings.Split(im, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag(current)[2:] {
				return current, nil
			}
		}
		return 0, notify.Errorf(notify.EStale, "%s is at version %s, not %s", what, etag(current), im)
	}
}

// etag is the weak entity tag of a version, as meta.version holds it.
func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func (b *bucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ctxKey-free helpers for handlers.
func pathID(r *http.Request) string { return r.PathValue("id") }

// Beside sends the requests under BasePath to h (the handler that mounts
// the service provider, e.g. the admin API's) and every other request to
// other (e.g. the console beside the API, which would otherwise answer
// them with its index page).
func Beside(h, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == BasePath || strings.HasPrefix(p, BasePath+"/") {
			h.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

// reportPruned logs the rules a deletion took the user or group out of
// (each is also in the audit trail, before and after), and those it left
// with no recipient, which are now disabled.
func (h *Handler) reportPruned(r *http.Request, kind, id string, pruned []*notify.Rule) {
	if len(pruned) == 0 {
		return
	}
	var changed, disabled []string
	for _, rule := range pruned {
		changed = append(changed, rule.ID)
		if !rule.Enabled && rule.Recipients.Empty() {
			disabled = append(disabled, rule.ID)
		}
	}
	h.log.InfoContext(r.Context(), "scim: deleted "+kind+" taken out of rules", kind+"_id", id,
		"rules", strings.Join(changed, ","), "disabled_rules", strings.Join(disabled, ","))
}
