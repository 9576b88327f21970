"""bench/speed.py's `preset` section (issue 15, item 5): `census scan --preset all` of one
account in one region on moto, its peak RSS and the time from the process's start to
its first scan call.

The first call is seen from outside: census talks to moto through a loopback TCP relay
in this script, which notes when the first request signed for a service other than STS
and Organizations (what census may call before the scan: the caller's identity, the
organization) goes through. The relay reads only the SigV4 credential scope in the
request's headers; the bytes pass unchanged. `--preset core` is measured beside it the
same way, as the reference.

Returns its `### ` subsection; bench/speed.py writes it."""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scan_moto as sm  # noqa: E402
from speed_scans import load_text, measured_line  # noqa: E402

REGION = "us-east-1"
# The service of a SigV4-signed request: `Credential=AKID/20261204/us-east-1/ec2/aws4_request`.
SCOPE = re.compile(rb"Credential=[^/\s]+/\d{8}/[^/\s]+/([a-z0-9-]+)/aws4_request")
BEFORE_SCAN = {b"sts", b"organizations"}


class Relay:
    """A loopback TCP relay in front of `port` that notes the monotonic time of the first
    request signed for a scanned service (`first_scan`) and of the first request at all
    (`first_any`)."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.first_any = self.first_scan = None
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.first_any = self.first_scan = None

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _note(self, chunk):
        m = SCOPE.search(chunk)
        if not m:
            return
        now = time.monotonic()
        with self.lock:
            if self.first_any is None:
                self.first_any = now
            if self.first_scan is None and m.group(1) not in BEFORE_SCAN:
                self.first_scan = now

    def _pipe(self, src, dst, requests):
        try:
            while True:
                chunk = src.recv(1 << 16)
                if not chunk:
                    break
                if requests and self.first_scan is None:
                    self._note(chunk)
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    s.shutdown(how)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def section_preset(runs):
    load_before = load_text()
    venv = sm.setup_python()
    census = sm.build_census()
    work = tempfile.mkdtemp(prefix="census-speed-preset-")
    moto = sm.Moto(venv, work)
    relay = Relay(moto.port)
    results = {"all": [], "core": []}
    try:
        env = sm.clean_env(relay.url)
        for i in range(runs + 1):
            for preset in ("all", "core"):
                out = os.path.join(work, "out-%s-%d" % (preset, i))
                relay.reset()
                started = time.monotonic()
                with open(os.path.join(work, "census-%s-%d.log" % (preset, i)), "w") as log:
                    code, wall, rss, cpu = sm.run_measured(
                        [census, "scan", "--preset", preset, "--regions", REGION, "--max-retries", "0", "-o", out],
                        env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                scan = sm.scan_dir(out)
                totals = json.load(open(os.path.join(scan, "summary.json")))["totals"]
                if relay.first_scan is None or not totals["calls"]:
                    raise SystemExit("preset %s run %d: exit %d, no scan call seen; see %s" % (preset, i, code, work))
                first = relay.first_scan - started
                print(
                    "preset %s %s: exit %d, %d calls (%d failed), wall %.2fs, first scan call %.3fs, RSS %.1f MB"
                    % (preset, "warm-up" if i == 0 else "run %d" % i, code, totals["calls"], totals["calls_failed"], wall, first, rss),
                    file=sys.stderr,
                )
                if i > 0:
                    results[preset].append(dict(first=first, rss=rss, wall=wall, cpu=cpu, calls=totals["calls"], failed=totals["calls_failed"], code=code))
                shutil.rmtree(out)
    finally:
        relay.close()
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_after = load_text()

    def med(preset, key):
        return statistics.median(r[key] for r in results[preset])

    def runs_text(preset, key, fmt):
        return ", ".join(fmt % r[key] for r in results[preset])

    rows = []
    for preset in ("all", "core"):
        r0 = results[preset][0]
        rows.append(
            "| `--preset %s` | %d (%d failed on moto) | **%.1f MB** (%s) | **%.3f s** (%s) | %.1f s | %.1f s |"
            % (preset, r0["calls"], r0["failed"], med(preset, "rss"), runs_text(preset, "rss", "%.0f"),
               med(preset, "first"), runs_text(preset, "first", "%.2f"), med(preset, "wall"), med(preset, "cpu"))
        )
    rss_all, first_all = med("all", "rss"), med("all", "first")
    max_rss_all = max(r["rss"] for r in results["all"])
    text = "\n".join(
        [
            "### `--preset all`: peak RSS and time to the first call",
            "",
            measured_line(load_before, load_after),
            "Command: `python3 bench/speed.py --only preset --runs %d`: `census scan --preset PRESET --regions %s --max-retries 0` (release build, "
            "SQLite store on) of moto's default account, moto 5.2.5 on 127.0.0.1 behind the script's loopback relay; one warm-up and "
            "%d measured runs of each preset, taking turns. Time to the first call: from the process's start to the first request "
            "signed for a service other than STS and Organizations reaching the relay. Peak RSS: the process's own, by GNU time (bench/peak_rss.py). "
            "Calls fail where moto lacks the operation (a 500 answer): `--max-retries 0` keeps the scan from backing off on them; the figures are the scan's either way."
            % (runs, REGION, runs),
            "",
            "| preset | calls | peak RSS, median (runs) | start to first scan call, median (runs) | wall | CPU (user+sys) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Reading: `--preset all` peaks at %.1f MB (max %.1f MB; target under 100 MB: %s) and makes its first scan call %.3f s "
            "after start (target under 0.5 s: %s)."
            % (rss_all, max_rss_all, "met" if max_rss_all < 100 else "NOT met", first_all, "met" if first_all < 0.5 else "NOT met"),
            "",
            "<!-- figures: %s -->" % json.dumps({p: {"rss_mb": med(p, "rss"), "first_call_s": med(p, "first")} for p in results}, sort_keys=True),
            "",
        ]
    )
    return text
