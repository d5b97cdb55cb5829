#!/usr/bin/env bash
# Calls the AuthZEN HTTP API of `verdict serve` with curl, as an operator
# would: one evaluation, one batch and one invalid request.
#
# Usage: authzen_curl_test.sh VERDICT_BINARY TODO_EXAMPLE_DIR
set -euo pipefail

verdict=$1
example=$2
work=$(mktemp -d)
server_pid=

cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- server log ---" >&2
  cat "$work/serve.log" >&2 || true
  exit 1
}

"$verdict" serve --policies "$example/policies" --data "$example/data" \
  --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --http-port-file "$work/http-port" >"$work/serve.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 300); do
  [[ -s $work/http-port ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "verdict serve exited early"
  sleep 0.1
done
[[ -s $work/http-port ]] || fail "no HTTP port file after 30 s"
base="http://127.0.0.1:$(cat "$work/http-port")"

rick=CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs
beth=CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs

# post PATH BODY: prints the HTTP status code and stores the response
# headers and body in $work/headers and $work/body.
post() {
  curl --silent --show-error --max-time 10 \
    -H 'Content-Type: application/json' -H 'X-Request-ID: curl-test' \
    -D "$work/headers" -o "$work/body" -w '%{http_code}' \
    -X POST --data "$2" "$base$1"
}

expect_body() {
  grep -qF -- "$1" "$work/body" ||
    fail "expected $1 in the body: $(cat "$work/body")"
}

# One evaluation: Rick, an admin, may create a todo.
status=$(post /access/v1/evaluation '{
  "subject": {"type": "user", "id": "'$rick'"},
  "action": {"name": "can_create_todo"},
  "resource": {"type": "todo", "id": "1"}}')
[[ $status == 200 ]] || fail "evaluation returned HTTP $status"
expect_body '"decision":true'
expect_body '"reasons":["permit:create-todo"]'
grep -qi '^X-Request-ID: curl-test' "$work/headers" ||
  fail "X-Request-ID not echoed: $(cat "$work/headers")"

# A batch with defaults and deny_on_first_deny: Beth, a viewer, reads todos
# but may not create one, so the third item is never evaluated.
status=$(post /access/v1/evaluations '{
  "subject": {"type": "user", "id": "'$beth'"},
  "resource": {"type": "todo", "id": "1"},
  "options": {"evaluations_semantic": "deny_on_first_deny"},
  "evaluations": [
    {"action": {"name": "can_read_todos"}},
    {"action": {"name": "can_create_todo"}},
    {"action": {"name": "can_read_user"}}]}')
[[ $status == 200 ]] || fail "evaluations returned HTTP $status"
decisions=$(grep -o '"decision":[a-z]*' "$work/body" | tr '\n' ' ')
[[ $decisions == '"decision":true "decision":false ' ]] ||
  fail "expected decisions true, false; got $decisions"

# A request without a subject is a 400 that names the member.
status=$(post /access/v1/evaluation '{
  "action": {"name": "can_read_todos"},
  "resource": {"type": "todo", "id": "1"}}')
[[ $status == 400 ]] || fail "missing subject returned HTTP $status"
expect_body 'missing member \"subject\"'

echo "PASS: evaluation, evaluations and a 400 over HTTP at $base"
