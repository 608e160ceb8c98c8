# The one shell test library (sourced by every shell test): TAP-like assertions, psql helpers,
# fingerprints of whole databases, a sandbox for the whole file, waits on conditions.
#
#   source "$ROOT/tests/support/lib.sh"
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
