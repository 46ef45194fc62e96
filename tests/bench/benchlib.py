"""benchlib.py - what the bench scripts share: the p50/p95 table, BENCH_SCALE
and the repeat counts it scales, timed loops, a base for benches that talk
to one deskboxd through its API, and the start / run / stop / print of a
bench's own deskboxd.

Pure standard library; the scripts import it from tests/bench/ (their own
directory) with the integration harness (tests/integration/deskbox.py).
"""

import os
import time

from deskbox import Server, install_signal_cleanup, percentile

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))


def scaled(base, minimum):
    """A repeat count: base times BENCH_SCALE, never under minimum."""
    return max(minimum, int(base * SCALE))


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


class Table:
    """Rows of measure, n, p50, p95, unit, target; printed aligned."""

    def __init__(self):
        self.rows = []

    def add(self, name, n, values, unit, target="", scale=1.0):
        p50, p95 = percentile(values, 50), percentile(values, 95)
        fmt = (lambda v: "-" if v is None else "%.2f" % (v * scale))
        self.rows.append((name, str(n), fmt(p50), fmt(p95), unit, target))

    def note(self, name, text):
        self.rows.append((name, "", text, "", "", ""))

    def print(self):
        head = ("measure", "n", "p50", "p95", "unit", "target")
        widths = [max(len(r[i]) for r in self.rows + [head]) for i in range(6)]
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        print(line(head))
        print(line(tuple("-" * w for w in widths)))
        for r in self.rows:
            print(line(r))


class ApiBench:
    """A bench over one deskboxd's REST API on a kept-alive connection;
    subclasses define run() and fill self.table."""

    def __init__(self, srv, table):
        self.srv, self.table = srv, table
        self.api = srv.client(keepalive=True)

    def path(self, sid, tail):
        return "/v1/sandboxes/%s/%s" % (sid, tail)


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
