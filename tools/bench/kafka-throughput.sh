#!/usr/bin/env bash
# End-to-end throughput of `edi-audit run` from a pre-filled Kafka topic until it has caught up,
# beside the raw consume rate of `kcat -C -e` on the same topic in the same run, and the ratio.
# Starts its own broker (tools/kafka/start.sh) and stops it again. Not part of the test suite.
#
# Then replays the same records in their (event-time) order into a second database and compares
# the two findings tables: `run` merges its partitions in event time, so they must be the same.
#
# Usage: tools/bench/kafka-throughput.sh [--records N] [--partitions P] [--batch-size B]
#                                        [--binary PATH] [--json FILE] [--keep]
#   --records N      generated access-log records (default 200000; tools/gen/edi_gen.py)
#   --partitions P   partitions of the topic (default 4)
#   --batch-size B   store.batch_size of the daemon (default 5000)
#   --binary PATH    the edi-audit binary (default: $EDI_BINARY, else build/release/edi-audit)
#   --json FILE      also write the figures to FILE
#   --keep           keep the work directory (database, logs) and print its path
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
records=200000
partitions=4
batch_size=5000
binary=${EDI_BINARY:-$root/build/release/edi-audit}
keep=false
json_out=
while (($#)); do
  case $1 in
    --records) records=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --batch-size) batch_size=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    *) echo "usage: $0 [--records N] [--partitions P] [--batch-size B] [--binary PATH]" \
         "[--json FILE] [--keep]" >&2
       exit 2 ;;
  esac
done
# --json relative to where the script was called from.
[[ -z $json_out || $json_out = /* ]] || json_out=$PWD/$json_out
[[ -x $binary ]] || { echo "$0: no edi-audit binary at $binary (build it or give --binary)" >&2; exit 2; }
for tool in kcat sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/edi-bench.XXXXXX")
daemon_pid=
cleanup() {
  [[ -n $daemon_pid ]] && kill -KILL "$daemon_pid" 2>/dev/null || true
  [[ -d $work/kafka ]] && "$root/tools/kafka/stop.sh" "$work/kafka" --clean >/dev/null 2>&1 || true
  if $keep; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, s = float(sys.argv[1]), float(sys.argv[2]); print(f'{n / s:.0f}')" "$@"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }

echo "generating $records records ..." >&2
python3 "$root/tools/gen/edi_gen.py" --seed 1 --records "$records" --out "$work/gen" >/dev/null 2>&1
total=$(wc -l <"$work/gen/access-log.jsonl")

echo "starting the broker ..." >&2
mkdir -p "$work/kafka"
env=$("$root/tools/kafka/start.sh" "$work/kafka" 2>/dev/null) || { echo "$0: the broker did not start" >&2; exit 1; }
eval "$env"
bootstrap=$EDI_KAFKA_BOOTSTRAP
"$root/tools/kafka/topic.sh" "$bootstrap" create bench "$partitions" >/dev/null

echo "pre-filling topic bench ($partitions partitions) ..." >&2
t0=$(now)
kcat -P -b "$bootstrap" -t bench -X linger.ms=50 -X batch.num.messages=10000 \
  -X message.max.bytes=4000000 <"$work/gen/access-log.jsonl"
t1=$(now)
echo "  produced $total records in $(elapsed "$t0" "$t1") s" >&2

echo "kcat -C -e: raw consume ..." >&2
t0=$(now)
consumed=$(kcat -C -b "$bootstrap" -t bench -o beginning -e -q -f '%o\n' | wc -l)
t1=$(now)
kcat_secs=$(elapsed "$t0" "$t1")
[[ $consumed -eq $total ]] || echo "$0: kcat consumed $consumed of $total records" >&2

# A fresh broker creates its consumer-offsets topic when the first consumer group joins, which
# takes about a second. Every cluster in service has it already, and kcat above used no group:
# a throwaway group joins first, so the daemon's time is its own.
"$root/tools/kafka/topic.sh" "$bootstrap" create bench-warmup 1 >/dev/null
echo warmup | kcat -P -b "$bootstrap" -t bench-warmup
timeout 30 kcat -b "$bootstrap" -G bench-warmup -o beginning -c 1 -q bench-warmup >/dev/null ||
  echo "$0: the warm-up group did not join; the first join is in the daemon's time" >&2

cat >"$work/config.yaml" <<EOF
registry: $work/gen/registry
database: $work/audit.db
log_level: info
store:
  batch_size: $batch_size
kafka:
  brokers: $bootstrap
  topics: [bench]
  group_id: bench
EOF

# Records the daemon has stored: per partition it stores the last offset with each batch (a
# count(*) over the events every 100 ms would take a good part of a core from the daemon).
count() {
  sqlite3 -readonly "$work/audit.db" \
    "SELECT coalesce(sum(position + 1), 0) FROM source_positions" 2>/dev/null || echo 0
}

echo "edi-audit run: consuming until caught up ..." >&2
t0=$(now)
"$binary" run --config "$work/config.yaml" 2>"$work/daemon.log" &
daemon_pid=$!
first=
while true; do
  n=$(count)
  [[ -z $first && $n -gt 0 ]] && first=$(now)
  ((n >= total)) && break
  kill -0 "$daemon_pid" 2>/dev/null || { echo "$0: edi-audit exited early:" >&2; tail "$work/daemon.log" >&2; exit 1; }
  sleep 0.1
done
t1=$(now)
# The daemon's CPU time until it caught up (utime + stime in clock ticks, /proc/PID/stat).
daemon_cpu=$(python3 -c "import os, sys; f = open(f'/proc/{sys.argv[1]}/stat').read().rsplit(')', 1)[1].split(); print(f'{(int(f[11]) + int(f[12])) / os.sysconf(\"SC_CLK_TCK\"):.2f}')" "$daemon_pid" 2>/dev/null || echo "?")
kill -TERM "$daemon_pid"
wait "$daemon_pid" || { echo "$0: edi-audit did not exit cleanly" >&2; tail "$work/daemon.log" >&2; }
daemon_pid=
daemon_secs=$(elapsed "$t0" "$t1")
steady_secs=$(elapsed "$first" "$t1")

kcat_rate=$(rate "$total" "$kcat_secs")
daemon_rate=$(rate "$total" "$daemon_secs")
steady_rate=$(rate "$total" "$steady_secs")
printf '\n%s records, %s partitions, batch size %s, %s cores\n' "$total" "$partitions" \
  "$batch_size" "$(nproc)"
printf '  %-40s %8s s %10s records/s\n' "kcat -C -e (raw consume)" "$kcat_secs" "$kcat_rate"
printf '  %-40s %8s s %10s records/s\n' "edi-audit run (start to caught up)" "$daemon_secs" \
  "$daemon_rate"
printf '  %-40s %8s s %10s records/s\n' "edi-audit run (first commit to caught up)" \
  "$steady_secs" "$steady_rate"
printf '  %-40s %8s s (all its threads, until caught up)\n' "edi-audit run CPU time" "$daemon_cpu"
python3 -c "import sys; print(f'  ratio edi-audit / kcat: {float(sys.argv[1]) / float(sys.argv[2]):.3f} (end to end), {float(sys.argv[3]) / float(sys.argv[2]):.3f} (steady)')" \
  "$daemon_rate" "$kcat_rate" "$steady_rate"
grep -E "stopped:" "$work/daemon.log" | sed 's/^/  /' || true

echo "replaying the same records in event-time order, to compare the findings ..." >&2
"$binary" replay -q --no-findings --registry "$work/gen/registry" --db "$work/replay.db" \
  "$work/gen/access-log.jsonl" >/dev/null
findings() {
  sqlite3 -readonly "$1" "SELECT rule, request_id, coalesce(her_id, ''), coalesce(message_id, ''),
    severity, occurrences FROM findings ORDER BY 1, 2, 3, 4"
}
run_findings=$(findings "$work/audit.db" | wc -l)
replay_findings=$(findings "$work/replay.db" | wc -l)
only_run=$(comm -23 <(findings "$work/audit.db") <(findings "$work/replay.db") | wc -l)
only_replay=$(comm -13 <(findings "$work/audit.db") <(findings "$work/replay.db") | wc -l)
printf '  findings: run %s, time-ordered replay %s; only in run %s, only in replay %s\n' \
  "$run_findings" "$replay_findings" "$only_run" "$only_replay"

if [[ -n $json_out ]]; then
  python3 - "$json_out" <<EOF
import json, sys
figures = {
    "records": $total, "partitions": $partitions, "batch_size": $batch_size, "cores": $(nproc),
    "kcat_seconds": $kcat_secs, "kcat_records_per_s": $kcat_rate,
    "daemon_seconds": $daemon_secs, "daemon_records_per_s": $daemon_rate,
    "daemon_first_commit_records_per_s": $steady_rate,
    "daemon_cpu_seconds": "$daemon_cpu",
    "ratio_end_to_end": round($daemon_rate / $kcat_rate, 3),
    "ratio_first_commit": round($steady_rate / $kcat_rate, 3),
    "findings_run": $run_findings, "findings_replay": $replay_findings,
    "findings_only_in_run": $only_run, "findings_only_in_replay": $only_replay,
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(figures, f, indent=2)
EOF
fi
