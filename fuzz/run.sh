#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz and runs each one
# for SECONDS seconds (default 30) on a copy of its seed corpus in
# fuzz/corpus/<name>/. The committed corpus is never changed. Exits 1 when
# any fuzzer crashes, leaks, times out on an input or runs out of memory.
# The failing input is written to the output directory that it prints.
#
#   fuzz/run.sh [SECONDS]
#
# Environment: FUZZ_BUILD sets the build directory (default build-fuzz),
# FUZZ_OUT the output directory (default a new directory under $TMPDIR or
# /tmp), JOBS the build parallelism (default nproc).
set -euo pipefail

seconds=${1:-30}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz/run.sh: invalid SECONDS '$seconds': expected a positive" \
       "whole number of seconds per fuzzer" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/verdict-fuzz.XXXXXX")}
fuzzers=(policy json_request proto_request entity_data token)

if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVERDICT_BUILD_FUZZERS=ON \
    -DVERDICT_BUILD_TESTS=OFF -DVERDICT_BUILD_BENCHMARKS=OFF
fi
cmake --build "$build" --target fuzzers -j "${JOBS:-$(nproc)}"

echo "fuzz/run.sh: $seconds s per fuzzer; output in $out"
failed=()
for name in "${fuzzers[@]}"; do
  corpus=$out/$name/corpus
  crashes=$out/$name/crashes
  mkdir -p "$corpus" "$crashes"
  cp -R "$root/fuzz/corpus/$name/." "$corpus/"
  log=$out/$name/log.txt
  status=0
  "$build/fuzz/${name}_fuzzer" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  if ((status == 0)); then
    echo "$name: ok, ${runs:-?} runs, ${rate:-?} runs/s, ${coverage:-cov: ?}"
  else
    echo "$name: FAILED with exit status $status; input and log in" \
         "$crashes and $log"
    grep -m 1 -A 30 '^==[0-9]*==ERROR\|runtime error\|^==[0-9]*== ERROR' \
      "$log" || tail -n 30 "$log"
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz/run.sh: ${#failed[@]} fuzzer(s) failed: ${failed[*]}" \
       "(inputs kept in $out)"
  exit 1
fi
echo "fuzz/run.sh: all ${#fuzzers[@]} fuzzers passed"
