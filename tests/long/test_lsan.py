"""test_lsan.py - LeakSanitizer over deskboxd's create/use/destroy cycles.

deskboxd built with SANITIZE=1 (ASan, which includes LSan; build-san/, made
here with `make SANITIZE=1 all` unless $DESKBOX_BUILD already is a sanitized
build) runs LSAN_CYCLES cycles that touch most of what a client can: create
a desktop, screenshot, actions, exec, files up and down, clipboard,
windows, the JSON-RPC channel (process.spawn with output and exit,
events.subscribe), a VNC viewer, a terminal, an MCP session, the agent
adapters, error answers, clients that leave half way, a desktop restart,
a sandbox whose init is killed; then the soak's leak checks, SIGTERM, and
the exit. A second server takes desktops from a warm pool (refills,
an eviction for a cold create) and is drained with sandboxes held. The test fails on any LeakSanitizer (or other sanitizer) report:
ASAN_OPTIONS sends reports to files in a directory the test reads, and the
exit status must be 0. About 1 minute on the 2-core development machine.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import soak
from deskbox import API, REPO, Server, sanitized, until
from rfbclient import RFBClient
from wsclient import WSClient, WSSocket

CYCLES = int(os.environ.get("DESKBOX_LSAN_CYCLES", "30"))
RPC = "deskbox.rpc.v1"


def sanitized_build():
    """The directory of a SANITIZE=1 build, made if need be."""
    build = os.environ.get("DESKBOX_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(REPO, build)
    if os.path.basename(build.rstrip("/")) == "build-san":
        return build
    subprocess.run(["make", "-s", "SANITIZE=1", "all"], cwd=REPO, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return os.path.join(REPO, "build-san")


def rpc(ws, rid, method, params):
    ws.send_text(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
    notes = []
    while True:
        kind, data = ws.recv(timeout=30)
        if kind != "text":
            continue
        msg = json.loads(data)
        if msg.get("id") == rid:
            return msg, notes
        notes.append(msg)


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    sock.close()


class TestLeakSanitizer(unittest.TestCase):

    def start(self, **options):
        self.reports = tempfile.mkdtemp(prefix="deskbox-lsan-")
        self.addCleanup(shutil.rmtree, self.reports, True)
        binary = os.path.join(sanitized_build(), "deskboxd")
        opts = "detect_leaks=1:leak_check_at_exit=1:log_path=%s/report" % self.reports
        self.srv = Server(binary=binary, env={"ASAN_OPTIONS": opts,
                                              "LSAN_OPTIONS": "report_objects=1",
                                              "UBSAN_OPTIONS": "print_stacktrace=1:log_path=%s/ubsan" % self.reports},
                          **options)
        self.addCleanup(self.srv.stop, check=False)
        self.srv.start()
        self.assertTrue(sanitized(self.srv.proc.pid), "%s is not an ASan build" % binary)

    def sigterm_and_check(self):
        self.srv.proc.send_signal(signal.SIGTERM)
        rc = self.srv.proc.wait(60)
        reports = self.read_reports()
        self.assertEqual(reports, "", "sanitizer reports:\n" + reports[:20000])
        self.assertEqual(rc, 0, "deskboxd exited with %s\n%s" % (rc, self.srv.log_tail()))

    def read_reports(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.reports, "*"))):
            with open(f, errors="replace") as fh:
                out.append("== %s\n%s" % (os.path.basename(f), fh.read()))
        return "\n".join(out)

    def use(self, i):
        srv, api = self.srv, self.srv.api
        sb = api.create(apps=["xterm"], timeout_s=600)
        sid = sb["id"]
        base = "%s/%s" % (API, sid)
        self.assertEqual(api.request("GET", base + "/screenshot?format=jpeg&width=320", raw=True).status, 200)
        self.assertEqual(api.request("POST", base + "/actions",
                                     [{"action": "mouse_move", "coordinate": [10, 10]},
                                      {"action": "type", "text": "lsan %d" % i},
                                      {"type": "keypress", "keys": ["ctrl", "a"]}]).status, 200)
        self.assertEqual(api.exec(sid, cmd="echo $((i=%d))" % i, stdin="in")["stdout"], "%d\n" % i)
        api.put_file(sid, "/home/user/f.bin", os.urandom(200000))
        self.assertEqual(len(api.get_file(sid, "/home/user/f.bin")), 200000)
        api.expect(200, "PUT", base + "/clipboard", {"text": "clip %d" % i})
        api.expect(200, "GET", base + "/clipboard")
        api.expect(200, "GET", base + "/windows")
        api.expect(200, "POST", base + "/desktop/wait", {"quiet_ms": 50, "timeout_ms": 500})
        api.expect(200, "POST", base + "/tools/anthropic",
                   {"type": "tool_use", "id": "toolu_%d" % i, "name": "computer",
                    "input": {"action": "left_click", "coordinate": [5, 5]}})
        # Error answers allocate and free on their own paths.
        api.expect(400, "POST", base + "/exec", b"{not json")
        api.expect(400, "POST", base + "/exec", {"cmd": "true", "bogus": 1})
        api.expect(404, "GET", "%s/%s/screenshot" % (API, "0" * 32))
        api.expect(404, "GET", base + "/files?path=/nonexistent")

        # JSON-RPC: events, a stream with output and its exit.
        ws = WSClient(srv.host, srv.port, "/v1/rpc?token=" + srv.token, protocol=RPC)
        rpc(ws, 1, "events.subscribe", {"sandbox": sid, "topics": ["screen.changed", "desktop.state"]})
        msg, _ = rpc(ws, 2, "process.spawn", {"sandbox": sid, "cmd": "seq 1 2000; exit 3"})
        pid = msg["result"]["pid"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            kind, data = ws.recv(timeout=20)
            m = json.loads(data) if kind == "text" else {}
            if m.get("method") == "process.exit" and m["params"]["pid"] == pid:
                break
        rpc(ws, 3, "process.spawn", {"sandbox": sid, "cmd": "sleep 100", "kill_on_close": True})
        ws.close()

        # A VNC viewer that takes a frame, and one that leaves early.
        v = WSClient(srv.host, srv.port, "%s/vnc?token=%s" % (base, srv.token), protocol="binary")
        c = RFBClient(WSSocket(v))
        c.start()
        c.close()
        v = WSClient(srv.host, srv.port, "%s/vnc?token=%s" % (base, srv.token), protocol="binary")
        rst(v.sock)
        # A terminal, typed into, then closed.
        t = WSClient(srv.host, srv.port, "%s/pty?token=%s" % (base, srv.token), protocol="binary")
        t.send_binary(b"echo pty-ok\n")
        t.recv_until(b"pty-ok", timeout=10)
        t.close()
        # MCP: a session, a tool call, its end.
        r = api.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                    "clientInfo": {"name": "lsan", "version": "1"}}},
                        headers={"Accept": "application/json, text/event-stream"})
        self.assertEqual(r.status, 200, r.body)
        sess = r.headers.get("mcp-session-id")
        h = {"Accept": "application/json, text/event-stream", "Mcp-Session-Id": sess,
             "MCP-Protocol-Version": "2025-06-18"}
        api.request("POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
        r = api.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                         "params": {"name": "exec", "arguments": {"sandbox": sid, "cmd": "true"}}},
                        headers=h)
        self.assertEqual(r.status, 200, r.body)
        api.request("DELETE", "/mcp", headers=h)
        # Clients that leave mid-upload and mid-exec.
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000000\r\n\r\n"
                  % (api.files_path(sid, "/tmp/half").encode(), srv.token.encode()) + b"x" * 5000)
        rst(s)
        body = b'{"cmd":"sleep 100"}'
        s = socket.create_connection((srv.host, srv.port))
        s.sendall(b"POST %s/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s"
                  % (base.encode(), srv.token.encode(), len(body), body))
        time.sleep(0.05)
        rst(s)
        if i % 5 == 0:
            api.expect(200, "POST", base + "/desktop/restart", timeout=60)
        if i % 7 == 3:
            os.kill(sb["pid"], signal.SIGKILL)   # the sandbox fails; delete removes the record
            until(lambda: api.get(sid)["state"] == "failed", 10, "sandbox failed")
        api.delete(sid)

    def test_cycles_then_sigterm_no_leak(self):
        self.start()
        for i in range(CYCLES):
            self.use(i)
        # The plain soak cycle, with its leak checks, on the same server.
        fig, problems = soak.run(self.srv, 10, label="lsan soak")
        self.assertEqual(problems, [], "\n".join(problems))
        self.sigterm_and_check()
        print("\nlsan: %d use cycles + 10 soak cycles, SIGTERM, exit 0, no sanitizer report" % CYCLES)

    def test_pool_and_drain_then_sigterm_no_leak(self):
        # Desktops taken from a warm pool (and refilled), one evicted for a
        # cold create of another shape, then a drain with sandboxes held.
        self.start(pool=2, max_sandboxes=3)
        api = self.srv.api
        def pool_full():
            body = api.request("GET", "/metrics", raw=True).body
            return b"\ndeskbox_pool_size 2\n" in body
        until(pool_full, 60, "a pool of 2")
        for i in range(CYCLES // 2):
            if i % 3 == 0:
                until(pool_full, 60, "the pool refilled")  # see below
            sb = api.create(timeout_s=600)
            self.assertEqual(api.request("GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True).status, 200)
            if i % 3 == 0:
                other = api.create(desktop=False)
                api.exec(other["id"], cmd="true")
                api.delete(other["id"])
            api.delete(sb["id"])
        # (A cold create at the limit evicts a ready member only: with the
        # pool still booting it would be 429, so let it fill first.)
        until(pool_full, 60, "the pool refilled")
        held = [api.create(desktop=False) for _ in range(2)]
        api.expect(200, "POST", "/v1/admin/drain", {})
        self.assertEqual(api.request("POST", API, {"desktop": False}).status, 503)
        self.assertEqual(len(held), 2)
        self.sigterm_and_check()
        print("\nlsan (pool, drain): %d cycles, SIGTERM, exit 0, no sanitizer report" % (CYCLES // 2))


if __name__ == "__main__":
    unittest.main()
