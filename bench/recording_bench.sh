#!/usr/bin/env bash
# Measures what the decision log and a shadow policy set cost `verdict
# serve`. For each configuration it starts the server on the AuthZEN Todo
# example on a loopback port chosen by the OS and drives it with
# bench/loadgen in a BatchDecide closed loop. It prints decisions per second
# and the server's CPU time per decision: user + system time from
# /proc/PID/stat over the run. The configurations run in turn, ROUNDS
# times, so that changes in the machine's load affect each of them alike.
#
# Usage: bench/recording_bench.sh [BUILD_DIR]
#   BUILD_DIR   CMake build directory holding cli/verdict and bench/loadgen;
#               default build
# Environment: DURATION (measured seconds per run, default 5), ROUNDS
# (default 3), RPC (loadgen --rpc: batch, decide or stream; default batch).
set -euo pipefail
build_dir=${1:-build}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
rpc=${RPC:-batch}
root=$(cd "$(dirname "$0")/.." && pwd)
verdict="$build_dir/cli/verdict"
loadgen="$build_dir/bench/loadgen"
example="$root/examples/authzen-todo"
for binary in "$verdict" "$loadgen"; do
  if [[ ! -x $binary ]]; then
    echo "recording_bench: $binary not found; build it first" \
      "(cmake --build $build_dir --target verdict loadgen)" >&2
    exit 2
  fi
done
ticks_per_second=$(getconf CLK_TCK)
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

# The shadow set is a copy of the enforced one, so every request is decided
# twice and no difference is logged.
cp -r "$example/policies" "$workdir/shadow"

# Prints the user + system CPU ticks of process $1.
cpu_ticks() {
  # Fields 14 and 15 of /proc/PID/stat, counted after the command name,
  # which is in parentheses and may contain spaces.
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  read -r -a fields <<<"$stat"
  echo $((fields[11] + fields[12]))
}

# Runs one configuration: $1 is its label, the rest are extra serve flags.
run() {
  local label=$1
  shift
  rm -f "$workdir/port" "$workdir/decisions.log"*
  "$verdict" serve --policies "$example/policies" --data "$example/data" \
    --listen 127.0.0.1:0 --port-file "$workdir/port" "$@" \
    2>"$workdir/server.log" &
  server_pid=$!

  for _ in $(seq 1 100); do
    [[ -s $workdir/port ]] && break
    sleep 0.1
  done
  if [[ ! -s $workdir/port ]]; then
    echo "recording_bench: verdict serve did not start:" >&2
    cat "$workdir/server.log" >&2
    exit 1
  fi

  local before after row
  before=$(cpu_ticks "$server_pid")
  row=$("$loadgen" --target "127.0.0.1:$(cat "$workdir/port")" --rpc "$rpc" \
    --concurrency 16 --warmup 0 --duration "$duration" --format row \
    --label "$label")
  after=$(cpu_ticks "$server_pid")
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""

  # Columns of loadgen's row: label, rpc, load, decisions/s, ...
  local rate
  rate=$(cut -f4 <<<"$row")
  # The decision count is estimated as rate x duration, because loadgen
  # reports the rate of the measured window only.
  awk -v label="$label" -v rate="$rate" -v ticks=$((after - before)) \
    -v hz="$ticks_per_second" -v seconds="$duration" 'BEGIN {
      printf "| %s | %d | %.2f |\n", label, rate,
        ticks / hz / (rate * seconds) * 1e6 }'
}

echo "| configuration | decisions/s | server CPU µs per decision |"
echo "|---|---|---|"
for _ in $(seq 1 "$rounds"); do
  run "metrics only"
  run "decision log" --decision-log "$workdir/decisions.log"
  run "shadow set" --shadow-policies "$workdir/shadow"
  run "decision log and shadow set" --decision-log "$workdir/decisions.log" \
    --shadow-policies "$workdir/shadow"
done
