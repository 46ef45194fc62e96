#!/usr/bin/python3
"""bench_adapt.py - what the agent faces cost over the plain operations.

Starts its own deskboxd (tests/integration/deskbox.py) with one sandbox
running an xterm at 1280x800 and times, over one keep-alive connection on
loopback, p50/p95 of:

- an Anthropic computer screenshot through POST …/tools/anthropic beside the
  same screenshot through POST …/actions (the plain desktop.actions row);
- an Anthropic left_click through the adapter (screenshot_after=false, and
  as the reference tool answers: with a screenshot) beside a plain
  left_click through …/actions;
- a batch of 16 screenshots through POST …/actions (the most one batch
  takes), with deskboxd's own CPU time per batch (its utime + stime from
  /proc): what it spends passing the images on, which the agent hands it
  as sealed memfds and REST encodes straight into the body;
- an MCP tools/call of `screenshot` (2026-07-28, stateless) beside GET
  …/screenshot (desktop.screenshot), both PNG;
- the wall time of `deskbox exec ID -- true` (the CLI: a process, a
  WebSocket to the control channel, process.spawn, the exit) beside
  `curl` POSTing the same command to REST …/exec, each a new process.

Ratios are adapter / plain. Nothing is asserted about speed.
Environment: DESKBOX_BUILD, BENCH_SCALE (default 1.0 multiplies the sample
counts; minimum 30).
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import Server, install_signal_cleanup, percentile, until  # noqa: E402
from benchlib import Table  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
N = max(30, int(100 * SCALE))
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}


def times(fn, n=N):
    for _ in range(5):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def cpu_s(pid):
    """utime + stime of pid, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ok(r, status=200):
    if r.status != status:
        raise SystemExit("unexpected answer %d: %r" % (r.status, r.body))
    return r


def main():
    install_signal_cleanup()
    table = Table()
    with Server() as srv:
        api = srv.client(keepalive=True)
        sb = api.create(apps=["xterm -geometry 80x20+0+0"])
        sid = sb["id"]
        until(lambda: api.request("GET", "/v1/sandboxes/%s/windows" % sid).body.get("windows"),
              timeout=30, what="the xterm")
        tools = "/v1/sandboxes/%s/tools/anthropic" % sid
        acts = "/v1/sandboxes/%s/actions" % sid

        def block(inp):
            return {"type": "tool_use", "id": "toolu_bench", "name": "computer", "input": inp}

        plain = times(lambda: ok(api.request("POST", acts, {"action": "screenshot"})))
        adapt = times(lambda: ok(api.request("POST", tools, block({"action": "screenshot"}))))
        table.add("screenshot: POST /actions", N, plain, "ms", "", 1000)
        table.add("screenshot: /tools/anthropic", N, adapt, "ms", "", 1000)
        table.note("  ratio p50", "%.2f" % (percentile(adapt, 50) / percentile(plain, 50)))

        sixteen = [{"action": "screenshot"}] * 16
        n16 = max(10, N // 5)
        cpu0 = cpu_s(srv.proc.pid)
        many = times(lambda: ok(api.request("POST", acts, sixteen)), n16)
        cpu = (cpu_s(srv.proc.pid) - cpu0) / (n16 + 5)
        size = len(api.request("POST", acts, sixteen, raw=True).body)
        table.add("16 screenshots: POST /actions", n16, many, "ms", "", 1000)
        table.note("  deskboxd CPU per batch", "%.2f ms (%d KiB answer)" % (cpu * 1000, size // 1024))

        click = {"action": "left_click", "coordinate": [1270, 790]}
        plain = times(lambda: ok(api.request("POST", acts, click)))
        adapt = times(lambda: ok(api.request("POST", tools + "?screenshot_after=false", block(click))))
        both = times(lambda: ok(api.request("POST", tools, block(click))))
        table.add("left_click: POST /actions", N, plain, "ms", "", 1000)
        table.add("left_click: /tools/anthropic", N, adapt, "ms", "", 1000)
        table.note("  ratio p50", "%.2f" % (percentile(adapt, 50) / percentile(plain, 50)))
        table.add("left_click + screenshot (ref.)", N, both, "ms", "", 1000)

        shot = "/v1/sandboxes/%s/screenshot" % sid
        plain = times(lambda: ok(api.request("GET", shot, raw=True)))
        hdrs = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
                "Mcp-Method": "tools/call", "Mcp-Name": "screenshot"}
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "screenshot", "arguments": {"sandbox_id": sid}, "_meta": META}}
        mcp = times(lambda: ok(api.request("POST", "/mcp", call, headers=hdrs)))
        table.add("screenshot: GET /screenshot", N, plain, "ms", "", 1000)
        table.add("screenshot: MCP tools/call", N, mcp, "ms", "", 1000)
        table.note("  ratio p50", "%.2f" % (percentile(mcp, 50) / percentile(plain, 50)))
        cli = os.path.join(os.path.dirname(srv.binary), "deskbox")
        env = dict(os.environ, DESKBOX_URL=srv.url, DESKBOX_TOKEN=srv.token)
        run = lambda argv: subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          check=True)
        n = max(20, N // 3)
        clit = times(lambda: run([cli, "exec", sid, "--", "true"]), n)
        table.add("deskbox exec ID -- true", n, clit, "ms", "", 1000)
        if shutil.which("curl"):
            curlt = times(lambda: run(["curl", "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer " + srv.token,
                                       "-H", "Content-Type: application/json", "-d", '{"argv":["true"]}',
                                       srv.url + "/v1/sandboxes/%s/exec" % sid]), n)
            table.add("curl POST /exec (true)", n, curlt, "ms", "", 1000)
            table.note("  ratio p50", "%.2f" % (percentile(clit, 50) / percentile(curlt, 50)))
        api.delete(sid)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
