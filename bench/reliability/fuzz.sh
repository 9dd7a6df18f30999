#!/usr/bin/env bash
# Fuzzes every file parser with CASES random and mutated inputs each (default
# 1,000,000): CSV, XLSX and JSON imports (crates/io/tests/fuzz.rs), e-Stat
# getStatsData JSON and SDMX-CSV 2.0 (crates/analytics/tests/fuzz.rs), NGSI-LD
# broker answers (crates/domain/tests/fuzz_ngsi.rs). Prints
# one FUZZ line per parser with the count, the time and the rate; any panic or
# refusal that does not say where fails the run.
#
# Run from the repository root: bench/reliability/fuzz.sh [CASES=1000000]
# (optimised test build: --release; FUZZ_PROFILE= runs the debug test build.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CITYKPI_FUZZ_CASES=${1:-1000000}
PROFILE=${FUZZ_PROFILE---release}
start=$(date +%s)
cargo test $PROFILE -q -p citykpi-io --test fuzz -- --nocapture --test-threads=1 2>&1 | grep -E '^FUZZ|panicked|test result'
cargo test $PROFILE -q -p citykpi-analytics --test fuzz -- --nocapture --test-threads=1 2>&1 | grep -E '^FUZZ|panicked|test result'
cargo test $PROFILE -q -p citykpi-domain --test fuzz_ngsi -- --nocapture --test-threads=1 2>&1 | grep -E '^FUZZ|panicked|test result'
echo "SUMMARY fuzz: $CITYKPI_FUZZ_CASES inputs per parser, $(( $(date +%s) - start )) s in all (build included)"
