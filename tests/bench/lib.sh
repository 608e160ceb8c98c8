# Shared by the benches here: a work directory and a `mighost sandbox` for the whole bench, both
# removed on exit (also on error or Ctrl-C).
# bench_sandbox MIGHOST PREFIX: sets work (a fresh directory) and url (the sandbox's); dburl NAME
# gives the URL of database NAME on it.
bench_sandbox() {
  work=$(mktemp -d "/tmp/$2-XXXXXX")
  sandbox_pid=
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "$1" sandbox >"$work/url" 2>"$work/sandbox.log" &
  sandbox_pid=$!
  for _ in $(seq 1200); do [[ -s $work/url ]] && break; sleep 0.1; done
  url=$(head -1 "$work/url")
  [[ -n $url ]] || { cat "$work/sandbox.log" >&2; exit 1; }
}

bench_cleanup() {
  if [[ -n $sandbox_pid ]]; then kill -INT "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}

dburl() { echo "$url" | sed "s#/mighost?#/$1?#"; }

# bench_settle DBURL: VACUUM ANALYZE until every page of the database's own tables is all-visible
# (pg_class.relallvisible = relpages), as on a table autovacuum has been over: a VACUUM right after
# the bulk load can leave most pages not all-visible, and every index-only scan then reads the heap.
# At most 5 passes; prints what is still not all-visible after them.
bench_settle() {
  local left
  for _ in 1 2 3 4 5; do
    psql -X -q -v ON_ERROR_STOP=1 "$1" -c "VACUUM ANALYZE" >/dev/null
    left=$(psql -X -At "$1" -c "SELECT COALESCE(sum(relpages - relallvisible), 0) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')")
    (( left == 0 )) && return 0
    sleep 1
  done
  echo "  after 5 VACUUMs, $left pages are still not all-visible" >&2
}
