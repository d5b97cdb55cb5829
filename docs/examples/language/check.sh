#!/usr/bin/env bash
# Checks that the examples of docs/language.md still give the outcomes that
# their file names record.
#
# Usage: check.sh [VERDICT]
#   VERDICT is the path of the verdict binary. The default is $VERDICT,
#   else `verdict` on PATH.
#
# An example set is this directory, or a subdirectory, that contains
# policies/, requests/ and optionally data/. For each set the script runs
# `verdict check`, then `verdict eval` on each request, and compares the
# outcome with the prefix of the request's file name:
#   permit-*.json   the decision is true
#   deny-*.json     the decision is false
#   invalid-*.json  eval rejects the request with exit status 1 and an error
# For each errors/<case>/ directory, `verdict check` must exit with status 1
# and print exactly errors/<case>/expected.txt.
#
# The clock is pinned with --now, as in the document. The script checks
# everything, then exits with status 1 if any check failed.
set -uo pipefail

verdict=${1:-${VERDICT:-verdict}}
now=2026-03-01T12:00:00Z
# A relative path must survive the cd below.
if [[ $verdict == */* && -e $verdict ]]; then
  verdict=$(realpath "$verdict")
fi
cd "$(dirname "$0")" || exit 1
if ! command -v "$verdict" >/dev/null; then
  echo "check.sh: verdict binary '$verdict' not found;" \
    "pass its path as the first argument or set VERDICT" >&2
  exit 1
fi

failures=0
checked=0
fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}

for example_set in . */; do
  example_set=${example_set%/}
  policies=$example_set/policies
  [[ -d $policies ]] || continue
  data_args=()
  [[ -d $example_set/data ]] && data_args=(--data "$example_set/data")

  if ! output=$("$verdict" check "${data_args[@]}" "$policies" 2>&1); then
    fail "verdict check $policies:"
    echo "$output" >&2
    continue
  fi

  for request in "$example_set"/requests/*.json; do
    [[ -e $request ]] || continue
    checked=$((checked + 1))
    name=$(basename "$request")
    expected=${name%%-*}
    output=$("$verdict" eval --policies "$policies" "${data_args[@]}" \
             --now "$now" --request "$request" 2>&1)
    status=$?
    case $expected in
      permit|deny)
        decision=$(grep -Eo '"decision": (true|false)' <<<"$output")
        want='"decision": false'
        [[ $expected == permit ]] && want='"decision": true'
        if [[ $status -ne 0 || $decision != "$want" ]]; then
          fail "$request: expected $expected, got (exit $status):"
          echo "$output" >&2
        fi
        ;;
      invalid)
        if [[ $status -ne 1 ]] || ! grep -q '"error":' <<<"$output"; then
          fail "$request: expected an invalid-request error, got (exit $status):"
          echo "$output" >&2
        fi
        ;;
      *)
        fail "$request: the name must start with permit-, deny- or invalid-"
        ;;
    esac
  done
done

for case_dir in errors/*/; do
  case_dir=${case_dir%/}
  checked=$((checked + 1))
  output=$("$verdict" check "$case_dir" 2>&1)
  status=$?
  if [[ $status -ne 1 ]]; then
    fail "verdict check $case_dir: expected exit status 1, got $status"
  fi
  if ! diff -u "$case_dir/expected.txt" <(printf '%s\n' "$output") >&2; then
    fail "verdict check $case_dir: output differs from expected.txt"
  fi
done

if [[ $failures -ne 0 ]]; then
  echo "check.sh: $failures of $checked checks failed" >&2
  exit 1
fi
echo "check.sh: all $checked checks passed"
