#!/usr/bin/env bash
# Where a run's wall time goes, stage by stage: samples one `sybilscan run` with perf (wall-clock samples with
# their call stacks), then prints, for each stretch between two of the run's log lines, its wall seconds, the
# CPU seconds sampled in it (so how many cores were busy: a stage near 1.0x runs on one thread) and the
# functions the samples were in. Unlike callgrind's instruction counts this sees cache misses and serial
# stretches; unlike ab.sh it says where, not only how much.
#
#   scripts/profile.sh [-s SIZE] [-p PROFILE] [-n TOP] [-f HZ] [BIN]
#   (defaults: 1000000, default, 6 functions per stretch, 499 samples a second per core, the release build;
#   at ten million accounts -f 97 keeps perf.data near 300 MB)
#
# Data: $BENCH_DIR (default /tmp/sybilscan-bench) as scripts/bench.sh leaves it (generated if missing).
# Needs perf (Debian: linux-perf) and python3; keeps perf.data and the log under $BENCH_DIR/profile-*.
set -euo pipefail
cd "$(dirname "$0")/.."
size=1000000 profile=default top=6 hz=499
while getopts "s:p:n:f:" o; do
  case "$o" in
    s) size=$OPTARG ;;
    p) profile=$OPTARG ;;
    n) top=$OPTARG ;;
    f) hz=$OPTARG ;;
    *) echo "usage: $0 [-s SIZE] [-p PROFILE] [-n TOP] [-f HZ] [BIN]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
bin="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/sybilscan-target}/release/sybilscan}"
command -v perf >/dev/null || { echo "need perf (apt-get install linux-perf)" >&2; exit 2; }
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 2; }
# shellcheck source=bench_data.sh
. scripts/bench_data.sh
bench_data "$bin"
out="$work/profile-$tag"
mkdir -p "$out"
drop_cached "$data"/*.csv
# Wall-clock timestamps on the samples, so that they line up with the log's.
perf record -q -F "$hz" --call-graph dwarf,8192 -k CLOCK_REALTIME -o "$out/perf.data" \
  "$bin" run --accounts "$data/accounts.csv" "${reviews[@]}" --out "$out/run" --log debug \
  2> >(grep -v "EM iteration" > "$out/run.log") >/dev/null
perf script -i "$out/perf.data" -F tid,time,ip,sym 2>/dev/null > "$out/samples.txt"
python3 scripts/profile_stages.py "$out/samples.txt" "$out/run.log" "$hz" "$top"
