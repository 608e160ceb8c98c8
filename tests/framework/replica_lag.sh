#!/usr/bin/env bash
# --max-replica-lag against a real streaming standby: a sandbox is the primary, a pg_basebackup of
# it (standby.signal, primary_conninfo; its own directory, port and socket) the standby. Lag is
# made, not waited for: replay is paused on the standby (pg_wal_replay_pause) while the primary
# writes, and resumed by the test once the run says it waits. Usage: replica_lag.sh path/to/mighost
set -u
MIGHOST=$(realpath "${1:?usage: replica_lag.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=$ROOT/examples/demo/demo.lua
FIXTURE=$ROOT/examples/demo/fixture.sql
NAME=replica_lag
source "$ROOT/tests/support/lib.sh"
work_dir replica
source "$ROOT/tests/framework/demo.sh"

BIN=${MIGHOST_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
STANDBY=$WORK/standby
as_server() { if [ "$(id -u)" = 0 ]; then (cd "$STANDBY" && runuser -u postgres -- "$@"); else "$@"; fi; }
start_sandbox
stop_standby() {
  [ -f "$STANDBY/data/postmaster.pid" ] && as_server "$BIN/pg_ctl" -D "$STANDBY/data" -m immediate -w stop >/dev/null 2>&1
  stop_sandbox
}
trap stop_standby EXIT
PRIMARY_SOCKET=$(sql "$URL" "SHOW unix_socket_directories")
PRIMARY_PORT=$(sql "$URL" "SHOW port")

# --- the standby ---------------------------------------------------------------------------------
mkdir -m 711 "$STANDBY"   # the data directory inside is 0700; the socket lives here
[ "$(id -u)" = 0 ] && chown postgres: "$STANDBY"
as_server "$BIN/pg_basebackup" -h "$PRIMARY_SOCKET" -p "$PRIMARY_PORT" -U mighost -D "$STANDBY/data" -X stream \
  -c fast > basebackup.log 2>&1 || { echo "pg_basebackup failed:"; cat basebackup.log; exit 1; }
as_server touch "$STANDBY/data/standby.signal"
SPORT=
for _ in 1 2 3 4 5; do
  port=$((50000 + RANDOM % 4000))
  as_server sh -c "cat >> '$STANDBY/data/postgresql.conf'" <<EOF
unix_socket_directories = '$STANDBY'
port = $port
hot_standby = on
wal_receiver_status_interval = 1s   # an idle standby reports its replay position every second, not 10
primary_conninfo = 'host=$PRIMARY_SOCKET port=$PRIMARY_PORT user=mighost application_name=standby1'
EOF
  if as_server "$BIN/pg_ctl" -D "$STANDBY/data" -l "$STANDBY/server.log" -w -t 60 start >/dev/null 2>&1; then
    SPORT=$port
    break
  fi
done
[ -n "$SPORT" ] || { echo "the standby did not start:"; tail -20 "$STANDBY/server.log"; exit 1; }
SURL="postgresql://mighost@/postgres?host=$STANDBY&port=$SPORT"

streaming() { [ "$(sql "$URL" "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby1'
                               AND state = 'streaming'")" = 1 ]; }
paused() { [ "$(sql "$SURL" "SELECT pg_get_wal_replay_pause_state()")" = paused ]; }
pause_replay() { sql "$SURL" "SELECT pg_wal_replay_pause()" >/dev/null && wait_for 60 paused; }
resume_replay() { sql "$SURL" "SELECT pg_wal_replay_resume()" >/dev/null; }
# The sandbox commits asynchronously, so a finished run's commit may not be flushed yet: the
# target is the insert position, taken once, which the WAL writer flushes and ships shortly.
caught_up() {  # the standby has replayed the WAL up to $1
  [ "$(sql "$URL" "SELECT bool_and(replay_lsn >= '$1') FROM pg_stat_replication")" = t ]
}
expect "the standby streams from the sandbox" wait_for 60 streaming

# --- a bound the stall never reaches: the run does not wait ------------------------------------
expect "replay paused on the standby" pause_replay
U1=$(newdb lag_far)     # written while replay is paused: the standby is behind from here on
demo "$U1" --max-replica-lag 1h
expect "a 1h bound: the run succeeds while the standby is paused" eq "$?" 0
expect "  and never waits" lacks out.txt "waiting: standby"

# --- a bound the stall passes: the run waits before its first batch, until replay resumes -------
U2=$(newdb lag_near)
"$MIGHOST" run "$DEMO" --db "$U2" --batch-size 1000 --max-replica-lag 0 > wait.out 2> wait.err &
RUN=$!
expect "the run says it waits for the standby" wait_for 60 has wait.out \
  "^PROGRESS items 0/604 waiting: standby standby1 replays .* behind (.* of WAL), over --max-replica-lag 0 ms"
expect "  and has written nothing while it waits" eq "$(sql "$U2" "SELECT count(*) FROM stock")" 0
expect "  and still waits (the standby is still paused)" kill -0 "$RUN"
resume_replay
wait "$RUN"
expect "after replay resumes the run finishes (exit 0)" eq "$?" 0
expect "  it says it resumed" has wait.out "^PROGRESS items 0/604 resumed: every standby within --max-replica-lag 0 ms"
expect "  status ok" has wait.out '^RESULT .*"status":"ok"'
grep -h -e 'waiting: ' -e 'resumed: ' wait.out | head -4 | sed 's/^/# /'
DONE_LSN=$(sql "$URL" "SELECT pg_current_wal_insert_lsn()")
expect "  the standby catches up" wait_for 60 caught_up "$DONE_LSN"
SU2=$(echo "$SURL" | sed "s#/postgres?#/lag_near?#")
expect "  and holds the migrated rows" eq "$(sql "$SU2" "SELECT count(*) FROM stock")" "$(sql "$U2" "SELECT count(*) FROM stock")"

# --- a stop asked for while it waits ends the run at that batch boundary ------------------------
expect "replay paused again" pause_replay
U3=$(newdb lag_stop)
"$MIGHOST" run "$DEMO" --db "$U3" --max-replica-lag 0 --stop-file lag.stop > stop.out 2> stop.err &
RUN=$!
expect "the run waits for the paused standby" wait_for 60 has stop.out "waiting: standby standby1"
touch lag.stop
wait "$RUN"
expect "the stop file ends the wait (exit 0)" eq "$?" 0
expect "  status stopped" has stop.out '^RESULT .*"status":"stopped"'
resume_replay

finish replica_lag
