#!/usr/bin/env bash
# Builds everything and runs every test: unit tests, client tests against the
# real binary, the official Node SDK suite, and the scenario lint.
#   SANITIZE=1 scripts/test.sh   same, built with -fsanitize=address,undefined
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
(cd client-tests/node-sdk && npm ci --no-audit --no-fund --loglevel=error)
(cd client-tests/ui && npm ci --no-audit --no-fund --loglevel=error)
if [ "${SANITIZE:-0}" = 1 ]; then
  build=build-asan
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCSRSIM_SANITIZE=ON -DCSRSIM_TESTS=ON
else
  build=build
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSRSIM_TESTS=ON
fi
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure --no-tests=error -j"$(nproc)"
