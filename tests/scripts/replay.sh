# Shared by the end-to-end replays in this folder (one per migration script): template databases
# cloned per case, the run, the counts of the last run, and the cases every replay runs the same
# way. Source it after setting MIGHOST, SCRIPT, NAME (the summary line's name) and SET (the source
# set whose counts `counts` reads); it cds into a fresh work directory. The assertions, psql and
# fingerprint helpers and the sandbox come from tests/support/lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../support/lib.sh"
work_dir "$NAME"

template() {  # template NAME FILE... : a database loaded once, cloned by clone()
  sql "$URL" "CREATE DATABASE $1" >/dev/null
  local f
  for f in "${@:2}"; do psql -X -q -v ON_ERROR_STOP=1 ${PSQL_VARS:-} -d "$(dburl "$1")" -f "$f" >/dev/null || echo "loading $f failed"; done
}
clone() { sql "$URL" "CREATE DATABASE $2 TEMPLATE $1" >/dev/null; dburl "$2"; }
run() { local u=$1; shift; "$MIGHOST" run "$SCRIPT" --db "$u" "$@" > out.txt 2> err.txt; }
counts() { sql "$1" "SELECT concat_ws('|', counts->'$SET'->>'source', counts->'$SET'->>'migrated',
                      counts->'$SET'->>'rejected', counts->'$SET'->>'written', status)
                     FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1"; }

# The cases both replays run the same way. They need check_expected URL LABEL from the caller.
case_public() {  # the public fixture (template t_public): exit 0, every check PASS, expected.sql (check_expected URL LABEL LEGACY_URL)
  echo "# the public fixture"
  [ -n "${PUBLIC:-}" ] || { echo "#   skipped: MIGHOST_CONTRACT_FIXTURES is not set"; return; }
  local u; u=$(clone t_public public)
  run "$u"
  expect "public: exit 0" eq "$?" 0
  expect "public: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
  check_expected "$u" public "$(clone t_public public_legacy)"   # the third: an untouched copy, for scripts whose expected.sql reads the legacy data
}

case_dry_run() {  # case_dry_run WOULD_CHANGE: a dry run on t_small changes no fingerprint, reports WOULD_CHANGE
  echo "# dry run"
  local u before; u=$(clone t_small dry)
  before=$(all_fp "$u")
  run "$u" --dry-run --batch-size 30 --report dry.json
  expect "dry run: exit 0" eq "$?" 0
  expect "dry run: every table's fingerprint unchanged" eq "$(all_fp "$u")" "$before"
  expect "dry run: RESULT says dry-run" has out.txt "^RESULT {\"migration\":\"$NAME\",\"mode\":\"dry-run\",\"status\":\"ok\",\"run_id\":null"
  expect "dry run: would_change" has dry.json "\"would_change\":$1"
}
