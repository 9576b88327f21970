#!/usr/bin/env python3
"""The HTML report's resource table with 500,000 resources: how big the page, how long to
write it, how long until interactive in headless Chromium, and how long each keystroke
takes to filter and draw the table (measured in the browser).

    python3 bench/report_table.py [--runs 5] [--rows 500000] [--accounts 300]
                                  [--census BIN --fakeaws BIN] [--no-write]

The store is census's own: one real scan of `fakeaws --accounts N` (release builds, the
organization's accounts, OUs, calls and schema as census writes them), whose inventory
rows are then replaced, with Python's sqlite3, by --rows synthetic ones: ~25 resource
types of 14 services with ids, ARNs, names and tags shaped like AWS's (`i-0` + 17 hex
digits, `arn:aws:ec2:REGION:ACCOUNT:instance/i-0...`, `payments-api-prod-12`,
`{"team": "team-payments", "env": "prod", ...}`), spread unevenly over the accounts
(a few big ones, a long tail) and the scan's 4 regions. Then per run: `census report
html --db census.db -o FILE` (release; wall time, and peak RSS by GNU time), and the page
opened from file:// in headless Chromium through the DevTools protocol (the ignored
test `report_html::bench_page`): time from navigation until the table shows its rows,
then three queries typed into the emptied filter one key at a time with
Input.dispatchKeyEvent: an instance id prefix (`i-0a`), an account's name, a tag value
(`team-pay`). For each key the page records the filter's time including drawing the
visible rows (`data-filter-ms`, performance.now() around the input handler) and the
time from the key event to the next frame (`data-frame-ms`). Medians and maxima over
the runs go to the "## HTML report: 500,000 resources" section of BENCHMARKS.md.

Target (issue 14): under 200 ms per keystroke.
"""

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_moto import ROOT, clean_env, machine, run_measured, scan_dir, write_section  # noqa: E402
from scan_scale import REGIONS, SCAN_FILE, FakeAws, build  # noqa: E402

SECTION = "HTML report: 500,000 resources"

TEAMS = ["payments", "search", "identity", "data", "platform", "mobile", "growth", "billing", "ml", "security"]
APPS = ["api", "worker", "web", "etl", "cache", "gateway", "scheduler", "ingest", "reports", "auth"]
ENVS = ["prod", "staging", "dev", "test"]

# (service, resource type, source, weight, id maker, ARN maker)
def _hex(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


TYPES = [
    ("ec2", "ec2:Instance", "ec2_describe_instances", 14, lambda r, n: "i-0" + _hex(r, 16), "ec2:{region}:{account}:instance/{id}"),
    ("ec2", "ec2:Volume", "ec2_describe_volumes", 16, lambda r, n: "vol-0" + _hex(r, 16), "ec2:{region}:{account}:volume/{id}"),
    ("ec2", "ec2:Snapshot", "ec2_describe_snapshots", 10, lambda r, n: "snap-0" + _hex(r, 16), "ec2:{region}:{account}:snapshot/{id}"),
    ("ec2", "ec2:NetworkInterface", "ec2_describe_network_interfaces", 10, lambda r, n: "eni-0" + _hex(r, 16), "ec2:{region}:{account}:network-interface/{id}"),
    ("ec2", "ec2:SecurityGroup", "ec2_describe_security_groups", 8, lambda r, n: "sg-0" + _hex(r, 16), "ec2:{region}:{account}:security-group/{id}"),
    ("ec2", "ec2:Subnet", "ec2_describe_subnets", 4, lambda r, n: "subnet-0" + _hex(r, 16), "ec2:{region}:{account}:subnet/{id}"),
    ("ec2", "ec2:Vpc", "ec2_describe_vpcs", 1, lambda r, n: "vpc-0" + _hex(r, 16), "ec2:{region}:{account}:vpc/{id}"),
    ("ec2", "ec2:Image", "ec2_describe_images", 2, lambda r, n: "ami-0" + _hex(r, 16), "ec2:{region}::image/{id}"),
    ("s3", "s3:Bucket", "s3_list_buckets", 3, lambda r, n: f"{n}-{_hex(r, 6)}", "s3:::{id}"),
    ("lambda", "lambda:Function", "lambda_list_functions", 6, lambda r, n: n, "lambda:{region}:{account}:function:{id}"),
    ("iam", "iam:Role", "iam_list_roles", 5, lambda r, n: "AROA" + _hex(r, 17).upper(), "iam::{account}:role/{name}"),
    ("iam", "iam:Policy", "iam_list_policies", 2, lambda r, n: "ANPA" + _hex(r, 17).upper(), "iam::{account}:policy/{name}"),
    ("logs", "logs:LogGroup", "logs_describe_log_groups", 6, lambda r, n: f"/aws/lambda/{n}", "logs:{region}:{account}:log-group:{id}"),
    ("sqs", "sqs:Queue", "sqs_list_queues", 2, lambda r, n: n, "sqs:{region}:{account}:{id}"),
    ("sns", "sns:Topic", "sns_list_topics", 1, lambda r, n: n, "sns:{region}:{account}:{id}"),
    ("dynamodb", "dynamodb:Table", "dynamodb_list_tables", 2, lambda r, n: n, "dynamodb:{region}:{account}:table/{id}"),
    ("rds", "rds:DBInstance", "rds_describe_db_instances", 1, lambda r, n: n, "rds:{region}:{account}:db:{id}"),
    ("rds", "rds:DBSnapshot", "rds_describe_db_snapshots", 1, lambda r, n: f"rds:{n}-{_hex(r, 4)}", "rds:{region}:{account}:snapshot:{id}"),
    ("kms", "kms:Key", "kms_list_keys", 2, lambda r, n: f"{_hex(r, 8)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 12)}", "kms:{region}:{account}:key/{id}"),
    ("ecs", "ecs:Service", "ecs_list_services", 1, lambda r, n: n, "ecs:{region}:{account}:service/{name}"),
    ("cloudwatch", "cloudwatch:Alarm", "cloudwatch_describe_alarms", 4, lambda r, n: f"{n}-high-errors", "cloudwatch:{region}:{account}:alarm:{id}"),
    ("elasticloadbalancing", "elasticloadbalancing:TargetGroup", "elbv2_describe_target_groups", 1, lambda r, n: n[:32], "elasticloadbalancing:{region}:{account}:targetgroup/{id}/" + "{hex}"),
    ("route53", "route53:HostedZone", "route53_list_hosted_zones", 1, lambda r, n: "Z" + _hex(r, 13).upper(), "route53:::hostedzone/{id}"),
    ("secretsmanager", "secretsmanager:Secret", "secretsmanager_list_secrets", 2, lambda r, n: f"{n}/db", "secretsmanager:{region}:{account}:secret:{id}-{hex6}"),
    ("ecr", "ecr:Repository", "ecr_describe_repositories", 1, lambda r, n: n, "ecr:{region}:{account}:repository/{id}"),
]


def synthesize(db, rows, seed=7):
    """Replaces the scan's inventory with `rows` synthetic resources; returns (scan_id,
    account names) for the queries."""
    rng = random.Random(seed)
    con = sqlite3.connect(db)
    scan_id = con.execute("SELECT scan_id FROM scans ORDER BY started DESC LIMIT 1").fetchone()[0]
    accounts = con.execute(
        "SELECT account_id, name FROM accounts WHERE scan_id = ? ORDER BY account_id", (scan_id,)
    ).fetchall()
    # A few big accounts and a long tail (Zipf-like).
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(accounts))]
    rng.shuffle(weights)
    type_weights = [t[3] for t in TYPES]
    tagsets = []
    for _ in range(400):
        team, app, env = rng.choice(TEAMS), rng.choice(APPS), rng.choice(ENVS)
        tags = {"team": f"team-{team}", "env": env, "app": f"{team}-{app}"}
        if rng.random() < 0.5:
            tags["cost-center"] = f"cc-{rng.randint(1000, 9999)}"
        if rng.random() < 0.2:
            tags["owner"] = f"{rng.choice(['ana', 'li', 'sam', 'noor', 'kai', 'eva'])}@example.com"
        tagsets.append(tags)
    con.execute("DELETE FROM inventory WHERE scan_id = ?", (scan_id,))
    batch = []
    acct_pick = rng.choices(range(len(accounts)), weights=weights, k=rows)
    type_pick = rng.choices(range(len(TYPES)), weights=type_weights, k=rows)
    for k in range(rows):
        account = accounts[acct_pick[k]][0]
        service, rtype, source, _, make_id, arn_fmt = TYPES[type_pick[k]]
        region = "us-east-1" if service in ("iam", "route53", "s3") else rng.choice(REGIONS)
        tags = rng.choice(tagsets)
        name = f"{tags['app']}-{tags['env']}-{k}"
        rid = make_id(rng, name)
        arn = "arn:aws:" + arn_fmt.format(
            region=region, account=account, id=rid, name=name, hex=_hex(rng, 16), hex6=_hex(rng, 6)
        )
        named = rtype not in ("ec2:Volume", "ec2:Snapshot", "ec2:NetworkInterface") or rng.random() < 0.3
        batch.append(
            (scan_id, account, region, service, rtype, rid, arn, name if named else None, json.dumps(tags), source)
        )
        if len(batch) == 20000:
            con.executemany(
                "INSERT INTO inventory (scan_id, account_id, region, service, resource_type, resource_id, arn, "
                "name, tags, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch = []
    if batch:
        con.executemany(
            "INSERT INTO inventory (scan_id, account_id, region, service, resource_type, resource_id, arn, "
            "name, tags, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
    con.commit()
    n = con.execute("SELECT COUNT(*) FROM inventory WHERE scan_id = ?", (scan_id,)).fetchone()[0]
    con.close()
    assert n == rows, (n, rows)
    return scan_id, accounts


def page_timings(page, queries):
    env = dict(os.environ, CENSUS_REPORT_BENCH=page, CENSUS_REPORT_QUERIES="|".join(queries))
    out = subprocess.run(
        ["cargo", "test", "-q", "-p", "census", "--test", "report_html", "bench_page", "--", "--ignored", "--nocapture"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"bench_page failed:\n{out.stdout}\n{out.stderr}")
    interactive = re.search(r"interactive in (\d+) ms, (\S+) rows", out.stdout)
    index = re.search(r"search index built (\d+) ms later", out.stdout)
    per_query = {}
    query = None
    for line in out.stdout.splitlines():
        m = re.match(r'bench: query "(.*)"', line)
        if m:
            query = m.group(1)
            per_query[query] = []
            continue
        m = re.search(r"keystroke (.*): filtered in ([\d.]+) ms, frame in ([\d.]+) ms, (\d+) rows", line)
        if m:
            per_query[query].append((m.group(1), float(m.group(2)), float(m.group(3)), int(m.group(4))))
    return dict(
        interactive=int(interactive.group(1)),
        rows=interactive.group(2).strip('"'),
        index=int(index.group(1)) if index else 0,
        keys=per_query,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--census")
    ap.add_argument("--fakeaws")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    census, fakeaws = (args.census, args.fakeaws) if args.census and args.fakeaws else build()
    # The test binary that drives Chromium, built before anything is timed.
    subprocess.run(["cargo", "test", "-q", "-p", "census", "--test", "report_html", "--no-run"], cwd=ROOT, check=True)

    out = tempfile.mkdtemp(prefix="census-report-table-")
    try:
        fa = FakeAws(fakeaws, args.accounts)
        try:
            cmd = [census, "scan", "--org", "-s", SCAN_FILE, "--regions", ",".join(REGIONS), "-o", out]
            code, _, _, _ = run_measured(cmd, clean_env(fa.url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if code != 0:
                raise SystemExit(f"the scan exited {code}; see {out}")
        finally:
            fa.stop()
        scan_dir(out)
        db = os.path.join(out, "census.db")
        t0 = time.monotonic()
        _, accounts = synthesize(db, args.rows)
        print(f"{args.rows:,} synthetic rows in {time.monotonic() - t0:.0f} s", file=sys.stderr)
        # An account's name as a person would type it (the first with one).
        account_name = next((a[1] for a in accounts if a[1]), accounts[0][0])
        queries = ["i-0a", account_name, "team-pay"]
        runs = []
        for i in range(args.runs):
            page = os.path.join(out, "report.html")
            code, wall, rss, _ = run_measured([census, "report", "html", "--db", db, "-o", page], clean_env())
            if code != 0:
                raise SystemExit(f"census report html exited {code}")
            r = dict(write=wall, rss=rss, size=os.path.getsize(page) / 1e6, **page_timings(page, queries))
            keys = [k for q in r["keys"].values() for k in q]
            r["filter_median"] = statistics.median(k[1] for k in keys)
            r["filter_max"] = max(k[1] for k in keys)
            r["frame_median"] = statistics.median(k[2] for k in keys)
            r["frame_max"] = max(k[2] for k in keys)
            print(
                f"run {i + 1}: written in {r['write']:.2f}s ({r['size']:.1f} MB, RSS {r['rss']:.0f} MB), "
                f"interactive in {r['interactive']} ms ({r['rows']} rows), keystrokes: filter median "
                f"{r['filter_median']:.1f} ms, max {r['filter_max']:.1f} ms; to the frame median "
                f"{r['frame_median']:.1f} ms, max {r['frame_max']:.1f} ms",
                file=sys.stderr,
            )
            runs.append(r)
    finally:
        shutil.rmtree(out, ignore_errors=True)

    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k not in ("rows", "keys")}
    worst = {k: max(r[k] for r in runs) for k in ("filter_max", "frame_max")}
    # Each keystroke's median over the runs: where the time goes.
    lines = []
    for q in queries:
        per_key = [[r["keys"][q][j] for r in runs] for j in range(len(runs[0]["keys"][q]))]
        cells = []
        for ks in per_key:
            cells.append(
                f"`{ks[0][0].strip(chr(39)).strip(chr(34))}` {statistics.median(k[1] for k in ks):.0f}/"
                f"{statistics.median(k[2] for k in ks):.0f} ms ({ks[0][3]:,} rows)"
            )
        lines.append(f"- \"{q}\": " + ", ".join(cells))
    load = os.getloadavg()
    kind = "debug build" if f"{os.sep}debug{os.sep}" in census else "release build"
    body = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {load[0]:.1f} when it ended (other builds share the machine).",
            f"Command: `python3 bench/report_table.py --runs {args.runs} --rows {args.rows} --accounts {args.accounts}"
            + (" --census target/debug/census --fakeaws target/debug/fakeaws" if kind == "debug build" else "")
            + "`: "
            f"one scan of `fakeaws --accounts {args.accounts}` ({kind}, SQLite) whose inventory is replaced by "
            f"{args.rows:,} synthetic resources (25 types of 14 services, AWS-shaped ids, ARNs, names and tags, "
            f"uneven over the accounts, 4 regions); per run `census report html -o FILE` ({kind}) and the page opened "
            "from file:// in headless Chromium through the DevTools protocol (`report_html::bench_page`): navigation "
            "until the table shows its rows, then the queries "
            + ", ".join(f'"{q}"' for q in queries)
            + " typed into the emptied filter one key at a time (Input.dispatchKeyEvent). Per key: the input "
            "handler's time (filter and drawing the visible rows, performance.now() in the page) and the time from "
            "the key event to the frame after it. Medians of the runs; max = the slowest key of all runs.",
            "Target (issue 14): under 200 ms per keystroke.",
            "",
            "| resources | file | write | peak RSS (write) | interactive | search index | key: filter median | filter max | key to frame median | to frame max |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {int(runs[0]['rows']):,} | {med['size']:.1f} MB | {med['write']:.2f} s | {med['rss']:.0f} MB | "
            f"{med['interactive'] / 1000:.2f} s | +{med['index'] / 1000:.2f} s | **{med['filter_median']:.1f} ms** | "
            f"{worst['filter_max']:.1f} ms | **{med['frame_median']:.1f} ms** | {worst['frame_max']:.1f} ms |",
            "",
            "Each key, median filter/to-frame time over the runs (rows left after it):",
            "",
            *lines,
            "",
            f"Per keystroke under 200 ms: {'held' if worst['frame_max'] < 200 else 'NOT held'} (slowest key of all runs, to the frame: {worst['frame_max']:.0f} ms).",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
