#!/usr/bin/env bash
# Builds csr-simulator and runs it with the bundled default scenarios on
# 127.0.0.1:8080 (pass any flags through, e.g. scripts/run.sh --clock manual).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSRSIM_TESTS=OFF
cmake --build build --target csr-simulator -j"$(nproc)"
exec build/csr-simulator "$@"
