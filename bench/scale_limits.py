#!/usr/bin/env python3
"""An organization scan under AWS-like limits, against fakeaws: 1,000 and 10,000 accounts
on one machine, and 1, 2, 4 shards of one organization run at once (issue 16).

    python3 bench/scale_limits.py [--only 1k,10k,tags,shards] [--runs 1]
                                  [--shard-accounts 4000] [--shards 1,2,4]
                                  [--census PATH --fakeaws PATH] [--out-base DIR] [--no-write]

fakeaws runs with `--aws-limits` (crates/fakeaws, loopback): every answer after 50 ms,
Organizations 5 requests/s per caller (400 TooManyRequestsException beyond), STS
AssumeRole 20/s per caller (400 Throttling), 20 requests/s per account, service and region
on the scan calls (each protocol's throttling error). census runs

    census scan --org -s bench/scans/scale4.json --regions us-east-1,eu-west-1 -o DIR
                [--account-tags false] [--shard K/N --scan-id ID]

(release builds of both, `cargo build --release -p census` and `-p fakeaws`, honouring
CARGO_TARGET_DIR). Parts:

- `1k`, `10k`: 1,000 and 10,000 accounts with `--account-tags false`: the floor is STS,
  accounts / 20 AssumeRole per second (the issue's target: wall within 1.25x of it, peak
  RSS under 150 MB, calls/s at 10,000 at least 95% of calls/s at 1,000).
- `tags`: 1,000 accounts with the default `--account-tags true`: every kept account's
  ListTagsForResource at Organizations' 5/s makes Organizations the floor (its requests / 5).
- `shards`: an organization of --shard-accounts accounts scanned by 1, 2, 4 processes at
  once (`--shard K/N`, one --scan-id, one output folder), each shard with its own access
  key as separate Batch jobs or pods have, so each has its own STS and Organizations
  limits; `--account-tags false`. Wall is from the start of the first to the end of the
  last shard.

Each run is checked: every process exits 0, accounts x 8 calls in all (4 calls, 2 regions),
none failed, one file per call. The "## Scale under AWS-like limits (issue 16)" section of
BENCHMARKS.md is rewritten with the medians.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peak_rss  # noqa: E402
from scan_moto import clean_env, machine, result_files, write_section  # noqa: E402
from scan_scale import SCAN_FILE, FakeAws, build  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1"]
SECTION = "Scale under AWS-like limits (issue 16)"
STS_RATE = 20.0
ORG_RATE = 5.0
CALLS_PER_ACCOUNT = len(REGIONS) * len(json.load(open(SCAN_FILE)))


def run_shards(census, fakeaws, accounts, shards, tags, out_base):
    """Runs `shards` census processes at once (one plain scan when shards is 0) against
    one fakeaws; returns the figures of the run."""
    fa = FakeAws(fakeaws, accounts, flags=("--aws-limits",))
    out = tempfile.mkdtemp(prefix="census-limits-", dir=out_base)
    try:
        procs = []
        started = time.monotonic()
        for k in range(1, max(shards, 1) + 1):
            cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS), "-o", out]
            if not tags:
                cmd += ["--account-tags", "false"]
            env = clean_env(fa.url)
            if shards:
                cmd += ["--shard", f"{k}/{shards}", "--scan-id", "limits"]
                # Its own caller, as a separate Batch job or pod has: its own limits.
                env["AWS_ACCESS_KEY_ID"] = f"AKIDSHARD{k:04d}"
            log = open(os.path.join(out, f".census-{k}.log"), "w")
            p = peak_rss.Measured(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
            procs.append((k, p, log))
        ends = []
        rss = []
        cpu = 0.0
        codes = []
        for k, p, log in procs:
            code, _, peak, used = p.wait()
            ends.append(time.monotonic() - started)
            codes.append(code)
            rss.append(peak)
            cpu += used
            log.close()
        wall = max(ends)
        fakeaws_cpu = fa.cpu()
        stats = fa.stats()
        scan = os.path.join(out, [d for d in os.listdir(out) if not d.startswith(".") and os.path.isdir(os.path.join(out, d))][0])
        summaries = [f for f in os.listdir(scan) if f.startswith("summary") and f.endswith(".json")]
        calls = failed = scanned = 0
        for f in summaries:
            totals = json.load(open(os.path.join(scan, f)))["totals"]
            calls += totals["calls"]
            failed += totals["calls_failed"]
        files = result_files(scan)
        expected = accounts * CALLS_PER_ACCOUNT
        if any(codes) or calls != expected or failed or files != expected or len(summaries) != max(shards, 1):
            raise SystemExit(
                f"{accounts} accounts, {shards or 1} shard(s): exits {codes}, {calls} calls ({failed} failed), "
                f"{files} files, {len(summaries)} summaries; expected {expected}; see {out}"
            )
        ops = stats["by_operation"]

        def count(key):
            return ops.get(key, {}).get("count", 0)

        assume = ops.get("sts AssumeRole", {})
        scanned = accounts
        n = max(shards, 1)
        per_shard = accounts / n
        floor_sts = per_shard / STS_RATE
        # Every process reads the whole organization: ListAccounts, and the OU tree's walk
        # (ListAccountsForParent of every OU, for the OU paths), at 5/s per caller.
        org_answered = sum(
            v["count"] for k, v in ops.items() if k.startswith("organizations ") and not k.endswith("(throttled)")
        )
        floor_list = org_answered / n / ORG_RATE
        floor = max(floor_sts, floor_list)
        return dict(
            accounts=scanned,
            shards=n,
            wall=wall,
            shard_walls=sorted(ends),
            rss=max(rss),
            cpu=cpu,
            fakeaws_cpu=fakeaws_cpu,
            calls=calls,
            calls_per_s=calls / wall,
            assume=count("sts AssumeRole"),
            assume_throttled=count("sts AssumeRole (throttled)"),
            assume_span=(assume.get("last_s", 0) - assume.get("first_s", 0)),
            org_throttled=sum(v["count"] for k, v in ops.items() if k.startswith("organizations ") and k.endswith("(throttled)")),
            throttled=stats["throttled"],
            floor=floor,
            floor_kind="STS" if floor == floor_sts else "Organizations",
            max_in_flight=stats["max_in_flight"],
        )
    finally:
        fa.stop()
        shutil.rmtree(out, ignore_errors=True)


def median_row(runs):
    m = {}
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            m[k] = statistics.median(r[k] for r in runs)
        else:
            m[k] = v
    return m


def explain_shards(sharded):
    """Where the speed-up per shard comes from and where it stops."""
    org_bound = [(n, m) for n, m in sharded if m["floor_kind"] == "Organizations"]
    busy = max((m["cpu"] + m["fakeaws_cpu"]) / m["wall"] for _, m in sharded)
    text = (
        "Reading: each shard has its own caller, so its own STS budget: while STS bounds a shard "
        "(its accounts / 20 per second), N shards finish N times sooner. "
    )
    if org_bound:
        n, m = org_bound[0]
        text += (
            f"At {n} shards each shard's STS floor ({m['accounts'] / n / STS_RATE:.0f} s) falls under the Organizations "
            f"reads every shard makes of the whole organization ({m['floor']:.0f} s: ListAccounts and the OU tree's "
            f"ListAccountsForParent pages at 5/s per caller), and the shards end together at {m['wall']:.0f} s. "
        )
    text += (
        f"The machine's 2 cores are not the limit here: at most {busy:.2f} of them were busy on average "
        "(census and fakeaws CPU over the wall time)."
    )
    if org_bound:
        text += (
            " Reading the accounts once (from the OU walk, which lists every account anyway) would halve those "
            "Organizations requests and move the limit back to STS."
        )
    return text


def describe(r):
    return (
        f"wall {r['wall']:.1f}s (floor {r['floor']:.0f}s {r['floor_kind']}, {r['wall'] / r['floor']:.2f}x), "
        f"{r['calls_per_s']:.1f} calls/s, RSS {r['rss']:.0f} MB, CPU {r['cpu']:.1f}s, "
        f"fakeaws CPU {r['fakeaws_cpu']:.1f}s, ends {', '.join('%.0f' % w for w in r['shard_walls'])}s, "
        f"AssumeRole {r['assume']} ({r['assume_throttled']} throttled), Organizations throttled {r['org_throttled']}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="1k,10k,tags,shards")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--shard-accounts", type=int, default=4000)
    ap.add_argument("--shards", default="1,2,4")
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--out-base", default=tempfile.gettempdir())
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    parts = args.only.split(",")
    unknown = set(parts) - {"1k", "10k", "tags", "shards"}
    if unknown:
        raise SystemExit(f"scale_limits.py: unknown part(s) {', '.join(sorted(unknown))}: use 1k, 10k, tags, shards")
    if args.census and args.fakeaws:
        census, fakeaws = args.census, args.fakeaws
    else:
        census, fakeaws = build()

    plan = []
    if "1k" in parts:
        plan.append(("1k", 1000, 0, False))
    if "10k" in parts:
        plan.append(("10k", 10000, 0, False))
    if "tags" in parts:
        plan.append(("tags", 1000, 0, True))
    if "shards" in parts:
        for n in (int(s) for s in args.shards.split(",")):
            plan.append((f"shards {n}", args.shard_accounts, n, False))

    load_before = os.getloadavg()
    rows = []
    for name, accounts, shards, tags in plan:
        runs = []
        for i in range(args.runs):
            r = run_shards(census, fakeaws, accounts, shards, tags, args.out_base)
            print(f"{name}: {accounts:,} accounts run {i + 1}: {describe(r)}", file=sys.stderr)
            runs.append(r)
        rows.append((name, accounts, shards, tags, median_row(runs)))
    load_after = os.getloadavg()

    def row_text(name, accounts, shards, tags, m):
        what = f"{shards} shard{'s' if shards > 1 else ''} at once" if shards else "one process"
        return (
            f"| {accounts:,} | {what} | {'yes' if tags else 'no'} | {m['calls']:,.0f} | **{m['wall']:.1f} s** | "
            f"{m['floor']:.0f} s ({m['floor_kind']}) | **{m['wall'] / m['floor']:.2f}x** | {m['calls_per_s']:.1f} | "
            f"**{m['rss']:.0f} MB** | {m['cpu']:.1f} s | {m['fakeaws_cpu']:.1f} s | {', '.join('%.0f' % w for w in m['shard_walls'])} s | {m['assume_throttled']:,.0f} of {m['assume'] + m['assume_throttled']:,.0f} | "
            f"{m['org_throttled']:,.0f} |"
        )

    by = {name: m for name, _, _, _, m in rows}
    lines = []
    if "1k" in by and "10k" in by:
        ratio = by["10k"]["calls_per_s"] / by["1k"]["calls_per_s"]
        lines.append(
            f"10,000 accounts: wall {by['10k']['wall']:.0f} s against the STS floor of {by['10k']['floor']:.0f} s "
            f"({by['10k']['wall'] / by['10k']['floor']:.2f}x; target 1.25x: {'met' if by['10k']['wall'] <= 1.25 * by['10k']['floor'] else 'NOT met'}), "
            f"peak RSS {by['10k']['rss']:.0f} MB (target under 150 MB: {'met' if by['10k']['rss'] < 150 else 'NOT met'}), "
            f"calls/s {by['10k']['calls_per_s']:.1f} vs {by['1k']['calls_per_s']:.1f} at 1,000 accounts "
            f"({ratio:.0%}; target 95%: {'met' if ratio >= 0.95 else 'NOT met'})."
        )
    sharded = [(n, m) for name, _, n, _, m in rows if name.startswith("shards")]
    if sharded:
        base = next((m for n, m in sharded if n == 1), None)
        if base:
            parts_text = [
                f"{n} shard{'s' if n > 1 else ''}: {m['wall']:.0f} s, {base['wall'] / m['wall']:.2f}x the speed of one "
                f"({base['wall'] / m['wall'] / n:.0%} per shard), CPU {m['cpu']:.0f} s census + {m['fakeaws_cpu']:.0f} s fakeaws "
                f"({(m['cpu'] + m['fakeaws_cpu']) / m['wall']:.2f} of the 2 cores busy)"
                for n, m in sharded
            ]
            lines.append("Shards of one organization: " + "; ".join(parts_text) + ".")
            lines.append(explain_shards(sharded))
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}; load average "
            f"{load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f} before, "
            f"{load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} after (1, 5, 15 min; other work shares the machine).",
            f"Command: `python3 bench/scale_limits.py --only {args.only} --runs {args.runs}"
            + (f" --shard-accounts {args.shard_accounts} --shards {args.shards}" if "shards" in parts else "")
            + "`: `fakeaws --accounts N --aws-limits` (50 ms per answer; Organizations 5/s and STS AssumeRole "
            "20/s per caller; 20/s per account, service and region on the scan calls) and "
            f"`census scan --org -s bench/scans/scale4.json --regions {','.join(REGIONS)}` (4 list calls, release builds), "
            f"medians of {args.runs} run(s). Every run checked: exit 0, accounts x {CALLS_PER_ACCOUNT} calls, none failed, one file per call.",
            "The floor is the slowest limit's time: STS, accounts (per shard) / 20 AssumeRole per second; "
            "Organizations, the requests each process made (fakeaws's count: every shard reads the whole organization, "
            "ListAccounts pages of 20 and the OU tree's ListAccountsForParent pages) / 5 per second; with account tags, "
            "one ListTagsForResource per kept account among them. Shards run at once, one output folder and "
            "--scan-id, each with its own access key (its own limits); their wall is to the end of the last.",
            "",
            "| accounts | processes | account tags | calls | wall | floor | wall / floor | calls/s | peak RSS (per process) | census CPU | fakeaws CPU | each process's end | AssumeRole throttled | Organizations throttled |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[row_text(*r) for r in rows],
            "",
            *lines,
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
