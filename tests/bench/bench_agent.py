#!/usr/bin/python3
"""bench_agent.py - the desktop agent against the common computer-use stack.

Runs deskbox-desktop standalone (no jail, no deskboxd) on its own Xvfb with
a socketpair as its channel, the way tests/integration/test_agent_standalone.py
does, and times requests through that channel, reply and image fd included:
screenshot JPEG, screenshot PNG, the not-modified path, a left_click at a
coordinate, typing 100 and 1000 ASCII characters into an xterm. On the same
Xvfb it times what agents commonly run instead: `scrot` + base64,
`xdotool mousemove X Y click 1` and `xdotool type --delay 12` (100
characters), and prints p50/p95 of each and the ratio of the medians.
Asserts nothing about time.

Environment: DESKBOX_BUILD (default build), BENCH_AGENT_N (samples per
agent row, default 50), BENCH_XDOTOOL_TYPE_N (default 3: 2 s each).
"""

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from test_agent_standalone import Agent, wait_until  # noqa: E402
from benchlib import pct  # noqa: E402

N = int(os.environ.get("BENCH_AGENT_N", 50))
N_XDO_TYPE = int(os.environ.get("BENCH_XDOTOOL_TYPE_N", 3))


def sample(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def main():
    missing = [t for t in ("scrot", "xdotool", "xterm") if not shutil.which(t)]
    if missing:
        print("bench_agent: missing %s (make deps-bench installs them)" % ", ".join(missing))
        return 1
    tmp = tempfile.mkdtemp(prefix="deskbox-bench-")
    agent = None
    try:
        app = "xterm -T sink -geometry 80x24+0+0 -e sh -c 'stty -echo; cat > /dev/null'"
        agent = Agent(tmp, apps=[app])
        wait_until(lambda: any(w["title"] == "sink" for w in
                               agent.result("windows")[0]["windows"]), what="xterm")
        agent.actions({"action": "focus_window", "title": "sink"})
        env = agent.env
        rows = []

        def add(name, values, base_name=None, base=None):
            rows.append((name, len(values), pct(values, 50), pct(values, 95),
                         base_name, base and pct(base, 50), base and pct(base, 95)))

        # Screenshots: the screen shows the xterm (as an agent would see it).
        jpeg = sample(lambda: agent.result("screenshot", {"format": "jpeg"}), N)
        png = sample(lambda: agent.result("screenshot", {"format": "png"}), N)
        shot = os.path.join(tmp, "shot.png")

        def scrot():
            subprocess.run(["scrot", "-o", shot], env=env, check=True)
            with open(shot, "rb") as f:
                base64.b64encode(f.read())
        scrot_t = sample(scrot, max(5, N // 5))
        add("screenshot JPEG (q75, 1280x800)", jpeg, "scrot + base64", scrot_t)
        add("screenshot PNG (1280x800)", png, "scrot + base64", scrot_t)
        etag = agent.result("screenshot", {"format": "jpeg"})[0]["etag"]
        nm = sample(lambda: agent.result("screenshot", {"format": "jpeg", "if_none_match": etag}), N)
        add("screenshot not modified", nm, "scrot + base64", scrot_t)

        click = sample(lambda: agent.actions({"action": "left_click", "coordinate": [300, 200]}), N)
        xclick = sample(lambda: subprocess.run(["xdotool", "mousemove", "300", "200", "click", "1"],
                                               env=env, check=True), max(5, N // 5))
        add("left_click at a coordinate", click, "xdotool mousemove click 1", xclick)

        text100 = ("The quick brown fox jumps over the lazy dog 0123456789 " * 2)[:100]
        text1000 = (text100 * 10)[:1000]
        t100 = sample(lambda: agent.actions({"action": "type", "text": text100}), N)
        xtype = sample(lambda: subprocess.run(["xdotool", "type", "--delay", "12", text100],
                                              env=env, check=True), N_XDO_TYPE)
        add("type 100 ASCII chars", t100, "xdotool type --delay 12", xtype)
        t1000 = sample(lambda: agent.actions({"action": "type", "text": text1000}), max(5, N // 2))
        add("type 1000 ASCII chars", t1000)

        print("deskbox-desktop bench: %s, %d CPUs, Xvfb 1280x800, %d samples per agent row"
              % (agent.proc.args[0], os.cpu_count(), N))
        head = ("through the agent's channel", "n", "p50 ms", "p95 ms",
                "common stack", "p50 ms", "p95 ms", "speed-up")
        table = [head]
        for name, n, p50, p95, bname, b50, b95 in rows:
            table.append((name, str(n), "%.2f" % p50, "%.2f" % p95, bname or "",
                          "%.1f" % b50 if b50 else "", "%.1f" % b95 if b95 else "",
                          "%.0fx" % (b50 / p50) if b50 else ""))
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]
        for i, r in enumerate(table):
            print("  ".join(c.ljust(w) if j in (0, 4) else c.rjust(w)
                            for j, (c, w) in enumerate(zip(r, widths))))
            if i == 0:
                print("  ".join("-" * w for w in widths))
        return 0
    finally:
        if agent:
            agent.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
