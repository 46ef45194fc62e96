#!/usr/bin/python3
"""bench_settle.py - settle-aware waits and screen events at the agent.

Runs deskbox-desktop standalone on its own Xvfb (as
tests/integration/test_agent_standalone.py does) and measures, through its
channel:

- an agent step: a click that opens a window (xanim.c's popup mode maps a
  new window on each click), then an image of the settled screen. With
  "settle_ms": 150 on the actions batch (one request) against the common
  loop's fixed 2 s sleep between the click and the screenshot, and against
  the floor: the click and an immediate screenshot (which may miss the
  window).
- draw -> screen.changed: xdraw.c fills a rectangle (and says so after
  XSync); the time from asking it to draw to the agent's screen.changed
  event, against the floor of the drawing itself (ask -> xdraw's "ok").

Prints p50/p95. Asserts nothing about time. Environment: DESKBOX_BUILD
(default build), BENCH_SETTLE_N (samples, default 30), BENCH_SETTLE_FIXED_N
(2 s steps, default 5).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from test_agent_standalone import Agent, XClient, build_xanim, wait_until  # noqa: E402
from benchlib import Drawer, pct  # noqa: E402

N = int(os.environ.get("BENCH_SETTLE_N", 30))
N_FIXED = int(os.environ.get("BENCH_SETTLE_FIXED_N", 5))


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000.0


def settle(agent, quiet_ms=300):
    agent.result("wait.settled", {"quiet_ms": quiet_ms, "timeout_ms": 10000})


def step_rows(agent, tmp):
    prefix = os.path.join(tmp, "popup")
    pop = XClient([build_xanim(tmp), "popup", prefix], agent.env)
    try:
        wait_until(lambda: os.path.exists(prefix + ".ready"), what="xanim")
        click = {"action": "left_click", "coordinate": [100, 100]}
        fmt = {"format": "jpeg", "quality": 75}

        def with_settle():
            # The image comes beside the reply, as a memfd the reply names.
            r, blobs = agent.result("actions", dict(fmt, actions=[click], settle_ms=150))
            assert r["settled"]["settled"] and blobs[r["settled"]["image"]["fd"]]

        def with_sleep():
            agent.actions(dict(fmt, actions=[click]))
            time.sleep(2.0)
            agent.actions(dict(fmt, actions=[{"action": "screenshot"}]))

        def no_wait():
            agent.actions(dict(fmt, actions=[click, {"action": "screenshot"}]))

        out = {}
        for name, fn, n in (("settle", with_settle, N), ("sleep", with_sleep, N_FIXED),
                            ("none", no_wait, N)):
            out[name] = []
            for _ in range(n):
                settle(agent)
                out[name].append(timed(fn))
        return out
    finally:
        pop.stop()


def event_rows(agent, tmp):
    xdraw = os.path.join(tmp, "xdraw")
    subprocess.run(["cc", "-O1", "-o", xdraw, os.path.join(HERE, "xdraw.c"), "-lX11"], check=True)
    d = Drawer(xdraw, agent.env)
    try:
        settle(agent)
        agent.result("events.watch", {"screen": True, "min_interval_ms": 50, "quiet_ms": 50})
        ev, floor = [], []
        for i in range(N):
            # Past the interval and settled: each draw is a fresh change.
            agent.wait_event(lambda e: e["event"] == "screen.settled", "settled") if i else None
            while agent.next_event(0.06):
                pass
            t = time.perf_counter()
            d.ask(100 + (i % 10) * 20, 100, 64, 64, 0x102030 * (i % 7 + 1))
            d.done()
            floor.append((time.perf_counter() - t) * 1000.0)
            agent.wait_event(lambda e: e["event"] == "screen.changed", "screen.changed")
            ev.append((time.perf_counter() - t) * 1000.0)
        agent.result("events.watch", {})
        return ev, floor
    finally:
        d.stop()


def main():
    if not shutil.which("xterm"):
        print("bench_settle: missing xterm (make deps-bench installs it)")
        return 1
    tmp = tempfile.mkdtemp(prefix="deskbox-bench-")
    agent = None
    try:
        agent = Agent(tmp)
        steps = step_rows(agent, tmp)
        ev, floor = event_rows(agent, tmp)
        print("settle bench: %s, %d CPUs, Xvfb 1280x800" % (agent.proc.args[0], os.cpu_count()))
        table = [("through the agent's channel", "n", "p50 ms", "p95 ms")]
        for name, v in (
                ("step: click opens a window, settle_ms=150 + image", steps["settle"]),
                ("step: click, fixed 2 s sleep, screenshot", steps["sleep"]),
                ("floor: click + screenshot, no wait", steps["none"]),
                ("draw -> screen.changed event", ev),
                ("floor: draw (ask xdraw -> its XSync)", floor)):
            table.append((name, str(len(v)), "%.1f" % pct(v, 50), "%.1f" % pct(v, 95)))
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        for i, r in enumerate(table):
            print("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                            for j, (c, w) in enumerate(zip(r, widths))))
            if i == 0:
                print("  ".join("-" * w for w in widths))
        print("step with settle_ms vs the 2 s sleep: %.1fx less time (p50)"
              % (pct(steps["sleep"], 50) / pct(steps["settle"], 50)))
        return 0
    finally:
        if agent:
            agent.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
