# Helpers of tests/framework/run.sh (sourced): databases, runs, fingerprints, assertions.
passed=0
failed=0

expect() {  # expect DESCRIPTION COMMAND... : one assertion
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "not ok - $what"
    [ -f out.txt ] && { echo "  --- stdout (tail)"; tail -5 out.txt | sed 's/^/  /'; }
    [ -f err.txt ] && { echo "  --- stderr (tail)"; tail -5 err.txt | sed 's/^/  /'; }
  fi
}

dburl() { echo "$URL" | sed "s#/mighost?#/$1?#"; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }

newdb() {  # newdb NAME -> URL of a fresh database holding the demo fixture
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null 2>&1
  psql -X -q -v ON_ERROR_STOP=1 "$(dburl "$1")" -f "$FIXTURE" >/dev/null || echo "fixture failed" >&2
  dburl "$1"
}

demo() {  # demo URL ARGS... : runs the demo; stdout in out.txt, stderr in err.txt; returns the exit code
  local u=$1
  shift
  "$MIGHOST" run "$DEMO" --db "$u" "$@" > out.txt 2> err.txt
}

result() { grep '^RESULT ' out.txt | tail -1; }
last_line_is_result() { [ "$(tail -1 out.txt | cut -c1-7)" = "RESULT " ]; }
has() { grep -q -- "$2" "$1"; }          # has FILE TEXT
lacks() { ! grep -q -- "$2" "$1"; }
eq() { [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'"; return 1; }; }

wait_progress() {  # wait_progress FILE N : until N PROGRESS lines (max 30 s)
  for _ in $(seq 1 600); do
    [ "$(grep -c '^PROGRESS items' "$1" 2>/dev/null)" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}

# Fingerprint of one relation: md5 over the text of all its rows.
fp() { sql "$1" "SELECT COALESCE(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM $2 t" 2>/dev/null || echo "missing"; }

# Every user table with its fingerprint, and the list of schemas/relations (catches created objects).
# all_fp URL [SCHEMA]: SCHEMA (e.g. mig_meta) is left out.
all_fp() {
  local u=$1 skip=${2:-none} t
  sql "$u" "SELECT string_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind), ',' ORDER BY 1)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '$skip') AND c.relkind <> 'S'"
  sql "$u" "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname <> '$skip'"
  for t in $(sql "$u" "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                     WHERE schemaname NOT IN ('pg_catalog', 'information_schema', '$skip') ORDER BY 1"); do
    echo "$t $(fp "$u" "$t")"
  done
}

# The migrated state (run ids and timestamps excluded): what must not depend on how we got there.
state_fp() {
  local u=$1 r
  for r in stock owner_totals owner_queue items owners mig_backup_demo.items \
           "(SELECT migration, source_table, source_key, reason, detail, row_data FROM mig_meta.rejects)" \
           "(SELECT migration, source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups)"; do
    echo "$r $(fp "$u" "$r")"
  done
  sql "$u" "SELECT to_regclass('stock_owner_idx') IS NOT NULL"
}

source "$(dirname "${BASH_SOURCE[0]}")/../support/wait_unlocked.sh"

committed_rows() { sql "$1" "SELECT (SELECT count(*) FROM stock) + (SELECT count(*) FROM mig_meta.rejects)"; }
