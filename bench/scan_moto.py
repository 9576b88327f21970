#!/usr/bin/env python3
"""An organization scan against moto: is census or the emulator the bottleneck?

    python3 bench/scan_moto.py [--runs 5] [--members 50] [--census PATH] [--no-write] [--details]

1. makes the test kit's venv (scripts/setup-python.sh) and builds the release census
   (`cargo build --release -p census`, honouring CARGO_TARGET_DIR) unless --census is given;
2. starts `moto_server` on a free 127.0.0.1 port with MOTO_EC2_LOAD_DEFAULT_AMIS=false
   (moto otherwise loads its ~thousands of default AMIs into every account and region it
   is asked about, which costs seconds of moto CPU per backend and has nothing to do
   with census);
3. seeds an organization of `--members` member accounts (bench/seed_moto.py: OUs, tags,
   and in 4 regions a VPC, subnet, security group, instance, bucket, queues, topic,
   table and function per member, plus IAM roles);
4. runs `census scan --org -s bench/scans/bench11.json --regions <the 4>` once to warm
   up, then `--runs` times, measuring for each run the wall time, census's peak RSS (GNU
   time, bench/peak_rss.py) and CPU (wait4 rusage), moto's CPU seconds (utime+stime of its process from
   /proc/<pid>/stat, before and after) and the requests moto logged; each time the same
   scan also runs with `--no-db` (no SQLite store), the two modes interleaved (their
   order alternating from one round to the next) so that drift in the machine's load
   hits both alike;
5. checks each run lightly (exit 0, no failed call, one file per account x region x
   regional call plus one per account x global call) and rewrites the
   "## Scan: 50 accounts on moto" section of BENCHMARKS.md with the medians.

With `--details` the scan file is bench/scans/bench11-details.json, the same calls with
the core preset's detail calls for their buckets, roles, queues, topics, tables and
functions (`--details core`); only the store-on mode runs, each run is checked to have
one file per call (details included) and no failed call, and the section written is
"## Scan: 50 accounts on moto, with detail calls". Targets (the detail calls issue): the
same wall/moto CPU ratio and RSS targets.

Targets: the scan issue: wall time at most 1.5x moto's CPU seconds (the emulator is
the bottleneck, not census), peak RSS under 80 MB (both with the SQLite store, the
default); the store issue: with the store the scan takes at most 10% longer than with
`--no-db` (ratio of the median wall times).

Only loopback addresses are used; credentials are moto's fake ones, and every inherited
AWS_* variable is removed from the children's environment.
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peak_rss  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCAN_FILE = os.path.join(ROOT, "bench", "scans", "bench11.json")
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
# Calls of bench11.json that census makes once per account (not per region).
GLOBAL_CALLS = {("s3", "list_buckets"), ("iam", "list_roles")}
SECTION = "Scan: 50 accounts on moto"
DETAILS_FILE = os.path.join(ROOT, "bench", "scans", "bench11-details.json")
DETAILS_SECTION = "Scan: 50 accounts on moto, with detail calls"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count(), platform.platform())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(endpoint=None):
    """The environment for census and the Python helpers: no inherited AWS_* variable,
    fake credentials, the endpoint on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        TZ="UTC",
    )
    env.pop("RUST_LOG", None)
    if endpoint:
        assert endpoint.startswith("http://127.0.0.1:"), endpoint
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def build_census():
    """`cargo build --release -p census`; returns the binary's path."""
    subprocess.run(["cargo", "build", "--release", "-p", "census"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "census")


def process_cpu(pid):
    """utime + stime of a process, in seconds (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" ending the command name, field 3 (state) is index 0: utime is
    # field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_measured(cmd, env, cwd=None, stdout=None, stderr=None):
    """Runs cmd; returns (exit code, wall seconds, peak RSS in MB, CPU seconds). The peak
    RSS is the command's own, by GNU time (bench/peak_rss.py says why not wait4's)."""
    return peak_rss.run(cmd, env, cwd=cwd, stdout=stdout, stderr=stderr)


def scan_dir(out):
    dirs = [d for d in os.listdir(out) if not d.startswith(".") and os.path.isdir(os.path.join(out, d))]
    if len(dirs) != 1:
        raise SystemExit(f"expected one scan folder in {out}, found {dirs}")
    return os.path.join(out, dirs[0])


def result_files(scan):
    """Files <account>/<region|global>/<stem>.json of a scan folder."""
    n = 0
    for account in os.listdir(scan):
        a = os.path.join(scan, account)
        if account.startswith(".") or not os.path.isdir(a):
            continue
        for region in os.listdir(a):
            r = os.path.join(a, region)
            if os.path.isdir(r):
                n += sum(1 for f in os.listdir(r) if f.endswith(".json"))
    return n


def write_section(title, body):
    """Replaces (or appends) the `## title` section of BENCHMARKS.md."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(r"## " + re.escape(title) + r"\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)


class Moto:
    """moto_server on a free loopback port, its requests logged to a file. moto's
    default AMIs are not loaded unless `default_amis` (see the module's docstring)."""

    def __init__(self, venv, workdir, default_amis=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, "moto.log")
        self.log = open(self.log_path, "w")
        env = clean_env()
        if not default_amis:
            env["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        self.proc = subprocess.Popen(
            [os.path.join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"moto_server did not start; see {self.log_path}")
                time.sleep(0.2)

    def cpu(self):
        return process_cpu(self.proc.pid)

    def requests(self):
        """Requests moto has logged so far (werkzeug writes one line per request)."""
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return sum(1 for line in f if b' HTTP/1.1" ' in line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def setup_python():
    subprocess.run([os.path.join(ROOT, "scripts", "setup-python.sh")], check=True)
    return os.path.join(ROOT, ".venv")


def seed_org(venv, env, members):
    """Seeds moto (bench/seed_moto.py); returns its manifest and the seconds it took."""
    t = time.monotonic()
    opts = {"members": members, "regions": REGIONS}
    seeded = subprocess.run(
        [os.path.join(venv, "bin", "python"), os.path.join(ROOT, "bench", "seed_moto.py"), json.dumps(opts)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(seeded.stdout), time.monotonic() - t


def figures_table(runs):
    """The table of a benchmark's runs: wall time, moto CPU, their ratio, RSS, CPU."""
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "moto_cpu", "rss", "cpu", "requests")}
    ratios = [r["wall"] / r["moto_cpu"] for r in runs]
    ratio = statistics.median(ratios)
    return f"""| figure | median of {len(runs)} | runs |
|---|---|---|
| census wall time | {med['wall']:.2f} s | {', '.join(f"{r['wall']:.2f}" for r in runs)} |
| moto CPU during the scan | {med['moto_cpu']:.2f} s | {', '.join(f"{r['moto_cpu']:.2f}" for r in runs)} |
| **wall / moto CPU** | **{ratio:.2f}** | {', '.join(f"{x:.2f}" for x in ratios)} |
| census peak RSS | **{med['rss']:.1f} MB** | {', '.join(f"{r['rss']:.1f}" for r in runs)} |
| census CPU (user+sys) | {med['cpu']:.2f} s | {', '.join(f"{r['cpu']:.2f}" for r in runs)} |
| requests moto served | {med['requests']:.0f} | {med['requests'] / med['wall']:.0f} per second of wall time |"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--members", type=int, default=50)
    ap.add_argument("--census", help="census binary (default: build the release one)")
    ap.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--details", action="store_true", help="scan with detail calls (bench11-details.json)")
    args = ap.parse_args()
    if args.details:
        return details_main(args)

    venv = setup_python()
    census = args.census or build_census()
    calls = json.load(open(SCAN_FILE))
    n_global = sum(1 for c in calls if (c["service"], c["function"]) in GLOBAL_CALLS)
    n_regional = len(calls) - n_global

    work = tempfile.mkdtemp(prefix="census-bench-moto-")
    moto = Moto(venv, work)
    try:
        env = clean_env(moto.url)
        manifest, seed_s = seed_org(venv, env, args.members)
        accounts = len(manifest["accounts"])
        expected = accounts * (len(REGIONS) * n_regional + n_global)
        print(f"seeded {accounts} accounts in {seed_s:.0f}s; moto at {moto.url}", file=sys.stderr)

        base_cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS)]
        runs = {"db": [], "no-db": []}
        for i in range(args.runs + 1):
            modes = ["db", "no-db"] if i % 2 == 0 else ["no-db", "db"]
            for mode in modes:
                out = os.path.join(work, f"out-{i}-{mode}")
                cmd = base_cmd + ["-o", out] + (["--no-db"] if mode == "no-db" else [])
                cpu0, req0 = moto.cpu(), moto.requests()
                with open(os.path.join(work, f"census-{i}-{mode}.log"), "w") as log:
                    code, wall, rss, cpu = run_measured(cmd, env, stdout=log, stderr=subprocess.STDOUT)
                moto_cpu = moto.cpu() - cpu0
                requests = moto.requests() - req0
                scan = scan_dir(out)
                files = result_files(scan)
                summary = json.load(open(os.path.join(scan, "summary.json")))
                totals = summary.get("totals", summary)
                db_ok = (mode == "no-db") != os.path.exists(os.path.join(out, "census.db"))
                ok = code == 0 and files == expected and totals.get("calls_failed", 0) == 0 and db_ok
                label = f"warm-up {mode}" if i == 0 else f"run {i} {mode}"
                print(
                    f"{label}: exit {code}, {files}/{expected} files, wall {wall:.2f}s, "
                    f"moto CPU {moto_cpu:.2f}s, ratio {wall / moto_cpu:.2f}, census RSS {rss:.1f} MB, "
                    f"census CPU {cpu:.2f}s, {requests} requests",
                    file=sys.stderr,
                )
                if not ok:
                    raise SystemExit(f"run {i} ({mode}) failed the check; see {work}/census-{i}-{mode}.log")
                if i > 0:
                    runs[mode].append(
                        dict(wall=wall, moto_cpu=moto_cpu, rss=rss, cpu=cpu, requests=requests,
                             calls=totals.get("calls"), items=totals.get("items"))
                    )
                shutil.rmtree(out)
    finally:
        moto.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    nodb = runs["no-db"]
    runs = runs["db"]
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "moto_cpu", "rss", "cpu", "requests")}
    ratios = [r["wall"] / r["moto_cpu"] for r in runs]
    ratio = statistics.median(ratios)
    max_rss = max(r["rss"] for r in runs)
    held_ratio = ratio <= 1.5
    held_rss = max_rss < 80
    nodb_med = {k: statistics.median(r[k] for r in nodb) for k in ("wall", "rss", "cpu")}
    db_ratio = med["wall"] / nodb_med["wall"]
    # Rounds ran the two modes back to back: the median of the per-round ratios is the
    # steadier figure when the machine's load drifts; both must hold.
    round_ratios = [a["wall"] / b["wall"] for a, b in zip(runs, nodb)]
    round_ratio = statistics.median(round_ratios)
    held_db = max(db_ratio, round_ratio) <= 1.10
    load = os.getloadavg()
    body = f"""
Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended (other builds share the machine).
Command: `python3 bench/scan_moto.py --runs {args.runs}`: moto 5.2.5 (`moto_server`, `MOTO_EC2_LOAD_DEFAULT_AMIS=false`) on 127.0.0.1, an organization of {args.members} members + the management account seeded by `bench/seed_moto.py` ({seed_s:.0f} s), then `census scan --org -s bench/scans/bench11.json --regions {','.join(REGIONS)}` (release build, default `--concurrency` 64, SQLite store on: census.db in the output folder), one warm-up and {args.runs} measured runs; each round also runs the same scan with `--no-db`, the two interleaved (order alternating per round).
Each run: {runs[0]['calls']} calls ({accounts} accounts x ({len(REGIONS)} regions x {n_regional} regional calls + {n_global} global)), {runs[0]['items']} items, {expected} files, exit 0 (checked every run). Moto CPU is utime+stime of the moto process over the run (/proc/PID/stat); census's figures are its wait4 rusage, its peak RSS by GNU time.
Targets: wall time at most 1.5x moto's CPU seconds; census peak RSS under 80 MB; with the SQLite store at most 10% slower than `--no-db`.

{figures_table(runs)}

The same scan with `--no-db` (no SQLite store), interleaved:

| figure | median of {args.runs} | runs |
|---|---|---|
| census wall time, `--no-db` | {nodb_med['wall']:.2f} s | {', '.join(f"{r['wall']:.2f}" for r in nodb)} |
| **store on / `--no-db`, ratio of the median wall times** | **{db_ratio:.3f}** | |
| **store on / `--no-db`, median of the per-round ratios** | **{round_ratio:.3f}** | {', '.join(f"{x:.3f}" for x in round_ratios)} |
| census peak RSS, `--no-db` | {nodb_med['rss']:.1f} MB | {', '.join(f"{r['rss']:.1f}" for r in nodb)} |
| census CPU (user+sys), `--no-db` | {nodb_med['cpu']:.2f} s | {', '.join(f"{r['cpu']:.2f}" for r in nodb)} |

Wall time vs moto CPU: {'held' if held_ratio else 'NOT held'} ({ratio:.2f}x). Peak RSS: {'held' if held_rss else 'NOT held'} (max {max_rss:.1f} MB). Store overhead: {'held' if held_db else 'NOT held'} ({(db_ratio - 1) * 100:+.1f}% by the medians, {(round_ratio - 1) * 100:+.1f}% by the per-round median).
"""
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


def details_main(args):
    """The benchmark with detail calls: store on, one mode."""
    venv = setup_python()
    census = args.census or build_census()
    work = tempfile.mkdtemp(prefix="census-bench-moto-details-")
    moto = Moto(venv, work)
    runs = []
    try:
        env = clean_env(moto.url)
        manifest, seed_s = seed_org(venv, env, args.members)
        accounts = len(manifest["accounts"])
        print(f"seeded {accounts} accounts in {seed_s:.0f}s; moto at {moto.url}", file=sys.stderr)
        cmd0 = [census, "scan", "--org", "-s", DETAILS_FILE, "--regions", ",".join(REGIONS), "--details", "core"]
        for i in range(args.runs + 1):
            out = os.path.join(work, f"out-{i}")
            cpu0, req0 = moto.cpu(), moto.requests()
            with open(os.path.join(work, f"census-{i}.log"), "w") as log:
                code, wall, rss, cpu = run_measured(cmd0 + ["-o", out], env, stdout=log, stderr=subprocess.STDOUT)
            moto_cpu = moto.cpu() - cpu0
            requests = moto.requests() - req0
            scan = scan_dir(out)
            totals = json.load(open(os.path.join(scan, "summary.json")))["totals"]
            files = result_files(scan)
            ok = code == 0 and files == totals["calls"] and totals["calls_failed"] == 0
            print(
                f"{'warm-up' if i == 0 else f'run {i}'}: exit {code}, {files} files, {totals['calls']} calls, "
                f"{totals.get('absent', 0)} absent, wall {wall:.2f}s, moto CPU {moto_cpu:.2f}s, "
                f"ratio {wall / moto_cpu:.2f}, RSS {rss:.1f} MB, census CPU {cpu:.2f}s, {requests} requests",
                file=sys.stderr,
            )
            if not ok:
                raise SystemExit(f"run {i} failed the check; see {work}/census-{i}.log")
            if i > 0:
                runs.append(dict(wall=wall, moto_cpu=moto_cpu, rss=rss, cpu=cpu, requests=requests,
                                 calls=totals["calls"], items=totals["items"], absent=totals.get("absent", 0)))
            shutil.rmtree(out)
    finally:
        moto.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "moto_cpu", "rss", "cpu", "requests")}
    ratios = [r["wall"] / r["moto_cpu"] for r in runs]
    ratio = statistics.median(ratios)
    max_rss = max(r["rss"] for r in runs)
    load = os.getloadavg()
    body = f"""
Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended.
Command: `python3 bench/scan_moto.py --details --runs {args.runs}`: the organization of the section above ({args.members} members + the management account, `bench/seed_moto.py`, {seed_s:.0f} s), then `census scan --org -s bench/scans/bench11-details.json --regions {','.join(REGIONS)} --details core` (release build, default `--concurrency` 64, SQLite store on), one warm-up and {args.runs} measured runs.
Each run: {runs[0]['calls']} calls (list calls and one record per detail operation per account and region), {med['requests']:.0f} requests (each detail call on each item is one), {runs[0]['items']} items, {runs[0]['absent']} items absent (no policy, no tags...), one file per call, no failed call, exit 0 (checked every run).
Targets: wall time at most 1.5x moto's CPU seconds; census peak RSS under 80 MB.

{figures_table(runs)}

Wall time vs moto CPU: {'held' if ratio <= 1.5 else 'NOT held'} ({ratio:.2f}x). Peak RSS: {'held' if max_rss < 80 else 'NOT held'} (max {max_rss:.1f} MB).
"""
    print(body)
    if not args.no_write:
        write_section(DETAILS_SECTION, body)


if __name__ == "__main__":
    main()
