#!/usr/bin/env bash
# Fuzzes the readers and normalizers with cargo-fuzz (libFuzzer; needs the nightly toolchain and
# `cargo install cargo-fuzz`):
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 seconds; targets row normalizers csv_file)
#
# Seed corpora come from the shipped fixtures. A crash stops the script with libFuzzer's report and leaves the
# input in fuzz/artifacts/TARGET/: turn it into a regression test, fix, rerun. Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(row normalizers csv_file)
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/sybilscan-fuzz-target}"
command -v cargo-fuzz >/dev/null || { echo "needs cargo-fuzz: cargo install cargo-fuzz" >&2; exit 2; }
mkdir -p corpus/row corpus/normalizers corpus/csv_file
if [ -z "$(ls -A corpus/csv_file)" ]; then
  for f in ../fixtures/*/accounts.csv; do
    tail -n +2 "$f" > "corpus/csv_file/$(basename "$(dirname "$f")")"
    i=0
    while IFS= read -r line && [ $i -lt 40 ]; do
      i=$((i + 1))
      printf '%s' "$line" | tr ',' '\037' > "corpus/row/$(basename "$(dirname "$f")")-$i"
      printf '%s' "$line" | cut -d, -f5,7,8,15 | tr ',' '\037' > "corpus/normalizers/$(basename "$(dirname "$f")")-$i"
    done < <(tail -n +2 "$f")
  done
fi
for t in "${targets[@]}"; do
  echo "== $t: ${secs}s" >&2
  cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 | tail -n 5
done
