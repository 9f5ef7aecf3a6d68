#!/usr/bin/env bash
# The README's command 1: installs what is missing, builds edi-audit, generates a day of EDI 2.0
# traffic for a municipality (with injected incidents), replays it into a fresh SQLite audit
# trail, and shows what was found: findings by rule and severity, the most severe ones, and the
# calls on one message that was acknowledged by a foreign client (edi-audit events).
set -euo pipefail
# EDI_DEMO_DIR as the caller named it, before the cd below; the hints name absolute paths, so
# that they work from any directory.
out=${EDI_DEMO_DIR:-$(mktemp -d /tmp/edi-audit-demo.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh release edi-audit >/dev/null
bin=$PWD/build/release/edi-audit
records=${EDI_DEMO_RECORDS:-200000}
db=$out/audit.db
rm -f "$db" "$db-wal" "$db-shm" "$db-lock"

echo "== generating one day of traffic for a municipality ($records records) into $out/traffic"
python3 tools/gen/edi_gen.py --seed 2026 --records "$records" --days 1 --municipalities 1 \
  --incidents-every 400 --out "$out/traffic" 2>&1 | fold -s -w 110 | sed 's/^/   /'

echo
echo "== edi-audit replay into $db"
"$bin" replay --no-findings --registry "$out/traffic/registry" --db "$db" \
  "$out/traffic/access-log.jsonl"

echo
echo "== findings by rule and severity"
sqlite3 -header -column "$db" "
  SELECT rule, severity, count(*) AS findings, sum(occurrences) AS occurrences
    FROM finding_view GROUP BY rule, severity
   ORDER BY max(CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                              WHEN 'low' THEN 1 ELSE 0 END) DESC, rule"

echo
echo "== the five most recent critical findings: edi-audit findings --db $db --severity critical --limit 5"
"$bin" findings --db "$db" --severity critical --limit 5

# The first foreign acknowledgement: its message, and its party for the hint at the end.
read -r message herid < <(sqlite3 -separator ' ' "$db" "
  SELECT message_id, her_id FROM findings WHERE rule = 'edi.foreign-acknowledgement'
   ORDER BY time LIMIT 1") || true
echo
if [[ -n ${message:-} ]]; then
  echo "== one message acknowledged by a foreign client: $message"
  echo "   what was found about it (edi-audit findings --db $db --message $message):"
  sqlite3 -separator ' ' "$db" "
    SELECT '   ' || severity || ' ' || rule || ': ' || summary FROM finding_view
     WHERE message_id = '$message' ORDER BY time"
  echo "   its custody, call by call: who sent, downloaded, marked and answered it" \
    "(edi-audit events --db $db --message $message):"
  "$bin" events --db "$db" --message "$message"
else
  echo "== no foreign acknowledgement in this traffic (at $records records there may be none);" \
    "with more records the demo shows one message's custody here"
fi

echo
echo "== the hand-written examples (examples/README.md tells the story of each record)"
rm -f "$out/examples.db"*
"$bin" replay -q --registry examples/registry --db "$out/examples.db" \
  examples/access-log.jsonl examples/access-log-malformed.jsonl | sed -n '/new findings/,$p'

echo
echo "The database stays at $db: try"
echo "  $bin findings --db $db --rule edi.reservation-takeover --format json"
if [[ -z ${herid:-} ]]; then  # no foreign acknowledgement: any party a finding names
  read -r herid < <(sqlite3 "$db" "SELECT her_id FROM findings WHERE her_id IS NOT NULL LIMIT 1") || true
fi
echo "  $bin events --db $db --her-id ${herid:-HER-ID} --since 1d --by-client   # who acted for it in the last day"
echo "  sqlite3 $db '.tables'"
