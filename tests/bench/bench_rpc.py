#!/usr/bin/python3
"""bench_rpc.py - the control channel (JSON-RPC over /v1/rpc) against REST
and against the host's floor, in one run on one deskboxd.

Same run, same sandbox:
- desktop.screenshot (JPEG) and a left_click: round trip over the channel
  (one WebSocket, python3-websockets) vs REST (one keep-alive connection);
- exec of `true`: REST, channel (process.exec), and the floor: this host's
  own fork+exec of /bin/sh -c true from spawnfloor.c (compiled here); with
  a breakdown: the channel's bare round trip (sandbox.get) and an exec of
  /nonexistent (the spawn and exit machinery with no program to run);
- process.spawn of `yes | head -c 100M`: throughput to the client, beside a
  host pipe of the same command read by this Python (the floor);
- 20 clients on 20 desktop sandboxes, each asking 10 screenshots/s (JPEG;
  at most 10 in flight per client, later ticks counted as skipped)
  for BENCH_RPC_SECONDS (default 60): p50, p99, errors; beside it the
  same shots as deskboxd timed them (its /metrics histogram) and this
  client's CPU, to tell the server's share from the client's.

Environment: DESKBOX_BUILD, BENCH_RPC_N (round trips per measure, 200),
BENCH_RPC_SECONDS (60), BENCH_RPC_CLIENTS (20). Nothing is asserted.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from deskbox import API, Server, install_signal_cleanup, percentile  # noqa: E402
from rpcclient import RPC, connect  # noqa: E402
import benchlib  # noqa: E402

N = int(os.environ.get("BENCH_RPC_N", 200))
SECONDS = float(os.environ.get("BENCH_RPC_SECONDS", 60))
CLIENTS = int(os.environ.get("BENCH_RPC_CLIENTS", 20))
RATE = 10.0            # screenshots per second per client
MAX_OUTSTANDING = 10   # per client: one second's worth


class Table(benchlib.Table):
    """benchlib's table with p99 too, times in seconds shown in ms, and
    notes in the last column."""

    def __init__(self):
        super().__init__((50, 95, 99), "")

    def add(self, name, values, unit="ms", scale=1000.0, extra=""):
        super().add(name, len(values), values, unit, extra, scale)

    def note(self, name, text):
        self.rows.append((name, "", "", "", "", "", text))


def rest_times(n, fn):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


async def rpc_times(n, rpc, method, params):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await rpc.call(method, params)
        out.append(time.perf_counter() - t0)
    return out


class Floor:
    """spawnfloor.c, compiled once (a temp dir, removed by close)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="deskbox-bench-rpc-")
        self.exe = os.path.join(self.tmp, "spawnfloor")
        subprocess.run(["cc", "-O2", "-o", self.exe, os.path.join(HERE, "spawnfloor.c")], check=True)

    def times(self, n):
        out = subprocess.run([self.exe, str(n)], check=True, capture_output=True, text=True).stdout
        return [float(x) / 1e6 for x in out.split()]

    def close(self):
        shutil.rmtree(self.tmp, True)


def floor_pipe(nbytes):
    t0 = time.perf_counter()
    p = subprocess.Popen(["/bin/sh", "-c", "yes | head -c %d" % nbytes], stdout=subprocess.PIPE)
    got = 0
    while True:
        b = p.stdout.read1(65536)
        if not b:
            break
        got += len(b)
    p.wait()
    return got, time.perf_counter() - t0


async def stream_throughput(srv, sid, nbytes):
    ws = await connect(srv, max_size=64 << 20)
    try:
        t0 = time.perf_counter()
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "process.spawn",
                                  "params": {"sandbox": sid, "cmd": "yes | head -c %d" % nbytes}}))
        got, msgs, code = 0, 0, None
        while code is None:
            m = json.loads(await ws.recv())
            if m.get("method") == "process.output":
                got += len(m["params"]["data"])
                msgs += 1
            elif m.get("method") == "process.exit":
                code = m["params"]["exit_code"]
            elif "error" in m:
                raise RuntimeError(m)
        return got, msgs, time.perf_counter() - t0, code
    finally:
        await ws.close()


async def one_viewer(srv, sid, seconds, lat, errors, skipped):
    """Ask a screenshot every 1/RATE s. Open loop (a slow answer does not
    slow the rate), but at most MAX_OUTSTANDING in flight: a tick that
    finds that many still waiting is counted as skipped, not sent."""
    async with RPC(srv) as rpc:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks, outstanding = [], [0]

        async def shot():
            outstanding[0] += 1
            t0 = time.perf_counter()
            try:
                r = await rpc.call("desktop.screenshot", {"sandbox": sid, "format": "jpeg"}, timeout=30)
                if not r.get("_bytes", b"").startswith(b"\xff\xd8"):
                    raise RuntimeError("not a JPEG")
                lat.append(time.perf_counter() - t0)
            except Exception as e:   # counted, not fatal: errors are a figure
                errors.append(repr(e)[:200])
            finally:
                outstanding[0] -= 1

        i = 0
        while True:
            due = start + i / RATE
            if due - start >= seconds:
                break
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if outstanding[0] >= MAX_OUTSTANDING:
                skipped.append(1)
            else:
                tasks.append(asyncio.ensure_future(shot()))
            i += 1
        await asyncio.gather(*tasks)


async def channel_figures(srv, api, sid, table):
    async with RPC(srv) as rpc:
        for _ in range(10):     # warm up both paths
            await rpc.call("desktop.screenshot", {"sandbox": sid, "format": "jpeg"})
            api.request("GET", "%s/%s/screenshot?format=jpeg" % (API, sid), raw=True)
        shot_rest = rest_times(N, lambda: api.request("GET", "%s/%s/screenshot?format=jpeg" % (API, sid), raw=True))
        shot_rpc = await rpc_times(N, rpc, "desktop.screenshot", {"sandbox": sid, "format": "jpeg"})
        table.add("screenshot jpeg, REST", shot_rest)
        table.add("screenshot jpeg, channel", shot_rpc)
        click = [{"action": "left_click", "coordinate": [1200, 760]}]
        click_rest = rest_times(N, lambda: api.expect(200, "POST", "%s/%s/actions" % (API, sid), click))
        click_rpc = await rpc_times(N, rpc, "desktop.actions", {"sandbox": sid, "actions": click})
        table.add("left_click, REST", click_rest)
        table.add("left_click, channel", click_rpc)

        for _ in range(10):
            api.exec(sid, argv=["true"])
            await rpc.call("process.exec", {"sandbox": sid, "argv": ["true"]})
        # In rounds, each measure a slice of every round: the floor and the
        # exec rows see the same moments of a machine others share, so
        # their ratio is not the load's doing.
        rounds = 10
        floor, ex_rest, ex_rpc, ex_sh_rest, ex_sh_rpc, rtt, ex_none = [], [], [], [], [], [], []
        fl = Floor()
        try:
            for r in range(rounds):
                k = N // rounds + (1 if r < N % rounds else 0)
                floor += fl.times(k)
                ex_rest += rest_times(k, lambda: api.exec(sid, argv=["true"]))
                ex_rpc += await rpc_times(k, rpc, "process.exec", {"sandbox": sid, "argv": ["true"]})
                ex_sh_rest += rest_times(k, lambda: api.exec(sid, cmd="true"))
                ex_sh_rpc += await rpc_times(k, rpc, "process.exec", {"sandbox": sid, "cmd": "true"})
                # Where the time goes: the channel's round trip alone, and
                # the spawn machinery with no program to run (the exec
                # fails at once).
                rtt += await rpc_times(k, rpc, "sandbox.get", {"sandbox": sid})
                ex_none += await rpc_times(k, rpc, "process.exec", {"sandbox": sid, "argv": ["/nonexistent"]})
        finally:
            fl.close()
        f50 = percentile(floor, 50)
        table.add("floor: host fork+exec sh -c true", floor)
        for name, v in (("exec argv [true], REST", ex_rest), ("exec argv [true], channel", ex_rpc),
                        ("exec cmd 'true' (sh -c), REST", ex_sh_rest),
                        ("exec cmd 'true' (sh -c), channel", ex_sh_rpc)):
            table.add(name, v, extra="p50 %.2fx floor" % (percentile(v, 50) / f50))
        table.add("  breakdown: sandbox.get, channel", rtt, extra="the client's round trip")
        table.add("  breakdown: exec /nonexistent, channel", ex_none,
                  extra="spawn and exit machinery, no program")

    nbytes = 100 << 20
    got, secs = floor_pipe(nbytes)
    table.note("floor: host pipe yes|head -c 100M", "%.0f MB/s (%d bytes in %.2f s)" % (got / secs / 1e6, got, secs))
    got, msgs, secs, code = await stream_throughput(srv, sid, nbytes)
    table.note("process.spawn yes|head -c 100M", "%.0f MB/s to the client (%d bytes, %d notifications, %.2f s, exit %s)"
               % (got / secs / 1e6, got, msgs, secs, code))


def shot_histogram(srv):
    """deskboxd's own deskbox_screenshot_seconds buckets: {le: count}
    (cumulative), call to answer as the server saw it."""
    text = srv.request("GET", "/metrics", token=None, raw=True).body.decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("deskbox_screenshot_seconds_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = int(line.rsplit(" ", 1)[1])
    return out


def histogram_note(before, after):
    """The server's share of the shots within 25 and 50 ms, and the bucket
    its p99 falls in, over the calls between two scrapes."""
    d = sorted((le, after[le] - before.get(le, 0)) for le in after)
    total = d[-1][1] if d else 0
    if not total:
        return "no screenshots counted"
    within = lambda b: next((c for le, c in d if le >= b), total) / total
    p99 = next(le for le, c in d if c >= 0.99 * total)
    return ("%d shots; %.1f%% answered within 25 ms, %.1f%% within 50 ms; p99 <= %s"
            % (total, 100 * within(0.025), 100 * within(0.05),
               "%g ms" % (p99 * 1000) if p99 != float("inf") else "+Inf"))


async def load_figures(srv, sids, table):
    lat, errors, skipped = [], [], []
    before = shot_histogram(srv)
    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one_viewer(srv, s, SECONDS, lat, errors, skipped) for s in sids))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    table.add("%d clients x %g shots/s x %gs, jpeg" % (len(sids), RATE, SECONDS), lat,
              extra="errors %d; %d ticks skipped (%d in flight); %.0f of %.0f shots/s done"
              % (len(errors), len(skipped), MAX_OUTSTANDING, len(lat) / wall, len(sids) * RATE))
    table.note("  the same, deskboxd's own time", histogram_note(before, shot_histogram(srv)))
    table.note("  the client (this Python process)", "%.0f%% of a core" % (100 * cpu / wall))
    if errors:
        table.note("  first error", errors[0])


def main():
    install_signal_cleanup()
    if not shutil.which("cc"):
        print("bench_rpc: no C compiler (make deps-bench)")
        return 1
    table = Table()
    table.note("host load average at start", "%.2f %.2f %.2f on %d cores (figures are shared with it)"
               % (os.getloadavg() + (os.cpu_count(),)))
    with Server(max_sandboxes=CLIENTS + 2) as srv:
        api = srv.client(keepalive=True)
        sb = api.create(apps=["xterm"])
        try:
            asyncio.run(channel_figures(srv, api, sb["id"], table))
        finally:
            api.delete(sb["id"])
        table.print()
        sids = []
        try:
            for _ in range(CLIENTS):
                sids.append(api.create(apps=["xterm"])["id"])
            asyncio.run(load_figures(srv, sids, table))
        finally:
            for s in sids:
                api.delete(s)
    table.note("host load average at end", "%.2f %.2f %.2f" % os.getloadavg())
    print()
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
