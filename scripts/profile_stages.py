"""Splits perf samples of one run by the run's log lines (scripts/profile.sh).

Usage: profile_stages.py SAMPLES LOG HZ TOP
SAMPLES: `perf script -F tid,time,ip,sym` of a run recorded with `-k CLOCK_REALTIME` and call stacks.
LOG: the run's `--log debug` lines (RFC 3339 timestamps first). For each stretch between two log lines (the
first from the first sample), prints its wall seconds, the CPU seconds sampled in it and their ratio (cores
busy), and the TOP functions the samples were in: the innermost sybilscan function of each stack, or the
leaf when none is (the kernel zeroing fresh pages, libc's copies).
"""

import collections
import datetime
import re
import sys


def log_times(path):
    out = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z\s+\w+\s+(.*)", line)
        if not m:
            continue
        stamp = datetime.datetime.strptime(m.group(1)[:26], "%Y-%m-%dT%H:%M:%S.%f")
        stamp = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
        out.append((stamp, m.group(2)[:60]))
    return out


def samples(path):
    """(time, frames innermost first) of each sample."""
    text = open(path, encoding="utf-8", errors="replace").read()
    for block in text.split("\n\n"):
        lines = [l.strip() for l in block.strip().split("\n") if l.strip()]
        if len(lines) < 2:
            continue
        head = re.match(r"(\d+)\s+([\d.]+):", lines[0])
        if not head:
            continue
        frames = [re.sub(r"^[0-9a-f]+ |\+0x[0-9a-f]+$", "", l) for l in lines[1:]]
        yield float(head.group(2)), frames


def owner(frames):
    """The innermost named sybilscan function (closures and call shims skipped), else the leaf."""
    for f in frames:
        if "sybilscan::" in f and "{closure" not in f and "call_mut" not in f:
            return re.sub(r"\s*\(inlined\)$", "", f)[:80]
    return frames[0][:80] if frames else "?"


def main():
    samples_path, log_path, hz, top = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    taken = sorted(samples(samples_path))
    events = log_times(log_path)
    if not taken or not events:
        sys.exit("no samples or no log lines")
    bounds = [(taken[0][0], "start")] + events
    at = 0
    total_wall = total_cpu = 0.0
    for (start, _), (end, what) in zip(bounds, bounds[1:]):
        who = collections.Counter()
        n = 0
        while at < len(taken) and taken[at][0] < end:
            if taken[at][0] >= start:
                who[owner(taken[at][1])] += 1
                n += 1
            at += 1
        wall, cpu = end - start, n / hz
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        busy = cpu / wall if wall > 0 else 0.0
        print(f"{wall:6.2f} s wall {cpu:6.2f} s CPU ({busy:.2f}x)  until: {what}")
        for name, k in who.most_common(top):
            print(f"        {k / hz:6.2f} s  {name}")
    print(f"{total_wall:6.2f} s wall {total_cpu:6.2f} s CPU in all")


if __name__ == "__main__":
    main()
