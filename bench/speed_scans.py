"""bench/speed.py's sections that time whole scans (issue 15):

- postgres: a scan writing the JSON tree and PostgreSQL against the same scan writing the
  tree only (`--no-db`), 200 and 500 accounts of fakeaws (50 ms per answer), the runs of
  both sinks taking turns; PostgreSQL from Debian's packages on 127.0.0.1 with its default
  durability (bench/sink_postgres.py's server and run, every run checked: rows in
  PostgreSQL equal to the scan's totals). Target: at most 1.2x at 500 accounts.
- moto50: 50 member accounts + the management account seeded in moto
  (bench/seed_moto.py), `census scan --org -s bench/scans/bench11.json` in 4 regions with
  the SQLite store (the default): census's wall time against moto's CPU seconds in the
  same run, and census's peak RSS. Targets: wall at most 1.25x moto's CPU, RSS under 50 MB.

Each returns its `### ` subsection; bench/speed.py writes it."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scan_moto as sm  # noqa: E402
import scan_scale  # noqa: E402
import sink_postgres as sp  # noqa: E402


def load_text():
    return "%.2f %.2f %.2f" % os.getloadavg()


def measured_line(load_before, load_after):
    """The first line of a subsection: when, and the machine's load around the run."""
    return "Measured %s; load average %s before, %s after (1, 5, 15 min)." % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        load_before,
        load_after,
    )


def _runs_text(xs, fmt="%.2f"):
    return ", ".join(fmt % x for x in xs)


def section_postgres(runs, sizes=(200, 500)):
    load_before = load_text()
    census, fakeaws = scan_scale.build()
    pg = sp.Postgres()
    sinks = [("tree", ["--no-db"]), ("tree + PostgreSQL", ["--no-db", "--postgres"])]
    results = {}
    try:
        for n in sizes:
            for i in range(runs):
                # Turns: the sinks alternate their order, so that a drift in the
                # machine's load hits both alike.
                order = sinks if i % 2 == 0 else sinks[::-1]
                for name, args in order:
                    r = sp.one_run(census, fakeaws, pg, n, args)
                    print(f"postgres: {n} accounts, {name}, run {i + 1}: wall {r['wall']:.2f}s, RSS {r['rss']:.0f} MB", file=sys.stderr)
                    results.setdefault((n, name), []).append(r)
    finally:
        pg.stop()
    load_after = load_text()
    table = [
        "| accounts | sinks | calls | items | wall (median) | runs | **PostgreSQL / tree** | per-turn ratios | peak RSS | census CPU | server CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    figures = {}
    for n in sizes:
        tree = results[(n, "tree")]
        pgr = results[(n, "tree + PostgreSQL")]
        tw = statistics.median(r["wall"] for r in tree)
        pw = statistics.median(r["wall"] for r in pgr)
        turns = [p["wall"] / t["wall"] for p, t in zip(pgr, tree)]
        ratio = pw / tw
        figures[n] = {"tree_wall_s": tw, "postgres_wall_s": pw, "ratio": ratio, "turn_ratio": statistics.median(turns)}
        for name, rs, shown in (("tree", tree, "1.00x"), ("tree + PostgreSQL", pgr, "**%.2fx**" % ratio)):
            m = {k: statistics.median(r[k] for r in rs) for k in ("wall", "rss", "cpu", "pg_cpu", "calls", "items")}
            table.append(
                "| %s | %s | %s | %s | %.2f s | %s | %s | %s | %.0f MB | %.2f s | %s |"
                % (
                    f"{n:,}", name, f"{m['calls']:,.0f}", f"{m['items']:,.0f}", m["wall"], _runs_text([r["wall"] for r in rs]),
                    shown, _runs_text(turns) if name != "tree" else "-", m["rss"], m["cpu"],
                    "%.2f s" % m["pg_cpu"] if name != "tree" else "-",
                )
            )
        verdicts.append(f"{n:,} accounts {ratio:.2f}x (median of the per-turn ratios {statistics.median(turns):.2f}x)")
    top = figures[max(sizes)]
    text = "\n".join(
        [
            "### PostgreSQL vs tree only",
            "",
            measured_line(load_before, load_after),
            "Command: `python3 bench/speed.py --only postgres --runs %d`: `fakeaws --accounts N --latency-ms 50` and "
            "`census scan --org -s bench/scans/scale4.json --regions %s` (release builds), `--no-db` (tree only) against "
            "`--no-db --postgres URL` (tree and PostgreSQL, a new database per run, so each run also creates the schema), "
            "the two taking turns, %d runs each; PostgreSQL from Debian's packages on 127.0.0.1, default durability (fsync, "
            "synchronous_commit on). Every run checked: exit 0, N x 16 calls, none failed; PostgreSQL's `resources` and `calls` rows equal to "
            "the scan's item and call totals. bench/sink_postgres.py measures the same with more sinks (SQLite, an older build)."
            % (runs, ",".join(scan_scale.REGIONS), runs),
            "",
            *table,
            "",
            "Reading: PostgreSQL vs tree only: %s; target (issue 15) at most 1.2x at 500 accounts: %s."
            % ("; ".join(verdicts), "met" if top["ratio"] <= 1.2 else "NOT met"),
            "",
            "<!-- figures: %s -->" % json.dumps({str(k): v for k, v in figures.items()}, sort_keys=True),
            "",
        ]
    )
    return text


def section_moto50(runs, members=50):
    load_before = load_text()
    venv = sm.setup_python()
    census = sm.build_census()
    calls = json.load(open(sm.SCAN_FILE))
    n_global = sum(1 for c in calls if (c["service"], c["function"]) in sm.GLOBAL_CALLS)
    n_regional = len(calls) - n_global
    work = tempfile.mkdtemp(prefix="census-speed-moto-")
    moto = sm.Moto(venv, work)
    rs = []
    try:
        env = sm.clean_env(moto.url)
        manifest, seed_s = sm.seed_org(venv, env, members)
        accounts = len(manifest["accounts"])
        expected = accounts * (len(sm.REGIONS) * n_regional + n_global)
        cmd = [census, "scan", "--org", "-s", sm.SCAN_FILE, "--regions", ",".join(sm.REGIONS)]
        for i in range(runs + 1):
            out = os.path.join(work, f"out-{i}")
            cpu0, req0 = moto.cpu(), moto.requests()
            with open(os.path.join(work, f"census-{i}.log"), "w") as log:
                code, wall, rss, cpu = sm.run_measured(cmd + ["-o", out], env, stdout=log, stderr=subprocess.STDOUT)
            moto_cpu = moto.cpu() - cpu0
            requests = moto.requests() - req0
            scan = sm.scan_dir(out)
            files = sm.result_files(scan)
            totals = json.load(open(os.path.join(scan, "summary.json")))["totals"]
            if code != 0 or files != expected or totals["calls_failed"]:
                raise SystemExit(f"moto50 run {i}: exit {code}, {files}/{expected} files, {totals}; see {work}")
            print(
                f"moto50 {'warm-up' if i == 0 else f'run {i}'}: wall {wall:.2f}s, moto CPU {moto_cpu:.2f}s, "
                f"ratio {wall / moto_cpu:.2f}, RSS {rss:.1f} MB, CPU {cpu:.2f}s",
                file=sys.stderr,
            )
            if i > 0:
                rs.append(dict(wall=wall, moto_cpu=moto_cpu, rss=rss, cpu=cpu, requests=requests, calls=totals["calls"], items=totals["items"]))
            shutil.rmtree(out)
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_after = load_text()
    ratios = [r["wall"] / r["moto_cpu"] for r in rs]
    ratio = statistics.median(ratios)
    rss = statistics.median(r["rss"] for r in rs)
    max_rss = max(r["rss"] for r in rs)
    text = "\n".join(
        [
            "### 50 accounts on moto: wall vs moto's CPU, peak RSS",
            "",
            measured_line(load_before, load_after),
            "Command: `python3 bench/speed.py --only moto50 --runs %d`: moto 5.2.5 (`moto_server`, `MOTO_EC2_LOAD_DEFAULT_AMIS=false`) "
            "on 127.0.0.1, %d members + the management account seeded by bench/seed_moto.py (%.0f s), then `census scan --org -s "
            "bench/scans/bench11.json --regions %s` (release build, SQLite store on), one warm-up and %d measured runs. Each run: %d calls, "
            "%d items, %d files, exit 0, none failed (checked). Moto CPU: utime+stime of the moto process over the run; census: its wait4 rusage, its peak RSS by GNU time (bench/peak_rss.py)."
            % (runs, members, seed_s, ",".join(sm.REGIONS), runs, rs[0]["calls"], rs[0]["items"], expected),
            "",
            "| figure | median of %d | runs |" % runs,
            "|---|---|---|",
            "| census wall time | %.2f s | %s |" % (statistics.median(r["wall"] for r in rs), _runs_text([r["wall"] for r in rs])),
            "| moto CPU during the scan | %.2f s | %s |" % (statistics.median(r["moto_cpu"] for r in rs), _runs_text([r["moto_cpu"] for r in rs])),
            "| **wall / moto CPU** | **%.2f** | %s |" % (ratio, _runs_text(ratios)),
            "| census peak RSS | **%.1f MB** | %s |" % (rss, _runs_text([r["rss"] for r in rs], "%.1f")),
            "| census CPU (user+sys) | %.2f s | %s |" % (statistics.median(r["cpu"] for r in rs), _runs_text([r["cpu"] for r in rs])),
            "",
            "Reading: wall / moto CPU %.2fx (target at most 1.25x: %s); peak RSS median %.1f MB, max %.1f MB (target under 50 MB: %s)."
            % (ratio, "met" if ratio <= 1.25 else "NOT met", rss, max_rss, "met" if max_rss < 50 else "NOT met"),
            "",
            "<!-- figures: %s -->" % json.dumps({"ratio": ratio, "rss_mb": rss, "max_rss_mb": max_rss}, sort_keys=True),
            "",
        ]
    )
    return text
