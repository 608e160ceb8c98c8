#!/usr/bin/env bash
# Broken input: a script that raises in each of its hooks, truncated or garbled backups (files,
# manifest, JSON export), a fixture with an error, flags with wrong values. Each gives one clear
# error line and a meaningful exit code, and changes nothing a re-run would not complete exactly.
# Usage: hostile_broken.sh path/to/mighost. Last line: `hostile_broken: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: hostile_broken.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=hostile_broken SET=src SCRIPT=$ROOT/tests/faults/hostile_hooks.lua
SB=$ROOT/scripts/stock_batches.lua SMALL=$ROOT/examples/stock_batches/small.sql
. "$ROOT/tests/scripts/replay.sh"
start_sandbox

one_error() {  # one_error LABEL PATTERN: exactly one 'mighost…' line on stderr, and it matches PATTERN
  expect "$1: one error line" eq "$(grep -c '^mighost' err.txt)" 1
  expect "$1: it says $2" has <(grep '^mighost' err.txt) "$2"
}
status_of() { sql "$1" "SELECT status FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1"; }

echo "# a script that raises in each hook"
cat > hooks.sql <<'SQL'
CREATE TABLE src (id integer PRIMARY KEY, v text NOT NULL);
CREATE TABLE dst (id integer PRIMARY KEY, v text NOT NULL);
INSERT INTO src SELECT g, 'row ' || g FROM generate_series(1, 20) g;
SQL
template t_hooks hooks.sql
# a check that raises is a failed check (exit 3), reported on its CHECK line
declare -A RC=([preconditions]=2 [setup]=1 [batch]=1 [finalize]=1 [checks]=3)
declare -A LEDGER=([preconditions]=refused [setup]=error [batch]=error [finalize]=error [checks]=validation_failed)
for hook in preconditions setup batch finalize checks; do
  u=$(clone t_hooks "h_$hook")
  before=$(all_fp "$u" '^mig_meta$')
  "$MIGHOST" run "$SCRIPT" --db "$u" --raise-in "$hook" --batch-size 8 > out.txt 2> err.txt
  expect "$hook raises: exit ${RC[$hook]}" eq "$?" "${RC[$hook]}"
  if [ "$hook" = checks ]; then
    expect "checks raises: its CHECK line FAILs with the error" has out.txt "^CHECK hook FAIL expected=0 actual=error: .*hostile_hooks.lua:[0-9]*: raised in checks"
    expect "checks raises: one error line" eq "$(grep -c '^E .*check(s) failed' err.txt)" 1
  else
    one_error "$hook raises" "hostile_hooks.lua:[0-9]*: raised in $hook"
  fi
  expect "$hook raises: ledger ${LEDGER[$hook]}" eq "$(status_of "$u")" "${LEDGER[$hook]}"
  case $hook in
    finalize|checks)   # the batches are committed (a re-run resumes), finalize's transaction is not
      expect "$hook raises: every row once, finalize rolled back" eq \
        "$(sql "$u" "SELECT count(*) || '/' || count(*) FILTER (WHERE v LIKE '%(final)') FROM dst")" "20/0" ;;
    *) expect "$hook raises: nothing changed outside mig_meta" eq "$(all_fp "$u" '^mig_meta$')" "$before" ;;
  esac
  "$MIGHOST" run "$SCRIPT" --db "$u" --batch-size 8 > out.txt 2> err.txt
  expect "$hook: a re-run completes" eq "$?:$(status_of "$u")" "0:ok"
  expect "$hook: after the re-run every row once, finalized once" eq \
    "$(sql "$u" "SELECT count(*) || '/' || count(*) FILTER (WHERE v = 'row ' || id || ' (final)') FROM dst")" "20/20"
  echo "#   $hook: re-run took $(sql "$u" "SELECT durations->>'total' FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1") s"
done
u=$(dburl h_checks)
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes --raise-in rollback > out.txt 2> err.txt
expect "rollback raises: exit 1" eq "$?" 1
one_error "rollback raises" "rollback failed (nothing was committed): .*hostile_hooks.lua:[0-9]*: raised in rollback"
expect "rollback raises: its delete rolled back" eq "$(sql "$u" "SELECT count(*) FROM dst")" 20
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "rollback re-run: exit 0, rows gone" eq "$?:$(sql "$u" "SELECT count(*) FROM dst")" "0:0"

echo "# truncated and garbled backups"
template t_small "$SMALL"
B=$(clone t_small b_src)
"$MIGHOST" backup --db "$B" --schema public --out good > out.txt 2> err.txt
expect "a good directory backup: exit 0" eq "$?" 0
"$MIGHOST" backup --db "$B" --tables items --format json --out jgood > out.txt 2> err.txt
expect "a good JSON backup: exit 0" eq "$?" 0
JSON=$(ls jgood/*.json | head -1)
data=$(find good -type f ! -name manifest.json -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
half() { truncate -s $(( $(stat -c %s "$1") / 2 )) "$1"; }
garble() { printf 'GARBLED\x00\xff{"' | dd of="$1" bs=1 seek=$(( $(stat -c %s "$1") / 2 )) conv=notrunc status=none; }
variant() {  # variant NAME BREAK FILE: a copy of good/ with FILE (relative) broken by BREAK
  rm -rf "$1"; cp -a good "$1"; "$2" "$1/$3"
}
variant trunc_data half "${data#good/}"
variant garbled_data garble "${data#good/}"
variant trunc_manifest half manifest.json
variant garbled_manifest garble manifest.json
mkdir -p jbad; cp "$JSON" jbad/trunc_backup.json; half jbad/trunc_backup.json
cp "$JSON" jbad/garbled_backup.json; garble jbad/garbled_backup.json
dfile=$(basename "$data")
declare -A NAMED=([trunc_data]=$dfile [garbled_data]=$dfile [trunc_manifest]=manifest.json [garbled_manifest]=manifest.json
                  [jbad/trunc_backup.json]=trunc_backup.json [jbad/garbled_backup.json]=garbled_backup.json)
for v in trunc_data garbled_data trunc_manifest garbled_manifest; do
  "$MIGHOST" backup verify "$v" > out.txt 2> err.txt
  rc=$?
  expect "verify $v: exit 3 (mismatch) or 1 (unreadable)" test "$rc" -eq 3 -o "$rc" -eq 1
  one_error "verify $v" "mighost: verify: ${NAMED[$v]}"
  echo "#   verify $v: exit $rc: $(grep -m1 '^mighost' err.txt | cut -c1-160)"
done
R=$(clone t_small b_restore)
J=$(clone t_small b_json)   # a JSON backup holds rows only: restored into the emptied tables
sql "$J" "TRUNCATE items CASCADE" >/dev/null 2>&1
for v in trunc_data garbled_data trunc_manifest garbled_manifest jbad/trunc_backup.json jbad/garbled_backup.json; do
  case $v in *.json) into=$J opt= ;; *) into=$R opt=--truncate ;; esac
  before=$(all_fp "$into")
  "$MIGHOST" restore "$v" --db "$into" $opt > out.txt 2> err.txt
  rc=$?
  expect "restore $v: refused or failed (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 64
  one_error "restore $v" "${NAMED[$v]}"
  echo "#   restore $v: exit $rc: $(grep -m1 '^mighost' err.txt | cut -c1-160)"
  expect "restore $v: nothing changed" eq "$(all_fp "$into")" "$before"
done
sql "$URL" "CREATE DATABASE b_empty" >/dev/null
"$MIGHOST" restore good --db "$(dburl b_empty)" > out.txt 2> err.txt
expect "the unbroken directory backup restores (the cases above fail for the breakage)" eq "$?" 0
"$MIGHOST" restore "$JSON" --db "$J" > out.txt 2> err.txt
expect "the unbroken JSON backup restores" eq "$?" 0

echo "# a fixture with an error in it"
{ cat "$SMALL"; printf '\nINSERT INTO no_such_table VALUES (1);\n'; } > bad_fixture.sql
badline=$(grep -n no_such_table bad_fixture.sql | cut -d: -f1)
"$MIGHOST" test "$SB" --fixture bad_fixture.sql > out.txt 2> err.txt
rc=$?
expect "mighost test, broken fixture: exit $rc is an error" test "$rc" -ne 0
expect "mighost test, broken fixture: names the file, line and SQLSTATE" has <(cat out.txt err.txt) "bad_fixture.sql:$badline: ERROR 42P01"
"$MIGHOST" run "$SB" --sandbox --fixture bad_fixture.sql > out.txt 2> err.txt
expect "run --sandbox, broken fixture: exit 1" eq "$?" 1
one_error "run --sandbox, broken fixture" "fixture bad_fixture.sql:$badline: ERROR 42P01: relation \"no_such_table\" does not exist"

echo "# flags with wrong values"
F=$(clone t_small flags)
before=$(all_fp "$F")
while IFS='|' read -r flag value; do
  args=("$flag"); [ -n "$value" ] && args+=("$value")
  "$MIGHOST" run "$SB" --db "$F" "${args[@]}" > out.txt 2> err.txt
  expect "$flag $value: exit 64" eq "$?" 64
  one_error "$flag $value" "$flag"
done <<'FLAGS'
--batch-size|abc
--batch-size|0
--batch-size|-3
--limit|many
--lock-timeout|soon
--statement-timeout|5 parsecs
--bogus-flag|
--log-level|loud
FLAGS
"$MIGHOST" backup --db "$F" --tables items --out bk_flag --compress lz4 > out.txt 2> err.txt
expect "backup --compress lz4: exit 64" eq "$?" 64
one_error "backup --compress lz4" "--compress"
expect "after every wrong flag: nothing changed, no mig_meta" eq "$(all_fp "$F")" "$before"

finish "$NAME"
