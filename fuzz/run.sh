#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang-14 (ASan + UBSan) in
# build-fuzz/ and runs each for a bounded time: FUZZ_SECONDS per target
# (default 30; 9 targets, so 4.5 minutes of fuzzing), after the build.
#   fuzz/run.sh                     # every target
#   FUZZ_SECONDS=600 fuzz/run.sh xml_bodies control_json   # longer, some targets
# Each target starts from its committed seeds (fuzz/corpus/NAME) and grows a
# working corpus in build-fuzz/corpus/NAME (kept between runs). A crash leaves
# its input in build-fuzz/artifacts/ and makes the script exit 1; see
# fuzz/README.md for turning it into a regression test.
set -eu
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
targets=${*:-"xml_bodies query auth_header duration timestamp callback_url scenario_yaml config_yaml control_json"}
build=build-fuzz
scripts/install-deps.sh --fuzz

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCSRSIM_FUZZ=ON -DCSRSIM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target fuzz_targets

mkdir -p "$build/artifacts"
failed=""
for target in $targets; do
  mkdir -p "$build/corpus/$target"
  echo "== $target: ${seconds}s"
  # control_json keeps one simulator (and its state) across inputs: libFuzzer's
  # leak check after every input that allocates more than it frees would cost
  # ~50x the throughput there. The other targets keep it.
  leaks=1
  [ "$target" = control_json ] && leaks=0
  if ! "$build/fuzz/${target}_fuzz" "$build/corpus/$target" "fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -detect_leaks="$leaks" \
      -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 2>"$build/$target.log"; then
    failed="$failed $target"
    tail -n 40 "$build/$target.log"
  else
    grep -E "^stat::number_of_executed_units|^Done" "$build/$target.log" || true
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: crashes in:$failed (inputs in $build/artifacts/)"
  exit 1
fi
echo "fuzz: no crash in $targets"
