# The demo migration's helpers for tests/framework (sourced by run.sh after tests/support/lib.sh):
# a fresh database holding the demo fixture, a demo run, progress, the migrated state.
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

wait_progress() {  # wait_progress FILE N : until N PROGRESS lines (max 30 s)
  for _ in $(seq 1 600); do
    [ "$(grep -c '^PROGRESS items' "$1" 2>/dev/null)" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
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

committed_rows() { sql "$1" "SELECT (SELECT count(*) FROM stock) + (SELECT count(*) FROM mig_meta.rejects)"; }
