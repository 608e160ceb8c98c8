#!/usr/bin/env bash
# Another session holds a lock the run's batches need (its target table in SHARE mode, open in a
# transaction): each lock-timeout retry warning and the final error name the blocking session
# (pid, application_name, state, current query, from pg_blocking_pids), the run ends with exit 1
# after --lock-retries retries and changes nothing; once the session is gone a re-run completes.
# --help shows --lock-timeout and --lock-retries.
# Usage: runtime_locks.sh path/to/mighost. Last line: `runtime_locks: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: runtime_locks.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=runtime_locks SET=items SCRIPT=
. "$ROOT/tests/scripts/replay.sh"
trap '' PIPE

start_sandbox
PSQL_VARS="-v scale=0.003" template t_stock "$ROOT/examples/stock_batches/generate.sql"   # 3 000 items
template t_demo "$ROOT/examples/demo/fixture.sql"

echo "# --help"
"$MIGHOST" run "$ROOT/scripts/stock_batches.lua" --help > help.txt 2>&1
expect "--help shows --lock-timeout" has help.txt -- "--lock-timeout"
expect "--help shows --lock-retries" has help.txt -- "--lock-retries"

# lock_case LABEL TEMPLATE SCRIPT TARGET
lock_case() {
  local label=$1 tpl=$2 target=$4 u base before pid rc t0 secs
  SCRIPT=$3
  echo "# $label: $target held in SHARE mode by another session"
  base=$(clone "$tpl" "${label}_base")
  run "$base" --batch-size 200
  u=$(clone "$tpl" "$label")
  run "$u" --batch-size 200 --limit 200   # the target exists, some rows are in
  expect "$label: a first partial run: exit 0" eq "$?" 0
  before=$(data_fp "$u")
  hold blocker "$u"
  in_hold blocker "BEGIN; LOCK TABLE $target IN SHARE MODE;"
  pid=$(sql "$u" "SELECT pid FROM pg_stat_activity WHERE application_name = 'blocker'")
  run "$u" --batch-size 200 --lock-timeout 1s --lock-retries 2; rc=$?
  expect "$label: exit 1 after the last retry" eq "$rc" 1
  expect "$label: two retry warnings" eq "$(grep -c 'lock timeout (55P03); blocked by .*retrying in' err.txt)" 2
  expect "$label: each names the blocking pid, application_name, state and query" eq \
    "$(grep -c "retrying in .*" err.txt | head -1)|$(grep -c "blocked by pid $pid (application_name 'blocker', state idle in transaction, query: LOCK TABLE $target IN SHARE MODE;)" err.txt)" \
    "2|3"
  expect "$label: the final error says how often, and what to change" has err.txt \
    "lock timeout 3 times in a row (lock_timeout 1000 ms, --lock-retries 2); blocked by pid $pid"
  expect "$label: nothing changed" eq "$(data_fp "$u")" "$before"
  expect "$label: the run is recorded as error" eq "$(sql "$u" "SELECT status FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" error
  in_hold blocker "COMMIT;"
  unhold blocker
  t0=$(date +%s%N)
  run "$u" --batch-size 200; rc=$?
  secs=$(( ($(date +%s%N) - t0) / 1000000 ))
  expect "$label: once the session is gone a re-run completes" eq "$rc" 0
  expect "$label: ... equal to the uninterrupted run" eq "$(data_fp "$u")" "$(data_fp "$base")"
  printf 'FAULT|lock held by another session past --lock-retries (%s)|exit 1|ledger error|rows lost 0, doubled 0 (nothing changed)|re-run %d ms\n' \
    "$label" "$secs"
}

lock_case stock t_stock "$ROOT/scripts/stock_batches.lua" '"stock_batches"'
lock_case demo t_demo "$ROOT/examples/demo/demo.lua" stock

finish "$NAME"
