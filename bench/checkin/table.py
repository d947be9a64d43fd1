#!/usr/bin/env python3
"""The figures of bench/run_checkin.sh.

  table.py wrk WRK_OUTPUT NAME SERVER_CPU_US   wrk's output (wrk_tokens.lua's JSON line) as
                                               aloft-load's JSON, on stdout
  table.py table WORKDIR [EXTRA_ROW...]        the side-by-side table from WORKDIR/<row>.json
                                               (or WORKDIR/run*/<row>.json: each figure's
                                               median over the runs, errors summed), the
                                               ratios and PASS/FAIL against issue 3's
                                               targets. Exit 0: all met; 1: a target missed;
                                               2: a run is missing or had errors.
"""
import glob
import json
import os
import statistics
import sys

ROWS = ["aloftd-https", "nginx-https", "aloftd-http", "nginx-http",
        "aloftd-handshake", "nginx-handshake"]


def from_wrk(path, name, cpu_us):
    line = next(l for l in open(path) if l.startswith("WRK_JSON "))
    w = json.loads(line[len("WRK_JSON "):])
    seconds = w["duration_us"] / 1e6
    requests = w["requests"]
    errors = w["status_errors"] + w["transport_errors"]
    return {"label": name, "mode": "wrk keepalive", "seconds": seconds, "requests": requests,
            "rps": requests / seconds, "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000,
            "p999_ms": w["p999_us"] / 1000, "errors": errors,
            "cpu_us_per_request": cpu_us / requests if requests else -1}


MEDIAN_KEYS = ("rps", "p50_ms", "p99_ms", "p999_ms", "cpu_us_per_request", "server_cores")
SUM_KEYS = ("errors", "resumed", "requests")


def combine(runs):
    """One row from the same row's repeated runs: medians of the figures, sums of the counts."""
    row = dict(runs[0])
    for key in MEDIAN_KEYS:
        if all(key in r for r in runs):
            row[key] = statistics.median(r[key] for r in runs)
    for key in SUM_KEYS:
        if any(key in r for r in runs):
            row[key] = sum(r.get(key, 0) for r in runs)
    row["runs"] = len(runs)
    return row


def load_rows(workdir, names):
    dirs = sorted(glob.glob(os.path.join(workdir, "run*"))) or [workdir]
    rows = {}
    for name in names:
        runs = [json.load(open(p)) for p in (os.path.join(d, name + ".json") for d in dirs)
                if os.path.exists(p)]
        if runs:
            rows[name] = combine(runs)
    return rows


def table(workdir, extra):
    rows = load_rows(workdir, ROWS + extra)
    print(f"{'run':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
          f"{'CPU us/req':>11} {'errors':>7}")
    for name in ROWS + extra:
        r = rows.get(name)
        if r is None:
            print(f"{name:<20} (did not run)")
            continue
        cpu = f"{r['cpu_us_per_request']:.1f}" if r["cpu_us_per_request"] >= 0 else "-"
        print(f"{name:<20} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['p999_ms']:>9.2f} {cpu:>11} {r['errors']:>7}")

    print("\nRatios and targets (issue 3)")
    missed = False
    broken = any(name not in rows for name in ROWS)

    def verdict(ok, text):
        nonlocal missed
        missed |= not ok
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")

    for proto in ("https", "http"):
        a, n = rows.get(f"aloftd-{proto}"), rows.get(f"nginx-{proto}")
        if not a or not n:
            continue
        cpu = a["cpu_us_per_request"] / n["cpu_us_per_request"]
        thr = a["rps"] / n["rps"]
        verdict(cpu <= 2.0, f"{proto}: CPU per check-in {a['cpu_us_per_request']:.1f} us = "
                f"{cpu:.2f}x nginx's per static request ({n['cpu_us_per_request']:.1f} us); target <= 2x")
        verdict(thr >= 0.5, f"{proto}: throughput {a['rps']:.0f}/s = {thr:.2f}x nginx's "
                f"({n['rps']:.0f}/s); target >= 0.5x")
        verdict(a["p99_ms"] < 10, f"{proto}: aloftd p99 {a['p99_ms']:.2f} ms at "
                f"{a['connections']} connections; target < 10 ms")
        verdict(a["errors"] == 0 and n["errors"] == 0,
                f"{proto}: errors aloftd {a['errors']}, nginx {n['errors']}; target 0")
    a, n = rows.get("aloftd-handshake"), rows.get("nginx-handshake")
    if a and n:
        # A full TLS 1.3 handshake costs OpenSSL 3.0's client about twice what it costs the
        # server (certificate verification, and the library's locking and allocation), so one
        # load generator core cannot keep a server core busy: the servers idle part of the time
        # and the observed rate is the load generator's. A server's own rate is then its CPU
        # per handshake turned around: handshakes per second of one busy core.
        saturated = min(a.get("server_cores", 1), n.get("server_cores", 1)) >= 0.9
        rate = f"observed {a['rps']:.0f}/s = {a['rps'] / n['rps']:.2f}x nginx's {n['rps']:.0f}/s"
        if saturated or a["cpu_us_per_request"] <= 0 or n["cpu_us_per_request"] <= 0:
            verdict(a["rps"] >= n["rps"], f"full TLS 1.3 handshakes/s: {rate}; target >= 1x")
        else:
            ca, cn = 1e6 / a["cpu_us_per_request"], 1e6 / n["cpu_us_per_request"]
            verdict(ca >= cn, f"full TLS 1.3 handshakes/s per server core: aloftd {ca:.0f} = "
                    f"{ca / cn:.2f}x nginx's {cn:.0f} (1e6 / CPU us per handshake; target >= 1x)")
            print(f"        ({rate}, bound by the load generator: servers "
                  f"{a['server_cores']:.2f} and {n['server_cores']:.2f} cores busy)")
        verdict(a["errors"] == 0 and n["errors"] == 0 and a.get("resumed", 0) == 0,
                f"handshakes: errors aloftd {a['errors']}, nginx {n['errors']}; resumed "
                f"sessions {a.get('resumed', 0) + n.get('resumed', 0)}; target 0")
    for name, r in rows.items():
        if r["errors"]:
            broken = True
            print(f"  ERROR {name}: {r['errors']} errors")
    if broken:
        return 2
    return 1 if missed else 0


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "wrk":
        print(json.dumps(from_wrk(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "table":
        return table(sys.argv[2], sys.argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
