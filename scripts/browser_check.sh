#!/usr/bin/env bash
# Opens the fixture run's review.html in headless Chromium (Debian package `chromium`), checks the DOM the
# browser built (every queued cluster present, the hostile names rendered as text, no script but the page's
# own), and takes the screenshot the README shows (docs/review.png). Not part of `cargo test`:
#
#   scripts/browser_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sybilscan-target}"
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "needs chromium (apt-get install chromium)" >&2; exit 2; }
cargo build --release --locked >&2
bin="$CARGO_TARGET_DIR/release/sybilscan"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp fixtures/marketplace/accounts.csv "$work/accounts.csv"
cat >> "$work/accounts.csv" <<'CSV'
xs1,freelancer,active,2023-01-01,<img src=x onerror=alert(1)>,,mallory.x@example.org,+1 415 555 0199,US,,,,d-mallory,198.51.100.7
xs2,freelancer,active,2024-01-01,</script><script>alert(2)</script>,,mallory.x@example.org,+1 415 555 0199,US,,,,d-mallory,198.51.100.7
CSV
"$bin" run --accounts "$work/accounts.csv" --reviews fixtures/marketplace/reviews.csv --out "$work/out" \
  --run-date 2026-11-26 --log warn >&2
page="file://$work/out/review.html"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --user-data-dir="$work/profile")
"$browser" "${flags[@]}" --dump-dom "$page" > "$work/dom.html" 2>/dev/null
python3 - "$work/dom.html" "$work/out/review_queue.csv" <<'PY'
import csv, sys
dom = open(sys.argv[1], encoding="utf-8").read()
queued = [r["cluster_id"] for r in csv.DictReader(open(sys.argv[2])) if r["cluster_id"].startswith("C")]
sections = dom.count('<section class="cluster"')
assert sections == len(queued), (sections, queued)
for c in queued:
    assert f'id="{c}"' in dom, c
assert "&lt;img src=x onerror=alert(1)&gt;" in dom, "hostile name not shown as text"
assert "<img" not in dom, "an <img> element was created"
assert dom.count("<script") == 1, "a script was injected"
print(f"browser check: {sections} clusters in the DOM, hostile names inert, one script")
PY
mkdir -p docs
"$browser" "${flags[@]}" --window-size=1280,1400 --screenshot="docs/review.png" "$page" 2>/dev/null
echo "screenshot: docs/review.png" >&2
