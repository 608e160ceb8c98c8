#!/usr/bin/env bash
# `mighost new`: the files it writes, a generated migration that passes `mighost test` as written
# (through its own test command, with mighost found without PATH), a .luarc.json that names this
# build's annotations, a refusal to overwrite, a kept .luarc.json, a refused NAME.
# Usage: scaffold.sh path/to/mighost. Last line: `scaffold: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: scaffold.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/support/lib.sh"
work_dir scaffold
tree_sum() { (cd "$1" && find . -type f | sort | xargs md5sum); }

echo "# mighost new orders_copy --dir gen"
"$MIGHOST" new orders_copy --dir gen > out.txt 2> err.txt
expect "new: exit 0" eq "$?" 0
expect "new: the five files" eq "$(ls -A gen | tr '\n' ' ')" \
  ".luarc.json orders_copy.lua orders_copy_check.sql orders_copy_fixture.sql orders_copy_test.sh "
expect "new: the test command is executable" test -x gen/orders_copy_test.sh
expect "new: says what to run next" has out.txt "^next: sh gen/orders_copy_test.sh"
lib=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["workspace.library"][0])' gen/.luarc.json)
expect ".luarc.json: names the source tree's annotations (a build's binary)" eq "$lib" "$ROOT/stdlib/annotations"
expect ".luarc.json: that folder annotates mighost.migration" test -f "$lib/mighost/migration.lua"

echo "# the generated migration passes mighost test as generated"
# Without MIGHOST and without mighost on PATH: the test command falls back to the binary that wrote it.
env -u MIGHOST PATH=/usr/bin:/bin sh gen/orders_copy_test.sh > out.txt 2> err.txt
expect "generated test: exit 0, no FAIL" eq "$?|$(grep -c '^FAIL' out.txt)" "0|0"
expect "generated test: the run, the check file, the re-run and the dry run passed" eq \
  "$(grep -Ec '^PASS (run \(|check |rerun |dry run )' out.txt)" 4
"$MIGHOST" run gen/orders_copy.lua --sandbox --fixture gen/orders_copy_fixture.sql > out.txt 2> err.txt
expect "generated run: exit 0, every CHECK PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
expect "generated run: 5 source rows, 3 migrated, 2 rejected" has out.txt '"orders_copy_legacy":{"source":5,"migrated":3,"rejected":2'

echo "# refusals"
before=$(tree_sum gen)
"$MIGHOST" new orders_copy --dir gen > out.txt 2> err.txt
expect "again: exit 2, names the file" eq "$?|$(grep -c 'gen/orders_copy.lua exists' err.txt)" "2|1"
expect "again: nothing changed" eq "$(tree_sum gen)" "$before"
rm gen/orders_copy.lua
"$MIGHOST" new orders_copy --dir gen > out.txt 2> err.txt
expect "one file left: still refused, the others untouched" eq "$?|$(test -e gen/orders_copy.lua && echo written)" "2|"
echo '{"keep": true}' > gen/.luarc.json
"$MIGHOST" new second --dir gen > out.txt 2> err.txt
expect "another NAME in the folder: exit 0, its .luarc.json kept" eq "$?|$(cat gen/.luarc.json)|$(grep -c '^kept ' out.txt)" '0|{"keep": true}|1'
"$MIGHOST" new 'Bad-Name' > out.txt 2> err.txt
expect "a bad NAME: exit 64, says why" eq "$?|$(grep -c "NAME 'Bad-Name'" err.txt)" "64|1"

finish scaffold
