# argo-notify — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
GO ?= go
BIN := $(CURDIR)/.bin
export GOFLAGS := -buildvcs=false
# The Go toolchain that builds, vets and tests everything is pinned by the
# `toolchain` line of go.mod (the same in infra/ and _tools/): the go command
# fetches it from the module proxy when the installed Go is older. Some machines
# set GOTOOLCHAIN=local in their Go installation; this overrides that.
GO_TOOLCHAIN := $(shell sed -n 's/^toolchain //p' go.mod)
export GOTOOLCHAIN := $(GO_TOOLCHAIN)+auto

.PHONY: help run test test-unit test-integration test-infra vet toolchain-check tidy-check lint vulncheck build demo fuzz tools synth deploy clean clean-data

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# run: make stays the parent of the service. Ctrl-C in the terminal stops
# both; a script that started `make run &` stops it with `kill $$!`
# (SIGTERM, which make passes on). Shells start background jobs with SIGINT
# ignored, so `kill -INT` reaches neither make nor, through make, the
# service: scripts that want the service's own PID run $(BIN)/argo-notify.
run: ## start the whole service locally on the embedded store (127.0.0.1:8080); Ctrl-C or SIGTERM stops it
	@mkdir -p $(BIN)
	@$(GO) build -o $(BIN)/argo-notify ./functions/local
	@exec $(BIN)/argo-notify

test: console-deps toolchain-check vet tidy-check lint vulncheck test-integration fuzz test-infra ## install what the tests need and run them all
	@echo "make test: passed — $$(cat $(BIN)/test-summary.txt)"

# The Go files gofmt checks: the root module's packages and the tools'
# (infra is checked by test-infra). Listed by the go command, not git, so it
# works in an exported tree too.
GO_DIRS = $$($(GO) list -f '{{.Dir}}' ./... ) $(CURDIR)/_tools/peerutil
vet: ## gofmt and go vet on the root module
	@out=$$($(GOFMT) -l $(GO_DIRS)) && test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

toolchain-check: ## every go.mod pins the same Go toolchain, and that is the one in use
	@for m in infra/go.mod _tools/go.mod _tools/check/go.mod _tools/amref/go.mod; do \
		t=$$(sed -n 's/^toolchain //p' $$m); \
		[ "$$t" = "$(GO_TOOLCHAIN)" ] || { echo "$$m pins toolchain '$$t', go.mod pins $(GO_TOOLCHAIN): make them equal"; exit 1; }; \
	done
	@v=$$($(GO) env GOVERSION); [ "$$v" = "$(GO_TOOLCHAIN)" ] || { echo "go is $$v, not the pinned $(GO_TOOLCHAIN) (GOTOOLCHAIN=$$GOTOOLCHAIN)"; exit 1; }
	@echo "toolchain: $(GO_TOOLCHAIN) in every module"

# The analysis tools are pinned in _tools/check/go.mod (tool directives):
# staticcheck, govulncheck, gotestsum and the vulnerability database builder.
GOFMT = $$($(GO) env GOROOT)/bin/gofmt
CHECK_TOOLS := $(BIN)/.check-tools.stamp
$(CHECK_TOOLS): _tools/check/go.mod _tools/check/go.sum
	@mkdir -p $(BIN) && $(GO) -C _tools/check build -o $(BIN)/ honnef.co/go/tools/cmd/staticcheck golang.org/x/vuln/cmd/govulncheck gotest.tools/gotestsum
	@touch $@

lint: $(CHECK_TOOLS) ## staticcheck on every package, tests included; any finding fails
	$(BIN)/staticcheck ./...

vulncheck: ## govulncheck against the pinned offline database; fails when our code calls a known vulnerability
	@ARGO_NOTIFY_BIN=$(BIN) _tools/check/vulncheck.sh

tidy-check: ## go mod tidy must leave no diff (root module; infra is checked by test-infra)
	$(GO) mod tidy -diff

test-unit: ## unit tests only, no services (integration tests skip)
	$(GO) test ./...

### BEGIN tools section (owned by the emulator/tooling work: _tools/)
# tools: builds the pinned emulators into $(BIN); test-integration starts them,
# runs every test with ARGO_NOTIFY_INTEGRATION=1 and stops them.
tools: ## build the pinned emulators (kumo, mailpit, aws-lambda-rie) into .bin
	@ARGO_NOTIFY_BIN=$(BIN) _tools/with-peers.sh --build-only

# test-integration runs every test with the race detector, through gotestsum
# (go test -json), and keeps its summary line for the end of make test: the
# number of tests, how many skipped and failed, so a skip cannot hide.
test-integration: $(CHECK_TOOLS) ## every test with -race, kumo and mailpit started on 127.0.0.1
	@ARGO_NOTIFY_BIN=$(BIN) _tools/with-peers.sh $(BIN)/gotestsum --format pkgname-and-test-fails \
		--jsonfile $(BIN)/test-integration.json --post-run-command '$(CURDIR)/_tools/check/summary.sh $(BIN)/test-integration.json $(BIN)/test-summary.txt' \
		-- -race -count=1 -timeout 30m ./...
### END tools section

### BEGIN infra section (owned by the CDK work: infra/, cdk.json, _tools/package.json)
# The CDK app is its own Go module (infra/) so `go test ./...` at the root never
# compiles the CDK. The CLI is pinned in _tools/package.json (aws-cdk 2.1148.1)
# and installed under .bin/cdk-cli, not _tools/node_modules: _tools is a Go
# module, and the CLI ships %name%.template.go files that would break its
# `go mod tidy` and `./...`; Go skips folders whose names start with a dot.
CDK_CLI_DIR := $(BIN)/cdk-cli
CDK := $(CDK_CLI_DIR)/node_modules/.bin/cdk
# Node 20 runs the jsii kernel: silence its end-of-life banner; no version
# check, telemetry or notices (no traffic beyond what a command needs).
INFRA_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
# Synthesis needs no AWS account: no credential files, no instance metadata,
# and a placeholder account/region so the CLI looks nothing up; a placeholder
# sender too (deploy has none: emailFrom must be given).
NO_AWS := env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
SYNTH_CONTEXT := -c account=123456789012 -c region=us-east-1 -c emailFrom=notify@example.com -c alarmEmail=oncall@example.com
# Extra CDK arguments for synth/deploy, e.g. CDK_ARGS="-c emailFrom=notify@example.com"
CDK_ARGS ?=

.PHONY: cdk-cli synth-check

cdk-cli: $(CDK) ## install the pinned CDK CLI into .bin/cdk-cli
$(CDK): _tools/package.json _tools/package-lock.json
	@mkdir -p $(CDK_CLI_DIR) && cp _tools/package.json _tools/package-lock.json $(CDK_CLI_DIR)/
	npm ci --prefix $(CDK_CLI_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

test-infra: cdk-cli ## CDK template + cdk-nag tests (infra/), then a CLI synth without AWS credentials
	cd infra && test -z "$$(gofmt -l .)" || { gofmt -l infra; echo "gofmt needed in infra/"; exit 1; }
	cd infra && $(GO) mod tidy -diff
	cd infra && $(INFRA_ENV) $(GO) vet ./...
	cd infra && $(INFRA_ENV) $(GO) test -count=1 ./...
	@$(MAKE) --no-print-directory synth-check

# synth-check: cdk.json + CLI + app wiring, on fake bootstrap files, with no
# AWS credentials; fails on any unsuppressed cdk-nag finding (the CLI exits 1).
synth-check: cdk-cli ## cdk synth with the pinned CLI on fake bootstrap files, without AWS credentials
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	for f in api ingest dispatcher; do mkdir -p $$tmp/lambda/$$f && printf 'fake' > $$tmp/lambda/$$f/bootstrap; done && \
	$(NO_AWS) $(INFRA_ENV) $(CDK) synth --no-notices --quiet -o $$tmp/cdk.out $(SYNTH_CONTEXT) -c assetDir=$$tmp/lambda && \
	test -s $$tmp/cdk.out/ArgoNotify.template.json && echo "synth-check: ArgoNotify.template.json synthesized without AWS credentials"

synth: build cdk-cli ## synthesize the CloudFormation template into cdk.out/ (no AWS account needed)
	$(NO_AWS) $(INFRA_ENV) $(CDK) synth --no-notices --quiet $(SYNTH_CONTEXT) $(CDK_ARGS)
	@echo "template: cdk.out/$$(ls cdk.out | grep -m1 '\.template\.json$$')"

deploy: build cdk-cli ## deploy to the AWS account of your current credentials (CDK_ARGS="-c emailFrom=... -c alarmEmail=...")
	$(INFRA_ENV) $(CDK) deploy --no-notices $(CDK_ARGS)
### END infra section

### BEGIN build section (Lambda binaries)
# Each function is a `bootstrap` for the provided.al2023 runtime on arm64,
# without the RPC shim (lambda.norpc), stripped and path-free.
LAMBDAS := api ingest dispatcher
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'

build: ## build the three Lambda bootstrap binaries (linux/arm64) into .bin/lambda/<fn>/bootstrap
	@for fn in $(LAMBDAS); do \
		mkdir -p $(BIN)/lambda/$$fn && \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BIN)/lambda/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done
	@ls -l $(BIN)/lambda/*/bootstrap | awk '{printf "%s\t%.1f MB\n", $$NF, $$5/1048576}'
	@$(GO) version $(BIN)/lambda/*/bootstrap | grep -v ": $(GO_TOOLCHAIN)$$" && { echo "build: not built with the pinned $(GO_TOOLCHAIN)"; exit 1; } || echo "built with $(GO_TOOLCHAIN)"
### END build section

demo: ## sign and post the sample events in events/ to a running `make run` (ARGO_NOTIFY_ADDR as make run; flags: ARGS=-batch)
	@./events/demo.sh $(ARGS)

# fuzz: a short run of each ingest fuzz target (event decoder, signature
# parser, EventBridge mapping); FUZZTIME each, 10s by default.
FUZZTIME ?= 10s
fuzz: ## short fuzz run of the ingest decoder and signature parser
	@for f in FuzzDecode FuzzVerifySignature FuzzFromEventBridge; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./pkg/ingest || exit 1; \
	done

clean: ## remove build outputs (.bin, cdk.out); keeps the local data in .argo-notify
	rm -rf $(BIN) cdk.out

clean-data: ## delete the local database, token and secrets in .argo-notify (asks first; CONFIRM=yes skips)
	@[ -e .argo-notify ] || { echo "no .argo-notify here"; exit 0; }; \
	if [ "$(CONFIRM)" != yes ]; then \
		[ -t 0 ] || { echo "clean-data: not a terminal; run make clean-data CONFIRM=yes to delete .argo-notify"; exit 1; }; \
		printf 'Delete .argo-notify (rules, directory, history, admin token, ingest secret)? [y/N] '; read -r ans; \
		case $$ans in y|Y|yes) ;; *) echo "kept"; exit 0;; esac; \
	fi; rm -rf .argo-notify && echo "deleted .argo-notify"

### BEGIN console section (owned by the admin console work: _console/, pkg/console)
# The console's sources live in _console/ (a folder Go's ./... skips, so its
# node_modules never enters the Go module's package tree). Its build is
# committed in pkg/console/dist and embedded in the binaries, so make run and
# go test need no Node.js; pkg/console's TestBuildIsFresh fails when the
# build is stale against _console/ or the OpenAPI golden.
#
# The browser test (pkg/console/browser) runs inside test-integration with
# the rest (ARGO_NOTIFY_INTEGRATION=1, so it cannot skip); make test only
# needs console-deps first: the npm packages and a Chromium. console-test
# runs it alone.
CONSOLE_NPM := $(CURDIR)/_console/node_modules/.stamp
# The browser: $(CHROME_PATH), else Debian's chromium, installed here when
# running as root on Debian/Ubuntu; otherwise make stops and says what to install.
FIND_CHROME = $${CHROME_PATH:-$$(command -v chromium || command -v chromium-browser || command -v google-chrome)}
CONSOLE_GO_TEST = $(GO) test -count=1 -run '^TestConsole(InBrowser|OIDCInBrowser)$$' -v -timeout 10m ./pkg/console/browser

.PHONY: console-deps console-build console-test screenshots

$(CONSOLE_NPM): _console/package.json _console/package-lock.json
	npm ci --prefix _console --no-audit --no-fund --loglevel=error
	@touch $@

console-deps: $(CONSOLE_NPM) ## the console's npm packages and a Chromium for its browser test
	@chrome="$(FIND_CHROME)"; [ -n "$$chrome" ] && [ -x "$$chrome" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null; then \
		echo "console: no Chromium found; installing Debian's chromium"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 || \
			{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null; } || exit 1; \
	else \
		echo "the console's browser test needs Chromium: install Debian's package (sudo apt-get install chromium) or set CHROME_PATH to a Chromium or Chrome binary"; exit 1; \
	fi

console-build: $(CONSOLE_NPM) ## build the console (_console/) into pkg/console/dist and pkg/console/build.sha256; commit both
	npm run --prefix _console build

console-test: console-deps ## the console in headless Chromium against the local service (token sign-in, and OIDC code + PKCE against a stub provider), with axe-core on every screen
	CHROME_PATH="$(FIND_CHROME)" ARGO_NOTIFY_CONSOLE_TEST=1 $(CONSOLE_GO_TEST)

screenshots: console-deps ## regenerate docs/screenshots/*.png (the browser test's screens)
	CHROME_PATH="$(FIND_CHROME)" ARGO_NOTIFY_CONSOLE_TEST=1 ARGO_NOTIFY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(CONSOLE_GO_TEST)
### END console section

### BEGIN faults section (owned by the delivery-guarantee work: pkg/dispatch, pkg/queue, pkg/local fault tests)
# make test runs the fault campaign at its default size (3 kill -9 during
# 600 events, ~15 s); faults-heavy runs the heavy variants alone: 10 kill -9
# during 3,000 events (~1 min on 2 cores). Each test prints a FIGURE line.
.PHONY: faults-heavy
faults-heavy: ## the fault campaign's heavy variants (10 kill -9 during 3,000 events); prints the FIGURE lines
	set -o pipefail; ARGO_NOTIFY_FAULTS_HEAVY=1 $(GO) test -count=1 -timeout 20m -v -run '^TestFault' ./pkg/local/ | grep -E 'FIGURE|^(---|ok|FAIL|PASS)'
### END faults section

### BEGIN bench section (owned by the performance work: _tools/bench, the benchmarks in the packages)
# bench runs the benchmarks issue 12's targets compare and prints one table:
# each figure next to a reference measured in the same run (the SMTP peer's
# capacity from a raw client, a hello-world bootstrap, an in-memory store, a
# naive rule scan, Alertmanager's routing tree on the same rules (the
# _tools/amref module, so Alertmanager stays out of go.mod), a bare net/http
# handler under the same open-loop load, one Slack post a second) and the
# ratio. Outputs stay in .bin/bench. The cold starts run under the emulators
# of .bin (make tools), or PEERS_BIN's.
PEERS_BIN ?= $(BIN)
BENCH_DIR := $(BIN)/bench
.PHONY: bench
bench: ## benchmarks of issue 12 (SMTP, end to end, dispatch, match vs Alertmanager, ingest latency, Slack storm, cold starts, sizes) as one table of ratios
	@rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR)/lambda
	$(GO) test -run '^$$' -bench '^(BenchmarkPeerRaw|BenchmarkSender)$$' -benchtime 2s -json ./pkg/send/smtp > $(BENCH_DIR)/smtp.json
	$(GO) test -run '^$$' -bench '^BenchmarkEndToEnd$$' -benchtime 3000x -timeout 20m -json ./pkg/local > $(BENCH_DIR)/local.json
	$(GO) test -run '^$$' -bench '^(BenchmarkDispatch|BenchmarkMatch)$$' -json ./pkg/dispatch ./pkg/match > $(BENCH_DIR)/core.json
	$(GO) -C _tools/amref test -run '^$$' -bench '^BenchmarkMatchVsAlertmanager$$' -json . > $(BENCH_DIR)/amref.json
	$(GO) test -run '^$$' -bench '^BenchmarkIngestLatency$$' -benchtime 1x -json ./pkg/local > $(BENCH_DIR)/latency.json
	$(GO) test -run '^$$' -bench '^BenchmarkSlackStorm$$' -benchtime 1x -timeout 20m -json ./pkg/local > $(BENCH_DIR)/storm.json
	ARGO_NOTIFY_BIN=$(PEERS_BIN) _tools/with-peers.sh $(GO) test -count=1 -v -run '^(TestInvokeTimes|TestDispatcherDynamoDBCalls)$$' -json ./pkg/awslambda > $(BENCH_DIR)/lambda.json
	@for fn in api ingest dispatcher hello; do \
		src=./functions/$$fn; [ $$fn = hello ] && src=./pkg/awslambda/testdata/hello; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_DIR)/lambda/$$fn $$src || exit 1; \
		echo "$$fn $$(stat -c %s $(BENCH_DIR)/lambda/$$fn)"; \
	done > $(BENCH_DIR)/sizes.txt
	@$(GO) -C _tools run ./bench $(BENCH_DIR)
### END bench section
