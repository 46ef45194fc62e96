#!/usr/bin/python3
"""bench_vnc.py - the agent's VNC server against x11vnc on the same Xvfb.

Runs deskbox-desktop standalone on its own Xvfb (as test_agent_vnc.py
does) with a Python RFB 3.8 viewer (tests/integration/rfbclient.py:
Raw, CopyRect, RichCursor, DesktopSize, LastRect; 32 bpp BGRX) attached
through vnc.attach, then stops that viewer and runs x11vnc on the same
Xvfb with the same viewer over TCP, and measures for each server:

- frame latency: xdraw.c (compiled here) fills a 64x64 rectangle and
  XSyncs; from writing its command to the viewer holding an update that
  covers the rectangle with the new colour (p50/p95 over BENCH_VNC_N);
- CPU of the server process (utime+stime from /proc) over 5 s with the
  viewer attached and an incremental request waiting, screen idle;
- the same and bytes/s and updates/s received by the viewer over 5 s
  while an xterm scrolls `ls -lR /usr` as fast as it can, the viewer
  asking for the next update as soon as one arrives; Xvfb's CPU beside.

Prints a table with the ratios (agent / x11vnc). Asserts nothing about
time. Environment: DESKBOX_BUILD (default build), BENCH_VNC_N (default 60),
BENCH_VNC_SECONDS (default 5).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from rfbclient import COPYRECT, DESKTOP_SIZE, LAST_RECT, RAW, RICH_CURSOR, RFBClient  # noqa: E402
from deskbox import children, comm, cpu_ticks, free_port, until as wait_until  # noqa: E402
from test_agent_standalone import Agent, XClient  # noqa: E402
from test_agent_vnc import TICK, attach  # noqa: E402
from benchlib import Drawer, pct  # noqa: E402

N = int(os.environ.get("BENCH_VNC_N", 60))
SECONDS = float(os.environ.get("BENCH_VNC_SECONDS", 5))
ENCODINGS = (RAW, COPYRECT, RICH_CURSOR, DESKTOP_SIZE, LAST_RECT)
SCROLL = "while :; do ls -lR /usr; done"
WARMUP = 5


def measure(client, pid, xvfb_pid, drawer, env):
    """The three measurements for one server (process pid) and viewer."""
    out = {}
    client.set_pixel_format_bgrx()
    client.set_encodings(ENCODINGS)
    client.request(False)
    client.wait(lambda u: u and u.pixel_rects(), timeout=10, request=False)
    client.settle(timeout=10)

    # Latency: a 64x64 fill, alternating colours, spread over the screen.
    # The first WARMUP draws are not counted (x11vnc sets up its damage
    # tracking only once a viewer is there); a draw not seen within 10 s
    # counts as a miss.
    lat, misses = [], 0
    for i in range(WARMUP + N):
        x, y = 64 + (i * 97) % 1088, 64 + (i * 61) % 640
        rgb = (0xff0000, 0x00ff00, 0x0000ff)[i % 3]
        want = ((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff)
        client.request(True)
        t0 = time.perf_counter()
        drawer.fill(x, y, 64, 64, rgb)
        try:
            client.wait(lambda u: u and client.pixel(x + 32, y + 32) == want,
                        timeout=10 if i >= WARMUP else 30, request=True)
        except socket.timeout:
            misses += 1
            continue
        if i >= WARMUP:
            lat.append((time.perf_counter() - t0) * 1000)
        client.settle(quiet=0.05, timeout=10)
    out["lat"] = lat or [float("nan")]
    out["misses"] = misses

    # Idle: one viewer with a request waiting.
    client.request(True)
    time.sleep(0.5)
    c0, t0 = cpu_ticks(pid) / TICK, time.monotonic()
    time.sleep(SECONDS)
    out["idle_cpu"] = (cpu_ticks(pid) / TICK - c0) / (time.monotonic() - t0)
    try:
        client.next_update(timeout=0.2)
    except socket.timeout:
        pass

    # Scrolling xterm, the viewer taking updates as fast as they come.
    term = XClient(["xterm", "-geometry", "120x45+0+0", "-e", "sh", "-c", SCROLL], env)
    try:
        time.sleep(1.0)
        b0, u0 = client.bytes_read, 0
        c0, x0, t0 = cpu_ticks(pid) / TICK, cpu_ticks(xvfb_pid) / TICK, time.monotonic()
        while time.monotonic() - t0 < SECONDS:
            client.request(True)
            client.next_update(timeout=10)
            u0 += 1
        dt = time.monotonic() - t0
        out["scroll_cpu"] = (cpu_ticks(pid) / TICK - c0) / dt
        out["scroll_xvfb"] = (cpu_ticks(xvfb_pid) / TICK - x0) / dt
        out["scroll_bps"] = (client.bytes_read - b0) / dt
        out["scroll_ups"] = u0 / dt
    finally:
        term.stop()
    return out


def main():
    missing = [t for t in ("x11vnc", "xterm", "cc") if not shutil.which(t)]
    if missing:
        print("bench_vnc: missing %s (make deps-bench installs them)" % ", ".join(missing))
        return 1
    tmp = tempfile.mkdtemp(prefix="deskbox-bench-vnc-")
    agent = drawer = x11vnc = None
    try:
        xdraw = os.path.join(tmp, "xdraw")
        subprocess.run(["cc", "-O1", "-o", xdraw, os.path.join(HERE, "xdraw.c"), "-lX11"], check=True)
        agent = Agent(tmp)
        xvfb = [p for p in children(agent.proc.pid) if comm(p) == "Xvfb"][0]
        drawer = Drawer(xdraw, agent.env)

        m, mine = attach(agent)
        assert "result" in m, m
        c = RFBClient(mine)
        c.start_reader()   # read all the time, as a real viewer does
        c.handshake()
        s0 = agent.result("vnc.stats")[0]
        ours = measure(c, agent.proc.pid, xvfb, drawer, agent.env)
        s1 = agent.result("vnc.stats")[0]
        ours["stats_bytes"] = s1["bytes_sent"] - s0["bytes_sent"]
        c.close()
        wait_until(lambda: agent.result("vnc.stats")[0]["clients"] == 0, what="viewer gone")

        port = free_port()
        log = open(os.path.join(tmp, "x11vnc.log"), "w")
        x11vnc = subprocess.Popen(["x11vnc", "-display", agent.ready["display_name"],
                                   "-auth", agent.ready["xauthority"], "-rfbport", str(port),
                                   "-localhost", "-nopw", "-shared", "-forever"],
                                  env=agent.env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, start_new_session=True)

        def connect():
            try:
                return socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                return None
        sock = wait_until(connect, timeout=20, step=0.1, what="x11vnc to listen")
        c = RFBClient(sock)
        c.start_reader()
        c.handshake()
        theirs = measure(c, x11vnc.pid, xvfb, drawer, agent.env)
        c.close()

        print("VNC bench: %d CPUs, Xvfb 1280x800, Raw+CopyRect, %d latency samples, %.0f s windows"
              % (os.cpu_count(), N, SECONDS))
        print("deskbox agent: vnc.stats bytes_sent over the run: %d" % ours["stats_bytes"])
        print("draws not seen within 10 s: agent %d, x11vnc %d" % (ours["misses"], theirs["misses"]))
        rows = [
            ("frame latency p50 (ms)", pct(ours["lat"], 50), pct(theirs["lat"], 50), "%.2f"),
            ("frame latency p95 (ms)", pct(ours["lat"], 95), pct(theirs["lat"], 95), "%.2f"),
            ("CPU idle, 1 viewer (% of a core)", 100 * ours["idle_cpu"], 100 * theirs["idle_cpu"], "%.2f"),
            ("CPU xterm scrolling (% of a core)", 100 * ours["scroll_cpu"], 100 * theirs["scroll_cpu"], "%.1f"),
            ("Xvfb CPU meanwhile (% of a core)", 100 * ours["scroll_xvfb"], 100 * theirs["scroll_xvfb"], "%.1f"),
            ("bytes/s to the viewer, scrolling", ours["scroll_bps"], theirs["scroll_bps"], "%.0f"),
            ("updates/s, scrolling", ours["scroll_ups"], theirs["scroll_ups"], "%.1f"),
        ]
        table = [("", "deskbox agent", "x11vnc", "agent/x11vnc")]
        for name, a, b, fmt in rows:
            table.append((name, fmt % a, fmt % b, "%.2f" % (a / b) if b else "-"))
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        for i, r in enumerate(table):
            print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
            if i == 0:
                print("  ".join("-" * w for w in widths))
        return 0
    finally:
        if x11vnc:
            if x11vnc.poll() is None:
                os.killpg(x11vnc.pid, signal.SIGKILL)
            x11vnc.wait()
        if drawer:
            drawer.stop()
        if agent:
            agent.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
