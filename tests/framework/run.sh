#!/usr/bin/env bash
# End-to-end tests of the migration framework (stdlib/mighost/migration.lua) with the demo
# migration (examples/demo) on a real PostgreSQL sandbox. Usage: run.sh path/to/mighost
# Prints `ok - ...` / `not ok - ...` per assertion and a final `framework: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: run.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=${FRAMEWORK_DEMO:-$ROOT/examples/demo/demo.lua}   # override: try a framework build from elsewhere
FIXTURE=$ROOT/examples/demo/fixture.sql
NAME=framework
source "$ROOT/tests/support/lib.sh"
work_dir framework
source "$ROOT/tests/framework/demo.sh"
start_sandbox

# FRAMEWORK_SUITE=ledger: the tests of what a run leaves behind (a ctest of their own)
if [ "${FRAMEWORK_SUITE:-main}" = ledger ]; then
  source "$ROOT/tests/framework/ledger_tests.sh"
else
  source "$ROOT/tests/framework/tests.sh"
  source "$ROOT/tests/framework/backup_tests.sh"
  source "$ROOT/tests/framework/declared_tests.sh"
  source "$ROOT/tests/framework/key_tests.sh"
  source "$ROOT/tests/framework/capture_tests.sh"
  source "$ROOT/tests/framework/throttle_tests.sh"
fi

# The reference: one uninterrupted run, one thread, batches of 50 (the other tests compare to it).
REF=$(newdb fw_reference)
demo "$REF" --batch-size 50
REF_RC=$?
REF_STATE=$(state_fp "$REF")
# A broken reference must fail every comparison, not make them all trivially equal.
if [ "$REF_RC" -ne 0 ] || grep -q missing <<< "$REF_STATE"; then REF_STATE="(the reference run failed)"; fi
cp out.txt reference.out

for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E "${FRAMEWORK_ONLY:-.}" | sort); do
  echo "# $t"
  started=$SECONDS
  rm -f demo.stop
  "$t"
  echo "# $t: $((SECONDS - started))s"
done

finish framework
