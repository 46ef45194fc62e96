#!/usr/bin/python3
"""bench_density.py - how many idle desktops (each with xterm) one deskboxd
holds here, what stops it, and what each costs; plus /metrics scrape time
and drain time at a given count.

Creates desktop sandboxes one after another ({"apps": ["xterm"]}, memory
limit BENCH_DENSITY_MEMORY_MB) until one of: BENCH_DENSITY_MAX sandboxes,
the host's MemAvailable falls under BENCH_DENSITY_FLOOR_MIB (the machine is
shared: the bench stops before it starves anyone), or a create fails (its
error is printed: that is the limit found). Then, with all of them idle:

  memory per sandbox     PSS of the processes in its cgroups (sampled),
                         its memory cgroup's charge, and the host's
                         MemAvailable drop divided by the count
  deskboxd               RSS, CPU over BENCH_DENSITY_IDLE_S idle seconds,
                         open fds
  all sandboxes          CPU over the same idle seconds
  latency at full load   /healthz, a screenshot of one sandbox (encoded,
                         and of an unchanged screen, which the agent
                         answers from its last encode), /metrics, each
                         beside the same measure with one sandbox
  drain                  SIGTERM with --drain-grace 1 to exit, minus the
                         grace: what destroying every sandbox costs

Then, on fresh servers, create → first screenshot (PNG) BENCH_POOL_N times
each way, of a bare desktop ({"wm": false}: Xvfb and the agent, no window
manager, as the floor runs): taken from a warm pool of that shape (2
members), cold, and beside them the floor, Xvfb alone (same flags and size,
no GLX) from exec to -displayfd ready, interleaved with the cold creates so
both see the same load. Xvfb's own start includes running xkbcomp (a
fork of sh and xkbcomp, ~30 ms of its ~60-80 ms here), for the floor as for
the sandboxes.

Defaults keep `make bench` short (BENCH_DENSITY_MAX=40); for the real
figure: BENCH_DENSITY_MAX=2000 python3 tests/bench/bench_density.py
Nothing is asserted; it exits non-zero only if it could not measure.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import (API, Server, cpu_ticks, fd_count,  # noqa: E402
                     install_signal_cleanup, percentile, pids_in_cgroups_matching,
                     pss_kb, rss_kib)
from benchlib import cgroup_charge_kib  # noqa: E402

MAX = int(os.environ.get("BENCH_DENSITY_MAX", 40))
FLOOR_MIB = int(os.environ.get("BENCH_DENSITY_FLOOR_MIB", 4096))
MEMORY_MB = int(os.environ.get("BENCH_DENSITY_MEMORY_MB", 256))
IDLE_S = float(os.environ.get("BENCH_DENSITY_IDLE_S", 10))
POOL_N = int(os.environ.get("BENCH_POOL_N", 30))
BODY = {"apps": ["xterm"]}
HZ = os.sysconf("SC_CLK_TCK")


def mem_available_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def timings(fn, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def row(name, vals, unit):
    if not vals:
        print("%-44s %6s %10s %10s  %s" % (name, 0, "-", "-", unit))
        return
    print("%-44s %6d %10.2f %10.2f  %s" % (name, len(vals), percentile(vals, 50),
                                           percentile(vals, 95), unit))


def note(name, text):
    print("%-44s %s" % (name, text))


def latencies(srv, sid):
    """/healthz; a screenshot that is encoded (the pointer drawn in every
    other one, so none repeats the last and comes from the agent's cache);
    one of an unchanged screen (the cache); /metrics."""
    c = srv.client(keepalive=True)
    url = "%s/%s/screenshot" % (API, sid)
    health = timings(lambda: c.expect(200, "GET", "/healthz", token=None), 50)
    flip = []
    shot = timings(lambda: (flip.append(1), c.expect(200, "GET", url + ("?cursor=true" if len(flip) % 2
                                                                      else ""), raw=True)), 20)
    cached = timings(lambda: c.expect(200, "GET", url, raw=True), 20)
    scrape = timings(lambda: c.expect(200, "GET", "/metrics", token=None, raw=True), 10)
    c.close()
    return health, (shot, cached), scrape


def xvfb_ready_ms():
    """Xvfb alone, as the agent starts it (deskbox's flags, 1920x1080 screen,
    no GLX): exec to the display number on -displayfd."""
    r, w = os.pipe()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p = subprocess.Popen(["Xvfb", ":%d" % (200 + os.getpid() % 500), "-displayfd", str(w),
                              "-nolisten", "tcp", "-nolisten", "local", "-s", "0", "-dpms",
                              "-noreset", "-screen", "0", "1920x1080x24", "-extension", "GLX"],
                             pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=tmp)
        os.close(w)
        os.read(r, 16)
        took = (time.perf_counter() - t0) * 1000.0
        os.close(r)
        p.kill()
        p.wait()
    return took


BARE = {"wm": False}


def first_screenshot(pool, floor=None):
    """create → first screenshot of a bare desktop, ms, POOL_N times, with
    or without a pool; with floor (a list), an Xvfb-alone start after each."""
    shapes = '[{"size": 2, "spec": %s}]' % json.dumps(BARE) if pool else None
    srv = Server(pool_shapes=shapes, drain_grace=0, start_timeout=60).start()
    out = []
    try:
        c = srv.client(keepalive=True)
        for _ in range(POOL_N):
            if pool:  # measure a take, not a wait for the refill
                deadline = time.monotonic() + 30
                while (b"deskbox_pool_size 2" not in c.expect(200, "GET", "/metrics", token=None,
                                                               raw=True).body
                       and time.monotonic() < deadline):
                    time.sleep(0.02)
                # Members wait seconds between takes in use; give this one
                # the 50 ms of stillness after which its screen is encoded.
                time.sleep(0.2)
            t0 = time.perf_counter()
            sb = c.expect(201, "POST", API, BARE).body
            c.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
            out.append((time.perf_counter() - t0) * 1000.0)
            c.expect(204, "DELETE", "%s/%s" % (API, sb["id"]))
            if floor is not None:
                floor.append(xvfb_ready_ms())
        c.close()
    finally:
        srv.stop(check=False, timeout=120)
    return out


def main():
    install_signal_cleanup()
    srv = Server(max_sandboxes=max(MAX, 1), memory_mb=MEMORY_MB, drain_grace=1,
                 start_timeout=60).start()
    try:
        run(srv)
    finally:
        srv.stop(check=False, timeout=300)
    xvfb = []
    pooled, cold = first_screenshot(True), first_screenshot(False, xvfb)
    print()
    print("%-44s %6s %10s %10s  %s" % ("create -> first screenshot (PNG), bare", "n", "p50", "p95", "unit"))
    row("from the warm pool (2 members)", pooled, "ms")
    row("cold", cold, "ms")
    row("floor: Xvfb alone, exec to ready", xvfb, "ms")
    note("cold / Xvfb alone (p50)", "%.2fx" % (percentile(cold, 50) / percentile(xvfb, 50)))
    return 0


def run(srv):
    avail0 = mem_available_mib()
    rss0 = rss_kib(srv.proc.pid)
    first = srv.create(**BODY)
    floor_health, floor_shot, floor_scrape = latencies(srv, first["id"])
    ids = [first["id"]]
    creates, stop = [], "BENCH_DENSITY_MAX=%d reached" % MAX
    cpu0 = cpu_ticks(srv.proc.pid)
    while len(ids) < MAX:
        if mem_available_mib() < FLOOR_MIB:
            stop = "host MemAvailable under the %d MiB floor (shared machine)" % FLOOR_MIB
            break
        t0 = time.perf_counter()
        r = srv.request("POST", API, BODY, timeout=120)
        creates.append((time.perf_counter() - t0) * 1000.0)
        if r.status != 201:
            stop = "create %d failed: %s %s" % (len(ids) + 1, r.status, r.body)
            break
        srv._track(r.body)
        ids.append(r.body["id"])
        if len(ids) % 100 == 0:
            print("  ... %d desktops, MemAvailable %.0f MiB" % (len(ids), mem_available_mib()),
                  flush=True)
    n = len(ids)
    create_cpu = (cpu_ticks(srv.proc.pid) - cpu0) / HZ
    time.sleep(3)  # let the last desktops settle to idle

    sample = ids[:: max(1, n // 10)][:10]
    pss = [sum(pss_kb(p) for p in pids_in_cgroups_matching(s)) / 1024.0 for s in sample]
    charge = [c / 1024.0 for c in (cgroup_charge_kib(srv, s) for s in sample) if c is not None]
    avail1 = mem_available_mib()
    pid = srv.proc.pid
    # Every sandbox process sits under the instance's cgroup directory.
    dirs = srv.sandbox_record(ids[0]).cgroups
    inst = "/%s/" % os.path.basename(os.path.dirname(next(d for d in dirs.values() if d)))
    procs = pids_in_cgroups_matching(inst)
    d0, s0, t0 = cpu_ticks(pid), cpu_ticks(procs), time.monotonic()
    time.sleep(IDLE_S)
    d1, s1, t1 = cpu_ticks(pid), cpu_ticks(procs), time.monotonic()
    health, shot, scrape = latencies(srv, ids[n // 2])

    print("held: %d idle desktops with xterm (memory limit %d MiB each); stopped by: %s"
          % (n, MEMORY_MB, stop))
    print("%-44s %6s %10s %10s  %s" % ("measure", "n", "p50", "p95", "unit"))
    row("create (desktop + xterm), one at a time", creates, "ms")
    row("PSS per sandbox (its processes)", pss, "MiB")
    row("memory cgroup charge per sandbox", charge, "MiB")
    note("host MemAvailable drop per sandbox", "%.1f MiB" % ((avail0 - avail1) / max(n, 1)))
    note("deskboxd RSS", "%.1f MiB (%.1f at start; %.1f KiB per sandbox)"
         % (rss_kib(pid) / 1024.0, rss0 / 1024.0, (rss_kib(pid) - rss0) / max(n, 1)))
    note("deskboxd CPU for the creates", "%.1f s (%.1f ms per create)"
         % (create_cpu, 1000.0 * create_cpu / max(len(creates), 1)))
    note("deskboxd CPU, idle", "%.2f %% of a core over %.0f s" % (100.0 * (d1 - d0) / HZ / (t1 - t0), t1 - t0))
    note("all sandboxes' CPU, idle", "%.2f %% of a core (%.4f %% each)"
         % (100.0 * (s1 - s0) / HZ / (t1 - t0), 100.0 * (s1 - s0) / HZ / (t1 - t0) / max(n, 1)))
    note("deskboxd open fds", "%d (%.1f per sandbox)" % (fd_count(pid), fd_count(pid) / max(n, 1)))
    row("/healthz, 1 sandbox", floor_health, "ms")
    row("/healthz, %d sandboxes" % n, health, "ms")
    row("screenshot (PNG, encoded), 1 sandbox", floor_shot[0], "ms")
    row("screenshot (PNG, encoded), %d sandboxes" % n, shot[0], "ms")
    row("screenshot, unchanged screen, 1 sandbox", floor_shot[1], "ms")
    row("screenshot, unchanged screen, %d sandboxes" % n, shot[1], "ms")
    row("/metrics scrape, 1 sandbox", floor_scrape, "ms")
    row("/metrics scrape, %d sandboxes" % n, scrape, "ms")

    # Drain: SIGTERM, 1 s of grace with every sandbox held, then teardown.
    t0 = time.perf_counter()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(600)
    took = time.perf_counter() - t0
    note("drain: SIGTERM to exit, %d sandboxes" % n, "%.2f s (grace 1 s + %.2f s to destroy all; %.1f ms each)"
         % (took, took - 1.0, (took - 1.0) * 1000.0 / max(n, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
