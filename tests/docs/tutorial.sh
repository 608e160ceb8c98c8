#!/usr/bin/env bash
# Runs every ```sh block of docs/tutorial.md, in order, as one bash script (set -e, pipefail), in
# a fresh folder holding a copy of examples/ and with this build's mighost first on PATH: a
# command of the tutorial that stops working fails this test, naming its line.
# Usage: tutorial.sh path/to/mighost. Last line: `tutorial: N blocks ok` or the failing command.
set -u
MIGHOST=$(realpath "${1:?usage: tutorial.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mighost-tutorial-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/bin" "$WORK/run"
ln -s "$MIGHOST" "$WORK/bin/mighost"
cp -r "$ROOT/examples" "$WORK/run/examples"

# The blocks, each preceded by a marker naming its first line in the markdown.
awk -v doc="docs/tutorial.md" '
  /^```sh$/ { inside = 1; blocks++; print "echo \"### block " blocks " (" doc ":" NR + 1 ")\""; next }
  /^```/    { inside = 0; next }
  inside    { print }
  END       { print "echo \"tutorial: " blocks " blocks ok\"" }' "$ROOT/docs/tutorial.md" > "$WORK/tutorial.bash"
if ! grep -q '^### block\|^echo "### block' "$WORK/tutorial.bash"; then
  echo "tutorial: no \`\`\`sh block in docs/tutorial.md"; exit 1
fi

cd "$WORK/run" || exit 1
# A sandbox the tutorial leaves running (a failure between its start and its kill) is stopped.
PATH="$WORK/bin:$PATH" bash -c '
  set -eo pipefail
  trap '\''rc=$?; [ $rc -ne 0 ] && echo "tutorial: FAILED (exit $rc) at: $BASH_COMMAND"; jobs -p | xargs -r kill -INT; wait; exit $rc'\'' EXIT
  . ../tutorial.bash' < /dev/null
