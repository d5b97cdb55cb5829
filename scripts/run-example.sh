#!/usr/bin/env bash
# Serves the AuthZEN Todo example on a loopback port chosen by the OS,
# decides each example request over gRPC with `verdict decide`, prints the
# decisions, and stops the server it started.
set -euo pipefail

build_dir=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
verdict="$build_dir/cli/verdict"
example="$root/examples/authzen-todo"
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
    echo "run-example: verdict serve exited early:" >&2
    cat "$workdir/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s $workdir/port ]]; then
  echo "run-example: verdict serve did not report a port within 10 s" >&2
  exit 1
fi
address="127.0.0.1:$(cat "$workdir/port")"
echo "verdict serve is listening on $address"

for request in "$example"/requests/*.json; do
  echo
  echo "== $(basename "$request")"
  "$verdict" decide --server "$address" --request "$request"
done

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""
echo
echo "== server log"
cat "$workdir/server.log"
