#!/usr/bin/env bash
# Schemathesis against the REST API's OpenAPI document with many examples per
# operation: runs the test crates/web/tests/schemathesis.rs (a server on a
# free loopback port over a SQLite file with the demo city, an administrator's
# API token, checks not_a_server_error, response_schema_conformance and
# content_type_conformance) with EXAMPLES examples per operation instead of
# CI's 10, and prints its SCHEMATHESIS line (operations tested, cases, exit
# status, seconds). Fails when Schemathesis finds anything.
#
# Run from the repository root: bench/reliability/schemathesis.sh [EXAMPLES=200]
# Needs `schemathesis` on PATH (pip install schemathesis) or CITYKPI_SCHEMATHESIS.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CITYKPI_SCHEMATHESIS_EXAMPLES=${1:-200}
start=$(date +%s)
set +e
out=$(cargo test -q -p citykpi-web --test schemathesis schemathesis_finds_no_server_error -- --nocapture 2>&1)
rc=$?
set -e
echo "$out" | grep -E '^SCHEMATHESIS|panicked|test result|Failures|❌|generated' || true
[ $rc -eq 0 ] || echo "$out" | tail -n 80
echo "SUMMARY schemathesis: $CITYKPI_SCHEMATHESIS_EXAMPLES examples per operation, exit $rc, $(( $(date +%s) - start )) s in all (build included)"
exit $rc
