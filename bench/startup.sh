#!/usr/bin/env bash
# Start-up time of the release binary (`census --version`), measured with hyperfine
# (Debian package), written to the "Start-up" section of BENCHMARKS.md.
#   bench/startup.sh [path/to/census]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/census}
[ -x "$bin" ] || cargo build --release -p census
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 1; }
json=$(mktemp)
hyperfine --warmup 5 --runs 300 -N --export-json "$json" "$bin --version" >/dev/null
python3 - "$json" "$bin" <<'PY'
import json, os, platform, re, sys, time
r = json.load(open(sys.argv[1]))["results"][0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
section = "\n".join([
    "## Start-up",
    "",
    f"Measured {time.strftime('%Y-%m-%d')} on {cpu}, {os.cpu_count()} cores. Command: `bench/startup.sh` "
    f"(hyperfine, 300 runs after 5 warm-ups, `{sys.argv[2]} --version`, release build). Target: under 50 ms.",
    "",
    "| command | median | mean | max |",
    "|---|---|---|---|",
    f"| census --version | {r['median']*1000:.1f} ms | {r['mean']*1000:.1f} ms | {r['max']*1000:.1f} ms |",
    "",
])
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
pat = re.compile(r"## Start-up\n.*?(?=\n## |\Z)", re.S)
text = pat.sub(lambda _: section.rstrip("\n") + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
print(section)
PY
rm -f "$json"
