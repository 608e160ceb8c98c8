#!/usr/bin/env bash
# End-to-end replay of examples/one_off/one_off.lua (the tutorial's declared one-off copy) on a
# real PostgreSQL sandbox: checks, expected.sql, exact values, a second run, dry run, --limit then
# resume = one run, rollback, and `mighost test`.
# Usage: one_off.sh path/to/mighost. Last line: `one_off: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: one_off.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$ROOT/examples/one_off/one_off.lua
EX=$ROOT/examples/one_off
NAME=one_off SET=orders
. "$ROOT/tests/scripts/replay.sh"

expected() { tail -1 "$EX/expected.sql" | sed 's/^-- expected: //'; }
actual() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -f "$EX/expected.sql"; }
# The rows as the mapping says, computed from the legacy table by a plain query.
mapped_rows() {
  sql "$1" "SELECT md5(string_agg(concat_ws('|', o.id, c.id, o.amount, COALESCE(upper(o.currency), 'USD'), o.placed_at,
                 COALESCE(lower(btrim(o.status)), 'open'), o.note), ',' ORDER BY o.id))
              FROM orders_legacy o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.amount >= 0"
}
target_rows() {
  sql "$1" "SELECT md5(string_agg(concat_ws('|', id, customer_id, amount, currency, placed_at, status, note), ',' ORDER BY id))
              FROM orders"
}

start_sandbox
template t_small "$EX/small.sql"

echo "# small fixture"
u=$(clone t_small small)
MIGHOST_LINT_ROWS=0 MIGHOST_LINT_BYTES=0 run "$u" --batch-size 3   # every non-empty table counts as large
expect "small: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
expect "small: expected.sql" eq "$(actual "$u")" "$(expected)"
expect "small: rows exactly as mapped (bigint beyond 2^53, numeric, timestamptz µs, infinity)" eq "$(target_rows "$u")" "$(mapped_rows "$u")"
expect "small: the key beyond 2^53 is exact" eq "$(sql "$u" "SELECT count(*) FROM orders WHERE id = 9007199254740993")" 1
expect "small: the reject keeps the legacy row" eq "$(sql "$u" "SELECT row_data->>'amount' FROM mig_meta.rejects WHERE source_key = '6'")" "-1.00"
expect "small: index and foreign key in place" eq "$(sql "$u" "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'")|$(sql "$u" \
  "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'")" "3|1"
expect "small: the foreign key is validated" eq "$(sql "$u" "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'")" t
# customers, which the application writes, is not write-blocked while every order is checked
expect "small: no lock-heavy DDL warning (the foreign key is added NOT VALID, then validated)" eq "$(grep -c 'lock-heavy DDL' err.txt)" 0
expect "small: customers never locked ACCESS EXCLUSIVE (the key is made on a copy in setup, added for real after the rows)" \
  eq "$(grep -c '^  lock public.customers: strongest ShareRowExclusiveLock' out.txt)|$(grep -c 'AccessExclusiveLock' out.txt)" "1|0"
expect "small: setup leaves no scratch schema" eq "$(sql "$u" "SELECT count(*) FROM pg_namespace WHERE nspname = 'mig_ddl_scratch'")" 0
before=$(all_fp "$u" '^mig_meta$')
run "$u"
expect "second run: exit 0, writes 0 rows" eq "$?|$(counts "$u" | cut -d'|' -f4)" "0|0"
expect "second run: nothing changed" eq "$(all_fp "$u" '^mig_meta$')" "$before"
legacy=$(all_fp "$(clone t_small legacy_fp)" '^mig_')
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "rollback: exit 0, the legacy fingerprint" eq "$?|$(all_fp "$u" '^mig_')" "0|$legacy"

case_public() { :; }   # no contract fixture for the tutorial's own example
case_dry_run '{"orders":{"source":8,"migrated":6,"rejected":2,"written":6}'

echo "# --limit, then the rest"
u=$(clone t_small limited)
run "$u" --limit 4 --batch-size 2
expect "limit: exit 0, partial, orders_accounted SKIP" eq "$?|$(counts "$u" | cut -d'|' -f5)|$(grep -c '^CHECK orders_accounted SKIP' out.txt)" "0|partial|1"
expect "limit: the foreign key waits for the complete run" eq "$(sql "$u" "SELECT count(*) FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'")" 0
run "$u" --batch-size 2
expect "after limit: status ok" eq "$?|$(counts "$u" | cut -d'|' -f5)" "0|ok"
expect "limit + resume = one run" eq "$(target_rows "$u")|$(actual "$u")" "$(mapped_rows "$u")|$(expected)"

echo "# mighost test"
"$MIGHOST" test "$SCRIPT" --fixture "$EX/small.sql" > out.txt 2> err.txt
expect "mighost test: exit 0, no FAIL" eq "$?|$(grep -c '^FAIL' out.txt)" "0|0"

finish one_off
