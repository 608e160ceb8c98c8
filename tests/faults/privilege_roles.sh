#!/usr/bin/env bash
# Least privilege: every migration run by a non-superuser role that owns the application's tables
# (same counts as a superuser's run, every check PASS), and a role that lacks a privilege refused
# by the `privileges` precondition (exit 2, each privilege named) before anything is written.
# Usage: privilege_roles.sh path/to/mighost. Last line: `privilege_roles: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: privilege_roles.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=privilege_roles SET=items SCRIPT=$ROOT/scripts/stock_batches.lua
. "$ROOT/tests/scripts/replay.sh"
start_sandbox
sql "$URL" "CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null
APP=$(role_url "$URL" app)

load_as() {  # load_as ROLE_URL DB FILE...: the fixture loaded by that role (which then owns its tables)
  local u=$1 db=$2 f; shift 2
  for f in "$@"; do psql -X -q -v ON_ERROR_STOP=1 -d "$(echo "$u" | sed "s#/mighost?#/$db?#")" -f "$f" >/dev/null || echo "loading $f failed"; done
}
last_counts() { sql "$1" "SELECT status || ' ' || counts::text FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1"; }
mig() { local s=$1; shift; "$MIGHOST" run "$s" "$@" > out.txt 2> err.txt; }

echo "# each migration as the role that owns its tables: the same result as a superuser's run"
while IFS='|' read -r label script fixtures; do
  # shellcheck disable=SC2086
  for who in su app; do
    if [ "$who" = su ]; then
      sql "$URL" "CREATE DATABASE ${who}_$label" >/dev/null; load_as "$URL" "${who}_$label" $fixtures; u=$(dburl "${who}_$label")
    else
      sql "$URL" "CREATE DATABASE ${who}_$label OWNER app" >/dev/null; load_as "$APP" "${who}_$label" $fixtures
      u=$(echo "$APP" | sed "s#/mighost?#/${who}_$label?#")
    fi
    mig "$ROOT/$script" --db "$u" --batch-size 7
    rc=$?
    eval "rc_$who=\$rc; counts_$who=\$(last_counts \"\$u\")"
  done
  expect "$label as app: exit 0" eq "$rc_app" 0
  expect "$label as app: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
  expect "$label as app: status and counts = the superuser's run" eq "$counts_app" "$counts_su"
  expect "$label as superuser: exit 0 (the comparison means something)" eq "$rc_su" 0
done <<EOF2
stock_batches|scripts/stock_batches.lua|$ROOT/examples/stock_batches/small.sql
assignments|scripts/assignments.lua|$ROOT/examples/assignments/small.sql
lot_traceability|scripts/lot_traceability.lua|$ROOT/examples/lot_traceability/small.sql
tasks_to_parts|scripts/tasks_to_parts.lua|$ROOT/examples/tasks_to_parts/small.sql
one_off|examples/one_off/one_off.lua|$ROOT/examples/one_off/small.sql
demo|examples/demo/demo.lua|$ROOT/examples/demo/fixture.sql
EOF2

echo "# rds_mapping: the role owns both databases"
for who in su app; do
  owner=; base=$URL
  [ "$who" = app ] && { owner=" OWNER app"; base=$APP; }
  sql "$URL" "CREATE DATABASE ${who}_rds_src$owner" >/dev/null
  sql "$URL" "CREATE DATABASE ${who}_rds_tgt$owner" >/dev/null
  load_as "$base" "${who}_rds_src" "$ROOT/examples/rds_mapping/canonical.sql"
  tgt=$(echo "$base" | sed "s#/mighost?#/${who}_rds_tgt?#")
  mig "$ROOT/scripts/rds_mapping.lua" --source-db "$(echo "$base" | sed "s#/mighost?#/${who}_rds_src?#")" --target-db "$tgt" \
    --backup-dir "bk_$who" --batch-size 7
  eval "rc_$who=\$?; counts_$who=\$(last_counts \"\$tgt\")"
done
expect "rds_mapping as app: exit 0" eq "$rc_app" 0
expect "rds_mapping as app: status and counts = the superuser's run" eq "$counts_app" "$counts_su"
expect "rds_mapping as superuser: exit 0" eq "$rc_su" 0

echo "# a role lacking a privilege: refused at the preconditions, the privilege named, nothing written"
sql "$URL" "CREATE DATABASE lack" >/dev/null
L=$(dburl lack) LA=$(echo "$APP" | sed "s#/mighost?#/lack?#")
sql "$L" "GRANT CREATE ON SCHEMA public TO app" >/dev/null
load_as "$APP" lack "$ROOT/examples/stock_batches/small.sql"
before=$(all_fp "$L")
refused() {  # refused LABEL PATTERN: exit 2, the refusal names PATTERN, every relation and row unchanged
  expect "$1: exit 2" eq "$rc" 2
  expect "$1: one refusal line naming the privilege" eq "$(grep -c "refused: precondition privileges failed: role app lacks .*$2" err.txt)" 1
  expect "$1: nothing written (every relation and row as before)" eq "$(all_fp "$L")" "$before"
  echo "#   $(grep -m1 'refused:' err.txt)"
}
mig "$SCRIPT" --db "$LA"; rc=$?
refused "no CREATE on the database (mig_meta)" "CREATE on database lack (to create schema mig_meta and schema mig_backup_stock_batches)"
sql "$L" "GRANT CREATE ON DATABASE lack TO app; REVOKE SELECT ON items FROM app" >/dev/null
mig "$SCRIPT" --db "$LA" --dry-run; rc=$?
refused "the owner's SELECT on the source revoked (dry run)" "SELECT on table items"
mig "$SCRIPT" --db "$LA"; rc=$?
refused "the owner's SELECT on the source revoked" "SELECT on table items"
sql "$L" "GRANT SELECT ON items TO app; REVOKE UPDATE, INSERT ON items FROM app; CREATE SCHEMA mig_meta" >/dev/null
before=$(all_fp "$L")
mig "$SCRIPT" --db "$LA"; rc=$?
refused "mig_meta made by another role" "USAGE on schema mig_meta; CREATE on schema mig_meta"
expect "INSERT/UPDATE on a table it only reads is not asked for" eq "$(grep -c 'on table items' err.txt)" 0
sql "$L" "DROP SCHEMA mig_meta; REVOKE CREATE ON SCHEMA public FROM app" >/dev/null
before=$(all_fp "$L")
mig "$SCRIPT" --db "$LA"; rc=$?
refused "no CREATE on the schema of a table it creates" "CREATE on schema public (to create table stock_batches)"
sql "$L" "GRANT CREATE ON SCHEMA public TO app" >/dev/null
mig "$SCRIPT" --db "$LA"; rc=$?
expect "once granted, the same role runs it: exit 0" eq "$rc" 0
expect "once granted: status ok" eq "$(last_counts "$L" | cut -d' ' -f1)" ok

finish "$NAME"
