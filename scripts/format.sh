#!/usr/bin/env bash
# clang-format-14 over every C++ file in the repository with the settings of
# .clang-format. Exit 1 and name the files that differ.
#   scripts/format.sh        check (CI)
#   scripts/format.sh --fix  rewrite the files in place
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format-14 >/dev/null || scripts/install-deps.sh --tidy
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
if [ "${1:-}" = --fix ]; then
  clang-format-14 -i "${files[@]}"
  exit 0
fi
if ! output=$(clang-format-14 --dry-run --Werror "${files[@]}" 2>&1); then
  grep -oE '^[^:]+\.(cpp|hpp|h):' <<<"$output" | sort -u | sed 's|:$|: not formatted (run scripts/format.sh --fix)|'
  exit 1
fi
echo "clang-format: ${#files[@]} files formatted"
