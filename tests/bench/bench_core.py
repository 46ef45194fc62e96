#!/usr/bin/python3
"""bench_core.py - how fast and how small a sandbox without a desktop is.

Starts its own deskboxd (tests/integration/deskbox.py) and prints one table:
create → ready, create → first command, exec round trip of `true` on one
keep-alive connection, destroy, memory per idle sandbox (PSS of every process
in its cgroup, from /proc/PID/smaps_rollup), the daemon's own memory per
sandbox, and N creates at once. Times are wall clock seen by the client.
Nothing is asserted about speed; the targets are printed beside.

Environment: DESKBOX_BUILD (which deskboxd), BENCH_CREATES (default 50),
BENCH_EXECS (200), BENCH_CONCURRENT (50).
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import (Server, install_signal_cleanup,  # noqa: E402
                     pids_in_cgroups_matching, pss_kb)
from benchlib import Table, cgroup_charge_kib  # noqa: E402

N_CREATES = int(os.environ.get("BENCH_CREATES", 50))
N_EXECS = int(os.environ.get("BENCH_EXECS", 200))
N_CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", 50))
CREATE_BODY = {"desktop": False}


def ms(seconds):
    return seconds * 1000.0


def timed(fn, *a, **kw):
    t0 = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t0, out


def sandbox_pss_kb(sid):
    return sum(pss_kb(p) for p in pids_in_cgroups_matching(sid))


def bench_sequential(srv, table):
    api = srv.client(keepalive=True)
    for _ in range(3):  # warm up: page cache, first-time paths in the daemon
        api.delete(api.create(**CREATE_BODY)["id"])

    daemon_pss_before = pss_kb(srv.proc.pid)
    creates, ids = [], []
    for _ in range(N_CREATES):
        dt, sb = timed(api.create, **CREATE_BODY)
        creates.append(dt)
        ids.append(sb["id"])
    table.add("create -> ready", N_CREATES, creates, "ms", "p50 <= 15 ms", 1000)

    sid = ids[0]
    for _ in range(10):
        api.exec(sid, argv=["true"])
    conns_before = api.connections
    execs, server_ms = [], []
    for _ in range(N_EXECS):
        dt, res = timed(api.exec, sid, argv=["true"])
        if res["exit_code"] != 0:
            raise SystemExit("exec of true failed: %r" % res)
        execs.append(dt)
        server_ms.append(res.get("duration_ms") or 0.0)
    reconnects = api.connections - conns_before
    table.add("exec true, round trip", N_EXECS, execs, "ms", "p50 <= 3 ms", 1000)
    table.add("exec true, duration_ms", N_EXECS, server_ms, "ms")
    table.note("  keep-alive", "yes" if reconnects == 0 else
               "no: %d new connections for %d execs" % (reconnects, N_EXECS))

    # Idle memory: let the sandboxes settle, then sum PSS per sandbox.
    time.sleep(1.0)
    mem = [sandbox_pss_kb(s) for s in ids]
    nprocs = [len(pids_in_cgroups_matching(s)) for s in ids]
    charged = [c for c in (cgroup_charge_kib(srv, s) for s in ids) if c is not None]
    table.add("memory per idle sandbox", len(ids), mem, "KiB PSS")
    if charged:
        table.add("  cgroup memory charge", len(charged), charged, "KiB")
    table.add("processes per idle sandbox", len(ids), nprocs, "")
    daemon_growth = (pss_kb(srv.proc.pid) - daemon_pss_before) / float(len(ids))
    table.note("deskboxd PSS per sandbox", "%.1f KiB" % daemon_growth)

    first_cmd = []
    for _ in range(min(20, N_CREATES)):
        t0 = time.perf_counter()
        sb = api.create(**CREATE_BODY)
        api.exec(sb["id"], argv=["true"])
        first_cmd.append(time.perf_counter() - t0)
        ids.append(sb["id"])
    table.add("create -> first command", len(first_cmd), first_cmd, "ms", "", 1000)

    destroys = []
    for s in ids:
        dt, _ = timed(api.delete, s)
        destroys.append(dt)
    table.add("destroy", len(destroys), destroys, "ms", "", 1000)
    api.close()


def bench_concurrent(srv, table):
    n = N_CONCURRENT
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        c = srv.client(timeout=120)
        barrier.wait()
        t0 = time.perf_counter()
        try:
            r = c.request("POST", "/v1/sandboxes", CREATE_BODY, timeout=120)
            results[i] = (r.status, time.perf_counter() - t0, r.body)
        except Exception as e:
            results[i] = (repr(e), time.perf_counter() - t0, None)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    wall = time.perf_counter() - t0
    ok = [r for r in results if r and r[0] == 201]
    table.add("%d concurrent creates, each" % n, len(ok), [r[1] for r in ok], "ms", "", 1000)
    failures = sorted({str(r[0]) for r in results if not r or r[0] != 201})
    table.note("  succeeded, wall time", "%d/%d in %.0f ms%s" % (
        len(ok), n, ms(wall), (", failures: " + ", ".join(failures)) if failures else ""))
    for r in ok:
        srv.delete(r[2]["id"])


def main():
    install_signal_cleanup()
    srv = Server(max_sandboxes=max(200, N_CREATES + 30, N_CONCURRENT + 10))
    srv.start()
    try:
        table = Table()
        bench_sequential(srv, table)
        bench_concurrent(srv, table)
    except BaseException:
        srv.stop(check=False)
        raise
    srv.stop()
    print("deskbox core bench: %s, %d CPUs, no desktop" % (srv.binary, os.cpu_count()))
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
