# The throttle options and the command-line edges of the framework (sourced by run.sh). Elapsed
# times are only ever bounded from below: a loaded machine makes a run slower, never faster.
# --max-replica-lag has its own test with a streaming standby (replica_lag.sh).

now_ms() { date +%s%3N; }
at_least_ms() { [ "$1" -ge "$2" ] || { echo "  took $1 ms, expected at least $2"; return 1; }; }

test_throttle_pause() {
  local u t0
  u=$(newdb fw_pause)
  t0=$(now_ms)
  demo "$u" --batch-size 200 --pause 400ms  # 604 items: 4 batches, so 3 pauses between them
  expect "--pause: the run succeeds" eq "$?" 0
  expect "--pause 400ms between 4 batches: at least 1.2 s" at_least_ms $(($(now_ms) - t0)) 1200
  expect "--pause: the same result as the reference" eq "$(state_fp "$u")" "$REF_STATE"
  expect "--pause is recorded in the run's options" eq "$(sql "$u" "SELECT options->>'pause' FROM mig_meta.runs")" 400
}

test_throttle_pause_stops() {  # a stop during a long pause ends the run at that boundary
  local u pid
  u=$(newdb fw_pause_stop)
  "$MIGHOST" run "$DEMO" --db "$u" --batch-size 100 --pause 1h > slow.txt 2> slow.err &
  pid=$!
  wait_progress slow.txt 1
  touch demo.stop
  wait "$pid"
  expect "the stop file ends a 1h pause (exit 0)" eq "$?" 0
  expect "  status stopped after the first batch" has slow.txt '"status":"stopped"'
  expect "  one batch committed" eq "$(committed_rows "$u")" 100
  rm -f demo.stop
}

test_throttle_rate() {
  local u t0
  u=$(newdb fw_rate)
  t0=$(now_ms)
  demo "$u" --batch-size 100 --max-rate 400  # 7 batches: 6 of 100 rows, each 0.25 s before the next
  expect "--max-rate: the run succeeds" eq "$?" 0
  expect "--max-rate 400 over 604 rows in batches of 100: at least 1.5 s" at_least_ms $(($(now_ms) - t0)) 1500
  expect "--max-rate: the same result as the reference" eq "$(state_fp "$u")" "$REF_STATE"
  u=$(newdb fw_rate_workers)
  t0=$(now_ms)
  demo "$u" --batch-size 100 --max-rate 400 --workers 2  # each 200 rows/s over 302 rows: 3 waits of 0.5 s
  expect "--max-rate is shared by the workers: at least 1.5 s" at_least_ms $(($(now_ms) - t0)) 1500
  expect "  the same result as the reference" eq "$(state_fp "$u")" "$REF_STATE"
  "$MIGHOST" run "$DEMO" --max-rate 0 > out.txt 2> err.txt
  expect "--max-rate 0 is refused (exit 64)" eq "$?" 64
  expect "  naming the flag" has err.txt "max-rate: must be at least 1"
}

test_throttle_duration_units() {
  "$MIGHOST" run "$DEMO" --lock-timeout 5 > out.txt 2> err.txt
  expect "--lock-timeout 5 (no unit) is refused with exit 64" eq "$?" 64
  expect "  naming the flag and the units" has err.txt "lock-timeout: '5' has no unit: write 5ms, 5s, 5min or 5h"
  "$MIGHOST" run "$DEMO" --pause 2x > out.txt 2> err.txt
  expect "an unknown unit is refused with exit 64" eq "$?" 64
  expect "  naming the units" has err.txt "pause: '2x': unknown unit 'x' (ms, s, min or h)"
  local u
  u=$(newdb fw_units)
  demo "$u" --lock-timeout 0 --statement-timeout 10min --pause 0
  expect "0 needs no unit; 10min is understood" eq "$?" 0
  expect "  recorded in ms" eq "$(sql "$u" "SELECT (options->>'lock_timeout') || ' ' || (options->>'statement_timeout') FROM mig_meta.runs")" "0 600000"
}

test_option_typo() {
  "$MIGHOST" run "$DEMO" --batch-sise 10 > out.txt 2> err.txt
  expect "a misspelt script option exits 64 with a suggestion" eq "$?" 64
  expect "  naming both" has err.txt "unknown option --batch-sise (did you mean --batch-size?)"
}

test_progress_lines() {
  local u
  u=$(newdb fw_progress)
  demo "$u" --batch-size 50
  expect "off a terminal, PROGRESS lines carry percent, rate and ETA" has out.txt \
    '^PROGRESS items 50/604 8% [0-9][0-9]* rows/s ETA [0-9][0-9]*:[0-9][0-9]$'
  expect "  the last one: 100%, ETA 0:00" has out.txt '^PROGRESS items 604/604 100% [0-9][0-9]* rows/s ETA 0:00$'
  u=$(newdb fw_progress_every)
  demo "$u" --batch-size 50 --progress-every 1h
  expect "--progress-every 1h: the first and the last line of the 13 batches" eq \
    "$(grep '^PROGRESS items' out.txt | cut -d' ' -f1-3 | tr '\n' ' ')" "PROGRESS items 50/604 PROGRESS items 604/604 "
  "$MIGHOST" run "$DEMO" --help > out.txt 2> err.txt
  for flag in --pause --max-rate --max-replica-lag --progress-every; do
    expect "--help lists $flag" has out.txt -- "$flag"
  done
}

test_resume_hint_sandbox() {  # a stopped run on a sandbox cannot be resumed: it says so
  touch hint.stop
  "$MIGHOST" run "$DEMO" --sandbox --fixture "$FIXTURE" --stop-file hint.stop > out.txt 2> err.txt
  expect "--sandbox with a stop file: status stopped" has out.txt '"status":"stopped"'
  expect "  no resume command pointing at the removed sandbox" lacks out.txt "Resume with"
  expect "  says there is nothing to resume" has out.txt "Nothing to resume: the sandbox this run used is removed"
  local u
  u=$(newdb fw_hint)
  demo "$u" --stop-file hint.stop --throwaway-db   # how mighost test runs the script
  expect "--throwaway-db (mighost test's runs): nothing to resume either" has out.txt "Nothing to resume"
  demo "$u" --stop-file hint.stop
  expect "on a real database the resume command is printed" has out.txt "Resume with: mighost run $DEMO --db"
  rm -f hint.stop
}
