#!/usr/bin/env bash
# Builds the .deb from a configured build directory, installs it with dpkg -i,
# checks what it put where, starts the installed binary on a free port and asks
# it for /_sim/health, then removes the package again.
#   packaging/deb-test.sh [BUILD_DIR]      (default build; CI runs it after the tests)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

cmake --build "$build" --target csr-simulator manpage -j"$(nproc)"
rm -f "$build"/csr-simulator_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb="$(ls "$build"/csr-simulator_*.deb)"
echo "built $deb"
contents="$(dpkg-deb -c "$deb")"
for path in ./usr/bin/csr-simulator ./usr/share/man/man1/csr-simulator.1.gz \
            ./usr/lib/systemd/system/csr-simulator.service \
            ./usr/share/csr-simulator/scenarios/default.yaml; do
  grep -q " $path\$" <<<"$contents" || { echo "missing from the .deb: $path" >&2; exit 1; }
done
dpkg-deb -f "$deb" Depends | grep -q libcpp-httplib || { echo "Depends lacks the httplib library" >&2; exit 1; }

$sudo dpkg -i "$deb" >/dev/null
trap '$sudo dpkg -r csr-simulator >/dev/null || true' EXIT
dir="$(mktemp -d)"
/usr/bin/csr-simulator --port 0 --port-file "$dir/port" --log-level off &
pid=$!
for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
[ -s "$dir/port" ] || { echo "the installed binary wrote no port file" >&2; kill "$pid"; exit 1; }
health="$(curl -fsS "http://127.0.0.1:$(cat "$dir/port")/_sim/health")"
kill "$pid"
wait "$pid"
grep -q '"status":"ok"' <<<"$health" || { echo "unexpected health answer: $health" >&2; exit 1; }
/usr/bin/csr-simulator validate /usr/share/csr-simulator/scenarios >/dev/null
man -w csr-simulator >/dev/null 2>&1 || [ -f /usr/share/man/man1/csr-simulator.1.gz ]
rm -rf "$dir"
echo "the .deb installs, answers /_sim/health and validates its bundled scenarios"
