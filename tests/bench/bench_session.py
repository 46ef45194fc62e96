#!/usr/bin/python3
"""bench_session.py - what the full desktop session costs beside a bare one,
with Xvfb's own start as the floor, all in the same run.

Starts its own deskboxd (tests/integration/deskbox.py) and prints one table:
- Xvfb start to ready (-displayfd, the agent's flags, no jail): the floor;
- create -> first screenshot (PNG) of a bare and of a full desktop, each
  sandbox deleted after (alternating, so both see the same machine load);
- memory of an idle bare desktop, an idle full one, and the full one with
  Firefox open on a page (PSS summed over the sandbox's processes);
- Firefox launch -> its first window mapped (apps.launch on a fresh full
  desktop, the agent's waited_ms and the call's wall time), and a second
  URL handed to the running browser (open).

Short on purpose (BENCH_SCALE multiplies the sample counts). Nothing is
asserted about time.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import API, Server, install_signal_cleanup, pss_kb, tree_pids  # noqa: E402
from bench_core import timed  # noqa: E402
from benchlib import Table  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
PAGE = (b"<html><head><title>bench</title></head><body style='background:#2060c0'>"
        b"<h1>deskbox</h1></body></html>")


def n(base, minimum=3):
    return max(minimum, int(base * SCALE))


def xvfb_start():
    """Seconds from exec to Xvfb's -displayfd answer (the agent's flags)."""
    r, w = os.pipe()
    t0 = time.perf_counter()
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-nolisten", "tcp", "-nolisten", "local",
                          "-s", "0", "-dpms", "-noreset", "-dpi", "96", "-screen", "0",
                          "1920x1080x24", "-extension", "GLX"],
                         pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        got = os.read(r, 64)
        dt = time.perf_counter() - t0
        if not got.strip():
            raise SystemExit("Xvfb did not report a display")
        return dt
    finally:
        os.close(r)
        p.terminate()
        p.wait(timeout=10)


def sandbox_mib(sb):
    return sum(pss_kb(p) for p in tree_pids(sb["pid"])) / 1024.0


def main():
    install_signal_cleanup()
    t = Table()
    floor = [xvfb_start() for _ in range(n(10))]
    t.add("Xvfb start -> ready (floor)", len(floor), floor, "ms", "", 1000)
    with Server(desktop_session="full") as srv:
        api = srv.client(keepalive=True)

        def first_shot(session):
            t0 = time.perf_counter()
            sb = api.create(desktop={"session": session})
            api.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
            dt = time.perf_counter() - t0
            api.delete(sb["id"])
            return dt

        for s in ("bare", "full"):      # warm the page cache
            first_shot(s)
        times = {"bare": [], "full": []}
        for _ in range(n(10)):
            for s in ("bare", "full"):
                times[s].append(first_shot(s))
        t.add("create -> first screenshot, bare", len(times["bare"]), times["bare"], "ms", "", 1000)
        t.add("create -> first screenshot, full", len(times["full"]), times["full"], "ms",
              "panel drawn", 1000)

        bare = api.create(desktop={"session": "bare"})
        full = api.create(desktop={"session": "full"})
        time.sleep(2.0)
        t.add("memory, idle bare desktop", 1, [sandbox_mib(bare)], "MiB PSS")
        t.add("memory, idle full desktop", 1, [sandbox_mib(full)], "MiB PSS")
        api.delete(bare["id"])

        launches, waited, handoffs = [], [], []
        for i in range(n(4)):
            sb = full if i == 0 else api.create(desktop={"session": "full"})
            api.put_file(sb["id"], "/home/user/page.html", PAGE)
            dt, r = timed(api.expect, 200, "POST", "%s/%s/apps/launch" % (API, sb["id"]),
                          {"app": "firefox-esr", "uri": "file:///home/user/page.html",
                           "timeout_ms": 120000}, timeout=150)
            launches.append(dt)
            waited.append(r.body["waited_ms"] / 1000.0)
            dt, r = timed(api.expect, 200, "POST", "%s/%s/open" % (API, sb["id"]),
                          {"target": "/home/user/page.html", "timeout_ms": 120000}, timeout=150)
            handoffs.append(dt)
            if i == 0:
                time.sleep(5.0)   # the page loaded, the browser idle
                t.add("memory, full desktop + Firefox on a page", 1, [sandbox_mib(sb)], "MiB PSS")
            else:
                api.delete(sb["id"])
        api.delete(full["id"])
        t.add("Firefox launch -> window mapped (call)", len(launches), launches, "ms", "cold", 1000)
        t.add("  the agent's waited_ms", len(waited), waited, "ms", "", 1000)
        t.add("open URL in the running Firefox", len(handoffs), handoffs, "ms", "hand-off", 1000)
    t.print()


if __name__ == "__main__":
    main()
