#!/usr/bin/env python3
"""Response-parsing throughput, awsdyn against botocore, on the same bytes, in one run.

  python3 bench/parse_throughput.py [--runs N]

1. writes the 20 MB responses (bench/gen_responses.py) to bench/data/;
2. times botocore 1.43.67's own parser (installed into bench/.venv) on them, N runs each,
   and takes the median;
3. runs the criterion bench `cargo bench -p awsdyn --bench parse` and reads its medians;
4. rewrites the "Response parsing" section of BENCHMARKS.md with machine, commands and
   figures (MB/s and the ratio)."""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
VENV = os.path.join(HERE, ".venv")
BOTOCORE = "botocore==1.43.67"
CASES = [
    # (criterion id, service, operation, file)
    ("ec2_describe_instances", "ec2", "DescribeInstances", "ec2-describe-instances.xml"),
    ("dynamodb_scan", "dynamodb", "Scan", "dynamodb-scan.json"),
]

BOTOCORE_TIMER = r"""
import gc, json, statistics, sys, time
import botocore.session, botocore.parsers
runs = int(sys.argv[1]); cases = json.loads(sys.argv[2])
session = botocore.session.get_session()
out = {}
for cid, service, op, path in cases:
    model = session.get_service_model(service)
    shape = model.operation_model(op).output_shape
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    body = open(path, "rb").read()
    times = []
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
        times.append(time.perf_counter() - t)
        assert parsed and len(parsed) > 1, cid
        # Freed outside the timing, as the Rust bench frees its result outside its own.
        del parsed
    out[cid] = {"median_s": statistics.median(times), "bytes": len(body), "runs": runs}
print(json.dumps(out))
"""


def sh(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def venv_python():
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        sh([sys.executable, "-m", "venv", VENV])
    sh([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", BOTOCORE])
    return py


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "%s, %d cores, %s, Python %s" % (cpu, os.cpu_count(), platform.platform(), platform.python_version())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5, help="botocore runs per response (median)")
    args = ap.parse_args()
    sh([sys.executable, os.path.join(HERE, "gen_responses.py"), DATA])
    py = venv_python()
    cases = [(cid, svc, op, os.path.join(DATA, f)) for cid, svc, op, f in CASES]
    res = subprocess.run([py, "-c", BOTOCORE_TIMER, str(args.runs), json.dumps(cases)], check=True, capture_output=True, text=True)
    boto = json.loads(res.stdout)
    env = dict(os.environ, AWSDYN_BENCH_DATA=DATA)
    sh(["cargo", "bench", "-p", "awsdyn", "--bench", "parse", "--", "--noplot"], cwd=ROOT, env=env)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    rows = []
    for cid, svc, op, _ in CASES:
        est = json.load(open(os.path.join(target, "criterion", "parse", cid, "new", "estimates.json")))
        rust_s = est["median"]["point_estimate"] / 1e9
        b = boto[cid]
        mb = b["bytes"] / 1e6
        rows.append((svc, op, mb, b["median_s"], mb / b["median_s"], rust_s, mb / rust_s, b["median_s"] / rust_s))
    table = ["| response | size | botocore median | botocore MB/s | awsdyn median | awsdyn MB/s | ratio |", "|---|---|---|---|---|---|---|"]
    for svc, op, mb, bs, bmbs, rs, rmbs, ratio in rows:
        table.append("| %s %s | %.1f MB | %.3f s | %.1f | %.1f ms | %.0f | **%.0fx** |" % (svc, op, mb, bs, bmbs, rs * 1000, rmbs, ratio))
    section = "\n".join([
        "## Response parsing: awsdyn vs botocore",
        "",
        "Measured %s on %s." % (time.strftime("%Y-%m-%d"), machine()),
        "Command: `python3 bench/parse_throughput.py --runs %d` (botocore: median of %d runs of "
        "`botocore.parsers.create_parser(protocol).parse(...)` with %s; awsdyn: criterion median, "
        "`cargo bench -p awsdyn --bench parse`, release build, same bytes, same run)." % (args.runs, args.runs, BOTOCORE),
        "Responses from `bench/gen_responses.py` (seeded): an ec2 DescribeInstances XML answer and a "
        "DynamoDB Scan JSON answer mixing every attribute-value type. Target: at least 20x botocore.",
        "",
        *table,
        "",
    ])
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\nFigures from the scripts under bench/; medians, these machines are noisy.\n\n"
    pattern = re.compile(r"## Response parsing: awsdyn vs botocore\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(section)


if __name__ == "__main__":
    main()
