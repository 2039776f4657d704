package boundary

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is the root module's path; "~/" in the lines below stands for it.
const module = "github.com/argoproj-labs/argo-notify/"

// std allows the standard library.
const std = "std"

// lines declares, for every package of the root module (non-test files),
// the imports it may have: std, a package of ours ("~/pkg/notify" allows
// exactly that package; "~/pkg/send/..." that package and those below it),
// or a third-party module path prefix. A package missing from this table
// fails the test, so a new package declares its lines.
var lines = map[string][]string{
	// The domain: the standard library only.
	"pkg/notify": {std},
	// What the deployed stack (infra/) and the functions agree on:
	// environment names, the receive limit, the job sources. infra imports it.
	"pkg/deploy": {std},

	// Pure logic and contracts over the domain.
	"pkg/match":           {std, "~/pkg/notify"},
	"pkg/match/matchtest": {std, "~/pkg/notify"},
	"pkg/ingest":          {std, "~/pkg/notify", "~/pkg/signature", "~/pkg/deploy"},
	// The HMAC scheme shared by ingest and the webhook channel.
	"pkg/signature": {std, "~/pkg/notify"},
	"pkg/queue":     {std, "~/pkg/notify", "~/pkg/deploy"},
	"pkg/store":     {std, "~/pkg/notify"},
	// Core send: email rendering and the sender contract; no provider SDK.
	"pkg/send": {std, "~/pkg/notify"},
	// The channel registry: channels plug in here; no provider SDK.
	"pkg/channel": {std, "~/pkg/notify", "~/pkg/send"},
	// The admin use cases: the domain and the store contracts only.
	"pkg/admin": {std, "~/pkg/notify", "~/pkg/store"},

	// The dispatcher: contracts only, no adapter.
	"pkg/dispatch": {std, "~/pkg/notify", "~/pkg/match", "~/pkg/queue", "~/pkg/send", "~/pkg/channel", "~/pkg/store"},
	// The admin API translates HTTP to the admin services; it adapts the
	// channels' connection tests to them. No store or queue adapter.
	"pkg/api": {std, "~/pkg/notify", "~/pkg/admin", "~/pkg/dispatch", "~/pkg/ingest", "~/pkg/queue", "~/pkg/send",
		"~/pkg/send/slack", "~/pkg/send/smtp", "~/pkg/send/webhook", "~/pkg/store",
		"~/pkg/scim", "~/pkg/api/problem", "~/pkg/api/ingesthttp", "github.com/danielgtaylor/huma/v2", "github.com/oklog/ulid/v2"},
	// The API's problem details, shared with the ingest handler; no huma.
	"pkg/api/problem": {std, "~/pkg/notify", "~/pkg/admin"},
	// POST /v1/events alone (the ingest function serves it): no huma, no
	// admin services.
	"pkg/api/ingesthttp": {std, "~/pkg/notify", "~/pkg/ingest", "~/pkg/queue", "~/pkg/api/problem", "github.com/oklog/ulid/v2"},
	// The SCIM 2.0 service provider translates SCIM to the directory
	// service; no store, no huma, no AWS SDK.
	"pkg/scim": {std, "~/pkg/notify", "~/pkg/admin"},

	// Adapters: the domain and the contract they implement, never each other.
	"pkg/store/bolt":         {std, "~/pkg/notify", "~/pkg/store", "~/pkg/internal/boltgroup", "go.etcd.io/bbolt"},
	"pkg/store/dynamo":       {std, "~/pkg/notify", "~/pkg/store", "~/pkg/deploy", "github.com/aws/aws-sdk-go-v2"},
	"pkg/store/awssecrets":   {std, "~/pkg/notify", "~/pkg/store", "github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"},
	"pkg/store/storetest":    {std, "~/pkg/notify", "~/pkg/store", "github.com/google/go-cmp"},
	"pkg/queue/local":        {std, "~/pkg/notify", "~/pkg/queue", "~/pkg/internal/boltgroup", "go.etcd.io/bbolt", "github.com/oklog/ulid/v2"},
	"pkg/queue/sqs":          {std, "~/pkg/notify", "~/pkg/queue", "github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-lambda-go/events"},
	"pkg/send/console":       {std, "~/pkg/notify", "~/pkg/send", "github.com/oklog/ulid/v2"},
	"pkg/send/smtp":          {std, "~/pkg/notify", "~/pkg/send", "github.com/wneessen/go-mail", "github.com/oklog/ulid/v2"},
	"pkg/send/smtp/smtptest": {std, "github.com/emersion/go-smtp", "github.com/emersion/go-sasl"},
	"pkg/send/slack":         {std, "~/pkg/notify", "~/pkg/send", "~/pkg/channel", "github.com/slack-go/slack"},
	"pkg/send/webhook":       {std, "~/pkg/notify", "~/pkg/send", "~/pkg/channel", "~/pkg/signature"},
	"pkg/send/email":         {std, "~/pkg/notify", "~/pkg/send", "~/pkg/send/smtp", "~/pkg/channel"},
	"pkg/send/ses":           {std, "~/pkg/notify", "~/pkg/send", "~/pkg/send/pace", "github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"},
	"pkg/send/pace":          {std, "~/pkg/notify", "~/pkg/send"},
	"pkg/metric":             {std},
	// The registration of every channel: one line each.
	"pkg/send/route": {std, "~/pkg/notify", "~/pkg/send/...", "~/pkg/channel", "~/pkg/store"},

	// The admin console: embedded static assets and their handler; it talks
	// to the service only through the public REST API, in the browser.
	"pkg/console":         {std},
	"pkg/console/browser": {std},

	// Composition roots: they wire adapters together.
	"pkg/local":     {std, "~/pkg/..."},
	"pkg/awslambda": {std, "~/pkg/...", "github.com/aws/", "github.com/awslabs/aws-lambda-go-api-proxy"},
	// What the three functions share: configuration, the proxy, Main; no
	// SDK service package (each function links only those it calls).
	"pkg/awslambda/fn": {std, "~/pkg/deploy", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/aws",
		"github.com/aws/aws-sdk-go-v2/credentials", "github.com/awslabs/aws-lambda-go-api-proxy"},
	// One composition root per function, with the SDK service packages it calls.
	"pkg/awslambda/apifn": {std, "~/pkg/...", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/aws",
		"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/sqs",
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
	"pkg/awslambda/ingestfn": {std, "~/pkg/...", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/aws",
		"github.com/aws/aws-sdk-go-v2/service/sqs", "github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
	"pkg/awslambda/dispatcherfn": {std, "~/pkg/...", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/aws",
		"github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/aws/aws-sdk-go-v2/service/sqs",
		"github.com/aws/aws-sdk-go-v2/service/sesv2", "github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
	// Binaries: configuration and a composition root, nothing else.
	"functions/local":      {std, "~/pkg/local"},
	"functions/api":        {std, "~/pkg/awslambda/apifn"},
	"functions/ingest":     {std, "~/pkg/awslambda/ingestfn"},
	"functions/dispatcher": {std, "~/pkg/awslambda/dispatcherfn"},

	// Development helpers.
	"pkg/send/sendtest":      {std, "~/pkg/notify", "~/pkg/send", "github.com/google/go-cmp"},
	"events/demo":            {std, "~/pkg/ingest"},
	"pkg/internal/kumotest":  {std, "github.com/aws/aws-sdk-go-v2"},
	"pkg/internal/boundary":  {std},
	"pkg/internal/boltgroup": {std, "go.etcd.io/bbolt"},
	// Test helper: a fault-injecting reverse proxy in front of the emulators.
	"pkg/internal/faultproxy": {std},
}

func TestImportBoundaries(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	imports := packageImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found only %d packages under %s: is the walk broken?", len(imports), root)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		allowed, ok := lines[pkg]
		if !ok {
			t.Errorf("%s: no declared lines: add it to the table in %s", pkg, "pkg/internal/boundary/boundary_test.go")
			continue
		}
		for _, imp := range imports[pkg] {
			if !permitted(imp, allowed) {
				t.Errorf("%s imports %s, across its declared lines %v", pkg, strings.Replace(imp, module, "~/", 1), allowed)
			}
		}
	}
	for pkg := range lines {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("%s is declared but does not exist any more: remove it from the table", pkg)
		}
	}
}

// TestPermitted checks the matcher itself, so the boundary test can fail.
func TestPermitted(t *testing.T) {
	tests := []struct {
		imp     string
		allowed []string
		want    bool
	}{
		{"fmt", []string{std}, true},
		{"net/http", []string{std}, true},
		{"github.com/slack-go/slack", []string{std}, false},
		{module + "pkg/notify", []string{std}, false},
		{module + "pkg/notify", []string{"~/pkg/notify"}, true},
		{module + "pkg/notifyx", []string{"~/pkg/notify"}, false},
		{module + "pkg/send/smtp", []string{"~/pkg/send"}, false},
		{module + "pkg/send/smtp", []string{"~/pkg/send/..."}, true},
		{module + "pkg/send", []string{"~/pkg/send/..."}, true},
		{"github.com/aws/aws-sdk-go-v2/service/sqs", []string{"github.com/aws/aws-sdk-go-v2"}, true},
		{"github.com/aws/aws-sdk-go-v2x", []string{"github.com/aws/aws-sdk-go-v2"}, false},
	}
	for _, tt := range tests {
		if got := permitted(tt.imp, tt.allowed); got != tt.want {
			t.Errorf("permitted(%q, %v) = %v, want %v", tt.imp, tt.allowed, got, tt.want)
		}
	}
}

// permitted reports whether imp is within the allowed lines.
func permitted(imp string, allowed []string) bool {
	for _, a := range allowed {
		switch {
		case a == std:
			first, _, _ := strings.Cut(imp, "/")
			if !strings.Contains(first, ".") {
				return true
			}
		case strings.HasPrefix(a, "~/"):
			p := module + strings.TrimPrefix(a, "~/")
			if base, ok := strings.CutSuffix(p, "/..."); ok {
				if imp == base || strings.HasPrefix(imp, base+"/") {
					return true
				}
			} else if imp == p {
				return true
			}
		case strings.HasSuffix(a, "/"):
			if strings.HasPrefix(imp, a) {
				return true
			}
		default:
			if imp == a || strings.HasPrefix(imp, a+"/") {
				return true
			}
		}
	}
	return false
}

// packageImports parses the non-test Go files of the root module and
// returns each package directory (relative to root) with its imports.
// Folders the go command skips (_*, .*, testdata) and other modules (a
// go.mod of their own) are skipped too.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, is := range f.Imports {
			imp, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(out[rel], imp) {
				out[rel] = append(out[rel], imp)
			}
		}
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
