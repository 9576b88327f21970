#!/usr/bin/env python3
"""aws-auto-inventory's sample scan files side by side with Census on moto (issue 12).

    python3 bench/aai_side_by_side.py --aai PATH [--census PATH]
        [--files services/s3.json services/ec2.json] [--no-write] [--keep] [--no-default-amis]

--aai is a checkout of aws-samples/aws-auto-inventory at commit 3bf3c21 (AAI_COMMIT
below). This script fetches nothing: get the files with, for example,

    git clone https://github.com/aws-samples/aws-auto-inventory /tmp/aai
    git -C /tmp/aai checkout 3bf3c216b451013136039c7d3b4c69750a9dee3f

(or `git archive 3bf3c21 | tar -x -C DIR` from any clone). When PATH is a git checkout its
HEAD must be that commit; when it is not (an archive) the script says it cannot check.

1. makes the test kit's venv (scripts/setup-python.sh: moto's server, boto3, requests)
   and builds the release census unless --census is given;
2. starts `moto_server` on a free 127.0.0.1 port (moto's default AMIs loaded, as in the
   hand-made run; --no-default-amis leaves them out), credentials moto's fake ones and
   every inherited AWS_* variable removed (scan_moto.clean_env), and seeds it with
   `crates/testkit/python/seed_samples.py`;
3. for each --files entry (relative to `<aai>/scan/sample/`), in the same moto run:
   `<venv>/bin/python <aai>/scan.py -s <file> -r us-east-1 -o DIR` (cwd the checkout;
   scan.py imports `jq`, a compiled package: it is stubbed by a directory with a `jq.py`
   put first on PYTHONPATH whose `compile` raises, and the script refuses a file with a
   jq result key, `result_key` starting with "."), then
   `census scan -s <file> --regions us-east-1 -o DIR`, each timed (wall);
4. counts the non-empty results: an output file that is not null, [] or {}; for
   Census's detail files (the stems summary.json gives a `parent` to), those with at
   least one element whose result is non-empty; and rewrites the BENCHMARKS.md section
   "aws-auto-inventory's sample files side by side on moto (issue 12)" (unless
   --no-write).

scan.py's own imports beyond boto3 are `requests` (missing from aws-auto-inventory's
requirements files; the test kit's venv has it, pinned in
crates/testkit/python/requirements.txt as a moto dependency) and `jq` (stubbed); its
requirements.txt also lists pydantic, pandas, xlsxwriter and pyyaml, which scan.py does
not import.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_moto import (  # noqa: E402
    ROOT, Moto, build_census, clean_env, machine, scan_dir, setup_python, write_section,
)

AAI_COMMIT = "3bf3c216b451013136039c7d3b4c69750a9dee3f"
SECTION = "aws-auto-inventory's sample files side by side on moto (issue 12)"
REGION = "us-east-1"
JQ_STUB = '''"""Stand-in for the `jq` package (bench/aai_side_by_side.py): the sample files run
have no jq result key, so scan.py never calls it."""


def compile(*args, **kwargs):
    raise NotImplementedError("jq is stubbed by bench/aai_side_by_side.py")
'''


def get_instructions():
    return (
        "get it with: git clone https://github.com/aws-samples/aws-auto-inventory DIR && "
        f"git -C DIR checkout {AAI_COMMIT}"
    )


def check_aai(path):
    """Checks the checkout; returns a note on how it was checked."""
    if not os.path.isfile(os.path.join(path, "scan.py")):
        raise SystemExit(f"{path}: no scan.py; not an aws-auto-inventory checkout; {get_instructions()}")
    head = subprocess.run(
        ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True
    )
    top = subprocess.run(
        ["git", "-C", path, "rev-parse", "--show-toplevel"], capture_output=True, text=True
    )
    if head.returncode != 0 or os.path.realpath(top.stdout.strip()) != os.path.realpath(path):
        print(f"warning: {path} is not a git checkout; cannot check that it is commit "
              f"{AAI_COMMIT[:7]}; to be sure, {get_instructions()}", file=sys.stderr)
        return "not a git checkout: commit not checked"
    if head.stdout.strip() != AAI_COMMIT:
        raise SystemExit(f"{path} is at {head.stdout.strip()}, not {AAI_COMMIT}; "
                         f"git -C {path} checkout {AAI_COMMIT}")
    dirty = subprocess.run(
        ["git", "-C", path, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True,
    ).stdout.strip()
    if dirty:
        raise SystemExit(f"{path} has local changes:\n{dirty}")
    return f"git checkout at {AAI_COMMIT[:7]}, clean"


def non_empty(value):
    return value not in (None, [], {})


def load(path):
    with open(path) as f:
        return json.load(f)


def timed(cmd, env, cwd, log_path):
    with open(log_path, "w") as log:
        t = time.monotonic()
        p = subprocess.run(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        return p.returncode, time.monotonic() - t


def run_aai(venv, aai, file, out, env, stub, log_path):
    env = dict(env)
    env["PYTHONPATH"] = stub
    cmd = [os.path.join(venv, "bin", "python"), os.path.join(aai, "scan.py"),
           "-s", file, "-r", REGION, "-o", out]
    code, wall = timed(cmd, env, aai, log_path)
    stems = {}
    for dirpath, _, names in os.walk(out):
        for n in names:
            if n.endswith(".json"):
                stems[n[:-5]] = non_empty(load(os.path.join(dirpath, n)))
    return dict(code=code, wall=wall, files=len(stems), non_empty={s for s, ok in stems.items() if ok})


def run_census(census, file, out, env, log_path):
    cmd = [census, "scan", "-s", file, "--regions", REGION, "-o", out]
    code, wall = timed(cmd, env, None, log_path)
    scan = scan_dir(out)
    summary = load(os.path.join(scan, "summary.json"))
    calls = [c for a in summary["accounts"] for c in a["calls"]]
    detail_stems = {c["stem"] for c in calls if c.get("parent")}
    failed = [c for c in calls if c["status"] not in ("ok", "absent")]
    not_implemented = sum(1 for c in failed if str(c.get("error_code")) == "500")
    plain, detail, elements = set(), set(), 0
    for account in os.listdir(scan):
        a = os.path.join(scan, account)
        if account.startswith(".") or not os.path.isdir(a):
            continue
        for region in os.listdir(a):
            r = os.path.join(a, region)
            if not os.path.isdir(r):
                continue
            for n in os.listdir(r):
                if not n.endswith(".json"):
                    continue
                stem, value = n[:-5], load(os.path.join(r, n))
                if stem in detail_stems:
                    filled = sum(1 for e in value or [] if non_empty(e.get("result")))
                    elements += filled
                    if filled:
                        detail.add(stem)
                elif non_empty(value):
                    plain.add(stem)
    totals = summary.get("totals", {})
    return dict(code=code, wall=wall, calls=totals.get("calls", len(calls)), failed=len(failed),
                not_implemented=not_implemented, other_errors=collections.Counter(
                    str(c.get("error_code")) for c in failed if str(c.get("error_code")) != "500"),
                plain=plain, detail=detail, elements=elements, detail_stems=detail_stems)


def row(name, entries, aai, cen):
    n_aai = len(aai["non_empty"])
    n_cen = len(cen["plain"]) + len(cen["detail"])
    if n_aai == 1:
        aai_cell = f"1 (`{next(iter(aai['non_empty'])).split('-', 1)[1]}`)"
    else:
        aai_cell = str(n_aai)
    both = aai["non_empty"] & (cen["plain"] | cen["detail"])
    only_aai = sorted(aai["non_empty"] - both)
    extra_plain = sorted(cen["plain"] - aai["non_empty"])
    extra_detail = sorted(cen["detail"] - aai["non_empty"])
    parts = []
    if both == aai["non_empty"]:
        parts.append(f"the same {len(both)}" if len(both) > 1 else
                     " + ".join(f"`{s.split('-', 1)[1]}`" for s in sorted(both)))
    else:
        parts.append(f"{len(both)} of aws-auto-inventory's (not: {', '.join(only_aai)})")
    parts += [f"`{s.split('-', 1)[1]}`" for s in extra_plain]
    if extra_detail:
        word = "per-bucket detail files" if name.endswith("s3.json") else "detail files"
        parts.append(f"{len(extra_detail)} {word}")
    unit = "bucket results over the 2 buckets" if name.endswith("s3.json") else "per-item results"
    cen_cell = f"{n_cen}: {' + '.join(parts)} ({cen['elements']} non-empty {unit})"
    calls = f"{cen['calls']} ({cen['failed']}"
    if cen["failed"]:
        other = sum(cen["other_errors"].values())
        bits = []
        if cen["not_implemented"]:
            bits.append(f"{cen['not_implemented']} operations moto does not implement")
        if other:
            bits.append(f"{other} parameter error{'s' if other > 1 else ''}: "
                        + ", ".join(f"{k}" for k in sorted(cen["other_errors"])))
        calls += ": " + ", ".join(bits)
    calls += f"), exit {cen['code']}"
    return (f"| `{name}` ({entries} entries) | {aai_cell} | {cen_cell} | {calls} | "
            f"{aai['wall']:.1f} s / {cen['wall']:.1f} s |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aai", required=True,
                    help=f"a checkout of aws-samples/aws-auto-inventory at {AAI_COMMIT[:7]}")
    ap.add_argument("--census", help="census binary (default: build the release one)")
    ap.add_argument("--files", nargs="+", default=["services/s3.json", "services/ec2.json"],
                    help="sample files, relative to <aai>/scan/sample/")
    ap.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--no-default-amis", action="store_true",
                    help="MOTO_EC2_LOAD_DEFAULT_AMIS=false (the hand-made run loaded them)")
    args = ap.parse_args()

    aai = os.path.abspath(args.aai)
    checked = check_aai(aai)
    files = []
    for f in args.files:
        path = os.path.join(aai, "scan", "sample", f)
        if not os.path.isfile(path):
            raise SystemExit(f"{path}: no such sample file")
        entries = load(path)
        jq_keys = [e for e in entries if str(e.get("result_key") or "").startswith(".")]
        if jq_keys:
            raise SystemExit(f"{f} has {len(jq_keys)} jq result keys; jq is stubbed here")
        files.append((f, path, len(entries)))

    venv = setup_python()
    census = os.path.abspath(args.census) if args.census else build_census()
    py = os.path.join(venv, "bin", "python")
    versions = subprocess.run(
        [py, "-c", "import boto3, moto, requests; print(boto3.__version__, moto.__version__, requests.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    census_version = subprocess.run([census, "--version"], capture_output=True, text=True).stdout.strip()

    work = tempfile.mkdtemp(prefix="census-bench-aai-")
    stub = os.path.join(work, "jq-stub")
    os.makedirs(stub)
    with open(os.path.join(stub, "jq.py"), "w") as f:
        f.write(JQ_STUB)
    moto = Moto(venv, work, default_amis=not args.no_default_amis)
    results = []
    try:
        env = clean_env(moto.url)
        t = time.monotonic()
        subprocess.run([py, os.path.join(ROOT, "crates", "testkit", "python", "seed_samples.py")],
                       env=env, check=True, capture_output=True)
        print(f"seeded in {time.monotonic() - t:.1f}s; moto at {moto.url}", file=sys.stderr)
        for i, (name, path, entries) in enumerate(files):
            stem = f"{i}-{os.path.basename(name)[:-5]}"
            a = run_aai(venv, aai, path, os.path.join(work, f"aai-{stem}"), env, stub,
                        os.path.join(work, f"aai-{stem}.log"))
            c = run_census(census, path, os.path.join(work, f"census-{stem}"), env,
                           os.path.join(work, f"census-{stem}.log"))
            print(f"{name}: aws-auto-inventory exit {a['code']}, {a['files']} files, "
                  f"{len(a['non_empty'])} non-empty, {a['wall']:.1f}s; census exit {c['code']}, "
                  f"{len(c['plain'])} + {len(c['detail'])} detail non-empty ({c['elements']} elements), "
                  f"{c['calls']} calls ({c['failed']} failed: {c['not_implemented']} HTTP 500, "
                  f"{dict(c['other_errors'])}), {c['wall']:.1f}s", file=sys.stderr)
            if a["code"] != 0:
                raise SystemExit(f"scan.py exited {a['code']}; see {work}/aai-{stem}.log")
            if c["code"] not in (0, 2):
                raise SystemExit(f"census exited {c['code']}; see {work}/census-{stem}.log")
            results.append((name, entries, a, c))
    finally:
        moto.stop()
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    rows = "\n".join(row(name, entries, a, c) for name, entries, a, c in results)
    cmd = "python3 bench/aai_side_by_side.py --aai AAI_CHECKOUT"
    if args.census:
        cmd += " --census target/release/census"
    if args.files != ap.get_default("files"):
        cmd += " --files " + " ".join(args.files)
    if args.no_default_amis:
        cmd += " --no-default-amis"
    amis = "default AMIs not loaded" if args.no_default_amis else "default AMIs loaded"
    s3 = next((r for r in results if r[0] == "services/s3.json"), None)
    prose = ""
    if s3 and len(s3[2]["non_empty"]) == 1:
        prose = f"""
aws-auto-inventory's other s3.json entries end without a file and, for the 40 that
miss `Bucket`, without a log line: boto3's `ParamValidationError` is a `BotoCoreError`,
which `api_call_with_retry` retries with back-off and then returns `None` (most of its
{s3[2]['wall']:.1f} s). Census runs 25 of them as details of `ListBuckets` (one element per bucket,
equal to boto3's answer: `tests/samples.rs`), and says why it leaves out the other 15.
"""
    body = f"""
Measured {time.strftime('%Y-%m-%d')} on {machine()}; load average {os.getloadavg()[0]:.1f} when it ended.
Command: `{cmd}` (AAI_CHECKOUT: aws-samples/aws-auto-inventory at commit {AAI_COMMIT[:7]}).
One moto server ({versions[1]}, {amis}) on 127.0.0.1 seeded by `crates/testkit/python/seed_samples.py`
(two buckets: A with versioning, policy, tags, encryption, public access block, ownership
controls, CORS and a lifecycle rule, B with a log-delivery ACL; a VPC, subnets, a load
balancer, an instance, a security group, a managed prefix list), the caller's own
account, region {REGION}. In the same run, for each file: aws-auto-inventory's
`scan.py -s scan/sample/<file> -r {REGION}` (boto3 {versions[0]}, requests {versions[2]}, the test kit's
venv; `jq` stubbed by a `jq.py` first on `PYTHONPATH`: these files have no jq result
key), then `census scan -s scan/sample/<file> --regions {REGION}` ({census_version},
release build); wall time of each process.
A non-empty result: an output file that is not `null`, `[]` or `{{}}`; for Census's detail
files, one with at least one item whose result is non-empty.

| file | aws-auto-inventory: non-empty results | Census: non-empty results | Census calls (failed) | wall time aai / Census |
|---|---:|---:|---:|---:|
{rows}
{prose}"""
    print(body)
    print(f"aws-auto-inventory checkout: {checked}", file=sys.stderr)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
