#!/usr/bin/env python3
"""Summary of tests/bench/run.sh: medians, ratios and the issue-2 targets.

Input lines: "<rows> <method> <wall s> <client cpu s> <server cpu s> <peak rss KB>".
Usage: summary.py RESULTS SMALL_ROWS ROWS
"""
import statistics
import sys

NAMES = {
    "a": "a  psql INSERT ... SELECT",
    "b": "b  psql \\copy | psql \\copy",
    "c": "c  mighost, id in Lua (FFI md5)",
    "d": "d  mighost, id in the SELECT",
}


def main() -> int:
    path, small, rows = sys.argv[1], sys.argv[2], sys.argv[3]
    runs: dict[tuple[str, str], list[list[float]]] = {}
    with open(path) as f:
        for line in f:
            n, method, *vals = line.split()
            runs.setdefault((n, method), []).append([float(v) for v in vals])

    def med(n: str, method: str, col: int) -> float:
        return statistics.median(r[col] for r in runs[(n, method)])

    print()
    print(f"{'rows':>8}  {'method':<33} {'runs':>4} {'wall median':>12} {'client cpu':>11} {'server cpu':>11}"
          f" {'peak rss':>9}")
    for n in (small, rows):
        for m in "abcd":
            if (n, m) in runs:
                print(f"{n:>8}  {NAMES[m]:<33} {len(runs[(n, m)]):>4} {med(n, m, 0):>10.2f} s"
                      f" {med(n, m, 1):>9.2f} s {med(n, m, 2):>9.2f} s {max(r[3] for r in runs[(n, m)]) / 1024:>6.1f} MB")
    print()
    ok = True
    for n in (small, rows):
        for m in "cd":
            if (n, m) not in runs:
                continue
            parts = [f"{m}/{base} = {med(n, m, 0) / med(n, base, 0):.2f}" for base in "ab" if (n, base) in runs]
            line = f"{n:>8} rows: " + "   ".join(parts)
            if (n, "b") in runs:
                cb = med(n, m, 0) / med(n, "b", 0)
                line += f"   (target {m}/b <= 1.10: {'met' if cb <= 1.10 else 'MISSED'})"
                ok = ok and cb <= 1.10
            print(line)
    for m in "cd":
        if (small, m) in runs and (rows, m) in runs:
            rss_small = max(r[3] for r in runs[(small, m)])
            rss_big = max(r[3] for r in runs[(rows, m)])
            ratio = rss_big / rss_small
            print(f"mighost ({m}) peak RSS: {rss_small / 1024:.1f} MB at {small} rows, {rss_big / 1024:.1f} MB"
                  f" at {rows} rows: ratio {ratio:.2f} (target <= 1.20: {'met' if ratio <= 1.20 else 'MISSED'})")
            ok = ok and ratio <= 1.20
    print("all targets met" if ok else "a target was missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
