# Shared by the end-to-end replays in this folder (stock_batches.sh, assignments.sh): TAP-like
# `expect`, psql helpers, template databases cloned per case, whole-database fingerprints, and
# the sandbox. Source it after setting MIGHOST, SCRIPT, NAME (the summary line's name) and SET
# (the source set whose counts `counts` reads); it cds into a fresh work directory.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mighost-$NAME-XXXXXX")
cd "$WORK" || exit 1
passed=0 failed=0

expect() {  # expect DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "not ok - $what"
    [ -f out.txt ] && { echo "  --- stdout (tail)"; tail -4 out.txt | sed 's/^/  /'; }
    [ -f err.txt ] && { echo "  --- stderr (tail)"; tail -4 err.txt | sed 's/^/  /'; }
  fi
}
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'"; return 1; }; }
has() { grep -q -- "$2" "$1"; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }
dburl() { echo "$URL" | sed "s#/mighost?#/$1?#"; }
template() {  # template NAME FILE... : a database loaded once, cloned by clone()
  sql "$URL" "CREATE DATABASE $1" >/dev/null
  local f
  for f in "${@:2}"; do psql -X -q -v ON_ERROR_STOP=1 ${PSQL_VARS:-} -d "$(dburl "$1")" -f "$f" >/dev/null || echo "loading $f failed"; done
}
clone() { sql "$URL" "CREATE DATABASE $2 TEMPLATE $1" >/dev/null; dburl "$2"; }
run() { local u=$1; shift; "$MIGHOST" run "$SCRIPT" --db "$u" "$@" > out.txt 2> err.txt; }
counts() { sql "$1" "SELECT concat_ws('|', counts->'$SET'->>'source', counts->'$SET'->>'migrated',
                      counts->'$SET'->>'rejected', counts->'$SET'->>'written', status)
                     FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1"; }

# Every relation (name, kind, columns) and every table's rows, outside the system schemas and
# `skip` (a regex of schemas): md5 per relation, rows as jsonb text (column order does not matter).
all_fp() {
  local u=$1 skip=${2:-^$} t
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

source "$(dirname "${BASH_SOURCE[0]}")/../support/wait_unlocked.sh"

start_sandbox() {  # a `mighost sandbox` for the whole file, stopped (and WORK removed) on exit; sets URL
  "$MIGHOST" sandbox > sandbox.url 2> sandbox.log &
  SANDBOX=$!
  cleanup() { kill -INT "$SANDBOX" 2>/dev/null; wait "$SANDBOX" 2>/dev/null; cd / && rm -rf "$WORK"; }
  trap cleanup EXIT
  for _ in $(seq 1 600); do [ -s sandbox.url ] && break; sleep 0.1; done
  URL=$(head -1 sandbox.url)
  if [ -z "$URL" ]; then cat sandbox.log; echo "$NAME: 0 passed, 1 failed"; exit 1; fi
}

# The cases both replays run the same way. They need check_expected URL LABEL from the caller.
case_public() {  # the public fixture (template t_public): exit 0, every check PASS, expected.sql (check_expected URL LABEL LEGACY_URL)
  echo "# the public fixture"
  [ -n "${PUBLIC:-}" ] || { echo "#   skipped: MIGHOST_CONTRACT_FIXTURES is not set"; return; }
  local u; u=$(clone t_public public)
  run "$u"
  expect "public: exit 0" eq "$?" 0
  expect "public: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
  check_expected "$u" public "$(clone t_public public_legacy)"   # the third: an untouched copy, for scripts whose expected.sql reads the legacy data
}

case_dry_run() {  # case_dry_run WOULD_CHANGE: a dry run on t_small changes no fingerprint, reports WOULD_CHANGE
  echo "# dry run"
  local u before; u=$(clone t_small dry)
  before=$(all_fp "$u")
  run "$u" --dry-run --batch-size 30 --report dry.json
  expect "dry run: exit 0" eq "$?" 0
  expect "dry run: every table's fingerprint unchanged" eq "$(all_fp "$u")" "$before"
  expect "dry run: RESULT says dry-run" has out.txt "^RESULT {\"migration\":\"$NAME\",\"mode\":\"dry-run\",\"status\":\"ok\",\"run_id\":null"
  expect "dry run: would_change" has dry.json "\"would_change\":$1"
}
