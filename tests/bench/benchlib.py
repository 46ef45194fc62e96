"""benchlib.py - what the bench scripts share: the p50/p95 table, BENCH_SCALE
and the repeat counts it scales, timed loops and percentiles, the xdraw
driver, a base for benches that talk to one deskboxd through its API, and
the start / run / stop / print of a bench's own deskboxd.

Pure standard library; the scripts import it from tests/bench/ (their own
directory) with the integration harness (tests/integration/deskbox.py).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from deskbox import Server, cgroup_dir_for, install_signal_cleanup, percentile

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))


def scaled(base, minimum):
    """A repeat count: base times BENCH_SCALE, never under minimum."""
    return max(minimum, int(base * SCALE))


def pct(values, p):
    """The p-th percentile (0..100) of values at the rounded index of the
    sorted list (the agent-level benches' rule; deskbox.percentile is
    nearest-rank)."""
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def timed_loop(count, fn, arg=False):
    """Seconds of count calls of fn after one warm-up call. arg: fn takes
    the call's index (-1 for the warm-up, e.g. the other target of an
    alternating operation)."""
    fn(-1) if arg else fn()
    out = []
    for i in range(count):
        t0 = time.perf_counter()
        fn(i) if arg else fn()
        out.append(time.perf_counter() - t0)
    return out


def cgroup_charge_kib(srv, sid):
    """What the sandbox's memory cgroup is charged (process memory, tmpfs,
    kernel objects), in KiB; None without a memory cgroup."""
    dirs = srv.sandbox_record(sid).cgroups
    for d, name in ((cgroup_dir_for(dirs, "memory"), "memory.usage_in_bytes"),
                    (dirs.get(""), "memory.current")):
        try:
            with open(os.path.join(d, name)) as f:
                return int(f.read()) / 1024.0
        except (OSError, TypeError, ValueError):
            continue
    return None


class Table:
    """Rows of measure, n, a column per percentile (p50 and p95 unless
    told), unit and a last column (the target unless told); printed
    aligned."""

    def __init__(self, percentiles=(50, 95), last="target"):
        self.rows = []
        self.percentiles = percentiles
        self.head = ("measure", "n") + tuple("p%d" % p for p in percentiles) + ("unit", last)

    def add(self, name, n, values, unit, target="", scale=1.0):
        fmt = (lambda v: "-" if v is None else "%.2f" % (v * scale))
        self.rows.append((name, str(n)) + tuple(fmt(percentile(values, p)) for p in self.percentiles)
                         + (unit, target))

    def note(self, name, text):
        """A row of free text, under the first percentile."""
        self.rows.append((name, "", text) + ("",) * (len(self.head) - 3))

    def print(self):
        widths = [max(len(r[i]) for r in self.rows + [self.head]) for i in range(len(self.head))]
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        print(line(self.head))
        print(line(tuple("-" * w for w in widths)))
        for r in self.rows:
            print(line(r))
        sys.stdout.flush()


class Drawer:
    """xdraw (tests/bench/xdraw.c) on a display: ask() a fill, done() once X
    has drawn it; fill() is both."""

    def __init__(self, binary, env):
        self.proc = subprocess.Popen([binary], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1,
                                     start_new_session=True)
        if self.proc.stdout.readline().strip() != "mapped":
            raise RuntimeError("xdraw did not start")

    def ask(self, x, y, w, h, rgb):
        self.proc.stdin.write("fill %d %d %d %d %06x\n" % (x, y, w, h, rgb))
        self.proc.stdin.flush()

    def done(self):
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError("xdraw failed")

    def fill(self, x, y, w, h, rgb):
        self.ask(x, y, w, h, rgb)
        self.done()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class ApiBench:
    """A bench over one deskboxd's REST API on a kept-alive connection;
    subclasses define run() and fill self.table."""

    def __init__(self, srv, table):
        self.srv, self.table = srv, table
        self.api = srv.client(keepalive=True)

    def path(self, sid, tail):
        return "/v1/sandboxes/%s/%s" % (sid, tail)


def in_tmp(run, prefix, heading):
    """run(table, tmp) with a temporary directory removed afterwards, then
    heading and the table printed (benches that start their own servers)."""
    install_signal_cleanup()
    table = Table()
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        run(table, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(heading)
    table.print()


def serve(bench_class, heading, max_sandboxes=4):
    """Runs bench_class(srv, table).run() on a deskboxd of its own, stops
    it (checked only when the bench finished), then prints heading(srv)
    and the table. Returns the exit status."""
    install_signal_cleanup()
    srv = Server(max_sandboxes=max_sandboxes)
    srv.start()
    table = Table()
    try:
        bench_class(srv, table).run()
    except BaseException:
        srv.stop(check=False)
        raise
    srv.stop()
    print(heading(srv))
    table.print()
    return 0
