#!/usr/bin/env python3
"""Prints the install benchmark's table and checks aloft-agent's targets.

Usage: report.py RESULTS.tsv SIZE_MIB...
RESULTS.tsv rows (from run_install.sh): size tool run wall_s user_s sys_s hwm_kib peak_rss_kib
peak_anon_kib. With several runs per tool and size, every figure is the median of the runs.
Exit status 1 if aloft-agent misses a target (time and CPU below swupdate's and rauc's, peak
anonymous memory <= 8 MiB, peak RSS <= 16 MiB, at every size).
"""
import statistics
import sys

TOOLS = [
    ("aloft", "aloft-agent check (HTTPS)"),
    ("dd", "dd bs=1M fsync (copy floor)"),
    ("stream", "zstd|tee sha256|dd (stream floor)"),
    ("swupdate", "swupdate -i .swu"),
    ("rauc", "rauc install (service)"),
]
ANON_TARGET_MIB = 8
RSS_TARGET_MIB = 16


def main():
    path, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
    runs = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) != 9:
            continue
        size, tool = int(f[0]), f[1]
        wall, user, sys_, hwm, rss, anon = map(float, f[3:])
        runs.setdefault((size, tool), []).append(
            {"wall": wall, "cpu": user + sys_, "user": user, "sys": sys_,
             "rss": rss / 1024, "anon": anon / 1024})
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} | {"n": len(v)}
           for k, v in runs.items()}

    print("Install of a zstd image of real binaries into a preallocated file slot, fsync included")
    print("(median of runs; CPU = user+sys; RSS/anon = peak MiB; ratios = aloft / other: < 1 is better)")
    header = (f"{'size':>5} {'tool':34} {'wall s':>7} {'CPU s':>7} {'user':>6} {'sys':>6} "
              f"{'peak RSS':>8} {'peak anon':>9}  {'wall ratio':>10} {'CPU ratio':>9}")
    print(header)
    print("-" * len(header))
    ok = True
    failures = []
    for size in sizes:
        a = med.get((size, "aloft"))
        for tool, label in TOOLS:
            m = med.get((size, tool))
            if m is None:
                print(f"{size:>4}M {label:34} {'(did not run; see the log above)':>40}")
                continue
            ratio_wall = ratio_cpu = ""
            if a is not None and tool != "aloft" and m["wall"] > 0 and m["cpu"] > 0:
                ratio_wall = f"{a['wall'] / m['wall']:.2f}x"
                ratio_cpu = f"{a['cpu'] / m['cpu']:.2f}x"
            print(f"{size:>4}M {label:34} {m['wall']:7.2f} {m['cpu']:7.2f} {m['user']:6.2f} "
                  f"{m['sys']:6.2f} {m['rss']:8.1f} {m['anon']:9.1f}  {ratio_wall:>10} {ratio_cpu:>9}")
        if a is None:
            continue
        for other in ("swupdate", "rauc"):
            o = med.get((size, other))
            if o is None:
                failures.append(f"{size} MiB: no {other} figure to compare with")
                continue
            if a["wall"] >= o["wall"]:
                failures.append(f"{size} MiB: install time {a['wall']:.2f} s is not below {other}'s {o['wall']:.2f} s")
            if a["cpu"] >= o["cpu"]:
                failures.append(f"{size} MiB: CPU {a['cpu']:.2f} s is not below {other}'s {o['cpu']:.2f} s")
        if a["anon"] > ANON_TARGET_MIB:
            failures.append(f"{size} MiB: peak anonymous memory {a['anon']:.1f} MiB > {ANON_TARGET_MIB} MiB")
        if a["rss"] > RSS_TARGET_MIB:
            failures.append(f"{size} MiB: peak RSS {a['rss']:.1f} MiB > {RSS_TARGET_MIB} MiB")
        print()

    measured = [s for s in sizes if (s, "aloft") in med]
    if len(measured) >= 2:
        lo, hi = med[(measured[0], "aloft")], med[(measured[-1], "aloft")]
        print(f"aloft-agent memory from {measured[0]} MiB to {measured[-1]} MiB: peak RSS "
              f"{lo['rss']:.1f} -> {hi['rss']:.1f} MiB, peak anon {lo['anon']:.1f} -> {hi['anon']:.1f} MiB")
    for size in measured:
        a = med[(size, "aloft")]
        mib_s = size / a["wall"] if a["wall"] > 0 else 0
        print(f"aloft-agent {size} MiB: {mib_s:.0f} MiB/s of image, "
              f"{a['cpu'] * 1000 / size:.1f} ms CPU per MiB")
    if failures:
        ok = False
        print("\nTargets missed:")
        for f in failures:
            print(f"  - {f}")
    else:
        print("\nTargets met at every size: less time and CPU than swupdate and rauc, "
              f"peak anon <= {ANON_TARGET_MIB} MiB, peak RSS <= {RSS_TARGET_MIB} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
