#!/usr/bin/env bash
# vulncheck.sh [PATTERNS...]
#
# Runs govulncheck on the root module (default ./...) against an offline copy of
# the Go vulnerability database. The public database is not reachable from every
# network, so the database is built from the golang.org/x/vulndb module, fetched
# through the Go module proxy at the version _tools/check/go.mod pins, by that
# module's own cmd/indexdb (~20 s), and cached in $ARGO_NOTIFY_BIN/vulndb/<version>.
#
# Fails (exit 3) when our code calls a known vulnerability; vulnerabilities in
# packages we import or modules we require but do not call are listed, not fatal.
#
# To refresh the database: bump the vulndb version in _tools/check
# (go -C _tools/check get -tool golang.org/x/vulndb/cmd/indexdb@<newer>) and commit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CHECK=$ROOT/_tools/check
BIN=${ARGO_NOTIFY_BIN:-$ROOT/.bin}
log() { printf 'vulncheck: %s\n' "$*" >&2; }

version=$(go -C "$CHECK" list -m -f '{{.Version}}' golang.org/x/vulndb)
db=$BIN/vulndb/$version
if [ ! -f "$db/index/db.json" ]; then
	log "building the vulnerability database from golang.org/x/vulndb@$version"
	src=$(go -C "$CHECK" mod download -json golang.org/x/vulndb | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src/data/osv" ] || { log "no data/osv in $src"; exit 1; }
	rm -rf "$db.tmp" && mkdir -p "$db.tmp"
	go -C "$CHECK" tool indexdb -vulns "$src/data/osv" -out "$db.tmp"
	rm -rf "$db" && mv "$db.tmp" "$db"
fi
log "database golang.org/x/vulndb@$version ($(find "$db/ID" -name '*.json' | wc -l) entries); $(go version)"
[ $# -gt 0 ] || set -- ./...
# -show verbose lists the vulnerabilities in imported packages and required
# modules that our code does not call; only called ones set a non-zero exit.
cd "$ROOT"
exec go -C "$CHECK" tool govulncheck -C "$ROOT" -db "file://$db" -show verbose "$@"
