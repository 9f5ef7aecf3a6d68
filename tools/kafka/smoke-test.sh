#!/usr/bin/env bash
# End-to-end check of the Kafka tooling: starts a broker, creates a topic, writes and
# reads back records with kcat (plainly and through a consumer group), restarts the
# broker on the same data, then stops it and removes its directory.
#
# Usage: tools/kafka/smoke-test.sh      exit status 0 when every check passed
set -euo pipefail
KAFKA_SCRIPT_NAME=kafka-smoke
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

records=1000
partitions=3
topic=smoke-$$

passed=0 failed=0
check() {
  local what=$1 expected=$2 actual=$3
  if [[ $expected == "$actual" ]]; then
    passed=$((passed + 1))
    echo "ok: $what"
  else
    failed=$((failed + 1))
    echo "FAILED: $what: expected $expected, got $actual"
  fi
}

# Seconds since START (an $EPOCHREALTIME value), to two decimals.
elapsed() {
  local us=$((${EPOCHREALTIME/./} - ${1/./}))
  printf '%d.%02ds' $((us / 1000000)) $((us % 1000000 / 10000))
}

t_total=$EPOCHREALTIME
dir=
cleanup() {
  if [[ -n $dir ]]; then
    "$KAFKA_TOOLS_DIR/stop.sh" "$dir" --clean
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

t=$EPOCHREALTIME
"$KAFKA_TOOLS_DIR/fetch.sh"
echo "fetch: $(elapsed "$t")"

dir=$(mktemp -d "${TMPDIR:-/tmp}/edi-kafka-smoke.XXXXXX")
t=$EPOCHREALTIME
# Not `eval "$(start.sh)"`: that would hide a failed start behind eval's own success.
env_lines=$("$KAFKA_TOOLS_DIR/start.sh" "$dir")
eval "$env_lines"
echo "start: $(elapsed "$t") ($EDI_KAFKA_BOOTSTRAP)"
kcat=$(kafka_kcat_bin)

t=$EPOCHREALTIME
"$KAFKA_TOOLS_DIR/topic.sh" "$EDI_KAFKA_BOOTSTRAP" create "$topic" "$partitions"
echo "create topic: $(elapsed "$t")"

# Keyed records, so that the default partitioner spreads them over every partition.
t=$EPOCHREALTIME
seq 1 "$records" | sed 's/.*/key-&:value-&/' |
  "$kcat" -P -b "$EDI_KAFKA_BOOTSTRAP" -t "$topic" -K: -X acks=all
echo "produce $records: $(elapsed "$t")"

# -e: exit once the end of every partition is reached.
consume_all() {
  "$kcat" -C -b "$EDI_KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e -q -f '%p %k %s\n'
}

t=$EPOCHREALTIME
out=$(consume_all)
echo "consume $records: $(elapsed "$t")"
check "records read back" "$records" "$(grep -c . <<<"$out")"
check "distinct keys" "$records" "$(cut -d' ' -f2 <<<"$out" | sort -u | wc -l)"
check "partitions used" "$partitions" "$(cut -d' ' -f1 <<<"$out" | sort -u | wc -l)"
check "values match keys" 0 "$(awk '"value-" substr($2, 5) != $3' <<<"$out" | wc -l)"

# A consumer group exercises the group coordinator and the offsets topic, which the
# plain consumer above does not.
t=$EPOCHREALTIME
group_out=$(timeout 60 "$kcat" -b "$EDI_KAFKA_BOOTSTRAP" -G "smoke-group-$$" -o beginning -e -q \
  -f '%k\n' "$topic" || true)
echo "consume $records in a group: $(elapsed "$t")"
check "records read by a consumer group" "$records" "$(grep -c . <<<"$group_out")"

# The broker must come back on the same data directory and address.
t=$EPOCHREALTIME
"$KAFKA_TOOLS_DIR/stop.sh" "$dir"
first_bootstrap=$EDI_KAFKA_BOOTSTRAP
env_lines=$("$KAFKA_TOOLS_DIR/start.sh" "$dir")
eval "$env_lines"
echo "restart: $(elapsed "$t")"
check "same address after restart" "$first_bootstrap" "$EDI_KAFKA_BOOTSTRAP"
check "records kept across restart" "$records" "$(consume_all | grep -c .)"

t=$EPOCHREALTIME
"$KAFKA_TOOLS_DIR/stop.sh" "$dir" --clean
echo "stop: $(elapsed "$t")"
check "directory removed" no "$([[ -e $dir ]] && echo yes || echo no)"
dir=

echo "total: $(elapsed "$t_total")"
echo "smoke: $passed passed, $failed failed"
((failed == 0))
