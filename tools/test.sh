#!/usr/bin/env bash
# The README's command 2 (and CI's): installs what is missing, then builds and runs every test:
# the release build's suite, the same suite under AddressSanitizer + UBSan, and a short libFuzzer
# run of the decoder.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/kafka/fetch.sh  # the real broker the integration tests start (jars from Maven Central)
jobs=${EDI_JOBS:-2}

echo "== clang-format"
tools/format.sh --check

echo "== release build and tests"
tools/build.sh release -j"$jobs"
(cd build/release && ctest --output-on-failure -j"$jobs" --timeout 600)

echo "== AddressSanitizer + UBSan build and tests (all but the integration label)"
tools/build.sh asan -j"$jobs"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer.supp print_suppressions=0"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" --timeout 900 -LE integration)

echo "== decoder fuzzing (${EDI_FUZZ_SECONDS:-20} s)"
tools/build.sh fuzz -j"$jobs" fuzz_decoder
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp tests/fuzz/corpus/* "$work/corpus"/
# Findings (crashes, leaks) are written into the work directory, not the source tree.
if ! (cd "$work" && EDI_AUDIT_SCHEMA_DIR=$OLDPWD/schemas "$OLDPWD/build/fuzz/tests/fuzz/fuzz_decoder" \
  -max_total_time="${EDI_FUZZ_SECONDS:-20}" -max_len=4096 -print_final_stats=1 corpus \
  >fuzz.log 2>&1); then
  tail -n 40 "$work/fuzz.log"
  echo "fuzz: FINDINGS (see above)"
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$work/fuzz.log"
echo "fuzz: no findings"
