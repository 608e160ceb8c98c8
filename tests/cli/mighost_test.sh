#!/usr/bin/env bash
# `mighost test`: each step passes on a correct migration and fails on a script that breaks it.
# Usage: tests/cli/mighost_test.sh PATH/TO/mighost
set -u
MIGHOST=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=$ROOT/tests/cli/test_cmd
source "$ROOT/tests/support/lib.sh"
work_dir mighost-test

# A real migration on its small fixture: every step passes, JUnit has no failure.
"$MIGHOST" test "$ROOT/examples/demo/demo.lua" --fixture "$ROOT/examples/demo/fixture.sql" \
  --junit demo.xml >out.txt 2>&1; rc=$?
expect "demo migration: exit 0" eval '[ $rc -eq 0 ]'
expect "demo migration: 4 steps pass" eval 'grep -q "^test: 4 passed, 0 failed$" out.txt'
expect "demo migration: junit written, no failure" eval 'grep -q "tests=\"4\" failures=\"0\"" demo.xml'

# A check file: queries returning 0 pass; one returning 1 fails with its number and count.
"$MIGHOST" test "$ROOT/examples/demo/demo.lua" --fixture "$ROOT/examples/demo/fixture.sql" \
  --check "$DIR/pass.sql" >out.txt 2>&1; rc=$?
expect "passing check file: exit 0" eval '[ $rc -eq 0 ] && grep -q "^PASS check .*pass.sql" out.txt'

# A script that writes on every run and ignores --dry-run: rerun and dry run must fail.
"$MIGHOST" test "$DIR/plain.lua" --fixture "$DIR/base.sql" --check "$DIR/fail.sql" \
  --junit plain.xml >out.txt 2>&1; rc=$?
expect "broken script: exit 3" eval '[ $rc -eq 3 ]'
expect "failing check names query and count" eval 'grep -q "query 2: 1 violation" out.txt'
expect "rerun catches the second insert" eval 'grep -q "^FAIL rerun writes nothing" out.txt && grep -q "public.t changed" out.txt'
expect "dry run catches the new table" eval 'grep -q "^FAIL dry run changes nothing" out.txt && grep -q "public.t appeared" out.txt'
expect "verify cannot write: the plain script's insert fails read-only" eval 'grep -q "^FAIL verify" out.txt && grep -q "25006" out.txt'
expect "junit counts the failures" eval 'grep -q "failures=\"4\"" plain.xml && grep -q "<failure message=" plain.xml'

# Usage: no fixture → 64 naming the flag.
"$MIGHOST" test "$DIR/plain.lua" >out.txt 2>&1; rc=$?
expect "missing --fixture: exit 64 naming it" eval '[ $rc -eq 64 ] && grep -q -- "--fixture" out.txt'

finish mighost_test
