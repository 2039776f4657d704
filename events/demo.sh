#!/usr/bin/env bash
# Sign and post every sample Argo event in events/argo to a running
# `make run`. Settings: ARGO_NOTIFY_ADDR (as make run; default 127.0.0.1:8080),
# ARGO_NOTIFY_INGEST_SECRET (default: the ingest-secret file in
# ARGO_NOTIFY_DATA, default ./.argo-notify). Extra flags (-batch, -dir, -url)
# go to the Go program that does the work, events/demo/main.go; through make:
# make demo ARGS="-batch".
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./events/demo "$@"
