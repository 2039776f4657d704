#!/usr/bin/env bash
# summary.sh JSONFILE OUT: gotestsum's --post-run-command for make test. It
# writes one line — packages, tests, skipped, failed — to OUT, from gotestsum's
# counts (TESTS_* in the environment) and go test's JSON in JSONFILE, and fails
# when a test skipped: make test runs every peer, so a skip hides a test.
set -euo pipefail
json=$1 out=$2
pkgs=$(grep '"Action":"pass"' "$json" | grep -vc '"Test":' || true)
nofiles=$(grep '"Action":"skip"' "$json" | grep -vc '"Test":' || true)
line="$pkgs packages passed ($nofiles without tests), ${TESTS_TOTAL:-?} tests, ${TESTS_SKIPPED:-?} skipped, ${TESTS_FAILED:-?} failed"
echo "$line" | tee "$out"
if [ "${TESTS_SKIPPED:-0}" != 0 ]; then
	echo "skipped tests (none may skip with the peers up):"
	grep '"Action":"skip"' "$json" | grep '"Test":' | sed 's/.*"Package":"\([^"]*\)","Test":"\([^"]*\)".*/  \1 \2/'
	exit 1
fi
