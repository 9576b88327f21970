#!/usr/bin/env python3
"""What writing a scan to PostgreSQL costs, next to the JSON tree alone.

    python3 bench/sink_postgres.py [--runs 5] [--sizes 200,500] [--before CENSUS] [--sqlite] [--no-write]

Starts a PostgreSQL server from Debian's packages (`apt-get install postgresql`; as the
`postgres` user when run as root) on a free loopback port, with its data folder in the
system temp folder and the server's default durability (fsync on, synchronous_commit
on). For each size N it starts `fakeaws --accounts N --latency-ms 50` (as
bench/scan_scale.py does) and runs

    census scan --org -s bench/scans/scale4.json --regions <4 regions> -o DIR  SINKS

(release builds) with SINKS each of: `--no-db` (the JSON tree only) and `--no-db
--postgres URL` (tree and PostgreSQL, a new database per run); with `--sqlite` also
nothing (tree and SQLite) and `--postgres URL` (all three); with `--before CENSUS` also
`--no-db --postgres URL` run by that other census binary (an older build, to compare in
the same run). The runs take turns (run 1 of every sink, then run 2...), so that the
machine's load changes hit every sink alike. Each run is checked: exit 0, N x 16 calls,
none failed; with PostgreSQL, its `resources` rows equal summary.json's item total and
its `calls` rows the call total. The PostgreSQL server's CPU seconds during each run are
measured too. The "## PostgreSQL sink: fakeaws" section of BENCHMARKS.md is rewritten with
the medians. Target: the PostgreSQL scan takes at most 1.2x the tree-only scan's wall
time at 500 accounts (issue 15).
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
    ("tree + PostgreSQL", ["--no-db", "--postgres"]),
]
SQLITE_SINKS = [
    ("tree + SQLite", []),
    ("tree + SQLite + PostgreSQL", ["--postgres"]),
]
BEFORE = "tree + PostgreSQL, before"
TARGET = 1.2


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
        self.pid = int(open(os.path.join(self.cluster, "postmaster.pid")).readline())
        self.n = 0

    def cpu(self):
        """CPU seconds of the server so far: the postmaster, the backends it reaped,
        and its live processes."""
        tick = os.sysconf("SC_CLK_TCK")

        def times(pid, children):
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                return 0, None
            # utime, stime, cutime, cstime are fields 14-17 (1-based); ppid is 4.
            t = sum(int(f) for f in fields[11 : 15 if children else 13])
            return t, int(fields[1])

        total, _ = times(self.pid, True)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != self.pid:
                t, ppid = times(entry, False)
                if ppid == self.pid:
                    total += t
        return total / tick

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
        server = pg.cpu()
        code, wall, rss, cpu = run_measured(cmd, clean_env(fa.url), stdout=log, stderr=subprocess.STDOUT)
        server = pg.cpu() - server
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
        load = os.getloadavg()[0]
        return dict(wall=wall, rss=rss, cpu=cpu, pg_cpu=server, load=load, calls=totals["calls"], items=totals["items"])
    finally:
        fa.stop()
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="200,500")
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--before", help="another census binary (an older build) to run with PostgreSQL in the same turns")
    ap.add_argument("--before-label", default="main", help="what --before is, for the table")
    ap.add_argument("--sqlite", action="store_true", help="also the sinks with SQLite")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    census, fakeaws = (args.census, args.fakeaws) if args.census and args.fakeaws else build()
    sizes = [int(s) for s in args.sizes.split(",")]
    sinks = [(name, census, a) for name, a in SINKS]
    if args.before:
        sinks.insert(1, (BEFORE, args.before, ["--no-db", "--postgres"]))
    if args.sqlite:
        sinks += [(name, census, a) for name, a in SQLITE_SINKS]
    pg = Postgres()
    rows = []
    load_start = os.getloadavg()
    try:
        for n in sizes:
            runs = {name: [] for name, _, _ in sinks}
            for i in range(args.runs):
                for name, binary, sink_args in sinks:
                    r = one_run(binary, fakeaws, pg, n, sink_args)
                    print(
                        f"{n} accounts, {name}, run {i + 1}: wall {r['wall']:.2f}s, RSS {r['rss']:.0f} MB, "
                        f"CPU {r['cpu']:.2f}s, server CPU {r['pg_cpu']:.2f}s, {r['items']} items, load {r['load']:.1f}",
                        file=sys.stderr,
                    )
                    runs[name].append(r)
            for name, _, _ in sinks:
                m = {k: statistics.median(r[k] for r in runs[name]) for k in runs[name][0]}
                m["walls"] = [r["wall"] for r in runs[name]]
                rows.append((n, name, m))
    finally:
        pg.stop()

    lines = []
    verdicts = []
    loads = []
    for n in sizes:
        base = next(m for k, name, m in rows if k == n and name == "tree")
        for k, name, m in rows:
            if k != n:
                continue
            loads.append(m["load"])
            ratio = m["wall"] / base["wall"]
            label = f"tree + PostgreSQL ({args.before_label})" if name == BEFORE else name
            server = f"{m['pg_cpu']:.2f} s" if "PostgreSQL" in name else "-"
            lines.append(
                f"| {n:,} | {label} | {m['calls']:,.0f} | {m['items']:,.0f} | {m['wall']:.2f} s | "
                f"{', '.join('%.2f' % w for w in m['walls'])} | **{ratio:.2f}x** | "
                f"{m['items'] / m['wall']:,.0f} | {m['rss']:.0f} MB | {m['cpu']:.2f} s | {server} | {m['load']:.1f} |"
            )
            if name == "tree + PostgreSQL":
                verdicts.append(f"{n:,} accounts: {ratio:.2f}x")
            if name == BEFORE:
                verdicts.append(f"{n:,} accounts, {args.before_label}: {ratio:.2f}x")
    load_end = os.getloadavg()
    command = f"python3 bench/sink_postgres.py --runs {args.runs} --sizes {args.sizes}"
    if args.before:
        command += f" --before CENSUS_OF_{args.before_label.upper()}"
    if args.sqlite:
        command += " --sqlite"
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load_start[0]:.1f} when it started, "
            f"{load_end[0]:.1f} when it ended, {statistics.median(loads):.1f} at the end of a typical run "
            "(the machine is shared with other builds and tests: the figures are noisy, the ratios within one turn less so).",
            f"Command: `{command}`: `fakeaws --accounts N --latency-ms 50` and "
            f"`census scan --org -s bench/scans/scale4.json --regions {','.join(REGIONS)}` (release builds) with the sinks shown, "
            "the runs of every sink taking turns; "
            "PostgreSQL 15 from Debian's packages on 127.0.0.1 with its default durability (fsync, synchronous_commit on), data on the disk under /tmp, "
            "a new database per run (so each run also creates the schema). Medians of the runs; every run checked (exit 0, N x 16 calls, none failed; "
            "PostgreSQL's `resources` and `calls` rows equal to the scan's item and call totals). "
            "Server CPU: the PostgreSQL server's CPU seconds during the run; load: the 1-minute load average at the end of the run.",
            f"Target (issue 15): the PostgreSQL scan takes at most {TARGET}x the tree-only scan's wall time at 500 accounts.",
            "",
            "| accounts | sinks | calls | items | wall | runs | vs tree | items/s | peak RSS | census CPU | server CPU | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
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
