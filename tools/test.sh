#!/usr/bin/env bash
# The README's command 2 (and CI's): installs what is missing, then builds and runs every test:
# the release build's suite, the same suite under AddressSanitizer + UBSan, and a short libFuzzer
# run of the decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
jobs=${EDI_JOBS:-2}

echo "== clang-format"
tools/format.sh --check

echo "== release build and tests"
tools/build.sh release -j"$jobs"
(cd build/release && ctest --output-on-failure -j"$jobs" --timeout 600)

echo "== AddressSanitizer + UBSan build and tests (all but the integration label)"
tools/build.sh asan -j"$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" --timeout 900 -LE integration)

echo "== decoder fuzzing (${EDI_FUZZ_SECONDS:-20} s)"
tools/build.sh fuzz -j"$jobs" fuzz_decoder
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
EDI_AUDIT_SCHEMA_DIR=$PWD/schemas build/fuzz/tests/fuzz/fuzz_decoder "$corpus" \
  -max_total_time="${EDI_FUZZ_SECONDS:-20}" -max_len=4096 -print_final_stats=1 2>&1 | tail -n 12
echo "fuzz: no findings"
