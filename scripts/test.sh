#!/usr/bin/env bash
# Builds everything and runs every test: unit tests, client tests against the
# real binary, the official Node SDK suite, the dashboard in a real browser, and
# the scenario lint.
#   SANITIZE=address scripts/test.sh   built with -fsanitize=address,undefined (SANITIZE=1 too)
#   SANITIZE=thread scripts/test.sh    built with -fsanitize=thread (scripts/tsan.supp)
#   WERROR=1 scripts/test.sh           compiler warnings are errors
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
(cd client-tests/node-sdk && npm ci --no-audit --no-fund --loglevel=error)
(cd client-tests/ui && npm ci --no-audit --no-fund --loglevel=error)
sanitize="${SANITIZE:-}"
[ "$sanitize" = 1 ] && sanitize=address
werror=OFF
[ "${WERROR:-0}" = 1 ] && werror=ON
case "$sanitize" in
  "") build=build; type=RelWithDebInfo ;;
  address) build=build-asan; type=Debug ;;
  thread)
    build=build-tsan; type=RelWithDebInfo
    export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" ;;
  *) echo "SANITIZE must be address or thread" >&2; exit 2 ;;
esac
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$type" -DCSRSIM_SANITIZE="$sanitize" -DCSRSIM_WERROR="$werror" \
  -DCSRSIM_TESTS=ON
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j"$(nproc)" ${CTEST_ARGS:-}
