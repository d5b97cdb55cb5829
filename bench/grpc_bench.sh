#!/usr/bin/env bash
# Measures gRPC throughput and latency of `verdict serve` on the AuthZEN Todo
# example: starts the server on a loopback port chosen by the OS, runs
# bench/loadgen in each mode, stops the server by its PID and prints a
# Markdown table.
#
# Usage: bench/grpc_bench.sh [BUILD_DIR] [--smoke] [--realtime]
#   BUILD_DIR   CMake build directory holding cli/verdict and bench/loadgen;
#               default build
#   --smoke     send a few hundred decisions per mode instead of timed runs,
#               to check that every mode works (used by ctest)
#   --realtime  run the open-loop measurements, server and loadgen, under
#               the SCHED_FIFO policy (chrt -f 10, needs root), so that other
#               processes on a shared machine do not delay their wakeups.
#               The closed loops, which keep both cores busy, stay at
#               normal priority.
# Environment: DURATION (seconds per measured run, default 10) and WARMUP
# (seconds, default 1).
set -euo pipefail

build_dir=build
smoke=false
realtime=false
for arg in "$@"; do
  case $arg in
    --smoke) smoke=true ;;
    --realtime) realtime=true ;;
    -*) echo "grpc_bench: unknown option $arg; see the header of $0" >&2
        exit 2 ;;
    *) build_dir=$arg ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
verdict="$build_dir/cli/verdict"
loadgen="$build_dir/bench/loadgen"
example="$root/examples/authzen-todo"
for binary in "$verdict" "$loadgen"; do
  if [[ ! -x $binary ]]; then
    echo "grpc_bench: $binary not found; build it first (ninja -C $build_dir)" >&2
    exit 2
  fi
done

workdir=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

"$verdict" serve --policies "$example/policies" --data "$example/data" \
  --listen 127.0.0.1:0 --port-file "$workdir/port" 2>"$workdir/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  [[ -s $workdir/port ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "grpc_bench: verdict serve exited early:" >&2
    cat "$workdir/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s $workdir/port ]]; then
  echo "grpc_bench: verdict serve did not report a port within 10 s" >&2
  exit 1
fi
target="127.0.0.1:$(cat "$workdir/port")"

if $smoke; then
  limits=(--warmup 0 --duration 10 --count 300)
else
  limits=(--warmup "${WARMUP:-1}" --duration "${DURATION:-10}")
fi

# Runs loadgen with a label and extra options; prints its row, or stops the
# script with loadgen's message when the run failed. Set priority=(chrt -f
# 10) to run loadgen under SCHED_FIFO.
priority=()
run() {
  local label=$1
  shift
  if ! "${priority[@]}" "$loadgen" --target "$target" --format row \
      --label "$label" "${limits[@]}" "$@" >"$workdir/row" 2>"$workdir/err"; then
    echo "grpc_bench: loadgen $label failed:" >&2
    cat "$workdir/row" "$workdir/err" >&2
    exit 1
  fi
  cat "$workdir/row"
}

# Column 4 of a row: decisions per second.
rate_of() { cut -f4 <<<"$1"; }

# The modes: unary calls, batches of 100, two streams. The closed loop of
# unary calls uses two client threads, because its client side costs about
# as much CPU as the server side. In the open loop a second thread only
# adds wakeups.
decide=(--rpc decide)
batch=(--rpc batch --batch 100)
stream=(--rpc stream --streams 2)

rows=()
rows+=("$(run decide-closed "${decide[@]}" --workers 2 --concurrency 32)")
rows+=("$(run batch-closed "${batch[@]}" --concurrency 16)")
rows+=("$(run stream-closed "${stream[@]}" --concurrency 64)")
if ! $smoke; then
  if $realtime; then
    chrt -f -a -p 10 "$server_pid" >/dev/null
    priority=(chrt -f 10)
  fi
  # Open loop at half of each closed-loop peak measured above.
  decide_half=$(( $(rate_of "${rows[0]}") / 2 ))
  batch_half=$(( $(rate_of "${rows[1]}") / 2 ))
  stream_half=$(( $(rate_of "${rows[2]}") / 2 ))
  rows+=("$(run decide-open-half "${decide[@]}" --rate "$decide_half")")
  rows+=("$(run batch-open-half "${batch[@]}" --rate "$batch_half")")
  rows+=("$(run stream-open-half "${stream[@]}" --rate "$stream_half")")
fi

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""

echo "| run | rpc | load | decisions/s | p50 us | p90 us | p99 us | p99.9 us | max us | errors | max send lag us |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  echo "| ${row//$'\t'/ | } |"
done
