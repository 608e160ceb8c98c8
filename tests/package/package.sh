#!/usr/bin/env bash
# The Debian package and the install step: cpack builds the .deb from this build; its Depends
# name the package of every shared library the binary links (objdump + dpkg -S) and it recommends
# postgresql-15; unpacked into a temp root (dpkg-deb -x) it runs from there: --version, a sandbox
# run of an installed script (whose modules live beside it) on its installed fixture, the man
# page, the docs, the annotations (checked against the binary), `mighost new` pointing at them.
# `cmake --install --prefix` gives the same tree. Usage: package.sh path/to/build/mighost.
set -u
MIGHOST=$(realpath "${1:?usage: package.sh path/to/build/mighost}")
BUILD=$(dirname "$MIGHOST")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/support/lib.sh"
work_dir package

echo "# cpack"
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/pkg" > cpack.log 2>&1
expect "cpack: exit 0" eq "$?" 0
deb=$(ls "$WORK"/pkg/*.deb 2>/dev/null | head -1)
expect "cpack: one .deb" test -f "$deb"
[ -f "$deb" ] || { cat cpack.log; finish package; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
echo "#   Depends: $depends"
for lib in $(objdump -p "$MIGHOST" | awk '/NEEDED/ {print $2}'); do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x32|64/ {print $NF; exit}')
  pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  # the package, or a name it provides (libspdlog1.10 provides libspdlog1.10-fmt9: its ABI with fmt 9)
  names=$(echo "$pkg,$(dpkg-query -W -f='${Provides}' "$pkg" 2>/dev/null)" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep .)
  named=$(echo "$depends" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -Fxf <(echo "$names") | head -1)
  expect "Depends names $pkg (for $lib)" test -n "$named"
done
expect "Recommends: postgresql-15" eq "$(dpkg-deb -f "$deb" Recommends)" "postgresql-15"

echo "# unpacked into a temp root"
dpkg-deb -x "$deb" root
BIN=$WORK/root/usr/bin/mighost SHARE=$WORK/root/usr/share
expect "--version: the build's" eq "$("$BIN" --version)" "$("$MIGHOST" --version)"
expect "man page" has "$SHARE/man/man1/mighost.1" '^\.TH MIGHOST 1'
for d in tutorial stock_batches assignments tasks_to_parts lot_traceability rds_mapping; do
  expect "doc $d.md" test -f "$SHARE/doc/mighost/$d.md"
done
expect "doc lua-api.md (stdlib/README.md)" test -f "$SHARE/doc/mighost/lua-api.md"
expect "no installed doc points at ../shared" eq "$(grep -rl '\.\./shared' "$SHARE/doc/mighost" "$SHARE/mighost" | wc -l)" 0
expect "script modules beside their script" test -f "$SHARE/mighost/scripts/tasks_to_parts/sql.lua" -a \
  -f "$SHARE/mighost/scripts/rds_mapping/plan.lua"
"$BIN" run "$SHARE/mighost/scripts/tasks_to_parts.lua" --sandbox \
  --fixture "$SHARE/mighost/examples/tasks_to_parts/small.sql" > out.txt 2> err.txt
expect "installed tasks_to_parts on its installed fixture: exit 0, checks ran, every CHECK PASS" eq \
  "$?|$(grep -q '^CHECK ' out.txt && echo checked)|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|checked|0"
"$BIN" run "$SHARE/mighost/scripts/rds_mapping.lua" --help > out.txt 2> err.txt
expect "installed rds_mapping loads its modules (--help)" eq "$?|$(grep -c -- '--source-db' out.txt)" "0|1"
"$BIN" run "$ROOT/tests/docs/annotations.lua" -- "$SHARE/mighost/annotations" > out.txt 2> err.txt
expect "installed annotations cover the binary" eq "$?" 0
"$BIN" new pkg_check --dir new > out.txt 2> err.txt
lib=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["workspace.library"][0])' new/.luarc.json)
expect "mighost new: .luarc.json names the installed annotations" eq "$lib" "$SHARE/mighost/annotations"

echo "# cmake --install --prefix"
cmake --install "$BUILD" --prefix "$WORK/prefix" > install.log 2>&1
expect "cmake --install: exit 0" eq "$?" 0
expect "the same tree as the package" eq "$(cd prefix && find . -type f | sort)" "$(cd root/usr && find . -type f | sort)"
"$WORK/prefix/bin/mighost" run "$WORK/prefix/share/mighost/scripts/rds_mapping.lua" --help > out.txt 2> err.txt
expect "installed by cmake: rds_mapping --help" eq "$?" 0

finish package
