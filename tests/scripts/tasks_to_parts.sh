#!/usr/bin/env bash
# End-to-end replay of scripts/tasks_to_parts.lua (docs/tasks_to_parts.md) on a real
# PostgreSQL sandbox: spec checks, counts/rejects/fixups against examples/tasks_to_parts/expected.sql,
# dry run, idempotency, rollback, refusal, progress, workers, stop file, SIGKILL + resume.
# Usage: tasks_to_parts.sh path/to/mighost. Last line: `tasks_to_parts: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: tasks_to_parts.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=${T2P_SCRIPT:-$ROOT/scripts/tasks_to_parts.lua}   # override: try another copy
EX=$ROOT/examples/tasks_to_parts
# The contract's own fixture, replayed in addition when .ci/run finds one (MIGHOST_CONTRACT_FIXTURES);
# the project's examples/ are the test data.
PUBLIC=${MIGHOST_CONTRACT_FIXTURES:+$MIGHOST_CONTRACT_FIXTURES/tasks_to_parts.sql}
NAME=tasks_to_parts
source "$ROOT/tests/support/lib.sh"
work_dir t2p
start_sandbox

load() {  # load NAME FILE... -> URL of a fresh database with the files loaded (generate.sql: $SCALE)
  local name=$1 f
  shift
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null 2>&1
  for f in "$@"; do
    psql -X -q -v ON_ERROR_STOP=1 -v scale="${SCALE:-0.02}" "$(dburl "$name")" -f "$f" >/dev/null 2>load.err \
      || { echo "  loading $f failed:"; head -3 load.err; }
  done
  dburl "$name"
}
t2p() {  # t2p URL ARGS... : stdout in out.txt, stderr in err.txt; returns the exit code
  local u=$1
  shift
  "$MIGHOST" run "$SCRIPT" --db "$u" --report "$WORK/report.json" "$@" > out.txt 2> err.txt
}
result_field() { grep '^RESULT ' out.txt | tail -1 | sed 's/^RESULT //' | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
no_fail() { has out.txt '^CHECK ' && lacks out.txt 'CHECK .* FAIL'; }
last_run() { sql "$1" "SELECT $2 FROM mig_meta.runs WHERE migration = 'tasks_to_parts' ORDER BY run_id DESC LIMIT 1"; }
public_fp() {  # the public schema: its relations, and every table's rows (t::text: dropped columns show)
  sql "$1" "SELECT string_agg(format('%s:%s', c.relname, c.relkind), ',' ORDER BY c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind <> 'S'"
  all_fp "$1" | grep -E '^public\.[^ ,]+ '
}

# expected.sql on a freshly loaded database: 4 count lines, rejects (3 fields), fixups (5), queue (last)
expected() {
  psql -X -At -v ON_ERROR_STOP=1 "$1" -f "$EX/expected.sql" > exp.raw
  head -4 exp.raw | cut -d'|' -f1-4 | sort > exp.counts
  sed '1,4d;$d' exp.raw | awk -F'|' 'NF == 3' > exp.rejects
  sed '1,4d;$d' exp.raw | awk -F'|' 'NF == 5' > exp.fixups
  tail -1 exp.raw > exp.queue
}
actual() {
  sql "$1" "SELECT k, v->>'source', v->>'migrated', v->>'rejected' FROM jsonb_each((SELECT counts FROM mig_meta.runs
            WHERE migration = 'tasks_to_parts' ORDER BY run_id DESC LIMIT 1)) AS e(k, v) WHERE k <> 'recompute'" | sort > act.counts
  sql "$1" "SELECT source_table, source_key, reason FROM mig_meta.rejects WHERE migration = 'tasks_to_parts'
            ORDER BY source_table, source_key COLLATE \"C\"" > act.rejects
  sql "$1" "SELECT source_table, source_key, field, rule, old_value FROM mig_meta.fixups WHERE migration = 'tasks_to_parts'
            ORDER BY source_key COLLATE \"C\", field" > act.fixups
}

# The migrated state without run ids, timestamps of now() and sequence-assigned ids.
state_fp() {
  local u=$1 r
  for r in tasks_part tasks_operation tasks_timer tasks_partcostagg mig_backup_tasks_to_parts.tasks_timer \
           "(SELECT part_id, user_id, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, total_cost FROM tasks_partcostagguser)" \
           "(SELECT part_id FROM tasks_partcostrecalcqueue)" \
           "(SELECT source_table, source_key, reason, detail, row_data FROM mig_meta.rejects)" \
           "(SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups)"; do
    echo "$r $(fp "$u" "$r")"
  done
}
costs_fp() {  # recomputed figures (updated_at is now())
  local u=$1
  fp "$u" "(SELECT part_id, job_no, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, total_cost FROM tasks_partcostagg)"
  fp "$u" "(SELECT part_id, user_id, currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, total_cost FROM tasks_partcostagguser)"
}

# ---- the cases (each on its own database) ----

test_small_fixture() {  # spec checks pass; counts, rejects, fixups and the queue equal expected.sql
  local u; u=$(load t2p_small "$EX/small.sql")
  expected "$u"
  t2p "$u"; local rc=$?
  expect "small: exit 0" eq "$rc" 0
  expect "small: status ok" eq "$(result_field "['status']")" ok
  expect "small: every spec check passes" no_fail
  expect "small: counts_balance printed" has out.txt '^CHECK counts_balance PASS'
  expect "small: RESULT is the last line" last_line_is_result
  actual "$u"
  expect "small: counts per source set = expected.sql" same_file act.counts exp.counts
  expect "small: rejects and reasons = expected.sql" same_file act.rejects exp.rejects
  expect "small: fixups = expected.sql" same_file act.fixups exp.fixups
  expect "small: recalc queue = expected.sql" eq "$(sql "$u" "SELECT count(*) FROM tasks_partcostrecalcqueue")" "$(cat exp.queue)"
  expect "small: non-empty expectations" test -s exp.rejects -a -s exp.fixups
  expect "small: report file written" test -s report.json
  # idempotency: a second run writes nothing and changes no row outside mig_meta.runs/checks
  local before; before=$(state_fp "$u")
  t2p "$u"; rc=$?
  expect "second run: exit 0" eq "$rc" 0
  expect "second run: 0 rows written" eq "$(result_field "['counts']" | python3 -c "import ast,sys
d=ast.literal_eval(sys.stdin.read()); print(sum(v.get('written',0) for k,v in d.items() if k!='recompute'))")" 0
  expect "second run: state unchanged" eq "$(state_fp "$u")" "$before"
  # rollback returns the legacy database (public schema) to its fingerprint
  local legacy; legacy=$(public_fp "$(load t2p_legacy "$EX/small.sql")")
  "$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt; rc=$?
  expect "rollback: exit 0" eq "$rc" 0
  expect "rollback: legacy fingerprint" eq "$(public_fp "$u")" "$legacy"
  expect "rollback: the fingerprint covers every legacy table" test "$(grep -c '^public\.' <<< "$legacy")" -ge 10
}

test_public_fixture() {
  [ -n "$PUBLIC" ] || { echo "#   skipped: MIGHOST_CONTRACT_FIXTURES is not set"; return; }
  local u; u=$(load t2p_public "$PUBLIC")
  expected "$u"
  t2p "$u" --recompute; local rc=$?
  expect "public: exit 0" eq "$rc" 0
  expect "public: every spec check passes" no_fail
  actual "$u"
  expect "public: counts = expected.sql" same_file act.counts exp.counts
  expect "public: rejects = expected.sql" same_file act.rejects exp.rejects
  expect "public: fixups = expected.sql" same_file act.fixups exp.fixups
  expect "public: queue drained by --recompute" eq "$(sql "$u" "SELECT count(*) FROM tasks_partcostrecalcqueue")" 0
}

test_target_ddl_and_conflict() {
  local u; u=$(load t2p_ddl "$EX/small.sql" "$EX/target_ddl.sql")
  expected "$u"
  t2p "$u"; local rc=$?
  expect "target_ddl: exit 0, existing objects skipped" eq "$rc" 0
  actual "$u"
  expect "target_ddl: counts = expected.sql" same_file act.counts exp.counts
  u=$(load t2p_conflict "$EX/small.sql" "$EX/task_key_conflict.sql")
  expected "$u"
  t2p "$u"; rc=$?
  expect "task_key_conflict: exit 3 (checks fail by design)" eq "$rc" 3
  expect "task_key_conflict: part_operation_pairs fails" has out.txt '^CHECK part_operation_pairs FAIL'
  actual "$u"
  grep -v '|orphan_task$' exp.rejects > exp.rejects_batches   # orphans: finalize, rolled back by the FAIL
  expect "task_key_conflict: rejects (batches) = expected.sql" same_file act.rejects exp.rejects_batches
  expect "task_key_conflict: part_key_conflict for M-100" has act.rejects '^machining_task|M-100|part_key_conflict$'
}

test_dry_run_limit() {
  local u; u=$(load t2p_dry "$EX/small.sql")
  local before; before=$(all_fp "$u")
  t2p "$u" --dry-run --limit 10; local rc=$?
  expect "dry run: exit 0" eq "$rc" 0
  expect "dry run: nothing changed (all tables)" eq "$(all_fp "$u")" "$before"
  expect "dry run: 10 tasks reported" eq "$(grep -c '^\[DRY RUN\] Would \(migrate\|reject\)' out.txt)" 10
  expect "dry run: runbook line" has out.txt '^\[DRY RUN\] Would migrate B-.* -> Part: PT-B-'
  expect "dry run: status partial" eq "$(result_field "['status']")" partial
  expect "dry run: would_change in the report" python3 -c "import json; assert json.load(open('report.json'))['would_change']['machining_task']['written'] > 0"
}

test_running_timer_refused() {
  local u; u=$(load t2p_timer "$EX/small.sql" "$EX/running_timer.sql")
  local before; before=$(all_fp "$u" mig_meta)
  t2p "$u"; local rc=$?
  expect "running timer: exit 2" eq "$rc" 2
  expect "running timer: status refused" eq "$(last_run "$u" status)" refused
  expect "running timer: names no_active_timers" has err.txt no_active_timers
  expect "running timer: nothing changed" eq "$(all_fp "$u" mig_meta)" "$before"
}

test_progress_and_workers() {  # PROGRESS every 100 tasks; --workers 2 = --workers 1
  local a b
  a=$(load t2p_w1 "$EX/small.sql"); b=$(load t2p_w2 "$EX/small.sql")
  t2p "$a" --recompute --workers 1
  expect "progress: PROGRESS tasks every 100" eq "$(grep '^PROGRESS tasks' out.txt | cut -d' ' -f1-3 | tr '\n' ' ')" "PROGRESS tasks 100/132 PROGRESS tasks 132/132 "
  expect "progress: PROGRESS recompute every 50" eq "$(grep '^PROGRESS recompute' out.txt | cut -d' ' -f1-3 | tr '\n' ' ')" \
    "PROGRESS recompute 50/127 PROGRESS recompute 100/127 PROGRESS recompute 127/127 "
  expect "workers 1: checks pass" no_fail
  "$MIGHOST" run "$SCRIPT" --help > out.txt 2> err.txt
  expect "--help names the stop file's default once" eq "$(grep -o 'recompute_part_costs.stop' out.txt | wc -l)" 1
  t2p "$b" --recompute --workers 2; local rc=$?
  expect "workers 2: exit 0" eq "$rc" 0
  expect "workers 2: checks pass" no_fail
  expect "workers 2: recomputed all" eq "$(result_field "['counts']['recompute']['recomputed']")" 127
  expect "workers 2 = workers 1 (figures)" eq "$(costs_fp "$b")" "$(costs_fp "$a")"
  expect "workers: figures not trivially equal" test "$(costs_fp "$a" | head -1)" != "$(fp "$(load t2p_w0 "$EX/small.sql")" "(SELECT 1 WHERE false)")"
}

test_stop_file() {  # the stop file stops the recompute; a re-run finishes it
  local u ref
  u=$(load t2p_stop "$EX/small.sql")
  t2p "$u"
  local queued; queued=$(sql "$u" "SELECT count(*) FROM tasks_partcostrecalcqueue")
  # Each claimed part costs 30 ms more (this database only), so the queue outlasts the gap between
  # the first PROGRESS line and the stop file on any machine: without it a fast recompute could
  # drain the queue first and the test would depend on timing.
  sql "$u" "CREATE FUNCTION test_slow_claim() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN PERFORM pg_sleep(0.03); RETURN OLD; END\$\$;
            CREATE TRIGGER test_slow_claim AFTER DELETE ON tasks_partcostrecalcqueue FOR EACH ROW EXECUTE FUNCTION test_slow_claim()" >/dev/null
  ( "$MIGHOST" run "$SCRIPT" --db "$u" --report "$WORK/stop.json" --recompute --workers 2 --stop-file "$WORK/stop.flag" > stop.out 2> stop.err; echo $? > stop.rc ) &
  local pid=$!
  for _ in $(seq 1 600); do grep -q '^PROGRESS recompute' stop.out 2>/dev/null && break; sleep 0.05; done
  touch "$WORK/stop.flag"
  wait "$pid"
  expect "stop file: exit 0" eq "$(cat stop.rc)" 0
  expect "stop file: status stopped" eq "$(last_run "$u" status)" stopped
  local left; left=$(sql "$u" "SELECT count(*) FROM tasks_partcostrecalcqueue")
  expect "stop file: part of the queue left ($left of $queued)" test "$left" -gt 0 -a "$left" -lt "$queued"
  expect "stop file: the script does not delete it" test -f "$WORK/stop.flag"
  # the migration was complete before the recompute: no source row is unresolved, so the checks
  # that need a complete run are not skipped — every check runs and is recorded
  local stopped_run; stopped_run=$(last_run "$u" run_id)
  expect "stop file: no check skipped" eq "$(grep -c '^CHECK .* SKIP' stop.out)" 0
  expect "stop file: every check recorded, none skipped" eq \
    "$(sql "$u" "SELECT count(*) || '/' || count(*) FILTER (WHERE passed IS NULL) FROM mig_meta.checks WHERE run_id = $stopped_run")" \
    "$(grep -c '^CHECK ' stop.out)/0"
  expect "stop file: the *_accounted checks ran" eq "$(grep -c '^CHECK [a-z_]*_accounted PASS' stop.out)" 4
  rm -f "$WORK/stop.flag"
  t2p "$u" --recompute --workers 2 --stop-file "$WORK/stop.flag"; local rc=$?
  expect "stop file: re-run completes" eq "$rc:$(last_run "$u" status)" "0:ok"
  expect "stop file: queue drained, checks pass" eq "$(sql "$u" "SELECT count(*) FROM tasks_partcostrecalcqueue"):$(no_fail && echo pass)" "0:pass"
}

test_sigkill_resume() {  # SIGKILL mid-run + re-run = one uninterrupted run
  local a b
  SCALE=0.01 a=$(load t2p_ref "$EX/generate.sql")
  SCALE=0.01 b=$(load t2p_kill "$EX/generate.sql")
  t2p "$a" --batch-size 20
  expect "reference run: exit 0 and checks pass" eq "$?:$(no_fail && echo pass)" "0:pass"
  ( exec "$MIGHOST" run "$SCRIPT" --db "$b" --report "$WORK/kill.json" --batch-size 20 > kill.out 2> kill.err ) &
  local pid=$!
  for _ in $(seq 1 600); do grep -q '^PROGRESS tasks [3-9]00/' kill.out 2>/dev/null && break; sleep 0.05; done
  kill -KILL "$pid"; wait "$pid" 2>/dev/null
  local done_before; done_before=$(sql "$b" "SELECT count(*) FROM tasks_part WHERE task_key IS NOT NULL")
  expect "kill: it was mid-run ($done_before parts)" test "$done_before" -gt 0 -a "$done_before" -lt 990
  wait_unlocked "$b"   # the dead session's lock goes once its backend notices; a run before that is refused
  t2p "$b" --batch-size 20; local rc=$?
  expect "kill: re-run exit 0" eq "$rc" 0
  expect "kill: killed run marked error" eq "$(sql "$b" "SELECT string_agg(status, ',' ORDER BY run_id) FROM mig_meta.runs")" "error,ok"
  expect "kill: state = uninterrupted run" eq "$(state_fp "$b")" "$(state_fp "$a")"
}

for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E "${T2P_ONLY:-.}"); do
  echo "# $t"
  started=$SECONDS
  rm -f recompute_part_costs.stop
  "$t"
  echo "#   $((SECONDS - started)) s"
done
finish tasks_to_parts
