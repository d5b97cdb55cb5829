#!/usr/bin/env bash
# Floods `verdict serve` on the AuthZEN Todo example over loopback with
# twice as many decisions in flight as its --max-in-flight limit. Reports
# the calls rejected by status code, the latency of the accepted calls and
# the server's peak RSS (VmHWM). The same load then runs against a server
# with the default limit, for comparison.
#
# Usage: bench/overload_flood.sh [BUILD_DIR]
#   BUILD_DIR  CMake build directory holding cli/verdict and bench/loadgen;
#              default build
# Environment: LIMIT (--max-in-flight of the first server, default 1000),
# RPC (batch or decide, default batch), BATCH (items per BatchDecide call,
# default 100), WORKERS (loadgen connections, default 1), TIMEOUT_MS (deadline
# of each call, default 10000) and DURATION (measured seconds, default 10). The load is a closed loop of
# 2 * LIMIT / BATCH concurrent BatchDecide calls, or 2 * LIMIT Decide calls.
set -euo pipefail

build_dir=${1:-build}
limit=${LIMIT:-1000}
rpc=${RPC:-batch}
batch=${BATCH:-100}
workers=${WORKERS:-1}
timeout_ms=${TIMEOUT_MS:-10000}
duration=${DURATION:-10}
case $rpc in
  batch) ;;
  decide) batch=1 ;;
  *) echo "overload_flood: invalid RPC '$rpc'; expected batch or decide" >&2
     exit 2 ;;
esac
concurrency=$((2 * limit / batch))
if ((concurrency < 1)); then
  echo "overload_flood: 2 * LIMIT / BATCH is $concurrency; raise LIMIT or" \
    "lower BATCH so that at least one call is in flight" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
verdict="$build_dir/cli/verdict"
loadgen="$build_dir/bench/loadgen"
example="$root/examples/authzen-todo"
for binary in "$verdict" "$loadgen"; do
  if [[ ! -x $binary ]]; then
    echo "overload_flood: $binary not found; build it first" \
      "(ninja -C $build_dir)" >&2
    exit 2
  fi
done

workdir=$(mktemp -d)
server_pid=""
stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  server_pid=""
}
trap 'stop_server; rm -rf "$workdir"' EXIT

# Starts a server with the given extra options and sets server_pid and
# target.
start_server() {
  rm -f "$workdir/port"
  "$verdict" serve --policies "$example/policies" --data "$example/data" \
    --listen 127.0.0.1:0 --port-file "$workdir/port" "$@" \
    2>"$workdir/server.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    [[ -s $workdir/port ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "overload_flood: verdict serve exited early:" >&2
      cat "$workdir/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [[ ! -s $workdir/port ]]; then
    echo "overload_flood: verdict serve did not report a port within 10 s" >&2
    exit 1
  fi
  target="127.0.0.1:$(cat "$workdir/port")"
}

# Runs the flood against a server started with the given options and prints
# loadgen's report and the server's peak RSS.
flood() {
  local label=$1
  shift
  start_server "$@"
  echo "== $label: $concurrency concurrent $rpc calls of $batch" \
    "decisions on $workers connections for $duration s, deadline" \
    "$timeout_ms ms"
  # loadgen exits 1 when any call failed, which a flood is meant to cause.
  "$loadgen" --target "$target" --rpc "$rpc" --batch "$batch" \
    --concurrency "$concurrency" --workers "$workers" --warmup 1 \
    --duration "$duration" --timeout-ms "$timeout_ms" || true
  grep VmHWM "/proc/$server_pid/status"
  grep -c WARNING "$workdir/server.log" |
    sed 's/^/server warnings logged: /' || true
  stop_server
}

flood "--max-in-flight $limit" --max-in-flight "$limit"
flood "default --max-in-flight"
