#!/usr/bin/env bash
# Secrets: a role with scram password authentication (pg_hba configured by this test) runs a
# migration with its password given in --db (URL and key=value), DATABASE_URL, PGPASSWORD and a
# pgpass file. The password appears nowhere: stdout, stderr, --log-file, the report, JUnit, any
# mig_meta column, backup files and manifests, pg_stat_activity.application_name, `mighost
# status`. Reports and backup files are 0600, backup directories 0700. A masked connection error
# keeps the rest of its message.
# Usage: secrets_password.sh path/to/mighost. Last line: `secrets_password: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: secrets_password.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=secrets_password SET=items SCRIPT=$ROOT/scripts/stock_batches.lua
. "$ROOT/tests/scripts/replay.sh"
start_sandbox
PW='Zq7:pw&x'      # ':' and '&' are what masking gets wrong; grep looks for its first part, Zq7
WRONG=Wr0ngPa55
SOCK=$(sql "$URL" "SHOW unix_socket_directories") PORT=$(sql "$URL" "SHOW port") HBA=$(sql "$URL" "SHOW hba_file")
sql "$URL" "SET password_encryption = 'scram-sha-256'; CREATE ROLE app LOGIN PASSWORD '$PW'" >/dev/null
template t_small "$ROOT/examples/stock_batches/small.sql"
# a copy of the fixture whose database and tables app owns (the template's belong to mighost)
db_for_app() {  # db_for_app NAME [TEMPLATE]
  sql "$URL" "CREATE DATABASE $1 TEMPLATE ${2:-t_small} OWNER app" >/dev/null
  sql "$(dburl "$1")" "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
     LOOP EXECUTE format('ALTER TABLE %I OWNER TO app', r.tablename); END LOOP; END\$\$" >/dev/null
}

# password authentication for app (the superuser keeps trust): the new pg_hba.conf line first
{ echo "local all app scram-sha-256"; cat "$HBA"; } > hba.new && cat hba.new > "$HBA"
sql "$URL" "SELECT pg_reload_conf()" >/dev/null
refuses_without_pw() { ! PGPASSWORD= psql -X -w -At "host=$SOCK port=$PORT dbname=mighost user=app" -c "SELECT 1" >/dev/null 2>&1; }
wait_for 60 refuses_without_pw
expect "the sandbox asks app for its password (scram)" refuses_without_pw
expect "app's password is stored as scram" eq "$(sql "$URL" "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'app'")" "SCRAM-SHA-256"

leaks() {  # leaks FILE...: the password (raw or percent-encoded) is in one of them
  grep -a -l -e 'Zq7' -e "$WRONG" "$@" 2>/dev/null | grep -q .
}
no_leak() { ! leaks "$@"; }
mode_is() { eq "$(stat -c %a "$1")" "$2"; }
KV="host=$SOCK port=$PORT user=app"

echo "# four ways to give the password, each on its own database"
n=0
for how in url kv env_url pgpassword pgpass; do
  n=$((n + 1)) db=s$n
  db_for_app "$db"
  unset DATABASE_URL PGPASSWORD PGPASSFILE PGHOST PGPORT PGUSER PGDATABASE
  args=()
  case $how in
    url) args=(--db "$(role_url "$(dburl "$db")" app "$PW")") ;;
    kv) args=(--db "$KV dbname=$db password=$PW") ;;            # the password as the last key
    env_url) export DATABASE_URL="$KV dbname=$db password=$PW" ;;
    pgpassword) export PGPASSWORD=$PW PGHOST=$SOCK PGPORT=$PORT PGUSER=app PGDATABASE=$db ;;
    pgpass) printf '*:*:*:app:%s\n' "${PW//:/\\:}" > pgpass; chmod 600 pgpass
            export PGPASSFILE=$PWD/pgpass PGHOST=$SOCK PGPORT=$PORT PGUSER=app PGDATABASE=$db ;;
  esac
  "$MIGHOST" run "$SCRIPT" "${args[@]}" --batch-size 20 --log-level trace --log-file "$how.log" \
    --report "reports_$how/run.json" --backup-dir "bk_$how" > "$how.out" 2> "$how.err"
  expect "$how: exit 0" eq "$?" 0
  "$MIGHOST" run "$ROOT/tests/faults/secrets_probe.lua" "${args[@]}" > "$how.probe" 2>&1
  expect "$how: the probe ran as app and saw the sessions" has "$how.probe" '^APPS .*mighost'
  "$MIGHOST" status "${args[@]}" > "$how.status" 2>&1
  expect "$how: status lists the run" has "$how.status" stock_batches
  pg_dump --data-only -n mig_meta -n mig_backup_stock_batches "$(dburl "$db")" > "$how.dump"
  expect "$how: the dump of mig_meta has the run" has "$how.dump" stock_batches
  expect "$how: no password in stdout, stderr, --log-file, report, status, probe, mig_meta" \
    no_leak "$how.out" "$how.err" "$how.log" "reports_$how/run.json" "$how.status" "$how.probe" "$how.dump"
  expect "$how: no password in the backup's files and manifest" no_leak $(find "bk_$how" -type f)
  expect "$how: the report is 0600" mode_is "reports_$how/run.json" 600
  expect "$how: every backup file is 0600" eq "$(find "bk_$how" -type f ! -perm 600 | wc -l)+$(find "bk_$how" -type f | wc -l)" \
    "0+$(find "bk_$how" -type f | wc -l)"
  expect "$how: the backup has files" test "$(find "bk_$how" -type f | wc -l)" -gt 1
  expect "$how: every backup directory is 0700" eq "$(find "bk_$how" -type d ! -perm 700 | wc -l)" 0
done
unset DATABASE_URL PGPASSWORD PGPASSFILE PGHOST PGPORT PGUSER PGDATABASE

echo "# a file backup copied alongside the phase, by a second session opened with the run's parameters"
template t_one_off "$ROOT/examples/one_off/small.sql"
for how in url pgpass; do
  db=a_$how
  db_for_app "$db" t_one_off
  unset PGPASSFILE PGHOST PGPORT PGUSER PGDATABASE
  args=(--db "$(role_url "$(dburl "$db")" app "$PW")")
  if [ "$how" = pgpass ]; then
    args=()
    export PGPASSFILE=$PWD/pgpass PGHOST=$SOCK PGPORT=$PORT PGUSER=app PGDATABASE=$db
  fi
  "$MIGHOST" run "$ROOT/examples/one_off/one_off.lua" "${args[@]}" --log-level trace --log-file "along_$how.log" \
    --report "along_$how.json" --backup-dir "bk_along_$how" > "along_$how.out" 2> "along_$how.err"
  expect "alongside, $how: exit 0, the backup copied alongside the phase" eq \
    "$?|$(grep -c '^File backup: .*; copied alongside the phases)' "along_$how.out")" "0|1"
  expect "alongside, $how: no password in stdout, stderr, --log-file, report or the backup" \
    no_leak "along_$how.out" "along_$how.err" "along_$how.log" "along_$how.json" $(find "bk_along_$how" -type f)
done
unset PGPASSFILE PGHOST PGPORT PGUSER PGDATABASE

echo "# errors that quote the connection"
"$MIGHOST" run "$SCRIPT" --db "$KV dbname=nosuchdb password=$PW" > e1.out 2> e1.err
expect "unknown database: exit 1" eq "$?" 1
expect "unknown database: the masked conninfo, then ': connection to server …' intact" \
  has e1.err "cannot connect --db (conninfo from --db) to host=$SOCK port=$PORT user=app dbname=nosuchdb password=\*\*\*: connection to server on socket"
expect "unknown database: the server's reason kept" has e1.err 'database "nosuchdb" does not exist'
"$MIGHOST" run "$SCRIPT" --db "$(role_url "$(dburl s1)" app "$WRONG")" > e2.out 2> e2.err
expect "wrong password (URL): exit 1" eq "$?" 1
expect "wrong password (URL): authentication failure named" has e2.err 'password authentication failed for user "app"'
expect "wrong password (URL): masked as app:***@" has e2.err 'postgresql://app:\*\*\*@'
PGPASSWORD=$WRONG "$MIGHOST" status --db "$KV dbname=s1" > e3.out 2> e3.err
expect "wrong PGPASSWORD, status: exit 1" eq "$?" 1
expect "wrong PGPASSWORD, status: authentication failure named" has e3.err 'password authentication failed'
expect "no password in any error output" no_leak e1.out e1.err e2.out e2.err e3.out e3.err

echo "# backup and test commands"
"$MIGHOST" backup --db "$KV dbname=s1 password=$PW" --tables items --out bk_cmd > b.out 2> b.err
expect "mighost backup: exit 0" eq "$?" 0
expect "mighost backup: directories 0700, files 0600" eq "$(find bk_cmd -type d ! -perm 700 | wc -l) $(find bk_cmd -type f ! -perm 600 | wc -l)" "0 0"
expect "mighost backup: no password in its output or files" no_leak b.out b.err $(find bk_cmd -type f)
PGPASSWORD=$PW "$MIGHOST" test "$SCRIPT" --fixture "$ROOT/examples/stock_batches/small.sql" --junit junit.xml > t.out 2> t.err
expect "mighost test: exit 0" eq "$?" 0
expect "mighost test: JUnit 0600" mode_is junit.xml 600
expect "mighost test: no password in output or JUnit" no_leak t.out t.err junit.xml

finish "$NAME"
