# wait_unlocked URL: until a killed run's backend has let go of its advisory lock (max 30 s).
# A run started before that is rightly refused; the end-to-end tests wait instead of retrying.
# Sourced by tests/support/lib.sh.
wait_unlocked() {  # wait_unlocked URL: until a killed run's backend has let go of its advisory lock (max 30 s)
  for _ in $(seq 1 300); do
    [ "$(psql -X -At "$1" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}
