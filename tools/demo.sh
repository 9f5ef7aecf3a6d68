#!/usr/bin/env bash
# The README's command 1: installs what is missing, builds edi-audit and runs it on the
# embedded default — the example registry and access logs shipped in examples/ — into a fresh
# SQLite database, then shows what was stored.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh release edi-audit >/dev/null
bin=build/release/edi-audit
out=${EDI_DEMO_DIR:-$(mktemp -d /tmp/edi-audit-demo.XXXXXX)}
db=$out/audit.db
rm -f "$db" "$db-wal" "$db-shm"

echo "== edi-audit replay of examples/ into $db"
"$bin" replay --registry examples/registry --db "$db" \
  examples/access-log.jsonl examples/access-log-malformed.jsonl
echo
echo "== tables: sqlite3 $db .tables"
sqlite3 "$db" .tables
echo
echo "== who acted for which HER-Id (first 15 events)"
sqlite3 -header -column "$db" \
  "SELECT time, action, status, client_name, parties, message_id FROM event_view ORDER BY time LIMIT 15"
echo
echo "== quarantined records by reason"
sqlite3 -header -column "$db" "SELECT reason, count(*) AS records FROM quarantine GROUP BY reason ORDER BY 2 DESC"
echo
echo "The database stays at $db for your own queries."
