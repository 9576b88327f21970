#!/usr/bin/env python3
"""An organization scan at scale, against fakeaws: does census keep its throughput and
memory flat from 200 to 2,000 accounts?

    python3 bench/scan_scale.py [--runs 3] [--sizes 200,500,1000,2000] [--no-tmpfs]
                                [--extra-concurrency 256] [--no-write]

For each size N it starts `fakeaws --accounts N --latency-ms 50` (crates/fakeaws: the
organization, STS and four list calls on 127.0.0.1, every answer after 50 ms), runs

    census scan --org -s bench/scans/scale4.json --regions <4 regions> -o DIR

(release builds of both, `cargo build --release -p census` and `-p fakeaws`, honouring
CARGO_TARGET_DIR), and records the wall time, calls/s (summary.json's `totals.calls`
over the wall time), census's peak RSS (GNU time) and CPU (wait4 rusage), and where the time went,
from fakeaws's own record of when it answered each operation (`GET /_fakeaws/stats`):
discovery (start to the last Organizations answer: DescribeOrganization, ListAccounts,
the OU tree, ListTagsForResource per account) and the scan proper (first AssumeRole to
the last list call).

DIR is a folder on the disk (the system temp folder) and, unless --no-tmpfs, also one on
/dev/shm (tmpfs, where fsync costs nothing), so that the cost of writing the results
shows. --extra-concurrency adds runs of the largest size with `--concurrency C`.

Each run is checked: exit 0, N x 16 calls, none failed, one file per call. The
"## Scan at scale: fakeaws" section of BENCHMARKS.md is rewritten with the medians.
Targets (the scan issue): peak RSS under 150 MB; calls/s must not fall as the
organization grows from 200 to 2,000 accounts (here: the 2,000-account median at least
90% of the 200-account one).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_moto import ROOT, clean_env, machine, process_cpu, result_files, run_measured, scan_dir, write_section  # noqa: E402

SCAN_FILE = os.path.join(ROOT, "bench", "scans", "scale4.json")
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
LATENCY_MS = 50
SECTION = "Scan at scale: fakeaws"


def build():
    # One package at a time: built together, Cargo would unify their dependencies'
    # features and rebuild census differently from `cargo build --release -p census`.
    for package in ("census", "fakeaws"):
        subprocess.run(["cargo", "build", "--release", "-p", package], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "census"), os.path.join(target, "release", "fakeaws")


class FakeAws:
    """fakeaws on a loopback port: `flags` after `--accounts N` (by default this script's
    50 ms latency; `--aws-limits` for AWS-like limits)."""

    def __init__(self, binary, accounts, flags=("--latency-ms", str(LATENCY_MS))):
        # stdin is a pipe: fakeaws exits when it closes, even if this script dies.
        self.proc = subprocess.Popen(
            [binary, "--accounts", str(accounts), *flags, "--exit-on-eof"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.port = json.loads(self.proc.stdout.readline())["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/_fakeaws/stats", timeout=30) as r:
            return json.load(r)

    def cpu(self):
        """utime + stime of fakeaws so far, in seconds."""
        return process_cpu(self.proc.pid)

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def one_run(census, fakeaws, accounts, out_base, concurrency=None):
    fa = FakeAws(fakeaws, accounts)
    out = tempfile.mkdtemp(prefix="census-scale-", dir=out_base)
    try:
        cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS), "-o", out]
        if concurrency:
            cmd += ["--concurrency", str(concurrency)]
        t0 = fa.stats()["uptime_s"]
        log = open(os.path.join(out, ".census.log"), "w")
        code, wall, rss, cpu = run_measured(cmd, clean_env(fa.url), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        stats = fa.stats()
        scan = scan_dir(out)
        summary = json.load(open(os.path.join(scan, "summary.json")))
        totals = summary["totals"]
        files = result_files(scan)
        expected = accounts * len(REGIONS) * len(json.load(open(SCAN_FILE)))
        if code != 0 or totals["calls"] != expected or totals["calls_failed"] or files != expected:
            raise SystemExit(
                f"{accounts} accounts: exit {code}, {totals['calls']} calls "
                f"({totals['calls_failed']} failed), {files} files; expected {expected}; see {out}"
            )
        ops = stats["by_operation"]
        org_last = max(v["last_s"] for k, v in ops.items() if k.startswith("organizations "))
        scan_ops = [v for k, v in ops.items() if not k.startswith(("organizations ", "sts GetCallerIdentity"))]
        scan_first = min(v["first_s"] for v in scan_ops)
        scan_last = max(v["last_s"] for v in scan_ops)
        tags = ops.get("organizations ListTagsForResource")
        return dict(
            wall=wall,
            rss=rss,
            cpu=cpu,
            calls=totals["calls"],
            calls_per_s=totals["calls"] / wall,
            discovery=org_last - t0,
            tags=(tags["last_s"] - tags["first_s"]) if tags else 0.0,
            scan=scan_last - scan_first,
            scan_calls_per_s=totals["calls"] / (scan_last - scan_first),
            finish=wall - (scan_last - t0),
            requests=stats["requests"],
            max_in_flight=stats["max_in_flight"],
        )
    finally:
        fa.stop()
        shutil.rmtree(out, ignore_errors=True)


def median_row(runs):
    keys = runs[0].keys()
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="200,500,1000,2000")
    ap.add_argument("--no-tmpfs", action="store_true", help="only write results to disk")
    ap.add_argument("--extra-concurrency", type=int, action="append", default=[])
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    if args.census and args.fakeaws:
        census, fakeaws = args.census, args.fakeaws
    else:
        census, fakeaws = build()
    sizes = [int(s) for s in args.sizes.split(",")]
    outs = [("disk", tempfile.gettempdir())]
    if not args.no_tmpfs and os.path.isdir("/dev/shm"):
        outs.append(("tmpfs", "/dev/shm"))
    plan = [(kind, base, n, None) for kind, base in outs for n in sizes]
    plan += [(kind, base, sizes[-1], c) for c in args.extra_concurrency for kind, base in outs]

    rows = []
    for kind, base, n, conc in plan:
        runs = []
        for i in range(args.runs):
            r = one_run(census, fakeaws, n, base, conc)
            print(
                f"{kind} {n} accounts{' --concurrency %d' % conc if conc else ''} run {i + 1}: "
                f"wall {r['wall']:.1f}s, {r['calls_per_s']:.0f} calls/s, RSS {r['rss']:.0f} MB, "
                f"discovery {r['discovery']:.1f}s (tags {r['tags']:.1f}s), scan {r['scan']:.1f}s "
                f"({r['scan_calls_per_s']:.0f} calls/s), finish {r['finish']:.1f}s, CPU {r['cpu']:.1f}s, "
                f"max in flight {r['max_in_flight']}",
                file=sys.stderr,
            )
            runs.append(r)
        rows.append((kind, n, conc, median_row(runs)))

    def row_text(kind, n, conc, m):
        c = str(conc) if conc else "64 (default)"
        return (
            f"| {kind} | {n:,} | {c} | {m['calls']:,.0f} | {m['wall']:.1f} s | **{m['calls_per_s']:.0f}** | "
            f"{m['discovery']:.1f} s ({m['tags']:.1f} s) | {m['scan']:.1f} s | {m['scan_calls_per_s']:.0f} | "
            f"{m['finish']:.1f} s | **{m['rss']:.0f} MB** | {m['cpu']:.1f} s |"
        )

    verdicts = []
    for kind, _ in outs:
        base = [m for k, n, c, m in rows if k == kind and n == sizes[0] and not c]
        top = [m for k, n, c, m in rows if k == kind and n == sizes[-1] and not c]
        if base and top:
            ratio = top[0]["calls_per_s"] / base[0]["calls_per_s"]
            verdicts.append(
                f"{kind}: {top[0]['calls_per_s']:.0f} calls/s at {sizes[-1]:,} accounts vs "
                f"{base[0]['calls_per_s']:.0f} at {sizes[0]:,} ({ratio:.0%}): "
                f"{'held' if ratio >= 0.9 else 'NOT held'}"
            )
    max_rss = max(m["rss"] for _, _, _, m in rows)
    over = [f"{k} {n:,}{' c=%d' % c if c else ''}" for k, n, c, m in rows if m["rss"] >= 150]
    load = os.getloadavg()
    bound = 64 * 1000 / LATENCY_MS
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended (other builds share the machine).",
            f"Command: `python3 bench/scan_scale.py --runs {args.runs}"
            + "".join(f" --extra-concurrency {c}" for c in args.extra_concurrency)
            + f"`: `fakeaws --accounts N --latency-ms {LATENCY_MS}` (crates/fakeaws, loopback; Organizations, STS, ec2 DescribeVpcs, sqs ListQueues, dynamodb ListTables, sns ListTopics with generated data) and "
            f"`census scan --org -s bench/scans/scale4.json --regions {','.join(REGIONS)}` (release builds), medians of {args.runs} runs. "
            f"Every run checked: exit 0, N x 16 calls, none failed, one file per call. "
            f"Output folder on the disk (ext4 under {tempfile.gettempdir()}) and on tmpfs (/dev/shm).",
            "Calls/s is summary.json's `totals.calls` over census's wall time. Discovery, scan and finish come from fakeaws's record of when it answered each operation: "
            "discovery = start to the last Organizations answer (the ListTagsForResource part in brackets), scan = first AssumeRole to the last list answer, finish = the rest (writing summary.json). "
            f"With the default `--concurrency` 64 and {LATENCY_MS} ms per answer, the scan phase cannot pass {bound:.0f} calls/s.",
            "Targets: peak RSS under 150 MB; calls/s not falling from 200 to 2,000 accounts (2,000-account median at least 90% of the 200-account one).",
            "",
            "| output | accounts | concurrency | calls | wall | calls/s | discovery (tags) | scan | scan calls/s | finish | peak RSS | census CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[row_text(*r) for r in rows],
            "",
            "Calls/s: " + "; ".join(verdicts) + ".",
            f"Peak RSS: {'held' if not over else 'NOT held'} (max {max_rss:.0f} MB"
            + (f"; at or over 150 MB: {', '.join(over)}" if over else "")
            + ").",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
