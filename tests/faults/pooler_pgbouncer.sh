#!/usr/bin/env bash
# The migrations through pgbouncer (Debian's package), started here on a loopback port with its own
# ini and userlist, pointing at the test's sandbox. In session mode each migration leaves exactly
# the database a direct connection leaves. In transaction mode the server session (and with it
# the advisory lock that keeps a second runner out) is not the client's: mighost refuses (exit 2),
# says why and what to use instead, and changes nothing.
# Usage: pooler_pgbouncer.sh path/to/mighost. Last line: `pooler_pgbouncer: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: pooler_pgbouncer.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EX=$ROOT/examples
NAME=pooler_pgbouncer SET=items SCRIPT=
. "$ROOT/tests/scripts/replay.sh"

PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
if [ ! -x "$PGBOUNCER" ]; then
  echo "not ok - pgbouncer is not installed (.ci/install-deps installs it)"; echo "$NAME: 0 passed, 1 failed"; exit 1
fi
start_sandbox
# pgbouncer refuses to run as root: as root it runs as the sandbox's server user, in a directory
# of its own that user can reach
PGB=$(mktemp -d "${TMPDIR:-/tmp}/mighost-pgbouncer-XXXXXX")
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); chown postgres "$PGB"; fi
stop_pgbouncers() {
  local p
  for p in "$PGB"/*/pgbouncer.pid; do [ -s "$p" ] && kill "$(cat "$p")" 2> /dev/null; done
  rm -rf "$PGB"
  stop_sandbox
}
trap stop_pgbouncers EXIT

SOCKDIR=$(sed -E 's/.*[?&]host=([^&]*).*/\1/' <<< "$URL")
SBPORT=$(sed -E 's/.*[?&]port=([0-9]+).*/\1/' <<< "$URL")

answers() { psql -X -At "$1" -c 'SELECT 1' > /dev/null 2>&1; }
start_pgbouncer() {  # start_pgbouncer MODE: sets PORT_<MODE>
  local mode=$1 d=$PGB/$1 port _
  mkdir -p "$d"; [ ${#AS[@]} -gt 0 ] && chown postgres "$d"
  echo '"mighost" ""' > "$d/userlist.txt"
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    cat > "$d/pgbouncer.ini" <<EOF
[databases]
* = host=$SOCKDIR port=$SBPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $d/userlist.txt
pool_mode = $mode
default_pool_size = 20
logfile = $d/pgbouncer.log
pidfile = $d/pgbouncer.pid
EOF
    (cd "$d" && "${AS[@]}" "$PGBOUNCER" -d "$d/pgbouncer.ini" > /dev/null 2>&1) &&
      wait_for 60 answers "postgresql://mighost@127.0.0.1:$port/postgres" &&
      { eval "PORT_$mode=$port"; return 0; }
  done
  echo "  pgbouncer ($mode) did not start:"; tail -5 "$d/pgbouncer.log"; return 1
}
via() { echo "postgresql://mighost@127.0.0.1:$2/$1"; }   # via DB PORT: the database through a pgbouncer

expect "pgbouncer in session mode starts" start_pgbouncer session
expect "pgbouncer in transaction mode starts" start_pgbouncer transaction

# session_case LABEL SCRIPT FIXTURE...: the same run directly and through session pooling
session_case() {
  local label=$1 script=$2 rc_direct rc_pooled
  template "t_$label" "${@:3}"
  clone "t_$label" "d_$label" > /dev/null; clone "t_$label" "p_$label" > /dev/null
  "$MIGHOST" run "$script" --db "$(dburl "d_$label")" --batch-size 7 > out.txt 2> err.txt; rc_direct=$?
  "$MIGHOST" run "$script" --db "$(via "p_$label" "$PORT_session")" --batch-size 7 > out.txt 2> err.txt; rc_pooled=$?
  expect "session pooling, $label: exit 0 directly and pooled" eq "$rc_direct|$rc_pooled" "0|0"
  if [ -n "${ROWS_ONLY:-}" ]; then   # the run stamps rows with its own time: compare each table's row count
    expect "session pooling, $label: the same row counts as directly" eq "$(row_counts "$(dburl "p_$label")")" "$(row_counts "$(dburl "d_$label")")"
  else
    expect "session pooling, $label: the same database as directly" eq "$(data_fp "$(dburl "p_$label")")" "$(data_fp "$(dburl "d_$label")")"
  fi
}
row_counts() {
  local t
  for t in $(sql "$1" "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'mig_meta') ORDER BY 1"); do
    echo "$t $(sql "$1" "SELECT count(*) FROM $t")"
  done
}
echo "# session pooling: every migration as directly"
session_case demo "$EX/demo/demo.lua" "$EX/demo/fixture.sql"
session_case one_off "$EX/one_off/one_off.lua" "$EX/one_off/small.sql"
session_case stock_batches "$ROOT/scripts/stock_batches.lua" "$EX/stock_batches/small.sql"
session_case assignments "$ROOT/scripts/assignments.lua" "$EX/assignments/small.sql"
ROWS_ONLY=1 session_case lot_traceability "$ROOT/scripts/lot_traceability.lua" "$EX/lot_traceability/small.sql"
ROWS_ONLY=1 session_case tasks_to_parts "$ROOT/scripts/tasks_to_parts.lua" "$EX/tasks_to_parts/small.sql"
echo "# session pooling: rds_mapping, source and target both pooled"
template t_rds "$EX/rds_mapping/canonical.sql"
for side in d p; do
  clone t_rds "${side}_rds_src" > /dev/null; sql "$URL" "CREATE DATABASE ${side}_rds_tgt" > /dev/null
done
"$MIGHOST" run "$ROOT/scripts/rds_mapping.lua" --source-db "$(dburl d_rds_src)" --target-db "$(dburl d_rds_tgt)" \
  --backup-dir bk_d > out.txt 2> err.txt; rc=$?
"$MIGHOST" run "$ROOT/scripts/rds_mapping.lua" --source-db "$(via p_rds_src "$PORT_session")" \
  --target-db "$(via p_rds_tgt "$PORT_session")" --backup-dir bk_p > out.txt 2> err.txt
expect "session pooling, rds_mapping: exit 0 directly and pooled" eq "$rc|$?" "0|0"
expect "session pooling, rds_mapping: the same target as directly" eq "$(data_fp "$(dburl p_rds_tgt)")" "$(data_fp "$(dburl d_rds_tgt)")"

# transaction_case LABEL SCRIPT TEMPLATE: refused, nothing written, no lock left behind
transaction_case() {
  local label=$1 u before rc
  u=$(clone "$3" "x_$label")
  before=$(all_fp "$u")
  "$MIGHOST" run "$2" --db "$(via "x_$label" "$PORT_transaction")" > out.txt 2> err.txt; rc=$?
  expect "transaction pooling, $label: refused (exit 2)" eq "$rc" 2
  expect "transaction pooling, $label: says why" has err.txt "refused: the connection does not keep one server session between transactions"
  expect "transaction pooling, $label: ... and what to use instead" has err.txt "Connect directly to PostgreSQL, or through a pool in session mode"
  expect "transaction pooling, $label: nothing written (not even mig_meta)" eq "$(all_fp "$u")" "$before"
  expect "transaction pooling, $label: no advisory lock left held" eq \
    "$(sql "$u" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" 0
}
echo "# transaction pooling: refused"
transaction_case demo "$EX/demo/demo.lua" t_demo
transaction_case stock_batches "$ROOT/scripts/stock_batches.lua" t_stock_batches
transaction_case assignments "$ROOT/scripts/assignments.lua" t_assignments
printf 'FAULT|pgbouncer in transaction pooling mode|exit 2|ledger none (nothing written)|rows lost 0, doubled 0 (nothing changed)|direct or session-pooled run\n'

finish "$NAME"
