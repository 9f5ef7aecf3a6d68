#!/usr/bin/env bash
# Checks the systemd service as configured for an install (build/.../edi-audit.service):
# `systemd-analyze verify` finds no problem, its exposure (`systemd-analyze security
# --offline=true`) is at most 2.0, and systemd-sysusers reads the user it declares.
# Usage: tools/check-service.sh UNIT BINARY
#   BINARY stands in for the installed one: verify wants ExecStart's command to exist.
set -euo pipefail

unit=$1
binary=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

grep -q '^ExecStart=/.*/edi-audit run --config ' "$unit" || {
  echo "check-service: $unit: no ExecStart running an installed edi-audit" >&2
  exit 1
}
sed "s|^ExecStart=[^ ]*|ExecStart=$binary|" "$unit" >"$work/edi-audit.service"
# verify prints problems and exits non-zero on errors; warnings count as failures here.
out=$(systemd-analyze verify "$work/edi-audit.service" 2>&1) || {
  echo "$out" >&2
  exit 1
}
if [[ -n $out ]]; then
  echo "check-service: systemd-analyze verify: $out" >&2
  exit 1
fi
systemd-analyze security --offline=true --threshold=20 "$work/edi-audit.service" | tail -1
# Into an empty root: the user is to be created whether or not this machine has it.
mkdir -p "$work/root/etc"
out=$(systemd-sysusers --dry-run --root="$work/root" "$root/systemd/edi-audit.sysusers" 2>&1)
grep -q "Creating user 'edi-audit'" <<<"$out" || {
  echo "check-service: systemd-sysusers does not create the edi-audit user: $out" >&2
  exit 1
}
echo "check-service: ok"
