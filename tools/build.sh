#!/usr/bin/env bash
# Configures and builds one flavour of edi-audit into build/<flavour>.
# Usage: tools/build.sh [release|asan|fuzz] [ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
shift || true
case "$flavour" in
  release) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DEDI_SANITIZE=ON) ;;
  fuzz) flags=(-DCMAKE_BUILD_TYPE=Debug -DEDI_FUZZ=ON -DEDI_TESTS=OFF
               -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan or fuzz)" >&2; exit 2 ;;
esac
dir=build/$flavour
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
fi
ninja -C "$dir" "$@"
