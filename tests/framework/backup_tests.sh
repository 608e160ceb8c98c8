# File backups of the migration framework (sourced by run.sh after tests.sh): --backup-dir and a
# script's own `backup = {..., dir = ...}`, their ledger record, and the refusals — a backup that
# cannot be written (read-only place, a file where a directory should be, a full disk, a missing
# table) refuses the run (exit 2) before any change. Root ignores modes, so the unwritable places
# are ones root cannot write either; a "full disk" is a file size limit (ulimit -f, SIGXFSZ
# ignored: writes past it fail with EFBIG).

# limited KB CMD...: runs CMD with a file size limit of KB KiB; its stdout and stderr reach
# out.txt / err.txt through pipes (the limit must not cut them). Returns CMD's exit code.
limited() {
  local kb=$1
  shift
  { { bash -c 'ulimit -f "$0"; trap "" XFSZ; exec "$@"' "$kb" "$@"; echo $? > rc.txt; } 2>&1 1>&3 \
      | cat > err.txt; } 3>&1 | cat > out.txt
  return "$(cat rc.txt)"
}

# files_under DIR: the regular files below DIR (none if it does not exist).
files_under() { find "$1" -type f 2>/dev/null | wc -l; }

# backup_refused WHAT DIR REASON [KB]: a demo run with --backup-dir DIR (under a KB KiB file size
# limit when given) must be refused naming DIR/demo-1-<time> and REASON, with nothing changed.
backup_refused() {
  local what=$1 dir=$2 reason=$3 kb=${4:-} u before rc
  u=$(newdb fw_fb_refused)
  before=$(all_fp "$u" mig_meta)
  if [ -n "$kb" ]; then
    limited "$kb" "$MIGHOST" run "$DEMO" --db "$u" --backup-dir "$dir"; rc=$?
  else
    demo "$u" --backup-dir "$dir"; rc=$?
  fi
  expect "$what: refused (exit 2)" eq "$rc" 2
  expect "$what: the message names the directory and the reason" has err.txt \
    "refused: file backup of items into $dir/demo-1-[0-9]*T[0-9]*Z failed (nothing was changed): .*\($reason\)"
  expect "$what: nothing changed outside mig_meta (no target, no mig_backup_demo)" eq "$(all_fp "$u" mig_meta)" "$before"
  expect "$what: the ledger says refused, no backup recorded" eq \
    "$(sql "$u" "SELECT string_agg(status || ' ' || (backup IS NULL), ',') FROM mig_meta.runs")" "refused true"
  expect "$what: RESULT refused" has out.txt '^RESULT {"migration":"demo","mode":"apply","status":"refused"'
}

test_16_backup_dir() {
  local u legacy dir r
  u=$(newdb fw_fbackup)
  legacy=$(fp "$u" items)
  demo "$u" --batch-size 50 --backup-dir fb/backups/
  expect "--backup-dir: run exits 0" eq "$?" 0
  dir=$(ls -d fb/backups/demo-1-*Z 2>/dev/null | head -1)
  expect "--backup-dir: a new DIR/demo-<run>-<UTC time> with a manifest" test -n "$dir" -a -f "$dir/manifest.json"
  expect "--backup-dir: the run says where" has out.txt "^File backup: $dir (public.items $(sql "$u" "SELECT count(*) FROM items") rows; verified"
  expect "--backup-dir: a script with Lua of its own is backed up before any change" lacks out.txt "alongside"
  expect "--backup-dir: the migration's result is unchanged" eq "$(state_fp "$u")" "$REF_STATE"
  expect "--backup-dir: the ledger records directory, table, rows and manifest sha256" eq \
    "$(sql "$u" "SELECT concat_ws(' ', backup->>'dir', backup->'tables'->0->>'table', backup->'tables'->0->>'rows',
                 backup->>'manifest_sha256') FROM mig_meta.runs WHERE run_id = 1")" \
    "$dir public.items $(sql "$u" "SELECT count(*) FROM items") $(sha256sum "$dir/manifest.json" | cut -c1-64)"
  "$MIGHOST" status --db "$u" "$DEMO" > out.txt 2> err.txt
  expect "--backup-dir: status shows the backup" has out.txt "^  run 1: file backup $dir (public.items [0-9]* rows) manifest sha256 [0-9a-f]\{64\}"
  "$MIGHOST" backup verify "$dir" > out.txt 2> err.txt
  expect "--backup-dir: mighost backup verify accepts it" eq "$?" 0
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS fw_fb_restore WITH (FORCE)" -c "CREATE DATABASE fw_fb_restore" >/dev/null 2>&1
  r=$(dburl fw_fb_restore)
  "$MIGHOST" restore "$dir" --db "$r" > out.txt 2> err.txt
  expect "--backup-dir: mighost restore into a fresh database exits 0" eq "$?" 0
  expect "--backup-dir: the restored items equal the legacy table before the run" eq "$(fp "$r" items)" "$legacy"
  printf 'x' >> "$dir/001_public.items.copy"
  "$MIGHOST" backup verify "$dir" > out.txt 2> err.txt
  expect "--backup-dir: verify notices a damaged copy (exit 3)" eq "$?" 3

  u=$(newdb fw_fb_dry)
  demo "$u" --dry-run --backup-dir fb/dry
  expect "--backup-dir --dry-run exits 0" eq "$?" 0
  expect "--backup-dir --dry-run says it writes no backup" has out.txt \
    '^\[DRY RUN\] File backup of items into fb/dry/demo-[0-9]*-[0-9TZ]* skipped: a dry run writes no backup'
  expect "--backup-dir --dry-run writes nothing" test ! -e fb/dry
}

test_17_backup_refusals() {
  : > fb_not_a_dir
  backup_refused "parent is a file" fb_not_a_dir/backups "Not a directory"
  backup_refused "read-only place" /sys/mighost-fw-backup "Operation not permitted\|Permission denied\|Read-only file system"
  backup_refused "disk full before the first byte" fb/full "File too large\|No space left" 1
  expect "disk full: nothing left behind (not even the new DIR)" test ! -e fb/full
}

test_18_script_declared_backup() {
  local u before rc dir r legacy
  u=$(newdb fw_fb_declared)
  sql "$u" "CREATE TABLE fb_src (id int PRIMARY KEY, v text NOT NULL);
            INSERT INTO fb_src SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 8000) g" >/dev/null
  legacy=$(fp "$u" fb_src)
  before=$(all_fp "$u" mig_meta)
  limited 256 "$MIGHOST" run "$ROOT/tests/framework/file_backup.lua" --db "$u"; rc=$?
  expect "declared: disk full in the middle of a data file is refused (exit 2)" eq "$rc" 2
  expect "declared: the message names the directory and the write error" has err.txt \
    "file backup of fb_src into declared-backups/file_backup-1-[0-9TZ]* failed (nothing was changed): cannot write .*File too large"
  expect "declared: the partial files are removed" eq "$(files_under declared-backups)" 0
  expect "declared: and the new sub-directory" eq "$(ls declared-backups 2>/dev/null | wc -l)" 0
  expect "declared: nothing changed (no fb_dst)" eq "$(all_fp "$u" mig_meta)" "$before"

  "$MIGHOST" run "$ROOT/tests/framework/file_backup.lua" --db "$u" --batch-size 2000 > out.txt 2> err.txt
  expect "declared: a run with room exits 0" eq "$?" 0
  dir=$(ls -d declared-backups/file_backup-2-*Z 2>/dev/null | head -1)
  expect "declared: backup in the script's directory" test -n "$dir" -a -f "$dir/manifest.json"
  expect "declared: no in-database copy (copy = false)" eq "$(sql "$u" "SELECT to_regnamespace('mig_backup_file_backup') IS NULL")" t
  expect "declared: ledger" eq "$(sql "$u" "SELECT backup->>'dir' || ' ' || (backup->'tables'->0->>'rows') FROM mig_meta.runs WHERE run_id = 2")" "$dir 8000"
  "$MIGHOST" backup verify "$dir" > out.txt 2> err.txt
  expect "declared: verify accepts it" eq "$?" 0
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS fw_fb_restore2 WITH (FORCE)" -c "CREATE DATABASE fw_fb_restore2" >/dev/null 2>&1
  r=$(dburl fw_fb_restore2)
  "$MIGHOST" restore "$dir" --db "$r" > out.txt 2> err.txt
  expect "declared: restore gives the table as it was" eq "$(fp "$r" fb_src)" "$legacy"

  "$MIGHOST" run "$ROOT/tests/framework/file_backup.lua" --db "$u" --backup-dir fb/override > out.txt 2> err.txt
  expect "declared: --backup-dir overrides the script's dir" test $? -eq 0 -a -f "$(ls -d fb/override/file_backup-3-*Z | head -1)/manifest.json"
  sql "$u" "ALTER TABLE fb_src RENAME TO fb_src_gone" >/dev/null
  "$MIGHOST" run "$ROOT/tests/framework/file_backup.lua" --db "$u" > out.txt 2> err.txt
  expect "declared: a missing table refuses (exit 2)" eq "$?" 2
  expect "declared: naming it" has err.txt 'file backup of fb_src into declared-backups/file_backup-4-.* failed (nothing was changed): .*"fb_src" not found'
}

# backed_up.lua: the declared items -> stock_d phase (tests/framework/declared/items.lua) with a
# file backup of items and item_notes, tables the run cannot write; item_notes_db NAME: a fresh
# demo database with item_notes (20 rows).
backed_up_script() {
  declared_variant backed_up 's/^  description = .*/&\n  backup = {"items", "item_notes", copy = false},/'
}
item_notes_db() {
  local u
  u=$(newdb "$1")
  sql "$u" "CREATE TABLE item_notes (id integer PRIMARY KEY, body text);
            INSERT INTO item_notes SELECT g, 'note ' || g FROM generate_series(1, 20) g" >/dev/null
  echo "$u"
}

test_31_backup_alongside_the_phases() {
  local u dir run rc
  backed_up_script
  u=$(item_notes_db fw_fb_along)
  "$MIGHOST" run backed_up.lua --db "$u" --backup-dir fb/along > out.txt 2> err.txt
  expect "alongside: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  dir=$(ls -d fb/along/declared-1-*Z 2>/dev/null | head -1)
  expect "alongside: copied by a second session while the phases ran" has out.txt \
    "^File backup: $dir (public.items $(sql "$u" "SELECT count(*) FROM items") rows, public.item_notes 20 rows; verified, manifest sha256 [0-9a-f]*; copied alongside the phases)"
  expect "alongside: the ledger says so" eq "$(sql "$u" "SELECT backup->>'alongside' FROM mig_meta.runs WHERE run_id = 1")" true
  "$MIGHOST" backup verify "$dir" > /dev/null 2>&1
  expect "alongside: mighost backup verify accepts it" eq "$?" 0

  # The test holds item_notes: the backup's COPY of it waits while the phase commits its batches,
  # and a row the holder adds is not in the backup, whose snapshot was taken before the first change.
  u=$(item_notes_db fw_fb_along_wait)
  hold notes_holder "$u"
  in_hold notes_holder "BEGIN; LOCK TABLE item_notes IN ACCESS EXCLUSIVE MODE; INSERT INTO item_notes VALUES (21, 'added');"
  "$MIGHOST" run backed_up.lua --db "$u" --batch-size 50 --lock-timeout 120s --backup-dir fb/wait > out.txt 2> err.txt &
  run=$!
  expect "waiting: the backup's session waits for the holder of item_notes" \
    wait_for 60 blocked_by "$u" "mighost:declared backup" notes_holder
  expect "waiting: meanwhile the phase commits batches" \
    wait_for 60 test "$(sql "$u" "SELECT count(*) FROM stock_d" 2>/dev/null || echo 0)" -gt 0
  in_hold notes_holder "COMMIT;"
  wait "$run"; rc=$?
  unhold notes_holder
  dir=$(ls -d fb/wait/declared-1-*Z 2>/dev/null | head -1)
  expect "waiting: exit 0 once the holder commits" eq "$rc" 0
  expect "waiting: the backup holds item_notes as it was before the run" eq \
    "$(grep -c '' "$dir"/*item_notes.copy 2>/dev/null)|$(sql "$u" "SELECT count(*) FROM item_notes")" "20|21"

  # The backup's session ends while it waits: the run stops with an error, no backup is left,
  # and the batches committed so far stay (the next run resumes and takes a new backup).
  u=$(item_notes_db fw_fb_along_fail)
  hold notes_holder "$u"
  in_hold notes_holder "BEGIN; LOCK TABLE item_notes IN ACCESS EXCLUSIVE MODE;"
  "$MIGHOST" run backed_up.lua --db "$u" --batch-size 50 --lock-timeout 120s --backup-dir fb/fail > out.txt 2> err.txt &
  run=$!
  wait_for 60 blocked_by "$u" "mighost:declared backup" notes_holder
  wait_for 60 test "$(sql "$u" "SELECT count(*) FROM stock_d" 2>/dev/null || echo 0)" -gt 0
  sql "$u" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'mighost:declared backup%'" >/dev/null
  wait "$run"; rc=$?
  unhold notes_holder
  expect "failed backup: the run ends in error (exit 1)" eq "$rc" 1
  expect "failed backup: the message names it and says what stays" has err.txt \
    "file backup of items, item_notes into fb/fail/declared-1-[0-9TZ]* failed (removed; this run does not change items, item_notes, and the batches committed so far are kept"
  expect "failed backup: no file is left" eq "$(files_under fb/fail)" 0
  expect "failed backup: the ledger says error, with no backup" eq \
    "$(sql "$u" "SELECT status || ' ' || (backup IS NULL) FROM mig_meta.runs")" "error true"
  expect "failed backup: rows committed before the error stay" test "$(sql "$u" "SELECT count(*) FROM stock_d")" -gt 0
  "$MIGHOST" run backed_up.lua --db "$u" --backup-dir fb/fail > out.txt 2> err.txt
  expect "failed backup: the next run resumes, with a backup, every check PASS" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(ls fb/fail/declared-2-*Z/manifest.json 2>/dev/null | wc -l)" "0|0|1"

  # A file system with less room than the catalog says the tables take: the backup is taken first,
  # so that the full disk refuses the run before any change (a 16 KiB tmpfs: where mount is allowed).
  local before
  mkdir -p small
  if mount -t tmpfs -o size=16k tmpfs small 2> /dev/null; then
    u=$(item_notes_db fw_fb_along_small)
    sql "$u" "ANALYZE items; ANALYZE item_notes" >/dev/null   # their size, as the catalog knows it
    before=$(all_fp "$u" mig_meta)
    "$MIGHOST" run backed_up.lua --db "$u" --backup-dir small/bk > out.txt 2> err.txt; rc=$?
    umount small
    expect "no room: refused before any change (exit 2)" eq "$rc" 2
    expect "  the message names the backup and the full disk" has err.txt \
      "refused: file backup of items, item_notes into small/bk/declared-1-[0-9TZ]* failed (nothing was changed): .*No space left on device"
    expect "  nothing changed outside mig_meta" eq "$(all_fp "$u" mig_meta)" "$before"
  else
    echo "# no tmpfs mount allowed here: the case of a disk without room is not run"
  fi
}
