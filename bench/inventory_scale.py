#!/usr/bin/env python3
"""What the inventory costs at scale: the 2,000-account fakeaws organization scanned into
SQLite with the inventory (the default) and without it (`--no-inventory`), in turns.

    python3 bench/inventory_scale.py [--runs 5] [--accounts 2000] [--census BIN --fakeaws BIN]
                                     [--no-write]

Each run starts `fakeaws --accounts N --latency-ms 50` (the scale fixture of
bench/scan_scale.py: Organizations, STS and four list calls in 4 regions) and runs

    census scan --org -s bench/scans/scale4.json --regions <4 regions> -o DIR [--no-inventory]

(release builds, DIR on the disk). Runs alternate between the two modes so that the
machine's drift hits both alike. Recorded per run: wall time, peak RSS (GNU time) and CPU (wait4
rusage), the finish phase (wall time after fakeaws's last list answer: where the links
are resolved), and from census.db the inventory and links rows. Every run is checked: exit
0, N x 16 calls, none failed; with the inventory, one inventory row per resource row of the
list calls, and none without it.

The "## Inventory at scale: fakeaws" section of BENCHMARKS.md is rewritten with the
medians. Targets (issue 13): building the inventory and links costs at most 10% of the
scan's wall time (median with / median without), peak RSS under 150 MB.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_moto import clean_env, machine, run_measured, scan_dir, write_section  # noqa: E402
from scan_scale import REGIONS, SCAN_FILE, FakeAws, build  # noqa: E402

SECTION = "Inventory at scale: fakeaws"
MODES = [("inventory", []), ("--no-inventory", ["--no-inventory"])]


def one_run(census, fakeaws, accounts, flags):
    fa = FakeAws(fakeaws, accounts)
    out = tempfile.mkdtemp(prefix="census-inventory-", dir=tempfile.gettempdir())
    try:
        cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS), "-o", out, *flags]
        t0 = fa.stats()["uptime_s"]
        with open(os.path.join(out, ".census.log"), "w") as log:
            code, wall, rss, cpu = run_measured(cmd, clean_env(fa.url), stdout=log, stderr=log)
        ops = fa.stats()["by_operation"]
        last = max(v["last_s"] for k, v in ops.items() if not k.startswith(("organizations ", "sts ")))
        totals = json.load(open(os.path.join(scan_dir(out), "summary.json")))["totals"]
        expected = accounts * len(REGIONS) * len(json.load(open(SCAN_FILE)))
        db = sqlite3.connect(os.path.join(out, "census.db"))
        inventory = db.execute("SELECT count(*) FROM inventory").fetchone()[0]
        links = db.execute("SELECT count(*) FROM links").fetchone()[0]
        resolved = db.execute("SELECT count(*) FROM links WHERE to_arn IS NOT NULL").fetchone()[0]
        resources = db.execute("SELECT count(*) FROM resources").fetchone()[0]
        db.close()
        want_rows = 0 if flags else resources
        if code != 0 or totals["calls"] != expected or totals["calls_failed"] or inventory != want_rows:
            raise SystemExit(
                f"{accounts} accounts {flags}: exit {code}, {totals['calls']} calls "
                f"({totals['calls_failed']} failed), {inventory} inventory rows for {resources} "
                f"resources; expected {expected} calls; see {out}"
            )
        return dict(
            wall=wall,
            rss=rss,
            cpu=cpu,
            finish=wall - (last - t0),
            calls=totals["calls"],
            inventory=inventory,
            links=links,
            resolved=resolved,
            resources=resources,
        )
    finally:
        fa.stop()
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    census, fakeaws = (args.census, args.fakeaws) if args.census and args.fakeaws else build()

    runs = {name: [] for name, _ in MODES}
    for i in range(args.runs):
        for name, flags in MODES if i % 2 == 0 else reversed(MODES):
            r = one_run(census, fakeaws, args.accounts, flags)
            runs[name].append(r)
            print(
                f"run {i + 1} {name}: wall {r['wall']:.1f}s, finish {r['finish']:.2f}s, "
                f"RSS {r['rss']:.0f} MB, CPU {r['cpu']:.1f}s, {r['inventory']:,} inventory rows, "
                f"{r['links']:,} links ({r['resolved']:,} resolved)",
                file=sys.stderr,
            )

    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    with_inv, without = med["inventory"], med["--no-inventory"]
    ratio = with_inv["wall"] / without["wall"]
    rows = []
    for name, _ in MODES:
        m = med[name]
        walls = ", ".join(f"{r['wall']:.1f}" for r in runs[name])
        rows.append(
            f"| {name} | {args.accounts:,} | {m['calls']:,.0f} | {m['inventory']:,.0f} | {m['links']:,.0f} | "
            f"{m['wall']:.1f} s | {walls} | **{m['wall'] / without['wall']:.3f}x** | {m['finish']:.2f} s | "
            f"**{m['rss']:.0f} MB** | {m['cpu']:.1f} s |"
        )
    load = os.getloadavg()
    max_rss = max(r["rss"] for rs in runs.values() for r in rs)
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended (other builds share the machine).",
            f"Command: `python3 bench/inventory_scale.py --runs {args.runs} --accounts {args.accounts}`: "
            f"`fakeaws --accounts {args.accounts} --latency-ms 50` and `census scan --org -s bench/scans/scale4.json "
            f"--regions {','.join(REGIONS)} -o DIR` with the default SQLite store on the disk, with the inventory "
            "(default) and with `--no-inventory`, in turns (release builds). Medians of the runs. Every run checked: "
            "exit 0, all calls ok, one inventory row per list item (none with `--no-inventory`).",
            "Finish: census's wall time after fakeaws's last list answer (summary, totals and the links resolved "
            "across the scan). The fixture's items (VPCs, queue URLs, table names, topics) name few other "
            "resources: the links measured are the VPCs' own members.",
            "Targets (issue 13): the inventory and links cost at most 10% of the scan's wall time; peak RSS under 150 MB.",
            "",
            "| store | accounts | calls | inventory rows | links | wall | runs | vs --no-inventory | finish | peak RSS | census CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Inventory cost: {ratio:.3f}x the wall time without it ({(ratio - 1) * 100:+.1f}%): "
            f"{'held' if ratio <= 1.10 else 'NOT held'}; CPU {with_inv['cpu']:.1f} s vs {without['cpu']:.1f} s.",
            f"Peak RSS: max {max_rss:.0f} MB: {'held' if max_rss < 150 else 'NOT held'}.",
            f"Spread: walls {min(r['wall'] for r in runs['inventory']):.1f}-{max(r['wall'] for r in runs['inventory']):.1f} s "
            f"with the inventory, {min(r['wall'] for r in runs['--no-inventory']):.1f}-"
            f"{max(r['wall'] for r in runs['--no-inventory']):.1f} s without: a ratio inside that spread is the "
            f"machine's noise. The finish phase (the links resolved) took {with_inv['finish']:.2f} s with the "
            f"inventory and {without['finish']:.2f} s without.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
