#!/usr/bin/env bash
# End-to-end checks of the mighost command line: exit codes, error reports, argument passing,
# password masking, sandboxes and signals. Usage: tests/cli/run.sh PATH-TO-MIGHOST
# One sandbox serves the cases that need a database; the --sandbox cases start their own (with
# TMPDIR pointed at a private directory, to see that nothing is left behind).
set -u

MIGHOST=${1:?usage: run.sh PATH-TO-MIGHOST}
MIGHOST=$(cd "$(dirname "$MIGHOST")" && pwd)/$(basename "$MIGHOST")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../support/lib.sh"
work_dir cli
SANDBOX_PID=
LAST=  # name of the last run, whose output a failure shows

# --- helpers ---------------------------------------------------------------------------------

cleanup() {
  if [ -n "$SANDBOX_PID" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -INT "$SANDBOX_PID"
    wait_exit "$SANDBOX_PID" 30 || kill -KILL "$SANDBOX_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mh NAME ARGS...: runs mighost; stdout in $WORK/NAME.out, stderr in $WORK/NAME.err, exit code in RC.
mh() {
  last "$1"
  shift
  timeout -s KILL 180 "$MIGHOST" "$@" >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
  RC=$?
}

rc_is() { [ "$RC" -eq "$1" ] || { echo "  exit code $RC, expected $1"; return 1; }; }
# last NAME: the run whose output a failing assertion shows ($WORK/NAME.out and .err).
last() { LAST=$1; EXPECT_OUT=$WORK/$1.out; EXPECT_ERR=$WORK/$1.err; }
all() { local c; for c in "$@"; do eval "$c" || return 1; done; }
empty_dir() { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }
private_tmp() { mkdir -p "$WORK/$1" && chmod 711 "$WORK/$1" && echo "$WORK/$1"; }

# wait_exit PID SECONDS: waits for a background child (not from a subshell: only the parent can
# reap it); its exit code goes to EXIT_RC; fails on timeout.
wait_exit() {
  local pid=$1 i
  for ((i = 0; i < $2 * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      EXIT_RC=$?
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# wait_text FILE TEXT SECONDS
wait_text() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- no database needed ----------------------------------------------------------------------

mh version --version
VERSION_LINE=$(head -n 1 "$WORK/version.out")
expect "--version prints the version and exits 0" all "rc_is 0" '[[ "$VERSION_LINE" =~ ^mighost\ [0-9]+\.[0-9]+\.[0-9]+ ]]'
mh version_lua run "$HERE/cli_args.lua"
expect "--version agrees with sys.version" all "rc_is 0" 'has_text $WORK/$LAST.out "version=${VERSION_LINE#mighost }"'

mh help --help
expect "--help exits 0 and lists run" all "rc_is 0" "has_text $WORK/$LAST.out run"
mh help_run help run
expect "help run exits 0 and shows run's options" all "rc_is 0" "has_text $WORK/$LAST.out --db" "has_text $WORK/$LAST.out --sandbox"
mh help_bogus help no-such-command
expect "help of an unknown command exits 64" all "rc_is 64" "has_text $WORK/$LAST.err no-such-command"

mh bad_flag --no-such-flag
expect "an unknown top-level flag exits 64 naming it" all "rc_is 64" "has_text $WORK/$LAST.err --no-such-flag"
mh bad_db run "$HERE/cli_args.lua" --db 'postgresql://u:pw1234@h/d?x=y=z'
expect "an invalid --db exits 64 naming --db, without its password" all "rc_is 64" "has_text $WORK/$LAST.err --db" "lacks_text $WORK/$LAST.err pw1234" "lacks_text $WORK/$LAST.out pw1234"
mh bad_level run "$HERE/cli_args.lua" --log-level bogus
expect "--log-level bogus exits 64" all "rc_is 64" "has_text $WORK/$LAST.err --log-level" "has_text $WORK/$LAST.err bogus"
mh bad_level_top --log-level bogus run "$HERE/cli_args.lua"
expect "--log-level bogus before the command exits 64" all "rc_is 64" "has_text $WORK/$LAST.err --log-level"

mh runtime run "$HERE/cli_runtime_error.lua"
expect "a Lua runtime error names script.lua:LINE, has a traceback and exits 1" \
  all "rc_is 1" "has_text $WORK/$LAST.err cli_runtime_error.lua:4:" "has_text $WORK/$LAST.err 'stack traceback'" "has_text $WORK/$LAST.err \"attempt to index local 'x'\"" \
  "has_text $WORK/$LAST.err 'cli_runtime_error.lua:6: in main chunk'"

BAD_SERVER='postgresql://u:pw5678@/x?host=/nonexistent-mighost-socket-dir'
mh syntax run "$HERE/cli_syntax_error.lua" --db "$BAD_SERVER"
expect "a syntax error exits 1 and is reported before any connection" \
  all "rc_is 1" "has_text $WORK/$LAST.err cli_syntax_error.lua:3:" "has_text $WORK/$LAST.err \"unexpected symbol near '='\"" \
  "lacks_text $WORK/$LAST.err connect" "lacks_text $WORK/$LAST.err nonexistent" "lacks_text $WORK/$LAST.err pw5678"
SYNTAX_TMP=$(private_tmp syntax_tmp)
last syntax_sbx
TMPDIR=$SYNTAX_TMP timeout -s KILL 60 "$MIGHOST" run "$HERE/cli_syntax_error.lua" --sandbox >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
RC=$?
expect "a syntax error with --sandbox starts no sandbox" \
  all "rc_is 1" "has_text $WORK/$LAST.err cli_syntax_error.lua:3:" "lacks_text $WORK/$LAST.err sandbox" "empty_dir $SYNTAX_TMP"

mh exit3 run "$HERE/cli_exit.lua" 3 "validation failed: 2 rows"
expect "script.exit(3, msg) exits 3 with the message and no traceback" \
  all "rc_is 3" "has_text $WORK/$LAST.err 'validation failed: 2 rows'" "lacks_text $WORK/$LAST.err traceback" "lacks_text $WORK/$LAST.err 'not reached'"
mh exit0 run "$HERE/cli_exit.lua" 0
expect "script.exit(0) exits 0" all "rc_is 0" "lacks_text $WORK/$LAST.err traceback"
mh return2 run "$HERE/cli_return.lua" 2
expect "a script returning 2 exits 2" "rc_is" 2
mh return0 run "$HERE/cli_return.lua"
expect "a script returning nothing exits 0" "rc_is" 0

mh args run "$HERE/cli_args.lua" one --two 3 'with space' '' -- --db x --sandbox
expect "arguments after the script name and after -- reach script.args" \
  all "rc_is 0" "has_text $WORK/$LAST.out 'args=one|--two|3|with space||--db|x|--sandbox#8'" "has_text $WORK/$LAST.out name=cli_args"

mh bogus_before run --bogus "$HERE/cli_args.lua"
expect "an unknown flag before SCRIPT is mighost's: exit 64 naming it, the script does not run" \
  all "rc_is 64" "has_text $WORK/$LAST.err 'mighost: --bogus: unknown option of mighost run'" \
  "lacks_text $WORK/$LAST.out args="
TYPO_TMP=$(private_tmp typo_tmp)
last typo_sbx
TMPDIR=$TYPO_TMP timeout -s KILL 60 "$MIGHOST" run "$HERE/cli_args.lua" --sandbox --fixtures x.sql \
  >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
RC=$?
expect "a misspelt host flag (--fixtures) is refused before a sandbox starts, with a suggestion" \
  all "rc_is 64" "has_text $WORK/$LAST.err '--fixtures: unknown option; did you mean --fixture?'" \
  "lacks_text $WORK/$LAST.err 'sandbox PostgreSQL'" "lacks_text $WORK/$LAST.out args=" "empty_dir $TYPO_TMP"
mh typo_test test "$HERE/cli_args.lua" --fixtures x.sql
expect "mighost test --fixtures: exit 64 with a suggestion" \
  all "rc_is 64" "has_text $WORK/$LAST.err 'did you mean --fixture?'"
mh typo_after_dashes run "$HERE/cli_args.lua" -- --fixtures x.sql
expect "after --, the same word reaches the script" all "rc_is 0" "has_text $WORK/$LAST.out 'args=--fixtures|x.sql#2'"

mh hidden_command run "$HERE/../../examples/demo/demo.lua" --mighost-command=verify
expect "--mighost-command=verify is no option of a migration: the usage error (64) names it" \
  all "rc_is 64" "has_text $WORK/$LAST.err 'unknown option --mighost-command'" "lacks_text $WORK/$LAST.out CHECK"
mh hidden_command_sep run "$HERE/../../examples/demo/demo.lua" --mighost-command rollback
expect "--mighost-command rollback (separate value) is refused the same way" \
  all "rc_is 64" "has_text $WORK/$LAST.err 'unknown option --mighost-command'"

last require
(cd / && timeout -s KILL 60 "$MIGHOST" run "$HERE/cli_require.lua" >"$WORK/$LAST.out" 2>"$WORK/$LAST.err")
RC=$?
expect "a module next to the script can be required (from another working directory)" \
  all "rc_is 0" "has_text $WORK/$LAST.out 'hello script from cli_helper'"

mh globals run "$HERE/cli_globals.lua"
expect "scripts get exactly the globals of a plain LuaJIT" \
  all "rc_is 0" "has_text $WORK/$LAST.out 'plain: _G _VERSION'" "lacks_text $WORK/$LAST.out ' db '" "lacks_text $WORK/$LAST.out mighost"

mh log run "$HERE/cli_log.lua" --log-file "$WORK/run.log" --log-level debug
expect "--log-file receives the script's log lines" \
  all "rc_is 0" "grep -qF 'hello from cli_log at 42' '$WORK/run.log'" "grep -qF 'a debug line' '$WORK/run.log'" \
  "has_text $WORK/$LAST.err 'hello from cli_log at 42'"
mh log_info run "$HERE/cli_log.lua" --log-file "$WORK/info.log"
expect "--log-level defaults to info" all "rc_is 0" "grep -qF 'hello from cli_log' '$WORK/info.log'" \
  "! grep -qF 'a debug line' '$WORK/info.log'"

mh secrets_down run "$HERE/cli_secrets.lua" --db "$BAD_SERVER" --log-level trace --log-file "$WORK/down.log"
expect "a password in --db of an unreachable server never shows" \
  all "rc_is 1" "has_text $WORK/$LAST.err 'could not connect'" "has_text $WORK/$LAST.err 'u:***@'" "lacks_text $WORK/$LAST.err pw5678" "lacks_text $WORK/$LAST.out pw5678" \
  "! grep -qF pw5678 '$WORK/down.log'"

# --- one shared sandbox ----------------------------------------------------------------------

SHARED_TMP=$(private_tmp shared_tmp)
TMPDIR=$SHARED_TMP "$MIGHOST" sandbox >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
SANDBOX_PID=$!
last sandbox
if wait_text "$WORK/sandbox.out" "postgresql://" 120; then
  sleep 0.2  # the line is printed and flushed whole; this only guards against a partial read
  URL=$(grep -m 1 '^postgresql://' "$WORK/sandbox.out")
  expect "mighost sandbox prints a URL" true
  PW=Pw0rd4711
  PW_URL=${URL/mighost@/mighost:$PW@}

  mh sql run "$HERE/cli_sql_error.lua" --db "$URL"
  expect "an SQL error names script.lua:LINE, SQLSTATE, message, statement and position" \
    all "rc_is 1" "has_text $WORK/$LAST.err cli_sql_error.lua:5:" "has_text $WORK/$LAST.err 42P01" "has_text $WORK/$LAST.err 'relation \"no_such_table\" does not exist'" \
    "has_text $WORK/$LAST.err 'at character 18'" "has_text $WORK/$LAST.err 'in: SELECT id   FROM no_such_table'" "has_text $WORK/$LAST.err 'stack traceback'"

  mh secrets run "$HERE/cli_secrets.lua" --db "$PW_URL" --log-level trace --log-file "$WORK/secrets.log"
  expect "a password in --db never shows in stdout, stderr or the log file" \
    all "rc_is 1" "has_text $WORK/$LAST.out 'url: postgresql://mighost:***@'" "has_text $WORK/$LAST.err 'connecting to postgresql://mighost:***@'" \
    "has_text $WORK/$LAST.err 42P01" "lacks_text $WORK/$LAST.out $PW" "lacks_text $WORK/$LAST.err $PW" "! grep -qF $PW '$WORK/secrets.log'" \
    "grep -qF 'mighost:***@' '$WORK/secrets.log'"

  mh verify_plain verify "$HERE/cli_writes.lua" --db "$URL"
  expect "verify on a plain script that writes: refused by the read-only session (25006), nothing written" \
    all '[ "$RC" -ne 0 ]' "has_text $WORK/$LAST.err 25006" "lacks_text $WORK/$LAST.out 'wrote cli_verify_probe'" \
    "[ \"\$(psql -X -At '$URL' -c \"SELECT to_regclass('cli_verify_probe') IS NULL\")\" = t ]"
  # A URL that asks for read-write sessions itself: verify must stay read-only all the same.
  RW_OPTS='options=-c%20default_transaction_read_only%3Doff'
  case $URL in *\?*) RW_URL="$URL&$RW_OPTS" ;; *) RW_URL="$URL?$RW_OPTS" ;; esac
  mh verify_plain_rw verify "$HERE/cli_writes.lua" --db "$RW_URL"
  expect "verify with a --db URL whose options= turns read-only off: still 25006, nothing written" \
    all '[ "$RC" -ne 0 ]' "has_text $WORK/$LAST.err 25006" "lacks_text $WORK/$LAST.out 'wrote cli_verify_probe'" \
    "[ \"\$(psql -X -At '$URL' -c \"SELECT to_regclass('cli_verify_probe') IS NULL\")\" = t ]"
  mh run_plain run "$HERE/cli_writes.lua" --db "$URL"
  expect "run of the same script writes (the verify case above could fail)" \
    all "rc_is 0" "has_text $WORK/$LAST.out 'wrote cli_verify_probe'" \
    "[ \"\$(psql -X -At '$URL' -c \"SELECT to_regclass('cli_verify_probe') IS NOT NULL\")\" = t ]"

  for cmd in run verify rollback; do
    ro=false session=off
    [ "$cmd" = verify ] && ro=true session=on
    mh "command_$cmd" "$cmd" "$HERE/cli_command.lua" --db "$URL" "$cmd"
    expect "under $cmd: script.command = \"$cmd\", script.read_only = $ro, sessions read-only $session (a worker's too)" \
      all "rc_is 0" "has_text $WORK/$LAST.out 'command=$cmd read_only=$ro session=$session'"
  done
  mh command_verify_rw verify "$HERE/cli_command.lua" --db "$RW_URL" verify
  expect "under verify with a URL whose options= turns read-only off: sessions still read-only" \
    all "rc_is 0" "has_text $WORK/$LAST.out 'command=verify read_only=true session=on'"
  mh command_run_ro run "$HERE/cli_command.lua" --db "${RW_URL%off}on" run
  expect "a URL's options= does reach the session (so the case above asked for read-write)" \
    all "rc_is 0" "has_text $WORK/$LAST.out 'command=run read_only=false session=on'"

  kill -INT "$SANDBOX_PID"
  EXIT_RC=x
  wait_exit "$SANDBOX_PID" 60
  SANDBOX_RC=$EXIT_RC
  SANDBOX_PID=
  expect "mighost sandbox stops on SIGINT with exit 0 and removes its directory" \
    all '[ "${SANDBOX_RC:-x}" = 0 ]' "empty_dir $SHARED_TMP"
else
  expect "mighost sandbox prints a URL" false
fi

# --- --sandbox runs --------------------------------------------------------------------------

printf 'CREATE TABLE fx (id int);\nINSERT INTO fx SELECT generate_series(1, 42);\n' >"$WORK/fixture.sql"
FX_TMP=$(private_tmp fx_tmp)
last fixture
TMPDIR=$FX_TMP timeout -s KILL 180 "$MIGHOST" run "$HERE/cli_fixture.lua" --sandbox --fixture "$WORK/fixture.sql" \
  >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
RC=$?
expect "--sandbox --fixture loads the fixture and removes the sandbox" all "rc_is 0" "has_text $WORK/$LAST.out rows=42" "empty_dir $FX_TMP"
last fixture_fail
TMPDIR=$FX_TMP timeout -s KILL 180 "$MIGHOST" run "$HERE/cli_fixture.lua" fail --sandbox --fixture "$WORK/fixture.sql" \
  >"$WORK/$LAST.out" 2>"$WORK/$LAST.err"
RC=$?
expect "the sandbox is removed after a script error too" \
  all "rc_is 1" "has_text $WORK/$LAST.out rows=42" "has_text $WORK/$LAST.err 'failing on purpose'" "empty_dir $FX_TMP"

# interrupt NAME SCRIPT MAX_SIGNALS: starts SCRIPT on a sandbox, waits for "ready", then sends
# SIGINT (once, or again every 2 s up to MAX_SIGNALS); sets RC (999 = did not end) and SIGNALS.
interrupt() {
  local tmp pid i
  last "$1"
  tmp=$(private_tmp "$1_tmp")
  TMPDIR=$tmp "$MIGHOST" run "$HERE/$2" --sandbox >"$WORK/$LAST.out" 2>"$WORK/$LAST.err" &
  pid=$!
  RC=999
  SIGNALS=0
  if ! wait_text "$WORK/$LAST.out" ready 120; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return
  fi
  for ((i = 0; i < $3; i++)); do
    kill -INT "$pid" 2>/dev/null
    SIGNALS=$((SIGNALS + 1))
    wait_exit "$pid" 2 && RC=$EXIT_RC && return
  done
  wait_exit "$pid" 30 && RC=$EXIT_RC && return
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

interrupt sigint_sql cli_sleep_loop.lua 1
expect "SIGINT during a statement loop ends the run non-zero and removes the sandbox" \
  all '[ "$RC" -ne 0 ] && [ "$RC" -ne 999 ]' "has_text $WORK/$LAST.err interrupted || has_text $WORK/$LAST.err 57014" "lacks_text $WORK/$LAST.out 'not interrupted'" \
  "empty_dir $WORK/sigint_sql_tmp"

# LuaJIT does not run hooks inside compiled traces, so the first SIGINT may not reach a pure Lua
# loop; the second one ends the process (after stopping the sandboxes).
interrupt sigint_busy cli_busy_loop.lua 2
expect "SIGINT during a pure Lua loop (at most twice) ends the run non-zero and removes the sandbox" \
  all '[ "$RC" -ne 0 ] && [ "$RC" -ne 999 ]' "empty_dir $WORK/sigint_busy_tmp"
echo "       (busy loop: exit $RC after $SIGNALS SIGINT)"

finish cli
