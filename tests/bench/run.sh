#!/usr/bin/env bash
# The COPY benchmark (see tests/bench/README.md). Not a test: nothing here runs in CI.
#   bash tests/bench/run.sh [--rows N] [--small N] [--rounds R] [--methods abcd] [--no-build]
# Builds build-bench (Release), starts a sandbox PostgreSQL, fills "items" with --small (default
# 100k, schema "small") and N rows (default 1M, schema "public"), then times items → t several ways
# on each, in alternating rounds (a b c d, b c d a, c d a b, ...):
#   a  psql: INSERT INTO t SELECT <transform> FROM items
#   b  psql \copy (SELECT <transform>) TO STDOUT | psql \copy t FROM STDIN
#   c  mighost run tests/bench/copy_transform.lua: copy_out → Lua (new id, renames, defaults) → copy_in
#   d  the same with the new id computed by the SELECT (copy_transform.lua --id-in-sql)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${MIGHOST_BENCH_BUILD:-$root/build-bench}
rows=1000000 small=100000 rounds=3 methods=abcd do_build=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --methods) methods=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
[[ $methods =~ ^[abcd]+$ ]] || { echo "run.sh: --methods takes letters of abcd, not '$methods'" >&2; exit 64; }
((small < rows)) || { echo "run.sh: --small ($small) must be below --rows ($rows)" >&2; exit 64; }

# GNU time gives the peak RSS (%M); Debian's package is `time` (bash's builtin has no -f).
if [[ ! -x /usr/bin/time ]]; then
  echo "installing the Debian package 'time' for /usr/bin/time" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2
fi

work=$(mktemp -d /tmp/mighost-bench-XXXXXX)
sandbox_pid=
cleanup() {
  if [[ -n $sandbox_pid ]]; then
    kill -INT "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $do_build == 1 ]]; then
  echo "building $build (Release) ..."
  { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
    cmake --build "$build" -j2 --target mighost; } >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; echo "run.sh: build failed" >&2; exit 1; }
fi
mighost=$build/mighost
[[ -x $mighost ]] || { echo "run.sh: no $mighost (drop --no-build)" >&2; exit 1; }

"$mighost" sandbox >"$work/url" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 600); do
  [[ -s $work/url ]] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
url=$(head -1 "$work/url")
[[ -n $url ]] || { echo "run.sh: the sandbox printed no URL" >&2; cat "$work/sandbox.log" >&2; exit 1; }
sql() { psql "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Backends are children of the postmaster: their CPU lands in its cutime+cstime when they exit.
datadir=$(sql -Atc "SHOW data_directory")
postmaster=$(head -1 "$datadir/postmaster.pid")
ticks=$(getconf CLK_TCK)
server_cpu() { awk -v t="$ticks" '{ printf "%.2f", ($16 + $17) / t }' "/proc/$postmaster/stat"; }
children() { wc -w <"/proc/$postmaster/task/$postmaster/children"; }
sleep 1
idle_children=$(children)
# Waits until every backend has exited and been reaped (its CPU is in cutime only then).
settle() {
  for _ in $(seq 100); do (($(children) <= idle_children)) && return; sleep 0.05; done
}

echo "machine: $(nproc) cores, $(uname -srm); $(psql --version | head -1); $(sql -Atc 'SHOW server_version')"
echo "fsync=$(sql -Atc 'SHOW fsync') shared_buffers=$(sql -Atc 'SHOW shared_buffers'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each size has its own schema (items and t), chosen per run with PGOPTIONS=search_path: the same
# statements and the same script run on both, and every method reads exactly the same rows.
schema() { if [[ $1 == "$small" ]]; then echo small; else echo public; fi; }
sql -c 'CREATE SCHEMA small'
for n in "$small" "$rows"; do
  t0=$(date +%s.%N)
  PGOPTIONS="-c search_path=$(schema "$n")" sql -v rows="$n" -f "$here/setup.sql"
  printf 'generated %s items in %.1f s (%s)\n' "$n" "$(echo "$(date +%s.%N) - $t0" | bc)" \
    "$(PGOPTIONS="-c search_path=$(schema "$n")" sql -Atc "SELECT pg_size_pretty(pg_total_relation_size('items'))")"
done

# The transform of stock_batches.md (3.): new id, renamed columns, COALESCE defaults.
transform='SELECT '\''mig_'\'' || md5("id"), "quantityInStock", COALESCE("status", '\''ToOrder'\''),
 COALESCE("costPerUnitUSD", 0), COALESCE("freightCostUSD", 0), "orderDate", "expectedArrival",
 "orderNumber", "arrivedDate", "notes", "createdAt", "updatedAt", "id", "locationId", "assignedUserId"
 FROM "items"'
transform=${transform//$'\n'/}  # \copy wants one line
columns='"id", "quantity", "status", "costPerUnitUSD", "freightCostUSD", "orderDate", "expectedArrival",
 "orderNumber", "arrivedDate", "notes", "createdAt", "updatedAt", "itemId", "locationId", "assignedUserId"'
columns=${columns//$'\n'/}

# One timed run of method $1 on $2 rows; appends "size method wall client_cpu server_cpu rss_kb".
run_one() {
  local method=$1 n=$2 select=$transform
  export PGOPTIONS="-c search_path=$(schema "$n")"
  sql -c 'TRUNCATE t' -c 'CHECKPOINT'
  settle
  local s0; s0=$(server_cpu)
  case $method in
    a) /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
         psql "$url" -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO t ($columns) $select" ;;
    b) /usr/bin/time -f '%e %U %S %M' -o "$work/time" bash -o pipefail -c \
         'psql "$1" -X -q -v ON_ERROR_STOP=1 -c "\\copy ($2) TO STDOUT" |
          psql "$1" -X -q -v ON_ERROR_STOP=1 -c "\\copy t ($3) FROM STDIN"' _ "$url" "$select" "$columns" ;;
    c | d) /usr/bin/time -f '%e %U %S %M' -o "$work/time" \
         "$mighost" run "$here/copy_transform.lua" --db "$url" --log-level warn \
         -- $([[ $method == d ]] && echo --id-in-sql) 2>"$work/c.log" ||
         { cat "$work/c.log" >&2; return 1; } ;;
  esac
  settle
  local s1; s1=$(server_cpu)
  # Same rows, same values, whichever way they came (checked outside the timing).
  local check; check=$(sql -Atc 'SELECT count(*) || '\'' '\'' || sum(hashtext(t::text)::bigint) FROM t')
  [[ ${check%% *} == "$n" ]] || { echo "run.sh: $method wrote ${check%% *} rows, not $n" >&2; return 1; }
  if [[ -z ${expected[$n]:-} ]]; then expected[$n]=$check
  elif [[ ${expected[$n]} != "$check" ]]; then echo "run.sh: $method wrote other data than the first run" >&2; return 1; fi
  read -r wall user sys rss <"$work/time"
  printf '%s %s %s %.2f %.2f %s\n' "$n" "$method" "$wall" "$(echo "$user + $sys" | bc)" \
    "$(echo "$s1 - $s0" | bc)" "$rss" >>"$work/results"
  printf '  %-8s %s  wall %6.2f s  client cpu %6.2f s  server cpu %6.2f s  max rss %6.1f MB\n' \
    "$n" "$method" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$s1 - $s0" | bc)" "$(echo "$rss / 1024" | bc -l)"
}

declare -A expected
: >"$work/results"
order=$(echo "$methods" | grep -o .)
mapfile -t order <<<"$order"
for n in "$small" "$rows"; do
  echo "== $n rows, $rounds rounds"
  for ((r = 0; r < rounds; r++)); do
    for ((k = 0; k < ${#order[@]}; k++)); do run_one "${order[(r + k) % ${#order[@]}]}" "$n"; done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$here/summary.py" "$work/results" "$small" "$rows"
