# Sourced by ab.sh and profile.sh: the generated data set of `$size` accounts and profile `$profile` as
# scripts/bench.sh leaves it under $BENCH_DIR (default /tmp/sybilscan-bench), generated with binary $1 when
# missing. Sets `work`, `tag` (SIZE or PROFILE-SIZE), `data` (its directory) and `reviews` (run's arguments).
bench_data() {
  work="${BENCH_DIR:-${TMPDIR:-/tmp}/sybilscan-bench}"
  if [ "$profile" = default ]; then tag="$size"; else tag="$profile-$size"; fi
  data="$work/gen-$tag"
  if [ ! -f "$data/accounts.csv" ]; then
    mkdir -p "$work"
    "$1" generate --accounts "$size" --seed 42 --profile "$profile" --out "$data" >&2
  fi
  reviews=()
  if [ -f "$data/reviews.csv" ]; then reviews=(--reviews "$data/reviews.csv"); fi
}
