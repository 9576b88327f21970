#!/usr/bin/env python3
"""The figures of issue 15 ("Speed"), each a ratio measured in the same run, into the
"Speed (issue 15)" section of BENCHMARKS.md.

  python3 bench/speed.py [--runs N] [--only SECTION]

One function per section; each returns its markdown (a `### ` subsection) and replaces
only its own subsection, so `--only` reruns one part without touching the others.
Sections:

- decode: `census decode` (release build, the whole command: start, read, parse, the
  boto3 JSON written to /dev/null) against botocore's parser on the same 20 MB answers
  (bench/gen_responses.py: ec2 DescribeInstances XML, DynamoDB Scan JSON); in-process
  (`cargo run --release -p awsdyn --example parse_speed`): awsdyn's parse to a Value
  alone, its streaming decode to the printed JSON (what `census decode` runs for these
  answers) and `serde_json::from_slice::<Value>` on the same JSON body. Medians of N runs (at least
  5). botocore is timed the way bench/parse_throughput.py times it (its timer and its
  venv, imported from it).
- postgres, moto50: whole scans (bench/speed_scans.py): PostgreSQL vs the tree only at
  200 and 500 fakeaws accounts; 50 moto accounts, census's wall time against moto's CPU
  seconds and census's peak RSS.
- preset: `census scan --preset all` (and `core`) of one moto account in one region: peak
  RSS and the time from start to the first scan call (bench/speed_preset.py).

The machine's load average is noted before and after each section: other work on the
machine slows both sides of a ratio, not always equally."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import peak_rss  # noqa: E402  (a child's own peak RSS)
import parse_throughput as pt  # noqa: E402  (the botocore venv, timer and cases)
import speed_preset  # noqa: E402  (--preset all: peak RSS, time to the first call)
import speed_scans  # noqa: E402  (the sections that time whole scans)

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
HEADING = "## Speed (issue 15)"


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def median(xs):
    return statistics.median(xs)


def run_child(cmd, stdout):
    """Runs cmd; its wall seconds, CPU seconds (user+sys) and peak RSS (MB)."""
    with tempfile.TemporaryFile() as errors:
        code, wall, rss, cpu = peak_rss.run(cmd, stdout=stdout, stderr=errors)
        if code != 0:
            errors.seek(0)
            raise SystemExit("%s failed (%d): %s" % (" ".join(cmd), code, errors.read().decode(errors="replace")))
    return wall, cpu, rss


def botocore_timer():
    """bench/parse_throughput.py's botocore timer, also taking the thread's CPU time of
    each parse (the figure that holds on a busy machine)."""
    src = pt.BOTOCORE_TIMER
    for old, new in [
        ("        t = time.perf_counter()\n", "        t = time.perf_counter(); c = time.thread_time()\n"),
        ("        times.append(time.perf_counter() - t)\n", "        times.append(time.perf_counter() - t); cpus.append(time.thread_time() - c)\n"),
        ("    times = []\n", "    times = []; cpus = []\n"),
        ('"median_s": statistics.median(times),', '"median_s": statistics.median(times), "cpu_s": statistics.median(cpus),'),
    ]:
        assert src.count(old) == 1, "bench/parse_throughput.py's timer changed: %r" % old
        src = src.replace(old, new)
    return src


def section_decode(runs):
    load_before = load()
    pt.sh([sys.executable, os.path.join(HERE, "gen_responses.py"), pt.DATA])
    pt.sh(["cargo", "build", "--release", "-p", "census", "--bin", "census"], cwd=ROOT)
    pt.sh(["cargo", "build", "--release", "-p", "awsdyn", "--example", "parse_speed"], cwd=ROOT)
    census = os.path.join(TARGET, "release", "census")
    example = os.path.join(TARGET, "release", "examples", "parse_speed")
    cases = [(cid, svc, op, os.path.join(pt.DATA, f)) for cid, svc, op, f in pt.CASES]

    py = pt.venv_python()
    res = subprocess.run([py, "-c", botocore_timer(), str(runs), json.dumps(cases)], check=True, capture_output=True, text=True)
    boto = json.loads(res.stdout)

    decode = {}
    for cid, svc, op, path in cases:
        walls, cpus, rss = [], [], []
        with open(os.devnull, "wb") as null:
            for _ in range(runs):
                w, c, r = run_child([census, "decode", svc, op, path], null)
                walls.append(w)
                cpus.append(c)
                rss.append(r)
        decode[cid] = {"wall": median(walls), "cpu": median(cpus), "rss": max(rss)}

    args = [str(runs)]
    for _, svc, op, path in cases:
        args += [svc, op, path]
    res = subprocess.run([example, *args], check=True, capture_output=True, text=True)
    inproc = {}
    for (cid, *_), line in zip(cases, res.stdout.splitlines()):
        inproc[cid] = json.loads(line)
    load_after = load()

    table = [
        "| answer | size | botocore parse | `census decode` (whole command) | botocore / decode | awsdyn printed (in-process) | botocore / printed | awsdyn parse to Value (in-process) | botocore / awsdyn parse | serde_json `from_slice::<Value>` | awsdyn parse / serde_json |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    figures = {}
    for cid, svc, op, _ in cases:
        b, d, i = boto[cid], decode[cid], inproc[cid]
        mb = b["bytes"] / 1e6
        scpu = i["serde_json_cpu_s"]
        pcpu = i.get("printed_cpu_s")
        figures[cid] = {
            "bytes": b["bytes"],
            "botocore_wall_s": b["median_s"],
            "botocore_cpu_s": b["cpu_s"],
            "decode_wall_s": d["wall"],
            "decode_cpu_s": d["cpu"],
            "decode_peak_rss_mb": d["rss"],
            "awsdyn_parse_wall_s": i["awsdyn_s"],
            "awsdyn_parse_cpu_s": i["awsdyn_cpu_s"],
            "printed_wall_s": i.get("printed_s"),
            "printed_cpu_s": pcpu,
            "serde_json_wall_s": i["serde_json_s"],
            "serde_json_cpu_s": scpu,
        }
        table.append(
            "| %s %s | %.1f MB | %.3f s (%.1f MB/s) | %.3f s (%.0f MB/s; peak RSS %.0f MB) | %.1fx | %s | %s | %.3f s (%.0f MB/s) | %.1fx | %s | %s |"
            % (
                svc,
                op,
                mb,
                b["cpu_s"],
                mb / b["cpu_s"],
                d["cpu"],
                mb / d["cpu"],
                d["rss"],
                b["cpu_s"] / d["cpu"],
                "%.3f s (%.0f MB/s)" % (pcpu, mb / pcpu) if pcpu else "- (declined)",
                "**%.1fx**" % (b["cpu_s"] / pcpu) if pcpu else "-",
                i["awsdyn_cpu_s"],
                mb / i["awsdyn_cpu_s"],
                b["cpu_s"] / i["awsdyn_cpu_s"],
                "%.3f s (%.0f MB/s)" % (scpu, mb / scpu) if scpu else "-",
                "**%.2fx**" % (i["awsdyn_cpu_s"] / scpu) if scpu else "-",
            )
        )
    walls = "; ".join(
        "%s: botocore %.2f s, decode %.2f s, printed %s, awsdyn parse %.2f s%s"
        % (cid, figures[cid]["botocore_wall_s"], figures[cid]["decode_wall_s"],
           "%.2f s" % figures[cid]["printed_wall_s"] if figures[cid]["printed_wall_s"] else "-",
           figures[cid]["awsdyn_parse_wall_s"],
           ", serde_json %.2f s" % figures[cid]["serde_json_wall_s"] if figures[cid]["serde_json_wall_s"] else "")
        for cid, *_ in cases
    )
    text = "\n".join(
        [
            "### Decode vs botocore, awsdyn vs serde_json",
            "",
            "Measured %s; load average %s before, %s after (1, 5, 15 min)." % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_before, load_after),
            "Command: `python3 bench/speed.py --only decode --runs %d`. Medians of %d runs each, same bytes, same run, release build:" % (runs, runs),
            "",
            "- botocore: `botocore.parsers.create_parser(protocol).parse(...)` with %s (bench/parse_throughput.py's timer and venv)." % pt.BOTOCORE,
            "- `census decode SERVICE OPERATION FILE > /dev/null`: the whole process, timed from outside (start, model, read, parse, the boto3 JSON pretty-printed as `census call` prints it). botocore's figure is its parser alone (a dict, nothing printed).",
            "- awsdyn printed: `awsdyn::client::decode_printed` and writing its output to a sink, in-process: the streaming path `census decode` takes for these answers (the body parsed straight into the printed JSON, merged as a first page, no Value tree); `- (declined)` when it hands the answer to the Value path. Parser against parser (both in a warm process): the figure issue 15's 50x target is about (in bold).",
            "- awsdyn parse to Value: `awsdyn::client::decode` (the client's parse path, customizations included, what `census call` runs) in-process, and `serde_json::from_slice::<Value>` on the same JSON body, in the same process (`target/release/examples/parse_speed`, mimalloc as in census).",
            "- Answers from `bench/gen_responses.py` (seeded, about 21 MB each). Targets of issue 15: 50x botocore, JSON within 3x of serde_json.",
            "- The figures are CPU seconds (medians): the parsing thread's (Python `time.thread_time()`, Rust `CLOCK_THREAD_CPUTIME_ID`), and user+sys of the whole `census decode` process (`wait4`). On a machine shared with other work wall time is mostly waiting for a core; the wall medians are kept below the table.",
            "",
            *table,
            "",
            "Wall medians, same runs: %s." % walls,
            "",
            reading(figures),
            "",
            "<!-- figures: %s -->" % json.dumps(figures, sort_keys=True),
            "",
        ]
    )
    return text


def reading(figures):
    """What the figures say against issue 15's targets. The target is parser against
    parser (item 2: "at least 50x botocore's parser on the same bytes in the same run"):
    botocore's figure is its parser alone in a warm process, so awsdyn's is the streaming
    decode in-process, the path `census decode` takes. The whole command (process start,
    model load, reading the file, writing the output) is given beside it."""
    def ratio_list(key):
        return [f["botocore_cpu_s"] / f[key] if f.get(key) else None for f in figures.values()]

    def show(rs):
        return ", ".join("%.0fx" % r if r else "-" for r in rs)

    parser = ratio_list("printed_cpu_s")
    whole = ratio_list("decode_cpu_s")
    outside = ", ".join(
        "%.0f%%" % (100 * (1 - f["printed_cpu_s"] / f["decode_cpu_s"])) if f.get("printed_cpu_s") else "-" for f in figures.values()
    )
    serde = [f["awsdyn_parse_cpu_s"] / f["serde_json_cpu_s"] for f in figures.values() if f["serde_json_cpu_s"]]
    met = "met on both answers" if all(r and r >= 50 for r in parser) else "NOT met (%s)" % show(parser)
    return (
        "Reading (XML, JSON): awsdyn's streaming decode to printed JSON, in-process, is %s botocore's parser on the same bytes: "
        "the 50x parser target is %s. The whole `census decode` command is %s (%s of its CPU is outside the parser: process start, "
        "loading the model, mapping the 21 MB file, the output buffer's fresh pages). The parse to a Value alone (`census call`'s "
        "path, which then still has to print the tree) is %s. JSON against serde_json: %s (target: within 3x)."
        % (show(parser), met, show(whole), outside, show(ratio_list("awsdyn_parse_cpu_s")),
           ", ".join("%.2fx" % r for r in serde) or "-")
    )


SECTIONS = {
    "decode": section_decode,
    "postgres": speed_scans.section_postgres,
    "moto50": speed_scans.section_moto50,
    "preset": speed_preset.section_preset,
}


def write_subsection(sub):
    """Puts `sub` (a `### ` subsection) into the Speed section of BENCHMARKS.md, replacing
    the subsection with the same heading; the Speed section is created if missing."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    sub_heading = sub.split("\n", 1)[0]
    m = re.search(r"^%s\n.*?(?=^## |\Z)" % re.escape(HEADING), text, re.S | re.M)
    if not m:
        intro = "%s\n\nFrom `python3 bench/speed.py` (one script; `--only SECTION` reruns one part). Machine: %s.\n\n" % (HEADING, pt.machine())
        text = text.rstrip("\n") + "\n\n" + intro
        m = re.search(r"^%s\n.*?(?=^## |\Z)" % re.escape(HEADING), text, re.S | re.M)
    section = m.group(0)
    section = re.sub(r"Machine: .*?\.\n", lambda _: "Machine: %s.\n" % pt.machine(), section, count=1)
    pat = re.compile(r"^%s\n.*?(?=^### |^## |\Z)" % re.escape(sub_heading), re.S | re.M)
    if pat.search(section):
        section = pat.sub(lambda _: sub.rstrip("\n") + "\n\n", section)
    else:
        section = section.rstrip("\n") + "\n\n" + sub.rstrip("\n") + "\n\n"
    text = text[: m.start()] + section + text[m.end():]
    text = text.rstrip("\n") + "\n"
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure, at least 5 (median)")
    ap.add_argument("--only", choices=sorted(SECTIONS), help="run only this section")
    args = ap.parse_args()
    if args.runs < 5:
        ap.error("--runs: at least 5 (the figures are medians of at least 5 runs)")
    for name, fn in SECTIONS.items():
        if args.only and name != args.only:
            continue
        sub = fn(args.runs)
        write_subsection(sub)
        print(sub)


if __name__ == "__main__":
    main()
