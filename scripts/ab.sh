#!/usr/bin/env bash
# Compares two sybilscan binaries on the same generated data, their runs alternated (A B A B …), because on a
# shared or virtual machine the speed of the whole machine drifts by a quarter within minutes (see BENCHMARKS.md,
# session 12): only runs taken side by side compare. Prints each run and the means of both binaries, and checks
# that the two give the same output files.
# Usage: scripts/ab.sh [-n PAIRS] [-s SIZE] [-p PROFILE] BIN_A BIN_B   (defaults: 3 pairs, 1000000, default)
# Data: $BENCH_DIR (default /tmp/sybilscan-bench) as scripts/bench.sh leaves it; generated with BIN_A if missing.
# Needs GNU time at /usr/bin/time.
set -euo pipefail
pairs=3 size=1000000 profile=default
while getopts "n:s:p:" o; do
  case "$o" in
    n) pairs=$OPTARG ;;
    s) size=$OPTARG ;;
    p) profile=$OPTARG ;;
    *) echo "usage: $0 [-n PAIRS] [-s SIZE] [-p PROFILE] BIN_A BIN_B" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-n PAIRS] [-s SIZE] [-p PROFILE] BIN_A BIN_B" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "need /usr/bin/time (apt-get install time)" >&2; exit 2; }
bins=("$1" "$2")
# shellcheck source=bench_data.sh
. "$(dirname "$0")/bench_data.sh"
bench_data "${bins[0]}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
results="$scratch/results.tsv"
for ((k = 0; k < pairs; k++)); do
  for side in 0 1; do
    out="$scratch/out-$side"
    rm -rf "$out"
    drop_cached "$data"/*.csv
    /usr/bin/time -f "%e %U %S %M" -o "$scratch/time" "${bins[$side]}" run --accounts "$data/accounts.csv" \
      "${reviews[@]}" --out "$out" --log warn >/dev/null 2>&1
    python3 - "$side" "$out/summary.json" "$scratch/time" >> "$results" <<'PY'
import json, sys
side, summary, timing = sys.argv[1:]
wall, user, sys_, rss = open(timing).read().split()
t = json.load(open(summary))["timings_seconds"]
print("\t".join([side, wall, f"{float(user) + float(sys_):.1f}", rss,
                 *(f"{t.get(k, 0):.2f}" for k in ["load_normalize", "block", "compare", "estimate", "score", "report"])]))
PY
    tail -1 "$results" | awk -F'\t' -v name="$(basename "${bins[$side]}")" \
      '{printf "%-24s wall %6.2f s  cpu %6.1f s  rss %9d KB  load %s block %s compare %s estimate %s score %s report %s\n", name, $2, $3, $4, $5, $6, $7, $8, $9, $10}'
  done
  for f in "$scratch"/out-0/*.csv "$scratch"/out-0/model.json; do
    cmp -s "$f" "$scratch/out-1/$(basename "$f")" || echo "outputs differ: $(basename "$f")"
  done
done
python3 - "$results" "$(basename "${bins[0]}")" "$(basename "${bins[1]}")" <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
names = sys.argv[2:]
cols = ["wall", "cpu", "rss KB", "load", "block", "compare", "estimate", "score", "report"]
for side in "01":
    mine = [list(map(float, r[1:])) for r in rows if r[0] == side]
    means = [sum(c) / len(c) for c in zip(*mine)]
    print(f"mean {names[int(side)]:<19} " + "  ".join(f"{n} {m:,.2f}" for n, m in zip(cols, means)))
PY
