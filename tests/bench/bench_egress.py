#!/usr/bin/python3
"""bench_egress.py - network egress through the sandbox's proxies, compared
with the same transfer direct on the host, in the same run.

- Throughput: curl downloads 1 GiB from an origin on 127.0.0.1 (sendfile of a
  sparse file, so the origin is not the bottleneck): direct on the host (the
  floor), and from inside a sandbox through the HTTP proxy (plain HTTP) and
  through a CONNECT tunnel. Target: >= 80 % of direct.
- Connection setup: a client inside the sandbox opens a connection to the
  proxy, sends CONNECT and waits for "200" (accept, parse, policy, connect to
  the origin); the floor is a plain TCP connect to the origin on the host.
- CPU per GB moved: deskboxd's and deskbox-egress's user+system time over
  the proxied downloads.

Prints a table; asserts nothing about time. BENCH_SCALE scales the counts.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from benchlib import in_tmp  # noqa: E402
from deskbox import Server, cpu_ticks, descendant_named  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
SIZE = 1 << 30
RUNS = max(2, int(3 * SCALE))
N_SETUP = max(50, int(300 * SCALE))
CLK_TCK = os.sysconf("SC_CLK_TCK")

SETUP_PROBE = r"""
import json, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
out = []
for i in range(n):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(b"CONNECT origin.test:%d HTTP/1.1\r\nHost: origin.test\r\n\r\n" % port)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            break
        head += d
    out.append(time.perf_counter() - t0)
    assert head.startswith(b"HTTP/1.1 200"), head
    s.close()
print(json.dumps(out))
"""


class Origin:
    """Serves SIZE bytes for any request with sendfile, one thread each."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                d = c.recv(4096)
                if not d:
                    return
                head += d
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % SIZE)
            with open(self.path, "rb") as f:
                c.sendfile(f)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


def curl_host(port):
    r = subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{speed_download}",
                        "http://127.0.0.1:%d/big" % port], capture_output=True, text=True, check=True)
    return float(r.stdout)


def curl_sandbox(srv, sid, port, tunnel):
    r = srv.exec(sid, cmd="curl -sS %s -o /dev/null -w '%%{speed_download}' http://origin.test:%d/big"
                 % ("-p" if tunnel else "", port), timeout_ms=600000)
    if r["exit_code"] != 0:
        raise SystemExit("curl in the sandbox failed: %s" % r)
    return float(r["stdout"])


def main():
    in_tmp(run, "deskbox-bench-egress-",
           "Network egress through the sandbox's proxies vs direct on the host (loopback origin)")


def run(table, tmp):
    data = os.path.join(tmp, "big")
    with open(data, "wb") as f:
        f.truncate(SIZE)   # sparse: reads are zeros at memory speed
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 origin.test\n")
    origin = Origin(data)
    try:
        with Server(egress_hosts=hosts) as srv:
            sb = srv.create(desktop=False, network={"allow": ["origin.test"]})
            sid = sb["id"]
            helper = descendant_named(srv.proc.pid, "deskbox-egress")
            curl_host(origin.port)   # warm up both paths once
            curl_sandbox(srv, sid, origin.port, False)

            # Interleaved, so load from elsewhere on the machine hits all
            # three alike; CPU is counted over the proxied runs only.
            direct, proxied, tunneled, d_ticks, h_ticks = [], [], [], 0, 0
            for _ in range(RUNS):
                direct.append(curl_host(origin.port))
                t0d, t0h = cpu_ticks(srv.proc.pid), cpu_ticks(helper)
                proxied.append(curl_sandbox(srv, sid, origin.port, False))
                tunneled.append(curl_sandbox(srv, sid, origin.port, True))
                d_ticks += cpu_ticks(srv.proc.pid) - t0d
                h_ticks += cpu_ticks(helper) - t0h
            gb = 2 * RUNS * SIZE / 1e9
            gib = 1 << 30
            table.add("1 GiB download, direct on the host (floor)", RUNS,
                      [v / gib for v in direct], "GiB/s")
            table.add("1 GiB via the HTTP proxy (plain HTTP)", RUNS, [v / gib for v in proxied],
                      "GiB/s", ">= 80%% of direct: %.0f%%" %
                      (100 * statistics.median(proxied) / statistics.median(direct)))
            table.add("1 GiB via a CONNECT tunnel", RUNS, [v / gib for v in tunneled], "GiB/s",
                      ">= 80%% of direct: %.0f%%" %
                      (100 * statistics.median(tunneled) / statistics.median(direct)))
            table.note("deskboxd CPU per GB moved", "%.3f s" % (d_ticks / CLK_TCK / gb))
            table.note("deskbox-egress CPU per GB moved", "%.3f s" % (h_ticks / CLK_TCK / gb))

            srv.put_file(sid, "/tmp/setup.py", SETUP_PROBE.encode())
            r = srv.exec(sid, cmd="python3 /tmp/setup.py %d %d" % (origin.port, N_SETUP),
                         timeout_ms=600000)
            if r["exit_code"] != 0:
                raise SystemExit("setup probe failed: %s" % r)
            setup = json.loads(r["stdout"])
            floor = []
            for _ in range(N_SETUP):
                t = time.perf_counter()
                s = socket.create_connection(("127.0.0.1", origin.port))
                floor.append(time.perf_counter() - t)
                s.close()
            table.add("TCP connect on the host (floor)", N_SETUP, floor, "ms", scale=1000)
            table.add("CONNECT + policy + connect, in the sandbox", N_SETUP, setup, "ms", scale=1000)
            added = [a - statistics.median(floor) for a in setup]
            table.add("added by the proxy", N_SETUP, added, "ms", scale=1000)
            srv.delete(sid)
    finally:
        origin.close()


if __name__ == "__main__":
    main()
