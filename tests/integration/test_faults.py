"""test_faults.py - what happens when things die or go away.

Each fault has one defined outcome (docs/operating.md, "Failure modes"),
asserted here, and leaves nothing behind (the harness's leak checks on
delete and at server stop, plus deskboxd's fd count back at its baseline):

- kill -9 of Xvfb, of the desktop agent: the desktop goes `failed` with the
  reason (sandbox object and a `desktop.state` event); desktop calls in
  flight answer 409 at once, VNC viewers are closed; the sandbox, its
  commands and files live on; `POST .../desktop/restart` brings it back.
- kill -9 of an app: the app shows `exited` with `signal` 9; the desktop
  stays up.
- kill -9 of a sandbox's init: the sandbox goes `failed` ("the sandbox's
  init was killed by signal 9"), everything of it is torn down at once
  (processes, cgroups, uid range); calls on it answer 409
  `sandbox_not_running`; DELETE removes the record.
- kill -9 of deskboxd with desktops, a VNC viewer, a stream and a create in
  flight: every sandbox process dies with it; a restart on the same state
  dir removes the dead one's cgroups and starts clean
  (test_isolation.TestCrashRecovery covers the exec-only case).
- A client that leaves mid-screenshot, mid-upload, mid-exec (REST and
  process.spawn), mid-VNC: deskboxd keeps answering everyone else, and its
  descriptors return to the baseline.
- A full state dir, a full sandbox disk: clear errors, no crash.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import shutil
import tempfile
import threading
import time
import unittest

from deskbox import (API, Server, ServerTestCase,
                     comm, fd_count, find_cgroup_dirs, pid_alive,
                     pids_in_cgroups_matching, tree_pids, until, wait_until)
from rfbclient import RFBClient
from wsclient import WSClient, WSSocket


RPC_PROTO = "deskbox.rpc.v1"


# ---------------------------------------------------------------- helpers

def host_pid(init_pid, name=None, ns_pid=None):
    """Host pid of the process in init_pid's sandbox whose comm is name
    and/or whose pid inside the sandbox is ns_pid."""
    for p in tree_pids(init_pid):
        if name is not None and comm(p) != name:
            continue
        if ns_pid is not None:
            try:
                with open("/proc/%d/status" % p) as f:
                    nspid = [ln for ln in f if ln.startswith("NSpid:")][0].split()
            except (OSError, IndexError):
                continue
            if int(nspid[-1]) != ns_pid:
                continue
        return p
    return None


def agent_pid(init_pid):
    """Host pid of the desktop agent: the deskbox-desktop whose parent is
    not one (a child it forked to start an app carries its name until
    it execs)."""
    for p in tree_pids(init_pid):
        if comm(p) == "deskbox-desktop" and comm(_ppid(p) or 0) != "deskbox-desktop":
            return p
    return None


def rst_close(sock):
    """Close with a TCP RST (SO_LINGER 0): the rudest way to leave."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Events:
    """A JSON-RPC connection (stdlib WebSocket) subscribed to a sandbox's
    topics; notes() collects what has come so far."""

    def __init__(self, srv, sid, topics):
        self.ws = WSClient(srv.host, srv.port, "/v1/rpc?token=" + srv.token, protocol=RPC_PROTO)
        self.got = []
        self.call("events.subscribe", {"sandbox": sid, "topics": topics})

    def call(self, method, params, rid=1):
        self.ws.send_text(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                      "params": params}))
        while True:
            kind, data = self.ws.recv(timeout=30)
            if kind == "close":
                raise AssertionError("rpc connection closed")
            msg = json.loads(data)
            if msg.get("id") == rid:
                if "error" in msg:
                    raise AssertionError("%s: %r" % (method, msg["error"]))
                return msg["result"]
            self.got.append(msg)

    def wait(self, pred, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            for m in self.got:
                if pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching event in %ss; got %r" % (timeout, self.got))
            try:
                kind, data = self.ws.recv(timeout=left)
            except OSError:
                continue
            if kind == "text":
                self.got.append(json.loads(data))

    def close(self):
        self.ws.close()


class FaultCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.pid = self.server.proc.pid

    def fd_baseline(self):
        return fd_count(self.pid)

    def assert_fds_back(self, base, timeout=10):
        ok = wait_until(lambda: fd_count(self.pid) <= base, timeout)
        self.assertTrue(ok, "deskboxd fds %d, baseline %d: %s" % (
            fd_count(self.pid), base,
            [os.readlink("/proc/%d/fd/%s" % (self.pid, f))
             for f in os.listdir("/proc/%d/fd" % self.pid)]))

    def assert_answers(self):
        """deskboxd still answers: /healthz, and a sandbox-less list."""
        self.server.api.healthz(timeout=5)
        self.server.api.list()

    def desktop(self, sid):
        return self.server.get(sid).get("desktop") or {}

    def restart_desktop(self, sid):
        r = self.server.request("POST", "%s/%s/desktop/restart" % (API, sid), timeout=60)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["desktop"]["state"], "running")
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sid), raw=True)
        self.assertEqual(r.status, 200)


# ---------------------------------------------------------------- kill -9 inside a sandbox

class TestKill9InSandbox(FaultCase):

    def kill_desktop_part(self, name, reason):
        base = self.fd_baseline()
        sb = self.sandbox(apps=["xterm"])
        sid = sb["id"]
        ev = Events(self.server, sid, ["desktop.state"])
        self.addCleanup(ev.close)
        # Once its app runs, the agent forks no more.
        until(lambda: host_pid(sb["pid"], "xterm"), 10, "xterm started")
        victim = until(lambda: agent_pid(sb["pid"]) if name == "deskbox-desktop"
                       else host_pid(sb["pid"], name), 10, name)
        os.kill(victim, signal.SIGKILL)

        note = ev.wait(lambda m: m.get("method") == "desktop.state"
                       and m["params"].get("state") == "failed")
        self.assertIn(reason, note["params"].get("error", ""))
        until(lambda: self.desktop(sid).get("state") == "failed", 10, "desktop failed")
        st = self.server.get(sid)
        self.assertEqual(st["state"], "running")
        self.assertIn(reason, st["desktop"]["error"])
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sid))
        self.assertError(r, 409, "desktop_not_running")
        self.assertEqual(self.sh(sb, "echo alive"), "alive\n")
        self.server.put_file(sid, "/tmp/f", b"kept")
        self.restart_desktop(sid)
        self.assertEqual(self.server.get_file(sid, "/tmp/f"), b"kept")
        self.assert_answers()
        self.delete_checked(sid)
        ev.close()
        self.assert_fds_back(base)

    def test_kill9_xvfb(self):
        self.kill_desktop_part("Xvfb", "Xvfb was killed by signal 9")

    def test_kill9_agent(self):
        self.kill_desktop_part("deskbox-desktop", "the desktop agent was killed by signal 9")

    def test_calls_in_flight_when_a_part_dies(self):
        # Calls waiting on the dead part answer at once with the reason;
        # calls that do not need it (exec, after Xvfb or the agent) finish;
        # a VNC viewer of the dead desktop is closed; nothing is held.
        base = self.fd_baseline()
        for victim in ("deskbox-desktop", "Xvfb", "init"):
            with self.subTest(victim=victim):
                sb = self.sandbox(apps=["xterm"])
                sid = sb["id"]
                p = "%s/%s" % (API, sid)
                view = WSClient(self.server.host, self.server.port,
                                "%s/vnc?token=%s" % (p, self.server.token), protocol="binary")
                self.addCleanup(view.close)
                RFBClient(WSSocket(view)).start()
                calls = {
                    "wait": ("POST", p + "/desktop/wait", {"quiet_ms": 8000, "timeout_ms": 10000}),
                    "actions": ("POST", p + "/actions", [{"action": "wait", "duration": 8}]),
                    "exec": ("POST", p + "/exec", {"cmd": "sleep 3; echo done"}),
                }
                out = {}

                def call(name, method, path, body):
                    out[name] = self.server.request(method, path, body, timeout=60)
                threads = [threading.Thread(target=call, args=(k,) + v) for k, v in calls.items()]
                for t in threads:
                    t.start()
                until(lambda: "sleep 3" in self.sh(sb, "ps -eo args="), 10, "the exec runs")
                time.sleep(0.3)
                until(lambda: host_pid(sb["pid"], "xterm"), 10, "xterm started")
                os.kill(sb["pid"] if victim == "init" else
                        until(lambda: agent_pid(sb["pid"]) if victim == "deskbox-desktop"
                              else host_pid(sb["pid"], victim), 10, victim), signal.SIGKILL)
                for t in threads:
                    t.join(60)
                for name in ("wait", "actions"):
                    self.assertError(out[name], 409, "desktop_not_running")
                    self.assertIn("went away", out[name].body["error"]["message"])
                if victim == "init":
                    self.assertError(out["exec"], 409, "sandbox_not_running")
                    self.assertIn("stopped while the command ran", out["exec"].body["error"]["message"])
                else:
                    self.assertEqual(out["exec"].status, 200, out["exec"].body)
                    self.assertEqual(out["exec"].body["stdout"], "done\n")
                try:
                    while view.recv(timeout=10)[0] != "close":
                        pass
                except ConnectionError:
                    pass
                view.close()
                self.assert_answers()
                self.delete_checked(sid)
        self.assert_fds_back(base)

    def test_kill9_app(self):
        base = self.fd_baseline()
        sb = self.sandbox(apps=["exec xterm", "sleep 1000"])
        sid = sb["id"]
        apps = until(lambda: len(self.desktop(sid).get("apps", [])) == 2
                     and self.desktop(sid)["apps"], 10, "apps started")
        # Listed from the fork on: wait for the exec (sh -c 'exec xterm').
        victim = until(lambda: host_pid(sb["pid"], "xterm", ns_pid=apps[0]["pid"]), 10,
                       "xterm's host pid")
        os.kill(victim, signal.SIGKILL)
        app = until(lambda: self.desktop(sid)["apps"][0]["state"] == "exited"
                    and self.desktop(sid)["apps"][0], 10, "the app exited")
        self.assertEqual(app["signal"], 9, app)
        self.assertIsNone(app["exit_code"], app)
        d = self.desktop(sid)
        self.assertEqual(d["state"], "running")
        self.assertEqual(d["apps"][1]["state"], "running")
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sid), raw=True)
        self.assertEqual(r.status, 200)
        self.delete_checked(sid)
        self.assert_fds_back(base)

    def test_kill9_init(self):
        base = self.fd_baseline()
        sb = self.server.create(apps=["xterm"])
        sid = sb["id"]
        self.addCleanup(self.delete_checked, sid)
        ev = Events(self.server, sid, ["sandbox.state"])
        self.addCleanup(ev.close)
        self.sh(sb, "sleep 1000 >/dev/null 2>&1 &")
        rec = self.server.sandbox_record(sid)
        os.kill(sb["pid"], signal.SIGKILL)

        note = ev.wait(lambda m: m.get("method") == "sandbox.state"
                       and m["params"].get("state") == "failed")
        st = until(lambda: self.server.get(sid)["state"] == "failed" and self.server.get(sid),
                   10, "sandbox failed")
        self.assertEqual(st["error"], "the sandbox's init was killed by signal 9 (Killed)")
        self.assertEqual(note["params"].get("error", st["error"]), st["error"])
        # Torn down at once, before any DELETE: processes, cgroups.
        self.assertFalse(pid_alive(rec.pid, rec.start_time))
        until(lambda: not pids_in_cgroups_matching(sid), 10, "sandbox processes gone")
        until(lambda: not find_cgroup_dirs(sid), 10, "sandbox cgroups removed")
        for path in ("screenshot",):
            r = self.server.request("GET", "%s/%s/%s" % (API, sid, path))
            self.assertError(r, 409, "sandbox_not_running")
            self.assertIn("killed by signal 9", r.body["error"]["message"])
        r = self.server.request("POST", "%s/%s/exec" % (API, sid), {"cmd": "true"})
        self.assertError(r, 409, "sandbox_not_running")
        self.assert_answers()
        self.server.delete(sid)
        self.assertEqual(self.server.request("GET", "%s/%s" % (API, sid)).status, 404)
        self.server.assert_sandbox_gone(sid)
        ev.close()
        self.assert_fds_back(base)


# ---------------------------------------------------------------- kill -9 of deskboxd

class TestKill9Server(ServerTestCase):
    """kill -9 of deskboxd while it is busy: desktops, a VNC viewer, a
    stream, a create half way; the restart cleans what the dead one left."""

    def test_kill9_busy_server_then_restart(self):
        srv = Server()
        self.addCleanup(srv.stop)
        srv.start()
        boxes = [srv.create(apps=["xterm"]) for _ in range(2)]
        recs = [srv.sandbox_record(b["id"]) for b in boxes]
        view = WSClient(srv.host, srv.port, "%s/%s/vnc?token=%s" % (API, boxes[0]["id"], srv.token),
                        protocol="binary")
        self.addCleanup(view.close)
        vnc = RFBClient(WSSocket(view))
        vnc.start()
        stream = WSClient(srv.host, srv.port, "/v1/rpc?token=" + srv.token, protocol=RPC_PROTO)
        self.addCleanup(stream.close)
        stream.send_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "process.spawn",
                                     "params": {"sandbox": boxes[1]["id"], "cmd": "yes"}}))
        stream.recv(timeout=10)
        # A create in flight: sent, not answered, when the kill comes.
        pending = socket.create_connection((srv.host, srv.port))
        self.addCleanup(pending.close)
        body = json.dumps({"apps": ["xterm"]}).encode()
        pending.sendall(b"POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (srv.token.encode(), len(body), body))
        time.sleep(0.05)
        dead_pid = srv.proc.pid
        srv.kill()

        # Everything of its sandboxes dies with it (each init is its
        # pid namespace's PID 1 and has PDEATHSIG), the half-made one too.
        def gone():
            return (all(not pid_alive(r.pid, r.start_time) and not pids_in_cgroups_matching(r.id)
                        for r in recs)
                    and not [p for p in os.listdir("/proc") if p.isdigit()
                             and _ppid(int(p)) == dead_pid])
        self.assertTrue(wait_until(gone, 15), "sandbox processes outlived kill -9 of deskboxd")
        # The kernel dropped the uid ranges with the dead one's fds; the
        # clients see their connections end.
        try:
            self.assertEqual(view.recv(timeout=10)[0], "close")
        except ConnectionError:
            pass  # closed without a close frame: as good
        # Restart on the same state dir: cgroups of the dead instance go
        # (those of the half-made sandbox too), nothing is listed.
        srv.start()
        until(lambda: not any(find_cgroup_dirs(r.id) for r in recs), 15, "old cgroups removed")
        inst = {os.path.dirname(d) for r in recs for d in r.cgroups.values() if r.id in d}
        until(lambda: all(not os.path.isdir(d) or not [n for n in os.listdir(d)
                                                        if len(n) == 32]
                          for d in inst), 15, "no sandbox cgroups of the dead instance")
        self.assertEqual(srv.list(), [])
        sb = srv.create(apps=["xterm"])
        self.assertEqual(srv.exec(sb["id"], cmd="echo fresh")["stdout"], "fresh\n")
        srv.delete(sb["id"])


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[1])
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- clients that leave

class TestClientsLeave(FaultCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(apps=["xterm"])
        cls.sid = cls.sb["id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.delete(cls.sid)
        cls.server.assert_sandbox_gone(cls.sid)
        super().tearDownClass()

    def raw(self, head, body=b""):
        s = socket.create_connection((self.server.host, self.server.port), timeout=10)
        s.sendall(head + body)
        return s

    def head(self, method, path, length=None, extra=b""):
        h = b"%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % (
            method.encode(), path.encode(), self.server.token.encode())
        if length is not None:
            h += b"Content-Length: %d\r\n" % length
        return h + extra + b"\r\n"

    def test_leave_mid_screenshot(self):
        base = self.fd_baseline()
        path = "%s/%s/screenshot?format=png" % (API, self.sid)
        for i in range(20):
            s = self.raw(self.head("GET", path))
            if i % 2:
                s.recv(100)   # the answer has started
            rst_close(s)
        # A screenshot whose client never reads it: the server must not
        # wait on it, nor hold it past the client's leaving.
        slow = self.raw(self.head("GET", path + "&settle_ms=500&timeout_ms=2000"))
        self.assert_answers()
        r = self.server.request("GET", path, raw=True)
        self.assertEqual(r.status, 200)
        rst_close(slow)
        self.assert_answers()
        self.assert_fds_back(base)

    def test_leave_mid_upload(self):
        base = self.fd_baseline()
        self.server.put_file(self.sid, "/home/user/up/keep", b"old")
        path = self.server.api.files_path(self.sid, "/home/user/up/keep")
        for sent in (0, 1, 1 << 20):
            s = self.raw(self.head("PUT", path, 8 << 20,
                                   b"Content-Type: application/octet-stream\r\n"))
            s.sendall(b"x" * sent)
            # The upload is open and half sent: others are answered.
            self.assert_answers()
            self.assertEqual(self.sh(self.sb, "echo busy-ok"), "busy-ok\n")
            rst_close(s)
        self.assert_answers()
        self.assertEqual(self.server.get_file(self.sid, "/home/user/up/keep"), b"old")
        # No temporary file of the abandoned uploads is left.
        until(lambda: self.sh(self.sb, "ls -A /home/user/up") == "keep\n", 10,
              "only keep in /home/user/up (got %r)" % self.sh(self.sb, "ls -A /home/user/up"))
        self.assert_fds_back(base)

    def test_leave_mid_rest_exec(self):
        base = self.fd_baseline()
        body = json.dumps({"cmd": "sleep 1031; echo never"}).encode()
        s = self.raw(self.head("POST", "%s/%s/exec" % (API, self.sid), len(body),
                               b"Content-Type: application/json\r\n"), body)
        until(lambda: "sleep 1031" in self.sh(self.sb, "ps -eo args="), 10, "the exec runs")
        rst_close(s)
        # The command of a client that left is killed (nobody can get its
        # answer), its process tree with it.
        until(lambda: "sleep 1031" not in self.sh(self.sb, "ps -eo args="), 10,
              "the abandoned exec killed")
        self.assert_answers()
        self.assert_fds_back(base)

    def test_leave_mid_stream(self):
        base = self.fd_baseline()
        # One spawned with kill_on_close, one without, both printing hard
        # and never read: the connection drops (RST) mid-stream.
        ws = WSClient(self.server.host, self.server.port, "/v1/rpc?token=" + self.server.token,
                      protocol=RPC_PROTO)
        pids = {}
        for rid, cmd, koc in ((1, "exec yes keep-1032", False), (2, "exec yes kill-1033", True)):
            ws.send_text(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "process.spawn",
                                     "params": {"sandbox": self.sid, "cmd": cmd,
                                                "kill_on_close": koc}}))
        while len(pids) < 2:
            kind, data = ws.recv(timeout=10)
            msg = json.loads(data) if kind == "text" else {}
            if msg.get("id") in (1, 2):
                pids[msg["id"]] = msg["result"]["pid"]
        rst_close(ws.sock)
        self.assert_answers()
        until(lambda: "kill-1033" not in self.sh(self.sb, "ps -eo args="), 10,
              "the kill_on_close process killed")
        # The other keeps running, detached, its output dropped; any
        # connection finds and stops it.
        procs = self.rpc("process.list", {"sandbox": self.sid})["processes"]
        keep = [p for p in procs if p["pid"] == pids[1]]
        self.assertEqual(len(keep), 1, procs)
        self.assertFalse(keep[0]["attached"])
        self.assertEqual(self.sh(self.sb, "echo still-answers"), "still-answers\n")
        self.rpc("process.signal", {"sandbox": self.sid, "pid": pids[1], "signal": "KILL"})
        until(lambda: "keep-1032" not in self.sh(self.sb, "ps -eo args="), 10, "the kept one stopped")
        self.assert_fds_back(base)

    def rpc(self, method, params):
        ws = WSClient(self.server.host, self.server.port, "/v1/rpc?token=" + self.server.token,
                      protocol=RPC_PROTO)
        try:
            ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 9, "method": method, "params": params}))
            while True:
                kind, data = ws.recv(timeout=10)
                msg = json.loads(data)
                if msg.get("id") == 9:
                    self.assertNotIn("error", msg, msg)
                    return msg["result"]
        finally:
            ws.close()

    def test_leave_mid_vnc(self):
        base = self.fd_baseline()
        path = "%s/%s/vnc?token=%s" % (API, self.sid, self.server.token)
        for i in range(6):
            ws = WSClient(self.server.host, self.server.port, path, protocol="binary")
            if i % 3 == 1:
                ws.recv(timeout=10)            # the server's version, then gone
            elif i % 3 == 2:
                c = RFBClient(WSSocket(ws))
                c.start()
                c.request(incremental=False)   # a full update asked, never read
            rst_close(ws.sock)
        # A viewer that stops reading but stays: others are not held up.
        ws = WSClient(self.server.host, self.server.port, path, protocol="binary")
        c = RFBClient(WSSocket(ws))
        c.start()
        for _ in range(20):
            c.request(incremental=False)
        self.sh(self.sb, "xterm -geometry 200x60 -e 'yes | head -c 2000000; sleep 3' &")
        time.sleep(0.5)
        self.assert_answers()
        r = self.server.request("GET", "%s/%s/screenshot" % (API, self.sid), raw=True)
        self.assertEqual(r.status, 200)
        rst_close(ws.sock)
        self.assert_answers()
        self.assert_fds_back(base)


# ---------------------------------------------------------------- full disks

class TestDiskFull(FaultCase):

    def test_sandbox_disk_full(self):
        sb = self.sandbox(apps=["xterm"], limits={"disk_mb": 8})
        sid = sb["id"]
        res = self.server.exec(sid, cmd="head -c 20M /dev/zero > /tmp/fill; echo rc=$?")
        self.assertIn("No space left on device", res["stderr"])
        self.assertNotIn("rc=0", res["stdout"])
        r = self.server.request("PUT", self.server.api.files_path(sid, "/tmp/more"), b"y" * (1 << 20))
        self.assertError(r, 507, "no_space")
        self.assertTrue(r.body["error"]["message"])
        # The desktop, input and the rest go on; deskboxd is fine.
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sid), raw=True)
        self.assertEqual(r.status, 200)
        r = self.server.request("POST", "%s/%s/actions" % (API, sid), {"action": "type", "text": "x"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.server.get(sid)["desktop"]["state"], "running")
        self.assert_answers()
        self.sh(sb, "rm /tmp/fill")
        self.server.put_file(sid, "/tmp/more", b"y" * (1 << 20))

    def test_state_dir_full(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("mounting a tmpfs needs root")
        # The full state dir is a 1 MiB tmpfs filled to ENOSPC, mounted in
        # a mount namespace of deskboxd's own: nobody else on the host sees
        # it, and it goes with deskboxd whatever happens to the test.
        d = tempfile.mkdtemp(prefix="deskbox-fullstate-")
        self.addCleanup(shutil.rmtree, d, True)
        # Without a token to read, deskboxd must write one: it cannot, and
        # says so, exit status 1.
        r = subprocess.run(in_full_tmpfs(d, [self.server.binary, "--state-dir", d,
                                             "--listen", "127.0.0.1:0"]),
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("No space left on device", r.stderr)
        self.assertIn("token", r.stderr)
        # With a token it needs no space there (sandboxes' disks are their
        # own): everything works on a full state dir.
        srv = FullStateServer(state_dir=d)
        self.addCleanup(srv.stop)
        srv.start()
        probe = subprocess.run(["nsenter", "-t", str(srv.proc.pid), "-m", "sh", "-c",
                                "head -c 8192 /dev/zero > %s/probe && echo wrote || echo full" % d],
                               capture_output=True, text=True)
        self.assertEqual(probe.stdout, "full\n", probe)   # it is full, as deskboxd sees it
        sb = srv.create(apps=["xterm"])
        self.assertEqual(srv.exec(sb["id"], cmd="echo ok")["stdout"], "ok\n")
        srv.put_file(sb["id"], "/tmp/f", b"z" * 100000)
        r = srv.request("GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
        self.assertEqual(r.status, 200)
        srv.delete(sb["id"])
        srv.stop()


FILL = ('mount -t tmpfs -o size=1m,mode=0700 tmpfs "$0" || exit 99; '
        'head -c 2M /dev/zero > "$0/filler" 2>/dev/null; exec "$@"')


def in_full_tmpfs(d, argv):
    """argv run in a new private mount namespace where d is a full tmpfs."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", FILL, d] + argv


class FullStateServer(Server):
    def command(self):
        return in_full_tmpfs(self.state_dir, super().command())


if __name__ == "__main__":
    unittest.main()
