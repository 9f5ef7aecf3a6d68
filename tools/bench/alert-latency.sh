#!/usr/bin/env bash
# Produce-to-alert latency of `edi-audit run` at a steady produce rate: records go into a Kafka
# topic at --rate records/s while the daemon consumes them, stores them in SQLite and produces
# its findings to an alerts topic; each finding is joined by its requestId to the record that
# raised it, and latency = alert timestamp - record timestamp (both Kafka CreateTime, both from
# this machine's clock). Prints count, p50/p90/p99/max and the achieved produce rate, and
# writes them as JSON with --json. Starts its own broker (tools/kafka/start.sh) and stops it
# again, also on failure. Not part of the test suite.
#
# Usage: tools/bench/alert-latency.sh [--rate R] [--seconds S] [--warmup W] [--binary PATH]
#                                     [--batch-max-ms M] [--batch-size B] [--partitions P]
#                                     [--incidents-every N] [--days D] [--key her|client|none]
#                                     [--json FILE] [--keep]
#   --rate R             records/s produced (default 20000)
#   --seconds S          measured seconds (default 30); W warm-up seconds come before them
#   --warmup W           seconds produced at the rate whose findings are not counted (default 3)
#   --binary PATH        the edi-audit binary (default: $EDI_BINARY, else build/release/edi-audit)
#   --batch-max-ms M     run.batch_max_ms of the daemon (default 100)
#   --batch-size B       store.batch_size of the daemon (default 2000)
#   --partitions P       partitions of the input topic (default 4)
#   --incidents-every N  one injected incident per N generated records (default 50)
#   --days D             event-time span of the generated records (default 14: past the
#                        7-day learning period, so that every rule can fire; the run replays
#                        them in seconds, so event time runs far faster than wall time)
#   --key K              message key of the input records (default her): her = the first
#                        HER-Id the record names, else its client (as producers key them, so
#                        one message's calls are spread over partitions and the daemon's
#                        event-time merge puts them back in order); client = the client id;
#                        none = no key (the producer's sticky partitioner)
#   --json FILE          write the figures to FILE
#   --keep               keep the work directory (database, logs, data) and print its path
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rate=20000
seconds=30
warmup=3
binary=${EDI_BINARY:-$root/build/release/edi-audit}
batch_max_ms=100
batch_size=2000
partitions=4
incidents_every=50
days=14
key=her
json_out=
keep=false
usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
while (($#)); do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --batch-max-ms) batch_max_ms=$2; shift 2 ;;
    --batch-size) batch_size=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --incidents-every) incidents_every=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    *) usage ;;
  esac
done
for n in "$rate" "$seconds" "$warmup" "$batch_max_ms" "$batch_size" "$partitions" \
  "$incidents_every"; do
  [[ $n =~ ^[0-9]+$ ]] || usage
done
[[ $key =~ ^(her|client|none)$ && $days =~ ^[0-9]+([.][0-9]+)?$ ]] || usage
[[ -x $binary ]] || { echo "$0: no edi-audit binary at $binary (build it or give --binary)" >&2; exit 2; }
for tool in kcat python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
done
# --json relative to where the script was called from, not to the work directory.
[[ -z $json_out || $json_out = /* ]] || json_out=$PWD/$json_out

work=$(mktemp -d "${TMPDIR:-/tmp}/edi-latency.XXXXXX")
daemon_pid=
driver_pid=
# Everything this script started is ended here, whatever way it leaves: the daemon, the
# measuring script and the kcat processes it started (their pids are in children.pids, in
# case the measuring script itself was killed), and the broker.
# shellcheck disable=SC2317  # called from the trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $driver_pid ]]; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  if [[ -f $work/children.pids ]]; then
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$work/children.pids"
  fi
  if [[ -n $daemon_pid ]]; then
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if [[ -d $work/kafka ]]; then
    "$root/tools/kafka/stop.sh" "$work/kafka" --clean >/dev/null 2>&1 || true
  fi
  if $keep; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The warm-up is produced at the same rate, so the data must cover it too; a little more
# than needed so that the generator's own count (malformed lines included) never falls short.
records=$(((seconds + warmup) * rate + rate / 10 + 1000))
echo "generating $records records (an incident every $incidents_every) ..." >&2
python3 "$root/tools/gen/edi_gen.py" --seed 1 --records "$records" --days "$days" \
  --incidents-every "$incidents_every" --out "$work/gen" >/dev/null 2>"$work/gen.log" ||
  { echo "$0: the generator failed:" >&2; tail "$work/gen.log" >&2; exit 1; }
python3 "$root/tools/bench/alert_latency.py" keys --key "$key" "$work/gen/access-log.jsonl" \
  "$work/keyed.tsv"
rm -f "$work/gen/access-log.jsonl"  # the keyed copy is what is produced

echo "starting the broker ..." >&2
mkdir -p "$work/kafka"
env=$("$root/tools/kafka/start.sh" "$work/kafka" 2>"$work/kafka-start.log") ||
  { echo "$0: the broker did not start:" >&2; tail "$work/kafka-start.log" >&2; exit 1; }
eval "$env"
bootstrap=$EDI_KAFKA_BOOTSTRAP
"$root/tools/kafka/topic.sh" "$bootstrap" create access "$partitions" >/dev/null
"$root/tools/kafka/topic.sh" "$bootstrap" create alerts 1 >/dev/null

# A small batch time bounds how long a record waits before its batch is stored and its
# findings produced; batch_size only matters when more than that many records arrive within
# batch_max_ms.
cat >"$work/config.yaml" <<EOF
registry: $work/gen/registry
database: $work/audit.db
log_level: info
store:
  batch_size: $batch_size
run:
  batch_max_ms: $batch_max_ms
kafka:
  brokers: $bootstrap
  topics: [access]
  group_id: latency
  alerts_topic: alerts
EOF

echo "starting edi-audit run (batch_max_ms $batch_max_ms, batch_size $batch_size) ..." >&2
: >"$work/daemon.log"  # exists before the loop below reads it
"$binary" run --config "$work/config.yaml" 2>"$work/daemon.log" &
daemon_pid=$!
# Produce only once the daemon owns every partition: the group join would otherwise show up
# as latency of the first records.
for ((i = 0; ; i++)); do
  assigned=$(grep -c "kafka: assigned " "$work/daemon.log" || true)
  ((assigned >= partitions)) && break
  kill -0 "$daemon_pid" 2>/dev/null || { echo "$0: edi-audit exited:" >&2; tail "$work/daemon.log" >&2; exit 1; }
  ((i < 600)) || { echo "$0: edi-audit got no partitions within 60 s" >&2; tail "$work/daemon.log" >&2; exit 1; }
  sleep 0.1
done

settings=$(printf '{"batch_max_ms": %s, "batch_size": %s, "partitions": %s, "key": "%s", "incidents_every": %s, "days": %s, "cores": %s}' \
  "$batch_max_ms" "$batch_size" "$partitions" "$key" "$incidents_every" "$days" "$(nproc)")
json_args=()
[[ -n $json_out ]] && json_args=(--json "$json_out")
# In the background and waited for, so that a signal to this script reaches the trap at once.
python3 "$root/tools/bench/alert_latency.py" run --bootstrap "$bootstrap" --input-topic access \
  --alerts-topic alerts --data "$work/keyed.tsv" --key "$key" \
  --truth "$work/gen/ground-truth.jsonl" --db "$work/audit.db" --rate "$rate" \
  --seconds "$seconds" --warmup "$warmup" --daemon-pid "$daemon_pid" \
  --pid-file "$work/children.pids" --settings "$settings" "${json_args[@]}" &
driver_pid=$!
driver_rc=0
wait "$driver_pid" || driver_rc=$?
driver_pid=

kill -TERM "$daemon_pid" 2>/dev/null || true  # it may have exited already (the driver says so)
daemon_rc=0
wait "$daemon_pid" || daemon_rc=$?
daemon_pid=
grep -E " (stopped:|error|critical) " "$work/daemon.log" | sed 's/^/  daemon: /' >&2 || true
((daemon_rc == 0)) || echo "$0: edi-audit exited with $daemon_rc" >&2
[[ -n $json_out && $driver_rc -eq 0 ]] && echo "figures written to $json_out" >&2
exit "$driver_rc"
