#!/usr/bin/env bash
# with-peers.sh CMD [ARGS...]
#
# Runs CMD with the integration-test peers up (see _tools/README.md):
#   kumo    (DynamoDB, SQS, SES v2, Secrets Manager) on a free 127.0.0.1 port
#   mailpit (SMTP with STARTTLS + AUTH required, HTTP API) on free 127.0.0.1 ports
#   aws-lambda-rie (path only; tests start it themselves)
# The pinned binaries are built from _tools/go.mod into $ARGO_NOTIFY_BIN (default
# <repo>/.bin) when missing or when _tools/go.mod or go.sum changed. Each peer must
# answer its health check within $ARGO_NOTIFY_PEER_TIMEOUT seconds (default 60) or
# the script fails. The peers are stopped when CMD ends; CMD's exit status is ours
# (non-zero also when a peer died during the run).
#
#   with-peers.sh --build-only        only build the binaries (make tools)
#   ARGO_NOTIFY_KEEP_PEER_LOGS=1      keep the peers' logs, cert and auth file
#   KUMO_LOG_LEVEL=debug              more kumo logging (default warn)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/_tools
BIN=${ARGO_NOTIFY_BIN:-$ROOT/.bin}
TIMEOUT=${ARGO_NOTIFY_PEER_TIMEOUT:-60}

log() { printf 'with-peers: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

[ $# -gt 0 ] || die "usage: $0 CMD [ARGS...]"
command -v curl >/dev/null || die "curl is required"

# build N NAME PKG MINUTES STAMP-INPUTS...: rebuild $BIN/NAME when the
# SHA-256 of the inputs differs from its stamp. MINUTES is what a first build
# took on a 2-core machine with the module cache filled, for the progress line.
build() {
	local n=$1 name=$2 pkg=$3 took=$4; shift 4
	local want have=""
	want=$("$BIN/peerutil" sum "$@")
	[ -f "$BIN/.$name.stamp" ] && have=$(cat "$BIN/.$name.stamp")
	if [ -x "$BIN/$name" ] && [ "$want" = "$have" ]; then
		log "[$n/3] $name: up to date"
		return 0
	fi
	log "[$n/3] building $name (a first build takes $took on 2 cores; later ones reuse the Go build cache)"
	local t0=$SECONDS
	GOFLAGS=-buildvcs=false go -C "$TOOLS" build -o "$BIN/" "$pkg" || die "build of $name failed"
	echo "$want" >"$BIN/.$name.stamp"
	log "[$n/3] built $name in $((SECONDS - t0))s"
}

mkdir -p "$BIN"
# peerutil first (about a second): it computes the stamps of the others.
GOFLAGS=-buildvcs=false go -C "$TOOLS" build -o "$BIN/" ./peerutil || die "build of peerutil failed"
build_all() {
	build 1 kumo github.com/sivchari/kumo/cmd/kumo "about 7 minutes" "$TOOLS/go.mod" "$TOOLS/go.sum"
	build 2 mailpit github.com/axllent/mailpit "about 2.5 minutes" "$TOOLS/go.mod" "$TOOLS/go.sum"
	build 3 aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie "about 20 seconds" "$TOOLS/go.mod" "$TOOLS/go.sum"
}
if command -v flock >/dev/null; then
	# One builder at a time: several test runs may start at once.
	(
		flock 9
		build_all
	) 9>"$BIN/.build.lock"
else
	build_all # no flock (macOS): do not start two test runs at once on a fresh .bin
fi
[ "${1:-}" = "--build-only" ] && exit 0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/argo-notify-peers.XXXXXX")
PIDS=()
cleanup() {
	local rc=$?
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${ARGO_NOTIFY_KEEP_PEER_LOGS:-}" ]; then
		log "peer logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for NAME PID URL: poll URL until it answers 2xx, the process dies, or time runs out.
wait_for() {
	local name=$1 pid=$2 url=$3 deadline=$((SECONDS + TIMEOUT))
	while :; do
		if curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name exited during start-up; its log:"
			tail -n 40 "$WORK/$name.log" >&2 || true
			die "$name did not start"
		fi
		if [ $SECONDS -ge $deadline ]; then
			log "$name log:"
			tail -n 40 "$WORK/$name.log" >&2 || true
			die "$name did not answer $url within ${TIMEOUT}s"
		fi
		sleep 0.2
	done
}

# wait_tcp NAME PID PORT: wait until 127.0.0.1:PORT accepts connections.
wait_tcp() {
	local name=$1 pid=$2 port=$3 deadline=$((SECONDS + TIMEOUT))
	until "$BIN/peerutil" dial "$port" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { tail -n 40 "$WORK/$name.log" >&2; die "$name did not start"; }
		[ $SECONDS -lt $deadline ] || die "$name port $port not open within ${TIMEOUT}s"
		sleep 0.2
	done
}

PORTS=$("$BIN/peerutil" ports 3) || die "could not get free ports"
read -r KUMO_PORT SMTP_PORT MAILPIT_HTTP <<<"$(echo $PORTS)"
[ -n "$MAILPIT_HTTP" ] || die "could not get free ports"

# kumo: in memory, bound to loopback only.
KUMO_HOST=127.0.0.1 KUMO_PORT=$KUMO_PORT KUMO_LOG_LEVEL=${KUMO_LOG_LEVEL:-warn} \
	"$BIN/kumo" >"$WORK/kumo.log" 2>&1 &
PIDS+=($!)
KUMO_PID=$!

# mailpit: STARTTLS and AUTH required, self-signed cert the tests trust.
"$BIN/peerutil" cert "$WORK" || die "could not write the SMTP certificate"
SMTP_USER=argo-notify
SMTP_PASS=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s:%s\n' "$SMTP_USER" "$SMTP_PASS" >"$WORK/smtp-auth.txt"
chmod 600 "$WORK/smtp-auth.txt"
"$BIN/mailpit" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP" \
	--disable-version-check --smtp-disable-rdns \
	--smtp-tls-cert "$WORK/cert.pem" --smtp-tls-key "$WORK/key.pem" --smtp-require-starttls \
	--smtp-auth-file "$WORK/smtp-auth.txt" --database "$WORK/mailpit.db" \
	>"$WORK/mailpit.log" 2>&1 &
PIDS+=($!)
MAILPIT_PID=$!

wait_for kumo "$KUMO_PID" "http://127.0.0.1:$KUMO_PORT/health"
wait_for mailpit "$MAILPIT_PID" "http://127.0.0.1:$MAILPIT_HTTP/readyz"
wait_tcp mailpit "$MAILPIT_PID" "$SMTP_PORT"
[ -x "$BIN/aws-lambda-rie" ] || die "aws-lambda-rie missing from $BIN"

# The environment contract (_tools/README.md). Clear any AWS settings that would send the
# SDK elsewhere than kumo.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
while IFS='=' read -r name _; do
	case $name in AWS_ENDPOINT_URL_*) unset "$name" ;; esac
done < <(env)
export ARGO_NOTIFY_INTEGRATION=1
export AWS_ENDPOINT_URL=http://127.0.0.1:$KUMO_PORT
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
export ARGO_NOTIFY_TEST_KUMO_URL=http://127.0.0.1:$KUMO_PORT
export ARGO_NOTIFY_TEST_SMTP_ADDR=127.0.0.1:$SMTP_PORT
export ARGO_NOTIFY_TEST_SMTP_USER=$SMTP_USER
export ARGO_NOTIFY_TEST_SMTP_PASS=$SMTP_PASS
export ARGO_NOTIFY_TEST_SMTP_CA=$WORK/cert.pem
export ARGO_NOTIFY_TEST_MAILPIT_API=http://127.0.0.1:$MAILPIT_HTTP
export ARGO_NOTIFY_TEST_RIE=$BIN/aws-lambda-rie

log "kumo :$KUMO_PORT, mailpit smtp :$SMTP_PORT http :$MAILPIT_HTTP, rie $ARGO_NOTIFY_TEST_RIE"
# CMD runs in the background (stdin kept) so that a signal to this script
# stops CMD and the peers at once, rather than after CMD ends.
set +e
"$@" <&0 &
CHILD=$!
trap 'kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; exit 130' INT
trap 'kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; exit 143' TERM
wait "$CHILD"
rc=$?
set -e
# A peer that died during the run is a failure even when CMD passed.
for name in kumo mailpit; do
	pidvar=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')_PID
	if ! kill -0 "${!pidvar}" 2>/dev/null; then
		log "$name died during the run; its log:"
		tail -n 40 "$WORK/$name.log" >&2 || true
		[ $rc -ne 0 ] || rc=1
	fi
done
exit $rc
