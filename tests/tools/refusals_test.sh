#!/usr/bin/env bash
# The tools refuse what they cannot use before they work, with one line and exit status 2, and
# say what would make their results wrong: generated data past this machine's clock, input that
# is not the generator's, output paths that cannot be written.
# Usage: refusals_test.sh SOURCE_DIR EDI_AUDIT_BINARY
set -u
src=$1 bin=$2
gen="python3 $src/tools/gen/edi_gen.py" check="python3 $src/tools/detection_check.py"
d=$(mktemp -d) && trap 'rm -rf "$d"' EXIT
failures=0
# expect STATUS TEXT COMMAND...: the command exits with STATUS and its output holds TEXT.
expect() {
  local want=$1 text=$2
  shift 2
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [[ $status -ne $want || $out != *"$text"* ]]; then
    echo "FAIL: $* -> status $status (want $want), output lacks '$text':"
    echo "$out" | tail -5
    failures=$((failures + 1))
  fi
}
$gen --seed 3 --records 2000 --days 1 --out "$d/gen" >/dev/null 2>&1 || { echo "FAIL: generator"; exit 1; }
expect 2 "give a time in the years 1971 to 9000" $gen --records 10 --start 0001-01-01T00:00:00Z --out "$d/old"
expect 0 "over a day after this machine's clock" $gen --records 10 --start 2999-01-01T00:00:00Z --out "$d/future"
expect 1 "cannot write $d/gen-file/access-log.jsonl" \
  sh -c "mkdir -p '$d/gen-file/access-log.jsonl' && $gen --records 10 --out '$d/gen-file'"
expect 2 "/nonexistent is no directory this user may write in" $check --bin "$bin" "$d/gen" --json /nonexistent/x.json
expect 2 "is not what tools/gen/edi_gen.py writes (KeyError" \
  sh -c "cp -r '$d/gen' '$d/notgen' && echo '{}' > '$d/notgen/world.json' && $check --bin '$bin' '$d/notgen'"
expect 2 "holds no findings table" $check --bin /bin/true "$d/gen"
expect 0 "Replays a generated directory" python3 "$src/tools/gen/check_truth.py" --help
expect 2 "is not what tools/gen/edi_gen.py writes" python3 "$src/tools/gen/check_truth.py" /etc
expect 2 "--records must be at least 1" python3 "$src/tools/bench/bench.py" --records 0
expect 2 "--out /nonexistent/x.json: cannot be written" python3 "$src/tools/bench/bench.py" --out /nonexistent/x.json
if [[ $failures -ne 0 ]]; then
  echo "$failures failed"
  exit 1
fi
echo "all refusals as expected"
