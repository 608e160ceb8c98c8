#!/usr/bin/env bash
# End-to-end replay of scripts/assignments.lua on a real PostgreSQL sandbox: the spec's checks on
# the small fixture (and its add-ons) and the public fixture, counts/rejects/rows equal to
# examples/assignments/expected.sql, idempotency, dry run, rollback, refusal, --limit.
# Usage: assignments.sh path/to/mighost. Last line: `assignments: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: assignments.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$ROOT/scripts/assignments.lua
EX=$ROOT/examples/assignments
# The contract's own fixture, replayed in addition when .ci/run finds one (MIGHOST_CONTRACT_FIXTURES);
# the project's examples/ are the test data.
PUBLIC=${MIGHOST_CONTRACT_FIXTURES:+$MIGHOST_CONTRACT_FIXTURES/assignments.sql}
NAME=assignments SET=parts
. "$ROOT/tests/scripts/replay.sh"

S=mig_backup_assignments.parts
# Expected counts, rejects and job_assignments rows (examples/assignments/expected.sql) vs the run.
check_expected() {  # check_expected URL LABEL
  local u=$1 label=$2 exp act n
  exp=$(psql -X -At -v ON_ERROR_STOP=1 -d "$u" -f "$EX/expected.sql")
  IFS='|' read -r _ e_src e_mig e_rej e_pm e_ou _ <<< "$(head -1 <<< "$exp")"
  expect "$label: source|migrated|rejected as expected.sql" eq "$(counts "$u" | cut -d'|' -f1-3)" "$e_src|$e_mig|$e_rej"
  expect "$label: reject reasons as expected.sql" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE reason = 'part_missing')
      || '|' || count(*) FILTER (WHERE reason = 'orphan_user') FROM mig_meta.rejects")" "$e_pm|$e_ou"
  act=$(psql -X -At -v ON_ERROR_STOP=1 -d "$u" \
    -c "SELECT source_table, source_key, reason, row_data->>'assigned_to' FROM mig_meta.rejects ORDER BY source_key::int" \
    -c "SELECT j.part_id, j.user_id, j.status, j.assigned_at, j.started_at, j.completed_at FROM job_assignments j
          JOIN $S s ON s.id = j.part_id AND s.assigned_to = j.user_id ORDER BY j.part_id")
  n=$(wc -l <<< "$exp")
  expect "$label: the exact rejects and job_assignments rows of expected.sql" eq "$(printf %s "$act" | md5sum)" \
    "$(sed -n "2,$((n - 1))p" <<< "$exp" | head -c -1 | md5sum)"
}
legacy_cols() { sql "$1" "SELECT count(*) FROM pg_attribute WHERE attrelid = 'parts'::regclass AND attname IN ('assigned_to', 'assigned_at') AND NOT attisdropped"; }

start_sandbox
template t_small "$EX/small.sql"
template t_app "$EX/small.sql" "$EX/app_assignments.sql"
template t_older "$EX/small.sql" "$EX/older_install.sql"
template t_missing "$EX/small.sql" "$EX/part_missing.sql"
[ -n "$PUBLIC" ] && template t_public "$PUBLIC"

echo "# small fixture: checks, counts, rejects, rows; then a second run and the rollback"
u=$(clone t_small small)
legacy=$(all_fp "$u")
run "$u" --batch-size 20
expect "small: exit 0" eq "$?" 0
expect "small: RESULT is the last line, status ok" has <(tail -1 out.txt) '^RESULT {"migration":"assignments","mode":"apply","status":"ok"'
expect "small: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
expect "small: 8 checks printed" eq "$(grep -c '^CHECK ' out.txt)" 8
expect "small: one PROGRESS line per batch" eq "$(grep -c '^PROGRESS parts ' out.txt)" 4
check_expected "$u" small
expect "small: written = migrated" eq "$(counts "$u" | cut -d'|' -f4)" "$(counts "$u" | cut -d'|' -f2)"
expect "small: legacy columns dropped" eq "$(legacy_cols "$u")" 0
expect "small: users and time_logs untouched" eq "$(all_fp "$u" | grep -e '^public.users ' -e '^public.time_logs ')" \
  "$(grep -e '^public.users ' -e '^public.time_logs ' <<< "$legacy")"
before=$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')
run "$u" --batch-size 7
expect "second run: exit 0, status ok" eq "$?|$(counts "$u" | cut -d'|' -f5)" "0|ok"
expect "second run: written 0" has out.txt '"written":0}'
expect "second run: no row changed but mig_meta.runs/checks" eq "$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')" "$before"
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "rollback: exit 0" eq "$?" 0
expect "rollback: legacy fingerprint back" eq "$(all_fp "$u" '^mig_(meta|backup_)')" "$legacy"

echo "# application rows in an existing job_assignments"
u=$(clone t_app app)
app_rows="SELECT md5(string_agg(to_jsonb(j)::text, ',' ORDER BY id)) FROM job_assignments j WHERE id <= 4"
app_before=$(sql "$u" "$app_rows")
run "$u" --batch-size 50
expect "app rows: exit 0" eq "$?" 0
check_expected "$u" "app rows"
expect "app rows: 64 written, 68 rows" eq "$(counts "$u" | cut -d'|' -f4) $(sql "$u" "SELECT count(*) FROM job_assignments")" "64 68"
expect "app rows: untouched" eq "$(sql "$u" "$app_rows")" "$app_before"

echo "# older install without parts.assigned_at"
u=$(clone t_older older)
legacy=$(all_fp "$u")
run "$u"
expect "older install: exit 0" eq "$?" 0
check_expected "$u" "older install"
expect "older install: every assigned_at from created_at" eq "$(sql "$u" "SELECT count(*) FROM job_assignments j JOIN $S s
    ON s.id = j.part_id WHERE j.assigned_at = s.created_at")" 65
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "older install: rollback gives the legacy fingerprint (no assigned_at added)" eq "$(all_fp "$u" '^mig_(meta|backup_)')" "$legacy"

echo "# parts deleted after the snapshot"
u=$(clone t_missing missing)
run "$u"
expect "part missing: exit 3, validation_failed" eq "$?|$(counts "$u" | cut -d'|' -f5)" "3|validation_failed"
check_expected "$u" "part missing"
expect "part missing: parts_preserved FAIL actual=2" has out.txt '^CHECK parts_preserved FAIL expected=0 actual=2'
expect "part missing: the column drop rolled back" eq "$(legacy_cols "$u")" 2

case_public

case_dry_run '{"parts":{"source":71,"migrated":65,"rejected":6,"written":65}'

echo "# refused"
u=$(clone t_small no_column)
sql "$u" "ALTER TABLE parts DROP COLUMN assigned_to"
before=$(all_fp "$u" '^mig_meta$')
run "$u"
expect "no assigned_to, no snapshot: exit 2" eq "$?" 2
expect "no assigned_to: legacy_column named" has <(cat out.txt err.txt) legacy_column
expect "no assigned_to: nothing but mig_meta changed" eq "$(all_fp "$u" '^mig_meta$')" "$before"
u=$(clone t_small no_users)
sql "$u" "DROP TABLE users CASCADE"
run "$u"
expect "missing users table: exit 2, refused" eq "$?|$(counts "$u" | cut -d'|' -f5)" "2|refused"

echo "# --limit"
u=$(clone t_small limited)
run "$u" --limit 10 --batch-size 4
expect "limit: exit 0, status partial" eq "$?|$(counts "$u" | cut -d'|' -f5)" "0|partial"
expect "limit: legacy_columns_dropped SKIP, columns kept" eq "$(grep -c '^CHECK legacy_columns_dropped SKIP' out.txt) $(legacy_cols "$u")" "1 2"
expect "limit: 10 rows resolved" eq "$(sql "$u" "SELECT (SELECT count(*) FROM job_assignments) + (SELECT count(*) FROM mig_meta.rejects)")" 10
first=$(counts "$u" | cut -d'|' -f4)
run "$u"
expect "after limit: the rest written, status ok, columns dropped" \
  eq "$?|$(( $(counts "$u" | cut -d'|' -f4) + first ))|$(counts "$u" | cut -d'|' -f5)|$(legacy_cols "$u")" "0|65|ok|0"

finish assignments
