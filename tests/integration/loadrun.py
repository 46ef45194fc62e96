"""loadrun.py - many desktops driven at once, and one busy neighbour.

The load suites (tests/integration/test_load.py, short, in `make test`;
tests/long/test_load_long.py, 50 desktops for 60 s, in `make check-long`)
share this module:

  drive(server, sandboxes, seconds)
      one client thread per desktop sandbox, each on its own keep-alive
      connection, alternating a screenshot (GET .../screenshot) and a click
      (POST .../actions) until the time is up; beside them a process of its
      own polls /healthz every 50 ms. Returns a Figures: latencies of each kind, every
      error (status or exception, with the request that met it) and the
      slowest /healthz.

  neighbour(server, quiet, busy, seconds, rounds)
      screenshot latency of `quiet` while `busy` is idle and while it runs
      four busy loops, interleaved in `rounds` so a change in the rest of
      the machine's load hits both sides alike. Returns (p50 idle, p50 busy).

  LoadCase
      both as test steps (desktops cleaned up, figures printed, errors
      asserted), for the two suites' ServerTestCases.

Nothing here judges speed: the tests assert no errors and print the
figures (the issue's bounds are checked only where they hold robustly).
"""

import subprocess
import sys
import threading
import time

from deskbox import API, percentile

# A click somewhere on the screen that lands on nothing (no window manager
# menu at these places on a bare desktop): the agent's input path is what
# is exercised, not an app's reaction.
CLICK = {"action": "left_click", "coordinate": [40, 40]}
HEALTHZ_EVERY_S = 0.05
BUSY_LOOPS = 4


class Figures:
    """What one drive() saw."""

    def __init__(self):
        self.lock = threading.Lock()
        self.screenshot_ms = []
        self.click_ms = []
        self.healthz_ms = []
        self.errors = []

    def add(self, kind, ms):
        with self.lock:
            getattr(self, kind + "_ms").append(ms)

    def error(self, what):
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(what)
            else:
                self.errors[-1] = "... and more: " + what

    def line(self, kind):
        v = getattr(self, kind + "_ms")
        if not v:
            return "%-10s none" % kind
        return "%-10s n=%-6d p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms" % (
            kind, len(v), percentile(v, 50), percentile(v, 99), max(v))

    def report(self, title):
        return "\n".join(["%s:" % title] + ["  " + self.line(k)
                                           for k in ("screenshot", "click", "healthz")]
                         + ["  errors     %d" % len(self.errors)])


def _timed(figs, kind, client, method, path, body=None, want=200, token=None):
    t0 = time.monotonic()
    try:
        kw = {"raw": True, "timeout": 60}
        if token is not None:
            kw["token"] = token
        r = client.request(method, path, body, **kw)
    except Exception as e:  # noqa: BLE001  (any failure is an error to report)
        figs.error("%s %s: %r" % (method, path, e))
        return
    ms = (time.monotonic() - t0) * 1000.0
    if r.status != want:
        figs.error("%s %s -> %d %r" % (method, path, r.status, r.body[:200]))
        return
    figs.add(kind, ms)


def _desktop_client(server, sid, stop, figs):
    c = server.client(keepalive=True)
    try:
        while not stop.is_set():
            _timed(figs, "screenshot", c, "GET", "%s/%s/screenshot" % (API, sid))
            if stop.is_set():
                break
            _timed(figs, "click", c, "POST", "%s/%s/actions" % (API, sid), CLICK)
    finally:
        c.close()


# The /healthz poller is a process of its own: a thread beside the 50
# client threads would wait for Python's GIL (they parse images), and its
# figures would be this process's scheduling, not deskboxd's answer time.
HEALTHZ_POLLER = r"""
import http.client, sys, time
host, port, every, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
c = http.client.HTTPConnection(host, port, timeout=60)
out = sys.stdout
end = time.monotonic() + seconds
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        out.write("%d %.3f\n" % (r.status, (time.monotonic() - t0) * 1000.0))
    except Exception as e:
        out.write("error %r\n" % (e,))
        c.close()
        c = http.client.HTTPConnection(host, port, timeout=60)
    out.flush()
    time.sleep(every)
"""


def _healthz_start(server, seconds):
    return subprocess.Popen([sys.executable, "-c", HEALTHZ_POLLER, server.host, str(server.port),
                             str(HEALTHZ_EVERY_S), str(seconds)], stdout=subprocess.PIPE, text=True)


def _healthz_collect(proc, figs, seconds):
    try:
        out, _ = proc.communicate(timeout=seconds + 120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        figs.error("the /healthz poller did not finish within 120 s of the end")
    for line in out.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "200":
            figs.add("healthz", float(rest))
        else:
            figs.error("GET /healthz: %s" % line)
    if proc.returncode:
        figs.error("the /healthz poller exited %d" % proc.returncode)


def drive(server, sandboxes, seconds):
    """Drive every sandbox (dicts with "id") for seconds; a Figures."""
    figs = Figures()
    stop = threading.Event()
    threads = [threading.Thread(target=_desktop_client, args=(server, sb["id"], stop, figs),
                                daemon=True) for sb in sandboxes]
    poller = _healthz_start(server, seconds)
    try:
        for t in threads:
            t.start()
        stop.wait(seconds)
        stop.set()
    finally:
        _healthz_collect(poller, figs, seconds)
    for t in threads:
        t.join(120)
        if t.is_alive():
            figs.error("a client thread did not finish within 120 s of the end")
    return figs


def create_desktops(server, n, **fields):
    """n desktop sandboxes, each answering a screenshot (so the load starts
    on ready desktops). Created one after another: creation is not what is
    measured."""
    out = []
    for _ in range(n):
        sb = server.create(**fields)
        out.append(sb)
        server.api.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True,
                          timeout=60)
    return out


def _sample(server, client, sid, seconds, figs):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _timed(figs, "screenshot", client, "GET", "%s/%s/screenshot" % (API, sid))


def neighbour(server, quiet, busy, seconds=4.0, rounds=3):
    """(p50 idle, p50 busy, figures idle, figures busy) of quiet's
    screenshots; busy runs BUSY_LOOPS loops in the second half of each
    round, as one exec whose timeout ends them (its whole tree is killed)."""
    idle, hot = Figures(), Figures()
    c = server.client(keepalive=True)
    try:
        for _ in range(rounds):
            _sample(server, c, quiet["id"], seconds, idle)
            loops = " ".join(["(while :; do :; done) &"] * BUSY_LOOPS)
            done = threading.Event()
            res = {}

            def run_loops():
                try:
                    res["r"] = server.exec(busy["id"], cmd="%s wait" % loops,
                                           timeout_ms=int((seconds + 2) * 1000))
                except Exception as e:  # noqa: BLE001
                    res["e"] = e
                done.set()

            t = threading.Thread(target=run_loops, daemon=True)
            t.start()
            # The loops start and deskboxd (cpufair.c, sampling every 0.5 s)
            # sees them: what is measured is the steady state beside them.
            time.sleep(2.0)
            _sample(server, c, quiet["id"], seconds, hot)
            t.join(seconds + 60)
            if "e" in res:
                hot.error("busy loops: %r" % (res["e"],))
    finally:
        c.close()
    return (percentile(idle.screenshot_ms, 50), percentile(hot.screenshot_ms, 50), idle, hot)



class LoadCase:
    """The load tests' steps, mixed into a ServerTestCase (test_load's short
    run and test_load_long's full one): the figures are printed, errors fail
    the test, speed is left to the caller."""

    def desktops(self, n):
        """n ready desktops, deleted (and checked) after the test."""
        sbs = create_desktops(self.server, n)
        for sb in sbs:
            self.addCleanup(self.delete_checked, sb["id"])
        return sbs

    def drive_checked(self, n, seconds, note=lambda figs: ""):
        """drive() over n new desktops; prints the report and note(figs),
        then asserts no error, a round by every client and a /healthz
        poll. Returns the Figures."""
        figs = drive(self.server, self.desktops(n), seconds)
        print("\n" + figs.report("load: %d desktops x %g s" % (n, seconds)) + note(figs),
              file=sys.stderr)
        self.assertEqual(figs.errors, [])
        self.assertGreaterEqual(len(figs.screenshot_ms), n)
        self.assertGreaterEqual(len(figs.click_ms), n)
        self.assertTrue(figs.healthz_ms)
        self.assertHealthy()
        return figs

    def neighbour_checked(self, seconds, rounds):
        """neighbour() on two new desktops; prints the figures, asserts no
        error, returns the busy/quiet p50 ratio."""
        quiet, busy = self.desktops(2)
        p50_idle, p50_busy, idle, hot = neighbour(self.server, quiet, busy,
                                                  seconds=seconds, rounds=rounds)
        ratio = p50_busy / p50_idle
        print("\nneighbour: screenshot p50 %.1f ms quiet, %.1f ms beside %d busy loops"
              " (ratio %.2f)\n%s\n%s" % (p50_idle, p50_busy, BUSY_LOOPS, ratio,
                                         idle.report("  quiet"), hot.report("  busy neighbour")),
              file=sys.stderr)
        self.assertEqual(idle.errors + hot.errors, [])
        return ratio
