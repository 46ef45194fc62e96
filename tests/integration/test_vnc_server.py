"""VNC and the terminal through deskboxd's one port, with real clients.

RFB over the WebSocket endpoint (the way noVNC connects), over the raw VNC
port with the VNC password (our RFB client and TigerVNC's vncviewer), viewer
tokens, a viewer that never reads (dropped after 10 s, without stalling the
others or deskboxd), 1000 connect/disconnect cycles, the agent loading
libvncserver only for its first viewer (which sees the size, pointer and
cursor set before it came), and the WebSocket terminal.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from deskbox import (API, ServerTestCase, cpu_ticks, descendant_named, fd_count, rss_kib,
                     sanitized, until as wait_until)
from rfbclient import DEFAULT_ENCODINGS, POINTER_POS, RFBClient
from test_agent_standalone import build_xevlog
from wsclient import WSClient, WSRefused, WSSocket

HERE = os.path.dirname(os.path.abspath(__file__))

XTERM = "xterm -geometry 80x24+0+0"
BUSY = XTERM + " -e sh -c 'while :; do ls -lR /usr; done'"
STALL_S = 10                    # deskboxd drops a viewer that reads nothing this long
DROPPED = "vnc: the viewer read nothing for %d s: dropped" % STALL_S


def build_vncauth(tmp):
    exe = os.path.join(tmp, "vncauth")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libvncserver"],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O1", "-o", exe, os.path.join(HERE, "vncauth.c")] + flags, check=True)
    return exe


class VncCase(ServerTestCase):
    def ws(self, sid, token=None, path="vnc", headers=None):
        tok = self.server.token if token is None else token
        q = "?token=%s" % tok if tok else ""
        return WSClient(self.server.host, self.server.port, "%s/%s/%s%s" % (API, sid, path, q),
                        protocol="binary", headers=headers)

    def viewer(self, sid, token=None, headers=None):
        c = RFBClient(WSSocket(self.ws(sid, token, headers=headers)))
        self.addCleanup(c.close)
        return c

    def cursor(self, sid):
        return self.server.expect(200, "GET", "%s/%s/display" % (API, sid)).body["cursor"]

    def act(self, sid, actions):
        return self.server.expect(200, "POST", "%s/%s/actions" % (API, sid), actions).body


class TestVncOverWebSocket(VncCase):
    def test_handshake_update_after_drawing_and_pointer(self):
        sb = self.sandbox(apps=[XTERM])
        c = self.viewer(sb["id"])
        w, h, fmt, name = c.start()
        self.assertEqual((w, h), (1280, 800))
        self.assertEqual(fmt[0], 32)
        c.start_reader()
        # Something draws inside the sandbox: the xterm echoing typed text.
        wait_until(lambda: self.server.expect(200, "GET", "%s/%s/windows" % (API, sb["id"]))
                   .body["windows"], 10)
        self.act(sb["id"], [{"action": "left_click", "coordinate": [100, 100]},
                            {"action": "type", "text": "echo drawn-over-vnc\n"}])
        c.wait(lambda u: u and u.covers(20, 20), timeout=10)
        # A pointer event from the viewer lands in X.
        c.pointer(321, 123)
        wait_until(lambda: self.cursor(sb["id"]) == {"x": 321, "y": 123}, 5)

    def test_a_click_reaches_a_client_under_the_window_manager_and_the_viewer(self):
        # xevlog (the X client the agent's tests and bench_vnc_ws use)
        # inside a sandbox, where openbox frames its window: it used to
        # die of BadMatch focusing it while the frame was not mapped, so
        # the click painted nothing and the viewer waited for nothing.
        # Started as soon as the sandbox answers, as the bench does, its
        # window may also be mapped before openbox runs, and be framed.
        tmp = tempfile.mkdtemp(prefix="deskbox-test-xevlog-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(build_xevlog(tmp), "rb") as f:
            exe = f.read()
        sid = self.sandbox()["id"]
        self.server.put_file(sid, "/tmp/xevlog", exe)
        self.server.exec(sid, cmd="chmod +x /tmp/xevlog; /tmp/xevlog /tmp/ev.log </dev/null >/dev/null 2>&1 &")

        def log():
            return self.server.request("GET", "%s/%s/files?path=/tmp/ev.log" % (API, sid), raw=True).body or b""
        wait_until(lambda: b"mapped" in log(), 10)
        c = self.viewer(sid)
        c.start()
        c.start_reader()
        c.settle()
        self.act(sid, {"action": "left_click", "coordinate": [300, 200]})
        c.wait(lambda u: u and u.covers(300, 200), timeout=10)
        self.assertIn(b"button 1 300 200\npainted", log())

    def test_bearer_header_and_refusals(self):
        sb = self.sandbox()
        c = self.viewer(sb["id"], token="", headers={"Authorization": "Bearer " + self.server.token})
        self.assertEqual(c.start(full=False)[:2], (1280, 800))
        for tok in ("", "wrong", self.server.token + "x"):
            with self.subTest(token=tok):
                with self.assertRaises(WSRefused):
                    self.ws(sb["id"], token=tok)
        with self.assertRaises(WSRefused):
            self.ws("0" * 32)                       # no such sandbox
        # A shell-only sandbox has no VNC to give.
        shell = self.sandbox(desktop=False)
        with self.assertRaises((WSRefused, ConnectionError, EOFError, OSError)):
            RFBClient(WSSocket(self.ws(shell["id"]))).handshake()

    def test_viewer_tokens(self):
        sb = self.sandbox()
        sid = sb["id"]
        r = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid), {"view_only": True})
        tok = r.body
        self.assertTrue(tok["view_only"])
        self.assertTrue(tok["url"].endswith("&view_only=1"), tok["url"])
        self.assertIn("/viewer.html?id=%s&token=%s" % (sid, tok["token"]), tok["url"])
        # The view-only viewer sees the screen, but its input is ignored.
        self.act(sid, {"action": "mouse_move", "coordinate": [10, 20]})
        v = self.viewer(sid, token=tok["token"])
        v.start()
        v.pointer(500, 500, 1)
        v.pointer(500, 500, 0)
        v.tap(0x61)
        full = self.viewer(sid)
        full.start(full=False)
        full.pointer(11, 21)              # ordered after the view-only events
        wait_until(lambda: self.cursor(sid) == {"x": 11, "y": 21}, 5)
        # A viewer token opens only its scope of the API (the sandbox object,
        # which names the raw VNC port's password, is not in it) and,
        # view-only, no shell: a valid token without the right is 403.
        self.assertEqual(self.server.request("GET", "%s/%s" % (API, sid), token=tok["token"]).status, 403)
        self.assertEqual(self.server.request("GET", "%s/%s/display" % (API, sid),
                                             token=tok["token"]).status, 200)
        self.assertEqual(self.server.request("POST", "%s/%s/actions" % (API, sid), {"action": "cursor_position"},
                                             token=tok["token"]).status, 403)
        with self.assertRaises(WSRefused):
            self.ws(sid, token=tok["token"], path="pty")
        # A full-control viewer token moves the pointer and may open a shell.
        ctl = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid),
                                 {"view_only": False, "ttl_s": 60}).body
        self.assertNotIn("view_only=1", ctl["url"])
        c = self.viewer(sid, token=ctl["token"])
        c.start(full=False)
        c.pointer(222, 111)
        wait_until(lambda: self.cursor(sid) == {"x": 222, "y": 111}, 5)
        self.ws(sid, token=ctl["token"], path="pty").close()
        # Tokens expire, and are refused for other sandboxes.
        short = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid),
                                   {"ttl_s": 1}).body
        other = self.sandbox(desktop=False)
        with self.assertRaises(WSRefused):
            self.ws(other["id"], token=short["token"], path="pty")
        time.sleep(1.2)
        with self.assertRaises(WSRefused):
            self.ws(sid, token=short["token"])
        for bad in ({"view_only": "yes"}, {"ttl_s": 0}, {"ttl_s": "1"}, [1]):
            with self.subTest(body=bad):
                self.assertError(self.server.request("POST", "%s/%s/viewer-tokens" % (API, sid), bad),
                                 400)

    def test_tokens_and_viewers_die_with_the_sandbox(self):
        sb = self.server.create()
        sid = sb["id"]
        tok = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid), {}).body["token"]
        c = RFBClient(WSSocket(self.ws(sid)))
        c.start(full=False)
        self.server.delete(sid)
        self.server.assert_sandbox_gone(sid)
        with self.assertRaises((EOFError, OSError, ConnectionError)):
            for _ in range(50):
                c.request(False)
                c.next_update(timeout=0.2)
        with self.assertRaises(WSRefused):
            self.ws(sid, token=tok)

    def stuck_viewer(self, sid, requests=200, region=None):
        """A viewer that handshakes, asks for updates (`requests` full ones,
        or one of `region`) and never reads again."""
        stuck = self.ws(sid)
        self.addCleanup(stuck.close)
        stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        rfb = RFBClient(WSSocket(stuck))
        rfb.handshake()
        rfb.set_pixel_format_bgrx()
        rfb.set_encodings()
        if region:
            rfb.request(False, *region)
        for _ in range(requests):
            rfb.request(False)
        return stuck

    def test_a_slow_viewer_that_keeps_reading_gets_its_frames(self):
        """A viewer on a slow link (here: 64 KiB every 0.1 s, ~640 KB/s)
        takes a full frame (1280x800, Raw) over seconds, more than the
        kernel's socket buffers hold. deskboxd must take the frame off
        the agent at once: it once stopped reading the agent's socket while
        256 KiB waited for the browser, the agent's stall guard saw no
        progress for 200 ms and dropped the viewer mid-frame (the
        LeakSanitizer run lost its viewer that way on a loaded machine)."""
        sb = self.sandbox(apps=[XTERM])
        sid = sb["id"]
        before = self.server.log_size()

        class Slow(WSSocket):
            taken = 0

            def recv(self, n):
                out = WSSocket.recv(self, n)
                self.taken += len(out)
                if self.taken >= 65536:
                    self.taken = 0
                    time.sleep(0.1)
                return out

        ws = self.ws(sid)
        # As on a slow link, the kernel holds little for the viewer.
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c = RFBClient(Slow(ws), timeout=30)
        self.addCleanup(c.close)
        c.start()                                     # 4 MB of Raw pixels
        for _ in range(1):                            # and a whole frame again
            c.request(False)
            while not c.next_update().pixel_rects():
                pass
        self.assertNotIn("stopped reading", self.server.log_text(before))
        self.assertHealthy()

    def test_a_viewer_that_never_reads_stalls_nothing(self):
        sb = self.sandbox(apps=[BUSY])
        sid = sb["id"]
        before = self.server.log_size()
        self.stuck_viewer(sid)
        good = self.viewer(sid)
        good.start()
        good.start_reader()
        n = after = 0
        while after < 3:   # updates keep coming, before the drop and after
            good.wait(lambda u: u is not None, timeout=5)
            n += 1
            after += DROPPED in self.server.log_text(before)
            self.assertEqual(self.server.request("GET", "%s/%s" % (API, sid), timeout=5).status, 200)
            r = self.server.request("GET", "%s/%s/screenshot?format=jpeg" % (API, sid), timeout=5,
                                    raw=True)
            self.assertEqual(r.status, 200)
            self.assertLess(n, 10000, "the stuck viewer was never dropped")
        self.assertGreater(n, 3, "the reading viewer got too few updates")
        self.assertEqual(self.server.log_text(before).count(DROPPED), 1, "only the stuck one")
        self.assertHealthy()

    def test_a_viewer_that_reads_nothing_is_dropped_and_costs_nothing(self):
        """Two ways to stop reading: asking for update after update (the
        agent soon gives up on the viewer while deskboxd still holds what
        it read: nothing may spin on the hangup meanwhile), and asking for
        one small update (the agent never blocks; only deskboxd's 10 s
        rule drops it)."""
        sb = self.sandbox(apps=[BUSY])
        sid = sb["id"]
        before = self.server.log_size()
        t0 = time.monotonic()
        flood = self.stuck_viewer(sid)
        small = self.stuck_viewer(sid, requests=0, region=(0, 0, 200, 200))
        wait_until(lambda: "stopped reading: dropped" in self.server.log_text(before), 8,
                   what="the agent to give up on the flooding viewer")
        ticks = cpu_ticks(self.server.proc.pid)
        time.sleep(2)
        used = (cpu_ticks(self.server.proc.pid) - ticks) / os.sysconf("SC_CLK_TCK")
        self.assertLess(used, 0.3, "deskboxd busy with two stalled viewers: %.2f s of 2" % used)
        wait_until(lambda: self.server.log_text(before).count(DROPPED) == 2, STALL_S + 10,
                   what="both stalled viewers to be dropped")
        self.assertGreaterEqual(time.monotonic() - t0, STALL_S)
        for ws in (flood, small):   # what was sent, then the end
            ws.sock.settimeout(10)
            with self.assertRaises((EOFError, ConnectionError)):
                while True:
                    if not ws.sock.recv(1 << 20):
                        raise EOFError
        self.assertHealthy()

    def test_connect_disconnect_1000_times_leaks_nothing(self):
        sb = self.sandbox()
        agent = descendant_named(sb["pid"], "deskbox-desktop")
        self.assertIsNotNone(agent, "no desktop agent process found")
        daemon = self.server.proc.pid

        def cycles(n):
            for _ in range(n):
                c = RFBClient(WSSocket(self.ws(sb["id"])))
                c.handshake()
                c.close()

        # Anonymous RSS from before the first viewer (after a screenshot,
        # which touches the agent's XShm capture segment for good): the
        # framebuffer the first viewer brings (4 MB at 1280x800) must be
        # gone once the last one left. The pages of libvncserver and its
        # libraries, which the first viewer loads for good, are files'.
        self.assertEqual(self.server.request("GET", "%s/%s/screenshot" % (API, sb["id"]),
                                             raw=True).status, 200)
        time.sleep(0.3)
        rss = rss_kib(agent, "RssAnon")
        cycles(50)                                    # warm up allocators
        time.sleep(0.3)
        fds = (fd_count(agent), fd_count(daemon))
        cycles(1000)
        wait_until(lambda: (fd_count(agent), fd_count(daemon)) == fds, 10,
                   what="fd counts back to %r (now %r)" % (fds, (fd_count(agent), fd_count(daemon))))
        if not sanitized(agent):   # ASan's quarantine keeps freed memory resident
            self.assertLess(rss_kib(agent, "RssAnon") - rss, 2048,
                            "agent anonymous RSS grew by more than 2 MiB")


def vnc_mapped(pid):
    """Whether process pid has libvncserver mapped."""
    with open("/proc/%d/maps" % pid) as f:
        return "/libvncserver.so" in f.read()


class TestVncFirstViewer(VncCase):
    def test_libvncserver_loads_at_the_first_viewer_which_sees_the_desktop_as_it_is(self):
        """The agent loads libvncserver when the first viewer comes, not at
        start (every create's cold path); that viewer gets the screen's
        size, the pointer and the cursor as they were set before it came."""
        sb = self.sandbox(apps=[XTERM])
        sid = sb["id"]
        agent = descendant_named(sb["pid"], "deskbox-desktop")
        self.assertIsNotNone(agent, "no desktop agent process found")
        self.assertFalse(vnc_mapped(agent), "libvncserver loaded with no viewer")
        # Before any viewer: a screenshot, another size, the pointer over
        # the xterm (its I-beam cursor), and the agent's VNC stats.
        wait_until(lambda: self.server.expect(200, "GET", "%s/%s/windows" % (API, sid))
                   .body["windows"], 10)
        self.assertEqual(self.server.request("GET", "%s/%s/screenshot" % (API, sid),
                                             raw=True).status, 200)
        self.server.expect(200, "PUT", "%s/%s/display" % (API, sid), {"width": 1024, "height": 768})
        self.act(sid, {"action": "mouse_move", "coordinate": [150, 120]})
        self.assertFalse(vnc_mapped(agent), "libvncserver loaded with no viewer")

        c = self.viewer(sid)
        w, h, _, _ = c.handshake()
        self.assertEqual((w, h), (1024, 768))
        self.assertTrue(vnc_mapped(agent), "no libvncserver with a viewer attached")
        c.set_pixel_format_bgrx()
        c.set_encodings(DEFAULT_ENCODINGS + (POINTER_POS,))
        c.start_reader()
        c.request(False)
        u = c.wait(lambda u: u and u.pixel_rects() and u, timeout=10, request=False)
        self.assertEqual(u.pixel_rects()[0][:4], (0, 0, 1024, 768))
        c.wait(lambda u: c.pointer_pos and c.pointer_pos[-1] == (150, 120), timeout=5)
        c.wait(lambda u: c.cursors, timeout=5)
        first = (c.cursors[0], c.cursor_images[0])

        # The cursor it got is the one the viewer gets when the pointer
        # comes back over the xterm: off it first (another shape), back.
        def cursor_is(pred):
            return lambda u: len(c.cursors) > n and pred((c.cursors[-1], c.cursor_images[-1]))
        n = len(c.cursors)
        self.act(sid, {"action": "mouse_move", "coordinate": [900, 700]})
        c.wait(cursor_is(lambda cur: cur != first), timeout=5)
        n = len(c.cursors)
        self.act(sid, {"action": "mouse_move", "coordinate": [150, 120]})
        c.wait(cursor_is(lambda cur: cur == first), timeout=5)


class TestTerminal(VncCase):
    def test_shell_resize_and_exit(self):
        sb = self.sandbox(desktop=False)
        ws = self.ws(sb["id"], path="pty")
        self.addCleanup(ws.close)
        ws.send_text(json.dumps({"type": "resize", "cols": 101, "rows": 33}))
        ws.send_binary(b"stty size; echo pty-$((6*7)); id -u; tty\n")
        out = ws.recv_until(b"/dev/pts/", 10)
        self.assertIn(b"33 101", out)
        self.assertIn(b"pty-42", out)
        self.assertIn(b"1000", out)
        ws.send_text(json.dumps({"type": "resize", "cols": 50, "rows": 20}))
        ws.send_binary(b"stty size\n")
        ws.recv_until(b"20 50", 10)
        # Bad control messages are ignored, the shell goes on.
        ws.send_text("not json")
        ws.send_text(json.dumps({"type": "resize", "cols": -1, "rows": 1e9}))
        ws.send_binary("echo ünïcode-ok\n".encode())
        ws.recv_until("ünïcode-ok\r\n".encode(), 10)
        ws.send_binary(b"exit\n")
        wait_until(lambda: ws.recv(5)[0] == "close", 10)

    def test_closing_the_terminal_ends_its_processes(self):
        sb = self.sandbox(desktop=False)
        ws = self.ws(sb["id"], path="pty")
        ws.send_binary(b"sleep 4242 & setsid sleep 4243 & echo started\n")
        ws.recv_until(b"started", 10)
        ws.close()
        wait_until(lambda: "sleep 424" not in self.sh(sb, "ps -eo args="), 10,
                   what="the terminal's processes to end")


class TestRawVncPort(VncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-vnc-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.vncauth = build_vncauth(cls.tmp)

    def auth(self, password):
        def respond(challenge):
            out = subprocess.run([self.vncauth, challenge.hex(), password],
                                 capture_output=True, text=True, check=True).stdout.strip()
            return bytes.fromhex(out)
        return respond

    def raw(self, vnc, version=b"RFB 003.008\n", password=None):
        s = socket.create_connection((vnc["host"], vnc["port"]), timeout=10)
        c = RFBClient(s)
        self.addCleanup(c.close)
        c.handshake(vnc_auth=self.auth(password or vnc["password"]), version=version)
        return c

    def test_port_password_update_and_pointer(self):
        sb = self.sandbox(vnc={"port": "auto"})
        vnc = sb["vnc"]
        self.assertEqual(vnc["host"], "127.0.0.1")
        self.assertEqual(len(vnc["password"]), 8)
        listening = subprocess.run(["ss", "-Hltn", "sport = :%d" % vnc["port"]],
                                   capture_output=True, text=True).stdout
        self.assertIn("127.0.0.1:%d" % vnc["port"], listening)
        for version in (b"RFB 003.008\n", b"RFB 003.007\n", b"RFB 003.003\n"):
            with self.subTest(version=version):
                c = self.raw(vnc, version=version)
                self.assertEqual((c.width, c.height), (1280, 800))
                c.set_pixel_format_bgrx()
                c.set_encodings()
                c.request(False)
                c.wait(lambda u: u and u.pixel_rects(), timeout=10, request=False)
                c.pointer(77, 88)
                wait_until(lambda: self.cursor(sb["id"]) == {"x": 77, "y": 88}, 5)
                c.pointer(1, 1)
                wait_until(lambda: self.cursor(sb["id"]) == {"x": 1, "y": 1}, 5)

    def test_a_slow_native_viewer_gets_its_frames(self):
        """As test_a_slow_viewer_that_keeps_reading_gets_its_frames, through
        the raw port: deskboxd's splice takes a whole frame off the agent."""
        sb = self.sandbox(vnc={"port": "auto"}, apps=[XTERM])
        before = self.server.log_size()

        class Slow:
            def __init__(self, sock):
                self.s, self.taken = sock, 0

            def recv(self, n):
                out = self.s.recv(min(n, 65536))
                self.taken += len(out)
                if self.taken >= 65536:
                    self.taken = 0
                    time.sleep(0.1)
                return out

            def __getattr__(self, name):
                return getattr(self.s, name)

        s = socket.create_connection((sb["vnc"]["host"], sb["vnc"]["port"]), timeout=30)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c = RFBClient(Slow(s), timeout=30)
        self.addCleanup(c.close)
        c.handshake(vnc_auth=self.auth(sb["vnc"]["password"]))
        c.set_pixel_format_bgrx()
        c.set_encodings()
        for _ in range(2):                            # 4 MB of Raw pixels each
            c.request(False)
            c.wait(lambda u: u and u.pixel_rects(), timeout=60, request=False)
        self.assertNotIn("stopped reading", self.server.log_text(before))
        self.assertHealthy()

    def test_wrong_password_is_refused(self):
        sb = self.sandbox(vnc={"port": "auto"})
        with self.assertRaises(AssertionError) as e:
            self.raw(sb["vnc"], password="nottheone")
        self.assertIn("security result 1", str(e.exception))
        # The port still works for the right password afterwards.
        self.raw(sb["vnc"])

    def test_port_closes_with_the_sandbox_and_options_are_checked(self):
        sb = self.server.create(vnc={"port": "auto"})
        port = sb["vnc"]["port"]
        self.server.delete(sb["id"])
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        for bad in ({"vnc": {"port": 80}}, {"vnc": {"port": "any"}}, {"vnc": "auto"},
                    {"vnc": {"port": "auto"}, "desktop": False}):
            with self.subTest(body=bad):
                self.assertError(self.server.request("POST", API, bad), 400, "bad_request")

    def test_tigervnc_viewer_through_the_port(self):
        viewer = shutil.which("xtigervncviewer")
        if not viewer:
            self.skipTest("xtigervncviewer is not installed")
        sb = self.sandbox(vnc={"port": "auto"})
        vnc = sb["vnc"]
        passwd = os.path.join(self.tmp, "passwd")
        subprocess.run([self.vncauth, "-f", vnc["password"], passwd], check=True)
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0",
                                 "1400x900x24"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.addCleanup(lambda: (xvfb.kill(), xvfb.wait(), xvfb.stdout.close()))
        display = ":" + xvfb.stdout.readline().decode().strip()
        before = self.server.log_size()
        v = subprocess.Popen([viewer, "-passwd", passwd, "-SecurityTypes", "VncAuth",
                              "127.0.0.1::%d" % vnc["port"]],
                             env=dict(os.environ, DISPLAY=display), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (v.poll() is None and v.kill(), v.wait(), v.stderr.close()))
        wait_until(lambda: "vnc port: viewer connected" in self.server.log_text(before), 15,
                   what="tigervnc to get through the password check")
        time.sleep(1.5)
        if v.poll() is not None:
            self.fail("vncviewer exited: %s" % v.stderr.read()[-500:])


if __name__ == "__main__":
    unittest.main()
