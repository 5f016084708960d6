# Sourced by bench.sh, ab.sh and profile.sh: the generated data set of `$size` accounts and profile `$profile` as
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

# Drops the files given from the kernel's page cache (posix_fadvise DONTNEED), so that every timed run starts
# from the disk, as a fresh export does: on these guests whether an input happened to be cached moved a 1M run
# by ~1 s (the read floor 0.43 s cached, ~1 s not) and was one of the "spells" between runs of the same code.
drop_cached() {
  python3 - "$@" <<'PY'
import os, sys
for p in sys.argv[1:]:
    if os.path.isfile(p):
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
}
