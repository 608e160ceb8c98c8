#!/usr/bin/env bash
# A run whose session dies under it: its backend terminated (pg_terminate_backend) in the middle
# of a batch, or the server restarted (`pg_ctl restart -m immediate`) in the middle of a batch and
# during finalize. Each time: exit 1 with the SQLSTATE named, the ledger row `error` (never left
# `running`), `mighost status` showing it, and a re-run that leaves exactly the database of an
# uninterrupted run (data_fp: every table, rejects and fixups; no row lost or doubled).
# The fault strikes when the run is seen waiting for a lock a test session holds, never after a
# sleep: in a batch, a session holds the target table (SHARE) until the batch waits for it, then a
# second one holds the run's ledger row, so the batch writes its rows and waits to record its
# checkpoint; in finalize, a session's ROW EXCLUSIVE lock makes the index build wait.
# Usage: runtime_interrupt.sh path/to/mighost. Last line: `runtime_interrupt: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: runtime_interrupt.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=runtime_interrupt SET=items SCRIPT=
. "$ROOT/tests/scripts/replay.sh"
trap '' PIPE   # a held session that died must not take the test down when written to

start_sandbox
# every commit durable before a commit returns, so an immediate restart keeps what was committed
sql "$URL" "ALTER SYSTEM SET synchronous_commit = on" > /dev/null; sql "$URL" "SELECT pg_reload_conf()" > /dev/null
PSQL_VARS="-v scale=0.003" template t_stock "$ROOT/examples/stock_batches/generate.sql"   # 3 000 items
template t_demo "$ROOT/examples/demo/fixture.sql"

# the session of the run (its ledger connection), by application_name
RUN_APP=
run_pid() { sql "$1" "SELECT pid FROM pg_stat_activity WHERE application_name LIKE '$RUN_APP%' LIMIT 1"; }

# Start the run in the background (no lock timeout: it waits for the holders as long as needed).
start_run() {
  "$MIGHOST" run "$SCRIPT" --db "$1" --batch-size "$BATCH" --lock-timeout 0 > out.txt 2> err.txt &
  RUN=$!
}

# Brings the run on database $1 to the moment of the fault: in a batch that has written its rows
# (where = batch) or in finalize (where = finalize), waiting for a lock of session `holder`.
bring_to() {
  local u=$1 where=$2 target=$3 id
  if [ "$where" = batch ]; then
    hold holder_a "$u"
    in_hold holder_a "BEGIN; LOCK TABLE $target IN SHARE MODE;"
    start_run "$u"
    wait_for 120 blocked_by "$u" "$RUN_APP" holder_a || return 1
    id=$(sql "$u" "SELECT max(run_id) FROM mig_meta.runs WHERE status = 'running'")
    hold holder "$u"
    in_hold holder "BEGIN; SELECT 1 FROM mig_meta.runs WHERE run_id = $id FOR UPDATE;"
    in_hold holder_a "COMMIT;"
    unhold holder_a
  else
    hold holder "$u"
    in_hold holder "BEGIN; LOCK TABLE $target IN ROW EXCLUSIVE MODE;"
    start_run "$u"
  fi
  wait_for 120 blocked_by "$u" "$RUN_APP" holder
}

# fault_case LABEL TEMPLATE SCRIPT TARGET WHERE (batch|finalize) HOW (terminate|restart)
fault_case() {
  local label=$1 tpl=$2 target=$4 where=$5 how=$6 u base id rc t0 secs status
  SCRIPT=$3 RUN_APP="mighost:$(basename "$3" .lua) run"
  echo "# $label: $how during $where"
  base=$(clone "$tpl" "${label}_base")
  run "$base" --batch-size "$BATCH"
  expect "$label: the uninterrupted run: exit 0" eq "$?" 0
  u=$(clone "$tpl" "$label")
  run "$u" --batch-size "$BATCH" --limit $((BATCH * 2))   # some batches committed, the target exists
  expect "$label: a first partial run: exit 0" eq "$?" 0
  bring_to "$u" "$where" "$target"
  expect "$label: the run waits $([ "$where" = batch ] && echo "to record a batch it has written" || echo "in finalize")" eq "$?" 0
  id=$(sql "$u" "SELECT max(run_id) FROM mig_meta.runs")
  if [ "$how" = terminate ]; then
    expect "$label: pg_terminate_backend" eq "$(sql "$u" "SELECT pg_terminate_backend($(run_pid "$u"))")" t
  else
    restart_server
    expect "$label: pg_ctl restart -m immediate" eq "$?" 0
  fi
  [ "$how" = terminate ] && in_hold holder "COMMIT;"   # after a restart the session is gone already
  unhold holder
  wait "$RUN"; rc_fault=$?
  expect "$label: exit 1" eq "$rc_fault" 1
  expect "$label: the error names the SQLSTATE" has err.txt 'ERROR \(57P01\|08006\|57P02\)'
  expect "$label: stdout says the open batch was rolled back" has out.txt "open batch was rolled back"
  status=$(sql "$u" "SELECT status FROM mig_meta.runs WHERE run_id = $id")
  expect "$label: the run marked its own ledger row error through a new session" eq "$status" error
  expect "$label: ... and says so" has err.txt "marked error through a new session"
  "$MIGHOST" status --db "$u" > status.txt 2>&1
  expect "$label: mighost status shows run $id as error" has status.txt "^$id .* error "
  expect "$label: no run left running" eq "$(sql "$u" "SELECT count(*) FROM mig_meta.runs WHERE status = 'running'")" 0
  t0=$(date +%s%N)
  run "$u" --batch-size "$BATCH"; rc=$?
  secs=$(( ($(date +%s%N) - t0) / 1000000 ))
  expect "$label: a re-run completes (exit 0, status ok)" eq "$rc|$(sql "$u" "SELECT status FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "0|ok"
  expect "$label: the database equals the uninterrupted run's" eq "$(data_fp "$u")" "$(data_fp "$base")"
  local n nb
  n=$(sql "$u" "SELECT count(*) FROM $target") nb=$(sql "$base" "SELECT count(*) FROM $target")
  expect "$label: $target has the uninterrupted run's row count" eq "$n" "$nb"
  printf 'FAULT|%s during %s (%s)|exit %s|ledger %s|rows lost %d, doubled %d|re-run %d ms\n' "$how" "$where" "$label" \
    "$rc_fault" "$status" $((nb > n ? nb - n : 0)) $((n > nb ? n - nb : 0)) "$secs"
}

BATCH=200
fault_case stock_kill t_stock "$ROOT/scripts/stock_batches.lua" '"stock_batches"' batch terminate
fault_case stock_restart t_stock "$ROOT/scripts/stock_batches.lua" '"stock_batches"' batch restart
fault_case stock_restart_fin t_stock "$ROOT/scripts/stock_batches.lua" '"stock_batches"' finalize restart
BATCH=50
fault_case demo_kill t_demo "$ROOT/examples/demo/demo.lua" stock batch terminate
fault_case demo_restart_fin t_demo "$ROOT/examples/demo/demo.lua" stock finalize restart

# With no session able to record it (the run SIGKILLed while a batch is open), `mighost status`
# marks the row itself: the migration's lock is no longer held by anyone.
echo "# SIGKILL: mighost status marks the dead run"
SCRIPT=$ROOT/examples/demo/demo.lua RUN_APP="mighost:demo run" BATCH=50
u=$(clone t_demo sigkill)
run "$u" --batch-size 50 --limit 100
bring_to "$u" batch stock
kill -KILL "$RUN"; wait "$RUN" 2> /dev/null
in_hold holder "COMMIT;"; unhold holder
wait_unlocked "$u"
expect "sigkill: the row is still running before anyone looks" eq "$(sql "$u" "SELECT count(*) FROM mig_meta.runs WHERE status = 'running'")" 1
"$MIGHOST" status --db "$u" > status.txt 2>&1
expect "sigkill: mighost status marks it error" eq "$(sql "$u" "SELECT count(*) FROM mig_meta.runs WHERE status = 'running'")" 0
expect "sigkill: ... and prints why" has status.txt "no session holds its lock; noticed by mighost status"

finish "$NAME"
