#!/usr/bin/env bash
# Installs every Debian package edi-audit needs to build, test and run, if it is missing.
# Idempotent: a machine that already has everything is left untouched (no apt-get calls).
# Usage: tools/setup.sh            build + test dependencies
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  librdkafka-dev rapidjson-dev libsqlite3-dev sqlite3 libzstd-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev libcpp-httplib-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev clang-format
  python3 time systemd prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q >/dev/null
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
