#!/usr/bin/python3
"""bench_vnc_ws.py - VNC as a browser viewer gets it: through deskboxd's
WebSocket endpoint, from a desktop inside a real sandbox.

Frame latency: a click action makes an X client inside the sandbox
(tests/integration/xevlog.c) paint a small square; the time from sending the
action to the framebuffer update covering that square arriving at an RFB
client on /v1/sandboxes/ID/vnc. Also the agent's CPU with that one viewer on
an idle screen, and what a viewer waits from the WebSocket's connect to
ServerInit (the attach) and to its first full update (4 MB of Raw pixels
read by Python): the first viewer of a fresh desktop (the agent loads
libvncserver then, desktop/vnc.c) beside a second viewer of the same
desktop. Prints a table; asserts nothing about time. (bench_vnc.py
compares the agent with x11vnc on one Xvfb, without the jail and deskboxd.)
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchlib import in_tmp  # noqa: E402
from deskbox import API, Server, cpu_ticks, descendant_named  # noqa: E402
from rfbclient import RFBClient  # noqa: E402
from wsclient import WSClient, WSSocket  # noqa: E402

N = max(50, int(60 * float(os.environ.get("BENCH_SCALE", "1.0"))))
N_FRESH = max(20, int(20 * float(os.environ.get("BENCH_SCALE", "1.0"))))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def main():
    in_tmp(run, "deskbox-bench-vnc-ws-", "VNC through deskboxd (1280x800, loopback, WebSocket, Raw encoding)")


def first_update_s(srv, sid):
    """Seconds from a viewer's WebSocket connect to its ServerInit, and to
    its first full update."""
    t0 = time.monotonic()
    ws = WSClient(srv.host, srv.port, "%s/%s/vnc?token=%s" % (API, sid, srv.token), protocol="binary")
    c = RFBClient(WSSocket(ws))
    c.handshake()
    t_init = time.monotonic() - t0
    c.set_pixel_format_bgrx()
    c.set_encodings()
    c.request(False)
    while not c.next_update().pixel_rects():
        pass
    t_full = time.monotonic() - t0
    c.close()
    return t_init, t_full


def run(table, tmp):
    probe = os.path.join(tmp, "xevlog")
    subprocess.run(["cc", "-O1", "-o", probe, os.path.join(HERE, "..", "integration", "xevlog.c"),
                    "-lX11"], check=True)
    with Server() as srv:
        sb = srv.create()
        sid = sb["id"]
        with open(probe, "rb") as f:
            srv.put_file(sid, "/tmp/xevlog", f.read())
        srv.exec(sid, cmd="chmod +x /tmp/xevlog; /tmp/xevlog /tmp/ev.log </dev/null >/dev/null 2>&1 &")
        deadline = time.monotonic() + 10
        while b"mapped" not in (srv.request("GET", "%s/%s/files?path=/tmp/ev.log" % (API, sid),
                                            raw=True).body or b""):
            if time.monotonic() > deadline:
                raise SystemExit("xevlog did not start")
            time.sleep(0.05)
        api = srv.client(keepalive=True)
        ws = WSClient(srv.host, srv.port, "%s/%s/vnc?token=%s" % (API, sid, srv.token),
                      protocol="binary")
        c = RFBClient(WSSocket(ws))
        c.start()
        c.start_reader()
        c.settle()
        lat = []
        for i in range(N):
            x, y = 40 + (i * 37) % 1100, 40 + (i * 53) % 700
            # The agent holds a click somewhere else until 40 ms after
            # the last release (CLICK_GAP_MS, desktop/actions.c): wait
            # that out untimed, or the pacing is what gets measured.
            time.sleep(0.05)
            c.request(True)
            t0 = time.monotonic()
            api.expect(200, "POST", "%s/%s/actions" % (API, sid),
                       {"action": "left_click", "coordinate": [x, y]})
            u = c.wait(lambda u: u if u and u.covers(x, y) else None, timeout=10, request=True)
            lat.append(u.time - t0)
        table.add("click -> update at a WebSocket viewer", N, lat, "ms", "p50 <= 20 ms", 1000)
        agent = descendant_named(sb["pid"], "deskbox-desktop")
        t0, c0 = time.monotonic(), cpu_ticks(agent)
        c.request(True)
        time.sleep(5)
        dt = time.monotonic() - t0
        table.note("agent CPU, one viewer, idle screen",
                   "%.2f %% of a core over %.0f s" % (100.0 * (cpu_ticks(agent) - c0) / CLK_TCK / dt, dt))
        c.close()
        srv.delete(sid)
        first, later = [], []
        for _ in range(N_FRESH):
            fresh = srv.create()["id"]
            time.sleep(0.5)   # past the start of its window manager
            first.append(first_update_s(srv, fresh))
            later.append(first_update_s(srv, fresh))
            srv.delete(fresh)
        for i, what in enumerate(("ServerInit", "full update")):
            table.add("connect -> %s, first viewer of a fresh desktop" % what, N_FRESH,
                      [t[i] for t in first], "ms", "", 1000)
            table.add("connect -> %s, a second viewer" % what, N_FRESH,
                      [t[i] for t in later], "ms", "", 1000)


if __name__ == "__main__":
    main()
