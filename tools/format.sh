#!/usr/bin/env bash
# clang-format over the project's C++ sources. --check reports unformatted files and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [[ ${1:-} == --check ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
      echo "not clang-formatted: $f (run tools/format.sh)" >&2
      bad=1
    fi
  done
  exit $bad
fi
clang-format -i "${files[@]}"
