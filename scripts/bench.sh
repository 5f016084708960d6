#!/usr/bin/env bash
# Times whole `sybilscan run`s on generated data and writes BENCHMARKS.md.
# Usage: scripts/bench.sh [SIZES...]   (default: 1000000 10000000)
# Each size runs with every generator profile in BENCH_PROFILES (default: "default dense"; `dense` is many IPs
# per account, carrier NAT, dense /24 ranges and shared office devices).
# BENCH_RUNS=N (default 1) times each size and profile N times, one after the other: the row then shows the
# median wall time with the fastest and slowest run, the median run's CPU seconds, memory speed and stage
# seconds, and the largest peak RSS of all N (this VM's spells move one binary's wall time by a quarter).
# Needs GNU time at /usr/bin/time (Debian package `time`) for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sybilscan-target}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
[ -x /usr/bin/time ] || { echo "need /usr/bin/time (apt-get install time)" >&2; exit 2; }
[[ "${BENCH_RUNS:-1}" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a whole number of runs, 1 or more" >&2; exit 2; }
cargo build --release --locked >&2
bin="$CARGO_TARGET_DIR/release/sybilscan"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/sybilscan-bench}"
mkdir -p "$work"
read -r -a profiles <<< "${BENCH_PROFILES:-default dense}"
# How fast this machine hands out memory never touched before, just before each run (MB/s, first touch of 512 MiB
# in huge pages). Under a hypervisor that takes freed guest memory back (free page reporting, as on Firecracker),
# it moves from a few hundred MB/s to several GB/s with what ran before, and a run's wall time with it: the
# column says which spell a row was measured in.
fresh_mb_s() {
  python3 - <<'PY'
import mmap, time
n = 512 << 20
t = time.perf_counter()
m = mmap.mmap(-1, n)
if hasattr(mmap, "MADV_HUGEPAGE"):
    m.madvise(mmap.MADV_HUGEPAGE)
for i in range(0, n, 4096):
    m[i] = 1
print(f"{(n >> 20) / (time.perf_counter() - t):,.0f}")
PY
}
# shellcheck source=bench_data.sh
. scripts/bench_data.sh
rows=()
for n in "${sizes[@]}"; do
for profile in "${profiles[@]}"; do
  if [ "$profile" = default ]; then tag="$n"; else tag="$profile-$n"; fi
  data="$work/gen-$tag"; out="$work/out-$tag"
  if [ ! -f "$data/accounts.csv" ]; then
    gen_start=$(date +%s.%N)
    "$bin" generate --accounts "$n" --seed 42 --profile "$profile" --out "$data" >&2
    gen_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$gen_start" "$(date +%s.%N)")
  else
    gen_s="(cached)"
  fi
  runs="${BENCH_RUNS:-1}"
  measured=()
  for ((k = 1; k <= runs; k++)); do
    fresh=$(fresh_mb_s)
    drop_cached "$data"/*.csv
    /usr/bin/time -v -o "$work/time-$tag.txt" "$bin" run --accounts "$data/accounts.csv" --reviews "$data/reviews.csv" \
      --out "$out" --log warn >&2
    cp "$out/summary.json" "$out/summary-run-$k.json"
    wall=$(grep "Elapsed (wall clock)" "$work/time-$tag.txt" | awk '{print $NF}')
    rss_kb=$(grep "Maximum resident set size" "$work/time-$tag.txt" | awk '{print $NF}')
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/time-$tag.txt")
    measured+=("$k $wall $rss_kb $cpu $fresh")
    echo "run $k of $runs: $wall wall, $cpu CPU s, $rss_kb KB" >&2
  done
  "$bin" evaluate --truth "$data/truth.csv" --clusters "$out/clusters.csv" --json "$out/evaluation.json" > /dev/null
  row=$(python3 - "$out" "$n" "$gen_s" "$profile" "${measured[@]}" <<'PY'
import json, sys
out, n, gen_s, profile = sys.argv[1:5]
def seconds(wall):
    return sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall.split(":"))))
runs = []
for m in sys.argv[5:]:
    k, wall, rss_kb, cpu, fresh = m.split()
    runs.append({"k": k, "secs": seconds(wall), "rss_kb": int(rss_kb), "cpu": cpu, "fresh": fresh})
# The median run (the lower middle one of an even count) stands for the row; the peak is the largest of all.
by_time = sorted(runs, key=lambda r: r["secs"])
mid = by_time[(len(by_time) - 1) // 2]
wall = f"{mid['secs']:.1f}"
if len(runs) > 1:
    wall += f" ({by_time[0]['secs']:.1f}–{by_time[-1]['secs']:.1f}, {len(runs)} runs)"
rss_kb = max(r["rss_kb"] for r in runs)
s = json.load(open(f"{out}/summary-run-{mid['k']}.json")); e = json.load(open(f"{out}/evaluation.json"))
t = s["timings_seconds"]; secs = mid["secs"]
pairs = s["blocking"]["candidate_pairs"]
fm = e["false_merges_by_scenario"]
def rate(k): return f'{fm[k]["rate"]*100:.2f}%' if k in fm else "n/a"
stages = " / ".join(f"{t.get(k, 0):.1f}" for k in ["load_normalize", "side_files", "block", "compare", "estimate", "score", "cluster", "policy", "report"])
floor = t.get("load_read", 0)
print(f"| {int(n):,} | {profile} | {gen_s} | {wall} | {mid['cpu']} | {mid['fresh']} | {rss_kb/1048576:.2f} | {floor:.2f} ({secs/max(floor,1e-9):.0f}×) | {stages} | {pairs:,} | {pairs/max(t.get('compare', t['score']),1e-9):,.0f} "
      f"| {e['pairwise']['f1']:.4f} | {e['bcubed']['f1']:.4f} | {e['recall_by_scenario'].get('ban_evasion',{}).get('recall',0):.4f} "
      f"| {rate('household')} / {rate('coworking')} / {rate('agency')} |")
PY
)
  rows+=("$row")
  echo "$row" >&2
done
done
if [ "${BENCH_RUNS:-1}" -gt 1 ]; then
  runs_said="each row: ${BENCH_RUNS} runs in a row, the median wall time with the fastest and slowest, the median run's
CPU, memory speed and stages, the largest peak"
else
  runs_said="one run per row"
fi
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`${BENCH_RUNS:+BENCH_RUNS=$BENCH_RUNS }scripts/bench.sh ${sizes[*]}\` on $(date -u +%Y-%m-%d): $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), sybilscan $("$bin" --version | awk '{print $2}')."
  echo "Data: \`sybilscan generate --seed 42 --profile P\` (default scenario mix, reviews included). Wall time and peak RSS of"
  echo "\`sybilscan run\` from GNU time ($runs_said);"
  echo "stage seconds from summary.json; metrics from \`sybilscan evaluate\`. Fresh memory:"
  echo "how fast the machine handed out never-touched memory just before the run (see the notes: it sets the VM's spells)."
  echo "Read floor: the reader's own seconds reading the CSV and splitting it into records, without normalizing"
  echo "(\`load_read\` in summary.json; it overlaps the rest of loading), and how many times the floor the whole run took."
  echo "Every run starts with its input files dropped from the page cache (read from the disk, as a fresh export is)."
  echo
  echo "| accounts | profile | generate s | run wall s | CPU s (user + sys) | fresh memory MB/s | peak RSS GiB | read floor s (run ÷ floor) | load / side files / block / compare / estimate / score / cluster / policy / report s | candidate pairs | pairs/s (compare) | pairwise F1 | B-cubed F1 | ban-evasion recall | false merges household / coworking / agency |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
  if [ -f BENCHMARKS.notes.md ]; then echo; cat BENCHMARKS.notes.md; fi
} > BENCHMARKS.md
echo "wrote BENCHMARKS.md" >&2
