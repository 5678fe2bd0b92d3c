#!/usr/bin/env bash
# The benchmark command (bench/README.md): installs the tools it lacks, builds
# csr-simulator in Release, runs bench/bench.py and writes
# bench/results/latest.md. Not part of CI. About 6 minutes on 2 cores.
#
#   bench/run.sh            full run, writes bench/results/latest.md
#   bench/run.sh --quick    one-minute smoke run of the harness, writes
#                           build-bench/quick.md (its figures mean little)
#   bench/run.sh --no-peers skip WireMock
#   bench/run.sh --only event-streams
#                           only API throughput with 50 open event streams;
#                           replaces that section of bench/results/latest.md
#   bench/run.sh --only state
#                           only POST /csrs with --state vs in memory, and start-up
#                           on a 100k-order state file; replaces that section
#   bench/run.sh --only serving
#                           only the serving layer against bare cpp-httplib
#                           (bench/bare_httplib.cpp): GET, 1,000 connections,
#                           start-up; replaces that section
#
# Environment: BENCH_BUILD_DIR (default build-bench at the repository root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
OUT=$ROOT/bench/results/latest.md
WIREMOCK_VERSION=3.13.2
quick=()
only=()
peers=1
for arg in "$@"; do
  case $arg in
    --quick) quick=(--quick); OUT=$BUILD/quick.md ;;
    --no-peers) peers=0 ;;
    --only) ;;
    event-streams) only=(--only event-streams); peers=0 ;;
    state) only=(--only state); peers=0 ;;
    serving) only=(--only serving); peers=0 ;;
    *) echo "usage: bench/run.sh [--quick] [--no-peers] [--only event-streams|state|serving]" >&2; exit 2 ;;
  esac
done

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v node >/dev/null || missing+=(nodejs)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCSRSIM_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target csr-simulator -j2
# The serving reference: bare cpp-httplib, same compiler and flags class as Release.
bare=$BUILD/bare-httplib
if [[ ! -x $bare || $ROOT/bench/bare_httplib.cpp -nt $bare ]]; then
  # shellcheck disable=SC2046  # pkg-config prints several words on purpose
  g++ -std=c++17 -O2 -DNDEBUG -o "$bare" "$ROOT/bench/bare_httplib.cpp" \
    $(pkg-config --cflags --libs cpp-httplib) -lssl -lcrypto -pthread
fi

# Peer: WireMock's standalone jar from the npm package, on the machine's Java.
wiremock=()
jar=$BUILD/peers/node_modules/wiremock/build/wiremock-standalone-$WIREMOCK_VERSION.jar
if ((peers)) && command -v java >/dev/null && command -v npm >/dev/null; then
  if [[ ! -f $jar ]]; then
    npm install --silent --no-audit --no-fund --prefix "$BUILD/peers" "wiremock@$WIREMOCK_VERSION" ||
      echo "bench: could not install WireMock; running without peers" >&2
  fi
  [[ -f $jar ]] && wiremock=(--wiremock-jar "$jar")
fi

mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/bench/bench.py" --simulator "$BUILD/csr-simulator" --bare-httplib "$bare" --out "$OUT" \
  "${wiremock[@]}" "${quick[@]}" "${only[@]}"
((${#only[@]})) ||
  python3 "$ROOT/bench/callback_isolation.py" --simulator "$BUILD/csr-simulator" --out "$OUT" "${quick[@]}"
echo "bench: wrote $OUT"
