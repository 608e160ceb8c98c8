#!/usr/bin/env bash
# Hostile identifiers: schema and table names with quotes, ';', '--', a backslash and Unicode, in a
# script's declaration (tests/faults/hostile_names.lua) and in options (backup --tables/--schema,
# restore, inspect). Each is quoted or refused: the migration moves exactly its rows, and an event
# trigger logging every DDL command plus a canary table show that nothing else executed.
# Usage: hostile_names.sh path/to/mighost. Last line: `hostile_names: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: hostile_names.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=hostile_names SET=rows SCRIPT=$ROOT/tests/faults/hostile_names.lua
. "$ROOT/tests/scripts/replay.sh"
start_sandbox
SCHEMA='sch"ema;--' TABLE="we\"ird'; DROP TABLE canary; --" TARGET='tär\get"; DELETE FROM canary; --'
EVIL="x\"; DROP TABLE canary; --"
cat > fixture.sql <<'SQL'
CREATE TABLE canary (id integer PRIMARY KEY);
INSERT INTO canary VALUES (1), (2), (3);
CREATE TABLE ddl_log (tag text, identity text);
CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    INSERT INTO public.ddl_log VALUES (r.command_tag, r.object_identity);
  END LOOP;
END $$;
CREATE FUNCTION log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
    INSERT INTO public.ddl_log VALUES ('DROP ' || r.object_type, r.object_identity);
  END LOOP;
END $$;
CREATE SCHEMA "sch""ema;--";
CREATE TABLE "sch""ema;--"."we""ird'; DROP TABLE canary; --" (id integer PRIMARY KEY, v text);
INSERT INTO "sch""ema;--"."we""ird'; DROP TABLE canary; --"
  SELECT g, CASE WHEN g = 5 THEN '' ELSE 'v' || g || E' \\ '' " ; -- ünï' END FROM generate_series(1, 30) g;
CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl();
CREATE EVENT TRIGGER log_drop ON sql_drop EXECUTE FUNCTION log_drop();
SQL
sql "$URL" "CREATE DATABASE h" >/dev/null
H=$(dburl h)
psql -X -q -v ON_ERROR_STOP=1 -d "$H" -f fixture.sql >/dev/null || echo "loading the fixture failed"
SRC_Q=$(sql "$H" "SELECT format('%I.%I', '$SCHEMA', \$t\$$TABLE\$t\$)")
TGT_Q=$(sql "$H" "SELECT format('%I', \$t\$$TARGET\$t\$)")
canary_intact() {  # the canary's rows, and no logged DDL on it (the hostile names themselves say "canary")
  eq "$(sql "$1" "SELECT count(*) FROM canary")|$(sql "$1" "SELECT count(*) FROM ddl_log WHERE identity = 'public.canary'")" "3|0"
}
rows_md5() { sql "$1" "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM $2 ${3:-}"; }

echo "# a declared migration over hostile names"
"$MIGHOST" run "$SCRIPT" --db "$H" --batch-size 7 > out.txt 2> err.txt
expect "run: exit 0" eq "$?" 0
expect "run: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
expect "run: the rows moved exactly (the empty value rejected)" eq "$(rows_md5 "$H" "$TGT_Q")" "$(rows_md5 "$H" "$SRC_Q" "WHERE v <> ''")"
expect "run: one reject" eq "$(sql "$H" "SELECT string_agg(reason || ' ' || source_key, ',') FROM mig_meta.rejects")" "empty_value 5"
expect "run: the backup copy has every row" eq "$(rows_md5 "$H" "mig_backup_hostile_names.$(sql "$H" "SELECT format('%I', \$t\$$TABLE\$t\$)")")" "$(rows_md5 "$H" "$SRC_Q")"
expect "run: nothing else executed (canary, DDL log)" canary_intact "$H"
expect "run: the DDL it ran created only its own objects" eq "$(sql "$H" "SELECT count(*) FROM ddl_log WHERE tag = 'CREATE TABLE'
   AND identity NOT IN ('public.' || quote_ident(\$t\$$TARGET\$t\$), 'mig_backup_hostile_names.' || quote_ident(\$t\$$TABLE\$t\$))
   AND identity NOT LIKE 'mig_meta.%' AND identity NOT LIKE 'pg_temp%' AND identity NOT LIKE 'mig_scratch%'")" 0
"$MIGHOST" run "$SCRIPT" --db "$H" > out.txt 2> err.txt
expect "second run: exit 0, nothing written" eq "$?:$(sql "$H" "SELECT counts->'rows'->>'written' FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "0:0"
"$MIGHOST" verify "$SCRIPT" --db "$H" > out.txt 2> err.txt
expect "verify: exit 0" eq "$?" 0

echo "# hostile names in options"
"$MIGHOST" backup --db "$H" --tables "$SCHEMA.$TABLE" --out bk1 > out.txt 2> err.txt
expect "backup --tables: exit 0" eq "$?" 0
"$MIGHOST" backup verify bk1 > out.txt 2> err.txt
expect "backup verify: exit 0" eq "$?" 0
"$MIGHOST" backup --db "$H" --schema "$SCHEMA" --out bk2 > out.txt 2> err.txt
expect "backup --schema: exit 0" eq "$?" 0
sql "$URL" "CREATE DATABASE h2" >/dev/null
H2=$(dburl h2)
sql "$H2" "CREATE SCHEMA \"sch\"\"ema;--\"" >/dev/null
"$MIGHOST" restore bk2 --db "$H2" > out.txt 2> err.txt
expect "restore into another database: exit 0" eq "$?" 0
expect "restore: the same rows" eq "$(rows_md5 "$H2" "$SRC_Q")" "$(rows_md5 "$H" "$SRC_Q")"
"$MIGHOST" inspect --db "$H" "$SCHEMA.$TABLE" > out.txt 2> err.txt
expect "inspect TABLE: exit 0" eq "$?" 0
expect "inspect TABLE: its columns listed" has out.txt '\bv\b'
expect "after the options' runs: nothing else executed" canary_intact "$H"
one_line_refusal() {  # one_line_refusal LABEL RC: nonzero, one 'mighost:' line, the canary intact
  expect "$1: exit $2" test "$2" -ne 0
  expect "$1: one error line" eq "$(grep -c '^mighost' err.txt)" 1
  expect "$1: nothing else executed" canary_intact "$H"
}
"$MIGHOST" backup --db "$H" --tables "$EVIL" --out bk3 > out.txt 2> err.txt; one_line_refusal "backup of an unknown hostile name" $?
"$MIGHOST" backup --db "$H" --schema "$EVIL" --out bk4 > out.txt 2> err.txt; one_line_refusal "backup of an unknown hostile schema" $?
"$MIGHOST" inspect --db "$H" "$EVIL" > out.txt 2> err.txt; one_line_refusal "inspect of an unknown hostile name" $?
"$MIGHOST" restore bk1 --db "$H" --tables "$EVIL" > out.txt 2> err.txt; one_line_refusal "restore --tables of a name not in the backup" $?

finish "$NAME"
