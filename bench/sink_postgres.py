#!/usr/bin/env python3
"""What writing a scan to PostgreSQL costs, next to the JSON tree alone and SQLite.

    python3 bench/sink_postgres.py [--runs 3] [--sizes 200,1000] [--no-write]

Starts a PostgreSQL server from Debian's packages (`apt-get install postgresql`; as the
`postgres` user when run as root) on a free loopback port, with its data folder in the
system temp folder and the server's default durability (fsync on, synchronous_commit
on). For each size N it starts `fakeaws --accounts N --latency-ms 50` (as
bench/scan_scale.py does) and runs

    census scan --org -s bench/scans/scale4.json --regions <4 regions> -o DIR  SINKS

(release builds) with SINKS each of: `--no-db` (the JSON tree only), nothing (tree and
SQLite), `--no-db --postgres URL` (tree and PostgreSQL, a new database per run), and
`--postgres URL` (all three). Each run is checked: exit 0, N x 16 calls, none failed; with
PostgreSQL, its `resources` rows equal summary.json's item total and its `calls` rows the
call total. The "## PostgreSQL sink: fakeaws" section of BENCHMARKS.md is rewritten with
the medians. Target: PostgreSQL costs at most 10% of the wall time of the tree-only scan.
"""

import argparse
import glob
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_moto import clean_env, free_port, machine, run_measured, scan_dir, write_section  # noqa: E402
from scan_scale import REGIONS, SCAN_FILE, FakeAws, build  # noqa: E402

SECTION = "PostgreSQL sink: fakeaws"
SINKS = [
    ("tree", ["--no-db"]),
    ("tree + SQLite", []),
    ("tree + PostgreSQL", ["--no-db", "--postgres"]),
    ("tree + SQLite + PostgreSQL", ["--postgres"]),
]


class Postgres:
    """A PostgreSQL server on 127.0.0.1, trusting loopback, stopped by stop()."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise SystemExit("install PostgreSQL server packages (apt-get install postgresql), as .ci/run does")
        self.bin = os.path.dirname(bins[-1])
        self.as_postgres = os.geteuid() == 0
        self.dir = tempfile.mkdtemp(prefix="census-bench-pg-")
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.cluster = os.path.join(self.dir, "cluster")
        self.port = free_port()
        self.run("initdb", "-D", self.cluster, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self.run("pg_ctl", "-D", self.cluster, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w", "start")
        self.n = 0

    def run(self, program, *args):
        cmd = [os.path.join(self.bin, program), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C.UTF-8"})

    def database(self):
        self.n += 1
        name = f"bench_{self.n}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def count(self, url, sql):
        psql = os.path.join(self.bin, "psql")
        out = subprocess.run([psql, url.split("?")[0], "-At", "-c", sql], check=True, capture_output=True, text=True)
        return int(out.stdout.strip())

    def stop(self):
        try:
            self.run("pg_ctl", "-D", self.cluster, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def one_run(census, fakeaws, pg, accounts, sink_args):
    fa = FakeAws(fakeaws, accounts)
    out = tempfile.mkdtemp(prefix="census-bench-sink-")
    try:
        url = None
        args = list(sink_args)
        if "--postgres" in args:
            url = pg.database()
            args[args.index("--postgres")] = f"--postgres={url}"
        cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS), "-o", out, *args]
        log = open(os.path.join(out, ".census.log"), "w")
        code, wall, rss, cpu = run_measured(cmd, clean_env(fa.url), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        totals = json.load(open(os.path.join(scan_dir(out), "summary.json")))["totals"]
        expected = accounts * len(REGIONS) * len(json.load(open(SCAN_FILE)))
        if code != 0 or totals["calls"] != expected or totals["calls_failed"]:
            raise SystemExit(f"{accounts} accounts {sink_args}: exit {code}, {totals}; see {out}")
        if url:
            rows = pg.count(url, "select count(*) from resources")
            calls = pg.count(url, "select count(*) from calls")
            if rows != totals["items"] or calls != totals["calls"]:
                raise SystemExit(f"PostgreSQL holds {rows} resources and {calls} calls; the scan had {totals}")
        return dict(wall=wall, rss=rss, cpu=cpu, calls=totals["calls"], items=totals["items"])
    finally:
        fa.stop()
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    census, fakeaws = (args.census, args.fakeaws) if args.census and args.fakeaws else build()
    sizes = [int(s) for s in args.sizes.split(",")]
    pg = Postgres()
    rows = []
    try:
        for n in sizes:
            for name, sink_args in SINKS:
                runs = []
                for i in range(args.runs):
                    r = one_run(census, fakeaws, pg, n, sink_args)
                    print(
                        f"{n} accounts, {name}, run {i + 1}: wall {r['wall']:.2f}s, RSS {r['rss']:.0f} MB, "
                        f"CPU {r['cpu']:.2f}s, {r['items']} items",
                        file=sys.stderr,
                    )
                    runs.append(r)
                m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                m["walls"] = [r["wall"] for r in runs]
                rows.append((n, name, m))
    finally:
        pg.stop()

    lines = []
    verdicts = []
    for n in sizes:
        base = next(m for k, name, m in rows if k == n and name == "tree")
        for k, name, m in rows:
            if k != n:
                continue
            ratio = m["wall"] / base["wall"]
            lines.append(
                f"| {n:,} | {name} | {m['calls']:,.0f} | {m['items']:,.0f} | {m['wall']:.2f} s | "
                f"{', '.join('%.2f' % w for w in m['walls'])} | **{ratio:.2f}x** | "
                f"{m['items'] / m['wall']:,.0f} | {m['rss']:.0f} MB | {m['cpu']:.2f} s |"
            )
            if name == "tree + PostgreSQL":
                verdicts.append(f"{n:,} accounts: {ratio:.2f}x ({'held' if ratio <= 1.10 else 'NOT held'})")
    load = os.getloadavg()
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended (other builds share the machine).",
            f"Command: `python3 bench/sink_postgres.py --runs {args.runs} --sizes {args.sizes}`: `fakeaws --accounts N --latency-ms 50` and "
            f"`census scan --org -s bench/scans/scale4.json --regions {','.join(REGIONS)}` (release builds) with the sinks shown; "
            "PostgreSQL 15 from Debian's packages on 127.0.0.1 with its default durability (fsync, synchronous_commit on), data on the disk under /tmp, "
            "a new database per run (so each run also creates the schema). Medians of the runs; every run checked (exit 0, N x 16 calls, none failed; "
            "PostgreSQL's `resources` and `calls` rows equal to the scan's item and call totals).",
            "Target: writing to PostgreSQL costs at most 10% of the tree-only scan's wall time.",
            "",
            "| accounts | sinks | calls | items | wall | runs | vs tree | items/s | peak RSS | census CPU |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *lines,
            "",
            "PostgreSQL vs tree only: " + "; ".join(verdicts) + ".",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
