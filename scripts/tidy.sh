#!/usr/bin/env bash
# clang-tidy-14 over every source in simulator/ with the settings of
# .clang-tidy (bug patterns, performance, function size <= 80 lines and
# cognitive complexity <= 25). Exit 1 on any finding.
#   scripts/tidy.sh                 every file
#   scripts/tidy.sh simulator/x.cpp  those files
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy-14 >/dev/null || scripts/install-deps.sh --tidy
cmake -S . -B build-tidy -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCSRSIM_TESTS=OFF >/dev/null
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(simulator/*.cpp)
failed=0
for file in "${files[@]}"; do
  output=$(clang-tidy-14 -p build-tidy --quiet "$file" 2>/dev/null || true)
  if grep -E "(warning|error):" <<<"$output"; then failed=1; fi
done
[ "$failed" = 0 ] && echo "clang-tidy: ${#files[@]} files clean"
exit "$failed"
