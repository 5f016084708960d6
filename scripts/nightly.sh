#!/usr/bin/env bash
# The nightly job, for cron:
#
#   scripts/nightly.sh ACCOUNTS BASE_DIR [extra `sybilscan run` flags, e.g. --reviews r.csv --bids b.csv]
#
# Each run writes BASE_DIR/runs/<UTC date>T<time>/ and reads, when they exist, the last successful run
# (BASE_DIR/latest, for stable cluster ids and changes.csv) and the reviewers' decisions
# (BASE_DIR/decisions.csv, written by `sybilscan decide`). `flock` keeps two runs from overlapping (a second
# one exits 75 at once). The run writes into a `.partial` directory; only on success is it renamed and is
# `latest` switched to it, atomically, so `latest` always points at a complete run. The exit code is the
# run's (0 ok, 3 input, 4 config, 5 output, 1 bug; see README), or 75 when another run holds the lock.
set -uo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 ACCOUNTS BASE_DIR [sybilscan run flags...]" >&2
  exit 2
fi
accounts="$1"
base="$2"
shift 2
bin="${SYBILSCAN:-sybilscan}"
mkdir -p "$base/runs" || exit 5
exec 9>"$base/.lock"
if ! flock -n 9; then
  echo "nightly: another run holds $base/.lock; not starting" >&2
  exit 75
fi
stamp="$(date -u +%Y-%m-%dT%H%M%S)"
out="$base/runs/$stamp"
# An export with more than half of its rows quarantined is a broken export, not a night's data: the run stops
# (exit 3, quarantine.csv in the .partial directory) and `latest` stays on the last good run. A flag given
# after BASE_DIR, or SYBILSCAN_MAX_QUARANTINED_SHARE, sets another share (1 never stops).
args=(run --accounts "$accounts" --out "$out.partial" --run-date "${stamp%%T*}"
  --max-quarantined-share "${SYBILSCAN_MAX_QUARANTINED_SHARE:-0.5}")
if [ -e "$base/latest/clusters.csv" ]; then
  args+=(--previous "$base/latest")
fi
if [ -f "$base/decisions.csv" ]; then
  args+=(--decisions "$base/decisions.csv")
fi
"$bin" "${args[@]}" "$@"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "nightly: sybilscan exited $rc; $out.partial kept for inspection, latest unchanged" >&2
  exit "$rc"
fi
mv "$out.partial" "$out" || exit 5
ln -sfn "runs/$stamp" "$base/latest.new" && mv -T "$base/latest.new" "$base/latest" || exit 5
echo "nightly: $out (latest)" >&2
