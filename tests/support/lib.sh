# The one shell test library (sourced by every shell test): TAP-like assertions, psql helpers,
# fingerprints of whole databases, a sandbox for the whole file, waits on conditions.
#
#   source "$ROOT/tests/support/lib.sh"
#   work_dir NAME        # sets WORK, the current directory, removed on exit
#   start_sandbox        # sets URL; stops the sandbox and removes WORK on exit
#   expect "what" eq "$(sql "$URL" "SELECT 1")" 1
#   finish NAME          # prints "NAME: N passed, M failed" and returns non-zero on a failure
#
# A failing `expect` shows the tails of $EXPECT_OUT and $EXPECT_ERR (out.txt and err.txt of the
# current directory unless a test points them at its last run's files).
passed=0
failed=0

expect() {  # expect DESCRIPTION COMMAND... : one assertion
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "not ok - $what"
    local out=${EXPECT_OUT:-out.txt} err=${EXPECT_ERR:-err.txt}
    [ -f "$out" ] && { echo "  --- stdout (tail)"; tail -8 "$out" | sed 's/^/  /'; }
    [ -f "$err" ] && { echo "  --- stderr (tail)"; tail -8 "$err" | sed 's/^/  /'; }
  fi
  return 0
}

finish() {  # finish NAME: the summary line; the file's exit status
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'"; return 1; }; }
has() { grep -q -- "$2" "$1"; }             # has FILE REGEX
lacks() { ! grep -q -- "$2" "$1"; }         # lacks FILE REGEX
has_text() { grep -qF -- "$2" "$1"; }       # has_text FILE TEXT (no regex)
lacks_text() { ! grep -qF -- "$2" "$1"; }
same_file() { cmp -s "$1" "$2" || { diff "$1" "$2" | head -20 | sed 's/^/  /'; return 1; }; }

# mighost's machine-readable summary: the RESULT line of a run's stdout (out.txt), last.
result() { grep '^RESULT ' out.txt | tail -1; }
last_line_is_result() { [ "$(tail -1 out.txt | cut -c1-7)" = "RESULT " ]; }

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }   # sql URL STATEMENT
dburl() { echo "$URL" | sed "s#/mighost?#/$1?#"; }          # dburl NAME: database NAME on the sandbox
jsql() {  # jsql FILE URL QUERY: QUERY with :'j' = the text of the JSON file (read by psql itself)
  printf '%s\n' "\\set j \`cat $1\`" "$3" | psql -X -At -v ON_ERROR_STOP=1 -d "$2"
}

# Fingerprint of one relation or subquery: md5 over the text of all its rows ("missing" if none).
fp() { sql "$1" "SELECT COALESCE(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM $2 t" 2>/dev/null || echo "missing"; }

# all_fp URL [SKIP]: every user schema and relation (name, kind), and per table its columns and an
# md5 of its rows as jsonb (column order does not matter). SKIP is a regex of schemas left out.
all_fp() {
  local u=$1 skip=${2:-^$} t
  sql "$u" "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace
             WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND nspname !~ '$skip'"
  sql "$u" "SELECT string_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind), ','
                     ORDER BY format('%s.%s:%s', n.nspname, c.relname, c.relkind))
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '$skip'
               AND c.relkind <> 'S'"
  for t in $(sql "$u" "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                       WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname !~ '$skip' ORDER BY 1"); do
    echo "$t $(sql "$u" "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attname)
                           FROM pg_attribute WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped")" \
         "$(sql "$u" "SELECT COALESCE(md5(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text)), 'empty') FROM $t x")"
  done
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (checked every 0.05 s); fails after SECONDS.
wait_for() {
  local limit=$(( $1 * 20 )) i
  shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.05; done
  return 1
}

role_url() {  # role_url URL ROLE [PASSWORD]: URL (a sandbox's, user mighost) for another role
  local pw=
  [ -n "${3:-}" ] && pw=:$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$3")
  echo "${1/mighost@/$2$pw@}"
}

# work_dir NAME: a fresh directory for the file's files (WORK), made the current directory and
# removed on exit (start_sandbox's trap removes it too).
work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/mighost-$1-XXXXXX")
  chmod 711 "$WORK"  # as root a sandbox server runs as postgres and must traverse it
  cd "$WORK" || exit 1
  trap 'cd / && rm -rf "$WORK"' EXIT
}

# start_sandbox: a `mighost sandbox` for the whole file, stopped (and WORK removed) on exit.
# Needs MIGHOST and WORK; sets URL. Fails the file when the sandbox does not start.
start_sandbox() {
  "$MIGHOST" sandbox > "$WORK/sandbox.url" 2> "$WORK/sandbox.log" &
  SANDBOX=$!
  trap stop_sandbox EXIT
  wait_for 60 test -s "$WORK/sandbox.url"
  URL=$(head -1 "$WORK/sandbox.url")
  if [ -z "$URL" ]; then
    echo "sandbox did not start:"; cat "$WORK/sandbox.log"
    failed=$((failed + 1)); finish "${NAME:-test}"; exit 1
  fi
}
stop_sandbox() {
  kill -INT "$SANDBOX" 2>/dev/null
  wait "$SANDBOX" 2>/dev/null
  cd / && rm -rf "$WORK"
}

source "$(dirname "${BASH_SOURCE[0]}")/wait_unlocked.sh"
# For the fault cases (tests/faults): sessions held open across steps (a lock held while a run
# waits for it), the sandbox's server restarted, and what a run must leave whatever happened to it.
HOLD_SEQ=0
hold() {  # hold NAME URL: a psql session kept open in the background, application_name NAME
  local n=$1 fd
  mkfifo "$WORK/$n.in"
  PGAPPNAME=$n psql -X -q -At -d "$2" < "$WORK/$n.in" > "$WORK/$n.out" 2>&1 &
  eval "HOLD_PID_$n=$!"
  exec {fd}> "$WORK/$n.in"
  eval "HOLD_FD_$n=$fd"
}
in_hold() {  # in_hold NAME SQL: runs SQL in session NAME and waits until psql has run it
  local n=$1 fd mark
  HOLD_SEQ=$((HOLD_SEQ + 1)); mark=$HOLD_SEQ
  eval "fd=\$HOLD_FD_$n"
  printf '%s\n\\echo mark-%s\n' "$2" "$mark" >&"$fd"
  wait_for 120 grep -q "^mark-$mark\$" "$WORK/$n.out"
}
unhold() {  # unhold NAME: ends session NAME (\q: background processes may hold the fifo open too)
  local n=$1 fd pid
  eval "fd=\$HOLD_FD_$n pid=\$HOLD_PID_$n"
  printf '\\q\n' >&"$fd" 2> /dev/null
  exec {fd}>&-
  wait "$pid" 2>/dev/null
  rm -f "$WORK/$n.in"
}
blocked_by() {  # blocked_by URL APP HOLDER: true when a session named APP% waits for session HOLDER
  [ "$(sql "$1" "SELECT EXISTS (SELECT 1 FROM pg_stat_activity r, pg_stat_activity h
      WHERE r.application_name LIKE '$2%' AND h.application_name = '$3' AND h.pid = ANY (pg_blocking_pids(r.pid)))")" = t ]
}
restart_server() {  # restart_server: `pg_ctl restart -m immediate` of the sandbox (a crash, then recovery)
  local dir ctl as=()
  dir=$(sed -E 's/.*[?&]host=([^&]*).*/\1/' <<< "$URL")
  ctl=$(ls "${MIGHOST_PG_BINDIR:-/usr/lib/postgresql/15/bin}/pg_ctl")
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  (cd "$dir" && "${as[@]}" "$ctl" -D "$dir/data" -l "$dir/server.log" -m immediate -w -t 120 restart > /dev/null)
}
data_fp() {  # data_fp URL: every table but mig_meta's (all_fp), and the rejects and fixups without run ids
  all_fp "$1" '^mig_meta$'
  local r
  for r in "SELECT migration, source_table, source_key, reason, detail, row_data FROM mig_meta.rejects" \
           "SELECT migration, source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups"; do
    sql "$1" "SELECT count(*) || ' ' || COALESCE(md5(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text)), 'empty')
              FROM ($r) x" 2> /dev/null || echo "no ledger"
  done
}
