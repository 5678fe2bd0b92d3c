#!/usr/bin/env bash
# Installs the Debian 12 packages csr-simulator builds and tests with.
# chromium is for the dashboard's browser tests (client-tests/ui).
# Idempotent; uses sudo when not root. Node.js/npm are installed only if absent.
#   scripts/install-deps.sh --build-only   only what building the binary needs (the Dockerfile)
#   scripts/install-deps.sh --fuzz         also clang-14 and its libFuzzer runtime (fuzz/run.sh)
#   scripts/install-deps.sh --tidy         also clang-14, clang-tidy-14 and clang-format-14
#                                          (scripts/tidy.sh, scripts/format.sh)
set -euo pipefail
packages=(build-essential cmake pkg-config libcpp-httplib-dev libssl-dev libpugixml-dev
          libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev catch2 curl)
[ "${1:-}" = --fuzz ] && packages+=(clang-14 libclang-rt-14-dev)
[ "${1:-}" = --tidy ] && packages+=(clang-14 clang-tidy-14 clang-format-14)
if [ "${1:-}" != --build-only ]; then
  packages+=(chromium file dpkg-dev)   # file, dpkg-dev: cpack's .deb (packaging/deb-test.sh)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
