#!/usr/bin/env bash
# Proves that bench/gate fails on the regressions it exists to catch. It
# runs the gate with the committed budgets on scale_bench_regressed, the
# suite built with a mutex, an allocation and a scan of every policy added
# to each decision. The gate must exit with status 1 and report those
# budgets as FAIL.
#
#   bench/gate_test.sh BUILD_DIR
set -uo pipefail

build=$1
here=$(cd "$(dirname "$0")" && pwd)
output=$("$here/gate" "$build" --binary "$build/bench/scale_bench_regressed" 2>&1)
status=$?
echo "$output"

failed=0
if ((status != 1)); then
  echo "gate_test: expected exit status 1 from the gate, got $status"
  failed=1
fi
for budget in no-allocation no-lock zero-trust-indexed github-indexed; do
  if ! grep -Eq "^ +FAIL +$budget " <<< "$output"; then
    echo "gate_test: budget $budget did not fail on the regressed build"
    failed=1
  fi
done
exit $failed
