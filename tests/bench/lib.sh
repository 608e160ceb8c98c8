# Shared by migration_bench.sh, tasks_to_parts_bench.sh and backup_bench.sh: a work directory and a `mighost
# sandbox` for the whole bench, both removed on exit (also on error or Ctrl-C).
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
