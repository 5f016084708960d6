#!/usr/bin/env python3
"""Small exports: random subsets of accounts of the sets scripts/accuracy.sh already wrote, with their truth.

    scripts/small_sets.py WORK_DIR SIZES SEEDS   (e.g. 300,1000 1,2,3)

For every public set (WORK_DIR/public/*) and generated set (WORK_DIR/gen/default, random-*) larger than a
size, and every seed, writes WORK_DIR/small/<set>-<size>-<seed>/accounts.csv (that many rows drawn at random,
in file order) and truth.csv (their rows of the set's truth), and prints `<set> <public|generator> <size> <dir>`
per subset. An analyst's ad-hoc export is this shape: a few hundred accounts, few pairs of one person, and the
model estimated from them. Nothing here knows sybilscan's matcher.
"""
import csv
import os
import random
import sys


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def main():
    work, sizes, seeds = sys.argv[1], sys.argv[2], sys.argv[3]
    sizes = [int(s) for s in sizes.split(",")]
    seeds = [int(s) for s in seeds.split(",")]
    sets = [("public", os.path.join(work, "public", n)) for n in sorted(os.listdir(os.path.join(work, "public")))]
    gen = os.path.join(work, "gen")
    sets += [("generator", os.path.join(gen, n)) for n in sorted(os.listdir(gen))
             if n == "default" or n.startswith("random-")]
    for group, d in sets:
        name = os.path.basename(d)
        header, rows = read(os.path.join(d, "accounts.csv"))
        theader, truth = read(os.path.join(d, "truth.csv"))
        for size in sizes:
            if size >= len(rows):
                continue
            for seed in seeds:
                keep = sorted(random.Random(seed).sample(range(len(rows)), size))
                ids = {rows[i][0] for i in keep}
                out = os.path.join(work, "small", f"{name}-{size}-{seed}")
                os.makedirs(out, exist_ok=True)
                write(os.path.join(out, "accounts.csv"), header, [rows[i] for i in keep])
                write(os.path.join(out, "truth.csv"), theader, [t for t in truth if t[0] in ids])
                print(name, group, size, out)


if __name__ == "__main__":
    main()
