#!/usr/bin/env python3
"""How many detail calls the models derive, and how many of them moto takes without a
parameter error.

    python3 bench/details_coverage.py [--census PATH] [--no-write]

1. builds the release census unless --census is given, and the test kit's venv;
2. starts moto on a free 127.0.0.1 port and seeds one member account with the resources
   of bench/seed_moto.py in us-east-1 (a VPC, subnet, security group, instance, bucket,
   queues, topic, table, function, IAM roles, all tagged);
3. runs `census scan --org --preset all --details auto --regions us-east-1`: every list
   call of every service, and every detail call the models derive for the items each
   list returned (moto implements a fraction of the 429 services: list calls it does not
   implement fail, and have no items to detail);
4. counts, over every detail file, the detail calls made (one per item), their outcome
   (result, absent, error) and the error codes; a parameter error is one that says the
   derived parameters were wrong (Validation, DetailParameters, ValidationException,
   InvalidParameter*, MissingParameter, InvalidArgument, InvalidInput,
   SerializationException);
5. with the model coverage from `census operations --details-coverage` style counting
   (the derivation test prints it: list operations of the all preset with at least one
   derived detail operation), rewrites the "## Detail calls: coverage" section of
   BENCHMARKS.md.

Only loopback addresses; moto's fake credentials.
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

SECTION = "Detail calls: coverage"
PARAMETER_ERRORS = {
    "Validation", "DetailParameters", "ValidationException", "ValidationError",
    "MissingParameter", "InvalidArgument", "InvalidInput", "SerializationException",
    "InvalidRequest", "BadRequestException", "InvalidRequestException",
}


def is_parameter_error(code):
    return code in PARAMETER_ERRORS or code.startswith("InvalidParameter")


def model_coverage():
    """(list operations of the all preset with a derived detail, with an own one,
    all list operations of the all preset), from the derivation test's output."""
    out = subprocess.run(
        ["cargo", "test", "-q", "-p", "census", "--lib", "derive::tests::coverage", "--",
         "--ignored", "--nocapture"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [line for line in out.splitlines() if "detail" in line and any(ch.isdigit() for ch in line)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--census", help="census binary (default: build the release one)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    venv = setup_python()
    census = args.census or build_census()
    work = tempfile.mkdtemp(prefix="census-details-coverage-")
    moto = Moto(venv, work)
    try:
        env = clean_env(moto.url)
        subprocess.run(
            [os.path.join(venv, "bin", "python"), os.path.join(ROOT, "bench", "seed_moto.py"),
             json.dumps({"members": 1, "regions": ["us-east-1"]})],
            env=env, check=True, capture_output=True, text=True,
        )
        out = os.path.join(work, "out")
        t = time.monotonic()
        p = subprocess.run(
            [census, "scan", "--org", "--preset", "all", "--details", "auto", "--regions", "us-east-1",
             "--call-timeout", "60", "-o", out],
            env=env, capture_output=True, text=True,
        )
        wall = time.monotonic() - t
        if p.returncode not in (0, 2):
            raise SystemExit(f"census failed ({p.returncode}): {p.stderr[-2000:]}")
        scan = scan_dir(out)
        summary = json.load(open(os.path.join(scan, "summary.json")))
        detail_stems = set()
        for a in summary["accounts"]:
            for c in a["calls"]:
                if c.get("parent"):
                    detail_stems.add(c["stem"])
        outcomes = collections.Counter()
        codes = collections.Counter()
        operations = set()
        operations_ok = set()
        for account in os.listdir(scan):
            adir = os.path.join(scan, account)
            if account.startswith(".") or not os.path.isdir(adir):
                continue
            for region in os.listdir(adir):
                rdir = os.path.join(adir, region)
                for f in os.listdir(rdir):
                    stem = f[:-5]
                    if stem not in detail_stems:
                        continue
                    for element in json.load(open(os.path.join(rdir, f))):
                        operations.add(stem)
                        if "result" in element:
                            outcomes["result"] += 1
                            operations_ok.add(stem)
                        elif "absent" in element:
                            outcomes["absent"] += 1
                            operations_ok.add(stem)
                        else:
                            code = element["error"]["code"]
                            codes[code] += 1
                            outcomes["parameter error" if is_parameter_error(code) else "other error"] += 1
        tried = sum(outcomes.values())
        without = tried - outcomes["parameter error"]
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    coverage = model_coverage()
    body = f"""
Measured {time.strftime('%Y-%m-%d')} on {machine()}.
Command: `python3 bench/details_coverage.py`.

From the models (`cargo test -p census --lib derive::tests::coverage -- --ignored --nocapture`):

```
{chr(10).join(coverage)}
```

On moto 5.2.5, one member account seeded by `bench/seed_moto.py` in us-east-1, `census scan --org --preset all --details auto --regions us-east-1` ({wall:.0f} s, exit {p.returncode}: moto implements a fraction of the services, and the list calls it lacks fail):

| detail calls tried (one per listed item) | {tried} |
|---|---|
| without a parameter error | **{without}** ({100 * without / max(tried, 1):.1f}%) |
| result | {outcomes['result']} |
| absent (the item has none: no policy, no tags...) | {outcomes['absent']} |
| parameter errors | {outcomes['parameter error']} |
| other errors (moto does not implement the operation, ...) | {outcomes['other error']} |
| detail operations tried / with a result or absent | {len(operations)} / {len(operations_ok)} |

Error codes: {', '.join(f'{c} {n}' for c, n in codes.most_common(15)) or 'none'}.
"""
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()
