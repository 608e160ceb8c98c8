# The framework tests (sourced by run.sh): one function per behaviour of the framework, each against a
# fresh copy of the demo fixture. $REF is the database of an uninterrupted run, $REF_STATE its
# fingerprint.

test_01_usage() {
  "$MIGHOST" run "$DEMO" --no-such-flag > out.txt 2> err.txt
  expect "unknown option exits 64" eq "$?" 64
  expect "unknown option is named" has err.txt "unknown option --no-such-flag"
  "$MIGHOST" run "$DEMO" --batch-size x > out.txt 2> err.txt
  expect "bad integer exits 64" eq "$?" 64
  "$MIGHOST" run "$DEMO" --help > out.txt 2> err.txt
  expect "--help exits 0" eq "$?" 0
  for flag in --db --dry-run --batch-size --limit --report --stop-file --strict --lock-timeout \
              --statement-timeout --workers --sleep-ms --backup-dir; do
    expect "--help lists $flag" has out.txt -- "$flag"
  done
}

test_02_apply() {
  cp reference.out out.txt
  expect "reference run exits 0" eq "$REF_RC" 0
  expect "RESULT is the last line" last_line_is_result
  expect "RESULT has the spec's keys in order" has out.txt \
    '^RESULT {"migration":"demo","mode":"apply","status":"ok","run_id":1,"counts":{"items":{"source":604,"migrated":588,"rejected":16,"written":588}'
  expect "one PROGRESS line per batch" eq "$(grep -c '^PROGRESS items' out.txt)" 13
  expect "checks printed" has out.txt "^CHECK items_accounted PASS expected=0 actual=0"
  expect "counts_balance always runs" has out.txt "^CHECK counts_balance PASS"
  expect "summary table" has out.txt "phase/set"
  expect "ledger row ok" eq "$(sql "$REF" "SELECT status || ' ' || (counts->'items'->>'rejected') || ' ' || (script_sha256 = '$(sha256sum "$DEMO" | cut -c1-64)') FROM mig_meta.runs")" "ok 16 true"
  expect "checks recorded" eq "$(sql "$REF" "SELECT count(*) FILTER (WHERE passed) || '/' || count(*) FROM mig_meta.checks")" "9/9"
  expect "backup has the items and their primary key" eq "$(sql "$REF" "SELECT count(*) || ' ' || (SELECT count(*) FROM pg_index WHERE indrelid = 'mig_backup_demo.items'::regclass AND indisprimary) FROM mig_backup_demo.items")" "604 1"
  local report
  report=$(ls reports/demo-*.json | head -1)
  expect "report file written under reports/" test -s "$report"
  for key in preconditions rejects fixups checks counts checks_failed; do
    expect "report has $key" has "$report" "\"$key\":"
  done
  local before
  before=$(all_fp "$REF" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')
  demo "$REF" --batch-size 50
  expect "second run exits 0" eq "$?" 0
  expect "second run writes nothing" has out.txt '"written":0}'
  expect "second run changes no row but runs/checks" eq "$(all_fp "$REF" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')" "$before"
  "$MIGHOST" status --db "$REF" "$DEMO" > out.txt 2> err.txt
  expect "status lists both runs" eq "$(grep -c ' demo  *ok ' out.txt)" 2
}

test_03_dry_run() {
  local u before
  u=$(newdb fw_dry)
  before=$(all_fp "$u")
  demo "$u" --dry-run --batch-size 100 --report dry/report.json
  expect "dry run exits 0" eq "$?" 0
  expect "every table's fingerprint unchanged" eq "$(all_fp "$u")" "$before"
  expect "no mig_meta left" eq "$(sql "$u" "SELECT to_regnamespace('mig_meta') IS NULL")" t
  expect "PROGRESS lines prefixed" has out.txt '^\[DRY RUN\] PROGRESS items 100/604'
  expect "CHECK lines prefixed" has out.txt '^\[DRY RUN\] CHECK items_accounted PASS'
  expect "RESULT says dry-run, no run_id" has out.txt '^RESULT {"migration":"demo","mode":"dry-run","status":"ok","run_id":null'
  expect "report has would_change" has dry/report.json '"would_change":{"items":{"source":604,"migrated":588,"rejected":16,"written":588}'
  expect "report lists the rejects" has dry/report.json '"reason":"negative_quantity"'
}

test_04_kill_and_resume() {
  local u pid rows rc
  u=$(newdb fw_kill)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 50 --sleep-ms 400 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 3
  sleep 0.2   # inside the 4th batch: half of it written, sleeping in pg_sleep
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  rows=$(committed_rows "$u")
  expect "killed mid-run: only whole batches committed ($rows rows)" test $((rows % 50)) -eq 0 -a "$rows" -ge 150 -a "$rows" -lt 600
  expect "killed run left as running" eq "$(sql "$u" "SELECT status FROM mig_meta.runs")" running
  wait_unlocked "$u"   # the dead backend lets go of the lock once its pg_sleep ends; a run before that is refused
  demo "$u" --batch-size 50; rc=$?
  expect "re-run exits 0" eq "$rc" 0
  expect "re-run notices the dead run" has err.txt "never finished"
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
  expect "dead run marked error" eq "$(sql "$u" "SELECT string_agg(status, ',' ORDER BY run_id) FROM mig_meta.runs")" "error,ok"
}

test_05_concurrent_runs() {
  local u pid rc1
  u=$(newdb fw_lock)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 50 --sleep-ms 300 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 1
  SECONDS_BEFORE=$SECONDS
  demo "$u" --batch-size 50
  expect "second run refused with exit 2" eq "$?" 2
  expect "refused at once" test $((SECONDS - SECONDS_BEFORE)) -le 3
  expect "refusal names the holder's pid and application_name" has err.txt "held by pid [0-9]* (application_name 'mighost:demo run pid $pid'"
  expect "refusal names since when" has err.txt "connected since 20"
  expect "RESULT refused" has out.txt '"status":"refused"'
  kill -TERM "$pid"
  wait "$pid"; rc1=$?
  expect "SIGTERM stops the first run with exit 0" eq "$rc1" 0
  expect "SIGTERM: status stopped" has slow.txt '"status":"stopped"'
  expect "stop prints the resume command" has slow.txt "Resume with: mighost run $DEMO"
  demo "$u" --batch-size 50
  expect "re-run completes" eq "$?" 0
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
}

test_06_stop_file() {
  local u pid rc rows
  u=$(newdb fw_stop)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 50 --sleep-ms 150 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 2
  touch demo.stop
  wait "$pid"; rc=$?
  cp slow.txt out.txt
  expect "stop file: exit 0" eq "$rc" 0
  expect "stop file: status stopped" has out.txt '"status":"stopped"'
  expect "stop file: ledger says stopped" eq "$(sql "$u" "SELECT status FROM mig_meta.runs")" stopped
  expect "stop file: finalize skipped" eq "$(sql "$u" "SELECT to_regclass('stock_owner_idx') IS NULL")" t
  expect "stop file: accounted checks SKIP" has out.txt "^CHECK items_accounted SKIP"
  expect "stop file: resume hint" has out.txt "remove demo.stop first"
  rows=$(committed_rows "$u")
  demo "$u" --batch-size 50
  expect "stop file still there: stops before any batch" has out.txt '"status":"stopped"'
  expect "stop file still there: nothing done" eq "$(committed_rows "$u")" "$rows"
  rm -f demo.stop
  touch other.stop
  demo "$u" --batch-size 50 --stop-file other.stop
  expect "--stop-file PATH is honoured" has out.txt '"status":"stopped"'
  rm -f other.stop
  demo "$u" --batch-size 50
  expect "re-run completes" eq "$?" 0
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
}

test_07_failing_check() {
  local u
  u=$(newdb fw_check)
  sql "$u" "CREATE TABLE stock (item_id text PRIMARY KEY REFERENCES items (id), quantity integer NOT NULL
            CHECK (quantity >= 0), price numeric(12,2) NOT NULL, owner_id integer REFERENCES owners (id), note text);
            INSERT INTO stock VALUES ('it-0001', 77, 0, 2, NULL)"
  demo "$u" --batch-size 100
  expect "failing check exits 3" eq "$?" 3
  expect "the check FAILs" has out.txt "^CHECK stock_values FAIL expected=0 actual=1"
  expect "status validation_failed" has out.txt '"status":"validation_failed"'
  expect "finalize rolled back (no index)" eq "$(sql "$u" "SELECT to_regclass('stock_owner_idx') IS NULL")" t
  expect "results recorded in mig_meta.checks" eq "$(sql "$u" "SELECT passed FROM mig_meta.checks WHERE check_name = 'stock_values'")" f
  expect "ledger says validation_failed" eq "$(sql "$u" "SELECT status FROM mig_meta.runs")" validation_failed
}

test_08_workers() {
  local u pid rc
  u=$(newdb fw_workers)
  demo "$u" --batch-size 50 --workers 4
  expect "--workers 4 exits 0" eq "$?" 0
  expect "--workers 4 ran 4 workers" has err.txt "4 workers over 4 key ranges"
  expect "--workers 4 equals --workers 1" eq "$(state_fp "$u")" "$REF_STATE"
  expect "--workers 4 counts" has out.txt '"items":{"source":604,"migrated":588,"rejected":16,"written":588}'
  u=$(newdb fw_workers_stop)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 20 --sleep-ms 200 --workers 4 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 1
  touch demo.stop
  wait "$pid"; rc=$?
  rm -f demo.stop
  expect "stop file stops all workers (exit 0)" eq "$rc" 0
  expect "workers stopped: status stopped" has slow.txt '"status":"stopped"'
  expect "workers stopped early" test "$(committed_rows "$u")" -lt 500
  demo "$u" --batch-size 50 --workers 3
  expect "re-run with other workers completes" eq "$?" 0
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
}

test_09_precondition() {
  local u before
  u=$(newdb fw_pre)
  sql "$u" "UPDATE items SET price = -1 WHERE id = 'it-0005'"
  before=$(all_fp "$u" mig_meta)
  demo "$u"
  expect "precondition failure exits 2" eq "$?" 2
  expect "refusal names the precondition" has err.txt "precondition no_negative_prices failed"
  expect "nothing changed outside mig_meta" eq "$(all_fp "$u" mig_meta)" "$before"
  expect "no reject, fixup or check rows" eq "$(sql "$u" "SELECT (SELECT count(*) FROM mig_meta.rejects)
    + (SELECT count(*) FROM mig_meta.fixups) + (SELECT count(*) FROM mig_meta.checks)")" 0
  expect "one refused run row" eq "$(sql "$u" "SELECT string_agg(status, ',') FROM mig_meta.runs")" refused
  expect "no backup, no target" eq "$(sql "$u" "SELECT to_regnamespace('mig_backup_demo') IS NULL AND to_regclass('stock') IS NULL")" t
}

test_10_limit_and_strict() {
  local u script
  u=$(newdb fw_limit)
  mkdir -p scripts && cp "$DEMO" scripts/demo.lua
  script=scripts/demo.lua
  "$MIGHOST" run "$script" --db "$u" --limit 120 --batch-size 50 > out.txt 2> err.txt
  expect "--limit exits 0" eq "$?" 0
  expect "--limit: status partial" has out.txt '"status":"partial"'
  expect "--limit: 120 rows resolved" eq "$(committed_rows "$u")" 120
  expect "--limit: accounted checks SKIP" has out.txt "^CHECK items_accounted SKIP"
  expect "--limit: partial-skip checks SKIP" has out.txt "^CHECK index_present SKIP"
  expect "--limit: finalize skipped" eq "$(sql "$u" "SELECT to_regclass('stock_owner_idx') IS NULL")" t
  echo "-- edited" >> "$script"
  "$MIGHOST" run "$script" --db "$u" --strict > out.txt 2> err.txt
  expect "--strict refuses a changed script (exit 2)" eq "$?" 2
  expect "--strict names the change" has err.txt "changed since run #1"
  "$MIGHOST" run "$script" --db "$u" --batch-size 50 > out.txt 2> err.txt
  expect "changed script without --strict runs (exit 0)" eq "$?" 0
  expect "changed script warns" has err.txt "changed since run #1"
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
}

test_11_verify_and_rollback() {
  local u
  u=$(newdb fw_verify)
  demo "$u" --batch-size 200 >/dev/null
  "$MIGHOST" verify "$DEMO" --db "$u" > out.txt 2> err.txt
  expect "verify on a migrated database exits 0" eq "$?" 0
  expect "verify runs the checks" eq "$(grep -c '^CHECK .* PASS' out.txt)" 9
  sql "$u" "UPDATE stock SET quantity = quantity + 1 WHERE item_id = 'it-0002'"
  "$MIGHOST" verify "$DEMO" --db "$u" > out.txt 2> err.txt
  expect "verify after tampering exits 3" eq "$?" 3
  expect "verify names the failing check" has out.txt "^CHECK stock_values FAIL expected=0 actual=1"
  "$MIGHOST" rollback "$DEMO" --db "$u" < /dev/null > out.txt 2> err.txt
  expect "rollback without a terminal and without --yes is refused (2)" eq "$?" 2
  expect "refused rollback changed nothing" eq "$(sql "$u" "SELECT to_regclass('stock') IS NOT NULL")" t
  "$MIGHOST" rollback "$DEMO" --db "$u" --yes > out.txt 2> err.txt
  expect "rollback --yes exits 0" eq "$?" 0
  expect "rollback ran the script's SQL" eq "$(sql "$u" "SELECT to_regclass('stock') IS NULL AND (SELECT count(*) FROM mig_meta.rejects) = 0")" t
  demo "$u" --batch-size 50
  expect "a run after the rollback migrates everything again" eq "$(state_fp "$u")" "$REF_STATE"
}

test_12_second_interrupt() {
  local u pid rc rows
  u=$(newdb fw_sigint)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 50 --sleep-ms 2000 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 1
  sleep 0.3
  kill -INT "$pid"
  sleep 0.3
  kill -INT "$pid"
  wait "$pid"; rc=$?
  cp slow.err err.txt
  expect "second SIGINT aborts (exit 1)" eq "$rc" 1
  expect "abort explained" has err.txt "aborted by a second interrupt"
  rows=$(committed_rows "$u")
  expect "open batch rolled back ($rows rows committed)" test $((rows % 50)) -eq 0 -a "$rows" -lt 150
  expect "ledger says error" eq "$(sql "$u" "SELECT status FROM mig_meta.runs")" error
  demo "$u" --batch-size 50
  expect "re-run completes" eq "$?" 0
  expect "final state equals an uninterrupted run" eq "$(state_fp "$u")" "$REF_STATE"
}

test_13_two_databases() {
  local s t pid rc two=$ROOT/examples/demo/two_db.lua
  s=$(newdb fw_src)
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS fw_tgt WITH (FORCE)" -c "CREATE DATABASE fw_tgt" >/dev/null 2>&1
  t=$(dburl fw_tgt)
  "$MIGHOST" run "$two" --source-db "$s" --target-db "$t" --batch-size 3 --sleep-ms 250 > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 0
  for _ in $(seq 1 200); do grep -q '^PROGRESS owners 6/' slow.txt && break; sleep 0.05; done
  touch demo_two_db.stop
  wait "$pid"; rc=$?
  rm -f demo_two_db.stop
  expect "two databases: stop exits 0" eq "$rc" 0
  expect "two databases: stopped" has slow.txt '"status":"stopped"'
  expect "two databases: ledger on the target" eq "$(sql "$t" "SELECT status FROM mig_meta.runs")" stopped
  expect "two databases: source untouched" eq "$(sql "$s" "SELECT to_regnamespace('mig_meta') IS NULL")" t
  "$MIGHOST" run "$two" --source-db "$s" --target-db "$t" --batch-size 3 > out.txt 2> err.txt
  expect "two databases: re-run exits 0" eq "$?" 0
  expect "two databases: resumes from the checkpoint" has err.txt "resuming 1 key range(s) from run #1"
  expect "two databases: first PROGRESS continues, not from 3" lacks out.txt "^PROGRESS owners 3/20"
  expect "two databases: counts" has out.txt '"owners":{"source":20,"migrated":18,"rejected":2'
  expect "two databases: reject row_data read from the source" eq \
    "$(sql "$t" "SELECT string_agg(row_data::text, ';' ORDER BY source_key) FROM mig_meta.rejects")" \
    '{"id": 17, "name": "owner 17"};{"id": 7, "name": "owner 7"}'
  expect "two databases: copied" eq "$(sql "$t" "SELECT count(*) FROM owners_copy")" 18
  "$MIGHOST" run "$two" --source-db "$s" --target-db "$t" --limit 3 > out.txt 2> err.txt
  expect "two databases: --limit removed by the script (64)" eq "$?" 64
}

test_14_lock_timeout() {
  local u rc run
  u=$(newdb fw_locks)
  demo "$u" --limit 50 >/dev/null   # creates the target tables
  # SHARE blocks the batches' inserts but not the reads before them: only batches wait. The holder
  # lets go once the run has logged a retry, however long the run took to get there.
  hold stock_holder "$u"
  in_hold stock_holder "BEGIN; LOCK TABLE stock IN SHARE MODE;"
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 100 --lock-timeout 200ms > out.txt 2> err.txt &
  run=$!
  wait_for 120 grep -q "lock timeout (55P03)" err.txt
  in_hold stock_holder "COMMIT;"
  wait "$run"; rc=$?
  unhold stock_holder
  expect "a lock timeout in a batch is retried, then the run completes" eq "$rc" 0
  expect "the retry is logged, naming the blocking session" has err.txt \
    "lock timeout (55P03).*blocked by pid .*application_name 'stock_holder'.*; retrying"
  sql "$u" "DELETE FROM mig_meta.rejects WHERE source_key = 'it-0037'"   # one row to redo: a reject
  # A lock held for the whole run.
  hold rejects_holder "$u"
  in_hold rejects_holder "BEGIN; LOCK TABLE mig_meta.rejects IN SHARE MODE;"
  demo "$u" --batch-size 100 --lock-timeout 100ms
  rc=$?
  unhold rejects_holder
  expect "a lock that never frees fails the run (exit 1)" eq "$rc" 1
  expect "with a clear message" has err.txt "lock timeout 6 times in a row"
  expect "that suggests what to do" has err.txt "raise --lock-timeout"
}

test_15_worker_error() {
  local u
  u=$(newdb fw_werr)
  "$MIGHOST" run "$ROOT/tests/framework/worker_error.lua" --db "$u" --workers 3 --batch-size 10 > out.txt 2> err.txt
  expect "a failing worker ends the run with exit 1" eq "$?" 1
  expect "the error names the worker" has err.txt "worker 2 of 3 failed: .*worker_error.lua:12: boom in worker 2"
  expect "with the traceback of where it was raised" has err.txt "worker_error.lua:13: in function 'batch'"
  expect "RESULT error" has out.txt '"status":"error"'
  expect "the failing worker's batch was rolled back" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE id BETWEEN 68 AND 134) FROM worker_error_t")" 0
  expect "ledger says error" eq "$(sql "$u" "SELECT status FROM mig_meta.runs")" error
}

test_19_fetch_range() {  # fetch = "range": one run = workers = limit + resume; counts from the data
  local script=$ROOT/tests/framework/range.lua u1 u3 ul want
  range_fp() { fp "$1" stock_r; fp "$1" "(SELECT source_key, reason FROM mig_meta.rejects WHERE migration = 'range_demo')"; }
  u1=$(newdb fw_range1)
  want=$(sql "$u1" "SELECT format('\"items\":{\"source\":%s,\"migrated\":%s,\"rejected\":%s,\"written\":%s}',
                    count(*), count(*) FILTER (WHERE qty >= 0), count(*) FILTER (WHERE qty < 0), count(*) FILTER (WHERE qty >= 0))
                    FROM items")
  "$MIGHOST" run "$script" --db "$u1" --batch-size 40 > out.txt 2> err.txt
  expect "range: exit 0, every check PASS" eq "$?|$(grep -c '^CHECK .* FAIL' out.txt)" "0|0"
  expect "range: counts as the data says" has out.txt "$want"
  expect "range: rows and rejects written" eq "$(range_fp "$u1" | grep -c -e missing -e empty)" 0
  expect "range: one PROGRESS line per window" eq "$(grep -c '^PROGRESS items' out.txt)" \
    "$(sql "$u1" "SELECT ceil(count(*) / 40.0) FROM items")"
  u3=$(newdb fw_range3)
  "$MIGHOST" run "$script" --db "$u3" --batch-size 40 --workers 3 > out.txt 2> err.txt
  expect "range: --workers 3 exits 0" eq "$?" 0
  expect "range: --workers 3 = one thread" eq "$(range_fp "$u3")" "$(range_fp "$u1")"
  ul=$(newdb fw_range_limit)
  "$MIGHOST" run "$script" --db "$ul" --batch-size 40 --limit 100 > out.txt 2> err.txt
  expect "range: --limit 100 resolves 100 rows, partial" eq "$?|$(sql "$ul" "SELECT (SELECT count(*) FROM stock_r)
      + (SELECT count(*) FROM mig_meta.rejects WHERE migration = 'range_demo')")|$(grep -c '"status":"partial"' out.txt)" "0|100|1"
  # the next run probes the pending rows (not a fresh run): the windows' pending counts drive it
  local after_limit; after_limit=$(sql "$ul" "SELECT count(*) FROM stock_r")
  "$MIGHOST" run "$script" --db "$ul" --batch-size 40 > out.txt 2> err.txt
  expect "range: the completing run writes only the rest" eq "$?|$(grep -o '"written":[0-9]*' out.txt)" \
    "0|\"written\":$(( $(sql "$u1" "SELECT count(*) FROM stock_r") - after_limit ))"
  expect "range: limit + resume = one run" eq "$(range_fp "$ul")" "$(range_fp "$u1")"
}
