"""A command's own peak RSS, not this Python process's.

Linux carries a process's peak RSS across fork and exec: a child started straight from
Python (vfork, or clone sharing Python's memory until exec) reports in its wait4 rusage at
least the peak RSS the Python process had reached, so a benchmark that held 100 MB of
figures saw every later child "peak" at 100 MB. GNU time's child is forked from time's
own small memory, and time reports that child's own peak (`%M`): commands run under
`/usr/bin/time` here (Debian package `time`)."""
import os
import subprocess
import tempfile
import time

GNU_TIME = "/usr/bin/time"


class Measured:
    """`cmd` started under GNU time; `wait()` gives (exit code, wall seconds, peak RSS in
    MB, CPU seconds user+sys)."""

    def __init__(self, cmd, env=None, cwd=None, stdout=None, stderr=None):
        if not os.access(GNU_TIME, os.X_OK):
            raise SystemExit("bench: %s is needed to measure a command's peak RSS: apt-get install time" % GNU_TIME)
        fd, self.path = tempfile.mkstemp(prefix="census-bench-rss-")
        os.close(fd)
        self.started = time.monotonic()
        self.proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", self.path, *cmd], env=env, cwd=cwd, stdout=stdout, stderr=stderr)
        self.pid = self.proc.pid

    def wait(self):
        # The rusage of time includes its waited-for child's CPU; the peak RSS is read
        # from time's own report, the last line of its output file (a killed or failing
        # command gets a line before it).
        _, status, usage = os.wait4(self.proc.pid, 0)
        wall = time.monotonic() - self.started
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        with open(self.path) as f:
            lines = f.read().split("\n")
        os.unlink(self.path)
        last = [line for line in lines if line.strip()][-1]
        return self.proc.returncode, wall, int(last) / 1024, usage.ru_utime + usage.ru_stime


def run(cmd, env=None, cwd=None, stdout=None, stderr=None):
    """Runs `cmd` to its end: (exit code, wall seconds, peak RSS in MB, CPU seconds)."""
    return Measured(cmd, env, cwd, stdout, stderr).wait()
