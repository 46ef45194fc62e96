"""test_agent_standalone.py - the desktop agent (deskbox-desktop) on its own.

Runs the real agent outside any jail against its own real Xvfb on a free
display (:90 and up), with a socketpair as its fd 3, a temporary HOME and
--xauth in a temporary directory, and checks what deskboxd relies on: the
ready event, screenshots (PNG and JPEG decoded here, regions, scaling,
etags and not_modified), typing into an xterm (Unicode, text starting with
"--", tabs, newlines), key chords arriving as chords, clicks (scaled too)
landing on the pixel aimed at, the clipboard in both directions, RandR
resizing, the window list, malformed requests, and the two ways the agent
ends (channel closed: exit 0 and no children left; X server gone:
"display_lost" and exit 1); and the events and settle waits (screen
changes when xterm prints and silence when idle, settled, windows opening
and closing, clipboard changes; wait.settled after an animation, on an
idle screen, at its timeout; an actions batch's settle_ms). xanim.c draws
the animation and opens windows on a click.

A small X client, xevlog.c, is compiled here with cc to see the events the
agent injects. Plain unittest; DESKBOX_BUILD (default "build") says where
the agent binary is. Everything started is killed and every temporary file
removed, whatever the outcome.

    /usr/bin/python3 -m unittest tests/integration/test_agent_standalone.py -v
"""

import array
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

from deskbox import children, comm, until as wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DESKBOX_BUILD", "build")
AGENT = os.path.join(ROOT, BUILD, "deskbox-desktop")
XEVLOG_SRC = os.path.join(ROOT, "tests", "integration", "xevlog.c")
XANIM_SRC = os.path.join(ROOT, "tests", "integration", "xanim.c")
TIMEOUT = 15.0


# ---------------------------------------------------------------- helpers


def free_display(start=90):
    for n in range(start, start + 200):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and \
                not os.path.exists("/tmp/.X%d-lock" % n):
            return n
    raise RuntimeError("no free X display number")


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def png_decode(data):
    """(width, height, rows) of an 8-bit RGB PNG; rows are bytes of RGB.
    Checks the signature, CRCs, and that every row uses filter 0 (the
    agent writes unfiltered PNGs)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) == crc, "bad CRC in %r" % kind
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2), "not 8-bit RGB"
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    raw = zlib.decompress(b"".join(idat))
    stride = 1 + 3 * w
    assert len(raw) == stride * h, "pixel data has the wrong size"
    rows = []
    for y in range(h):
        assert raw[y * stride] == 0, "row %d is filtered" % y
        rows.append(raw[y * stride + 1:(y + 1) * stride])
    return w, h, rows


F_GET_SEALS = 1034
SEALED = 0x0002 | 0x0004 | 0x0008   # F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE


class Blob(bytes):
    """The bytes of a file the agent sent, with its seals (-1: none)."""
    seals = -1


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    pos = 2
    while pos < len(data):
        assert data[pos] == 0xFF, "bad JPEG marker"
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (n,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return w, h
        pos += 2 + n
    raise AssertionError("no SOF marker")


def build_xevlog(tmp):
    out = os.path.join(tmp, "xevlog")
    subprocess.run(["cc", "-O1", "-o", out, XEVLOG_SRC, "-lX11"], check=True)
    return out


def build_xanim(tmp):
    out = os.path.join(tmp, "xanim")
    subprocess.run(["cc", "-O1", "-o", out, XANIM_SRC, "-lX11"], check=True)
    return out


class Agent:
    """One deskbox-desktop with its channel. Starts on a free display and
    reads the ready event; every reply and event goes through recv()."""

    def __init__(self, tmp, apps=(), size=(1280, 800), max_size=(1920, 1080), extra=(),
                 wrap=()):
        """wrap: argv the agent's command line is appended to (a program
        that ends by exec'ing it, so self.proc is still the agent)."""
        self.tmp = tmp
        self.wrap = list(wrap)
        self.events = []
        self.next_id = 0
        self.proc = None
        self.xvfb = []
        self.sock = None
        last = None
        for attempt in range(3):
            self.display = free_display(90 + attempt * 7)
            try:
                self._start(apps, size, max_size, extra)
                return
            except Exception as e:  # a display taken behind our back: next one
                last = e
                self.close(kill=True)
        raise last

    def _start(self, apps, size, max_size, extra):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        self.xauth = os.path.join(self.tmp, "xauthority")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = self.wrap + [AGENT, "--display", str(self.display), "--xauth", self.xauth,
                "--width", str(size[0]), "--height", str(size[1]),
                "--max-width", str(max_size[0]), "--max-height", str(max_size[1])]
        for a in apps:
            argv += ["--app", a]
        # Raw X input through xevlog's undecorated window: no window
        # manager unless a test asks for one with extra=["--wm"].
        extra = list(extra)
        if "--wm" in extra:
            extra.remove("--wm")
        else:
            extra.append("--no-wm")
        argv += extra
        self.log = open(os.path.join(self.tmp, "agent-%d.log" % self.display), "w+")
        env = dict(os.environ, HOME=home)
        env.pop("DISPLAY", None)
        env.pop("XAUTHORITY", None)
        fd = theirs.fileno()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            env=env, pass_fds=(3, fd), start_new_session=True,
            preexec_fn=lambda: os.dup2(fd, 3))
        theirs.close()
        self.sock = mine
        self.sock.settimeout(TIMEOUT)
        self.ready = self.recv()
        if self.ready.get("event") != "ready":
            raise RuntimeError("agent did not get ready: %r" % self.ready)
        self.env = dict(os.environ, DISPLAY=self.ready["display_name"],
                        XAUTHORITY=self.ready["xauthority"], HOME=home)
        self.xvfb = [p for p in children(self.proc.pid) if comm(p) == "Xvfb"]

    def recv(self):
        """One message: (json, [fds]) – fds are read into bytes for us."""
        msg, anc, flags, _ = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 32))
        if not msg:
            raise EOFError("channel closed")
        self.assertion(not flags & socket.MSG_CTRUNC, "fds cut off")
        fds = array.array("i")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        blobs = []
        for f in fds:
            try:
                seals = fcntl.fcntl(f, F_GET_SEALS)
            except OSError:
                seals = -1
            with os.fdopen(f, "rb") as fh:
                blobs.append(Blob(fh.read()))
            blobs[-1].seals = seals
        m = json.loads(msg)
        body_fd = bool(m.get("body_fd"))
        if body_fd:
            self.assertion(len(msg) < 100 and set(m) == {"id", "body_fd"},
                           "body_fd datagram: %r" % msg)
            m = json.loads(blobs.pop(0))
        m["_blobs"] = blobs
        m["_body_fd"] = body_fd
        return m

    @staticmethod
    def assertion(ok, what):
        if not ok:
            raise AssertionError(what)

    def send(self, method, params=None, raw=None):
        self.next_id += 1
        body = raw if raw is not None else json.dumps(
            {"id": self.next_id, "method": method, "params": params}).encode()
        self.sock.send(body)
        return self.next_id

    def reply(self, want_id):
        while True:
            m = self.recv()
            if "event" in m:
                self.events.append(m)
                continue
            if m.get("id") == want_id or want_id is None:
                return m
            raise AssertionError("reply for %r while waiting for %r" % (m.get("id"), want_id))

    def call(self, method, params=None):
        return self.reply(self.send(method, params))

    def next_event(self, timeout):
        """The next event (queued ones first), or None when none comes
        within timeout seconds. Replies may not arrive meanwhile."""
        if self.events:
            return self.events.pop(0)
        self.sock.settimeout(timeout)
        try:
            m = self.recv()
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(TIMEOUT)
        self.assertion("event" in m, "a reply while only events were due: %r" % m)
        return m

    def wait_event(self, pred, what, timeout=TIMEOUT):
        """Events up to and including the first that pred accepts."""
        seen, deadline = [], time.monotonic() + timeout
        while True:
            m = self.next_event(max(0.01, deadline - time.monotonic()))
            if m is not None:
                seen.append(m)
                if pred(m):
                    return seen
            elif time.monotonic() >= deadline:
                raise AssertionError("no %s event; saw %r" % (what, [e["event"] for e in seen]))

    def result(self, method, params=None):
        m = self.call(method, params)
        if "result" not in m:
            raise AssertionError("%s failed: %r" % (method, m))
        return m["result"], m["_blobs"]

    def actions(self, params):
        return self.result("actions", params)[0]["results"]

    def close(self, kill=False):
        if self.sock:
            self.sock.close()
            self.sock = None
        if self.proc:
            if not kill:
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    kill = True
            pids = children(self.proc.pid)
            if kill or self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
            for p in pids:
                try:
                    os.killpg(p, signal.SIGKILL)
                except OSError:
                    pass
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        # An Xvfb that was killed leaves its socket and lock behind; they
        # are ours (the display was free when we started).
        if getattr(self, "xvfb", None):
            self.xvfb = []
            for path in ("/tmp/.X11-unix/X%d" % self.display, "/tmp/.X%d-lock" % self.display):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def agent_log(self):
        with open(os.path.join(self.tmp, "agent-%d.log" % self.display)) as f:
            return f.read()


class XClient:
    """A process started on the agent's display; killed at cleanup."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------- tests

class AgentTest(unittest.TestCase):
    """One agent, an xterm started with --app, and xevlog, for all tests."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-agent-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.xevlog = build_xevlog(cls.tmp)
        cls.typed = os.path.join(cls.tmp, "typed.txt")
        cls.typed_done = os.path.join(cls.tmp, "typed.done")
        app = ("LC_ALL=C.UTF-8 xterm -u8 -T typing -geometry 80x10+0+0 "
               "-e sh -c 'stty -echo; cat > %s; touch %s'" % (cls.typed, cls.typed_done))
        idle = "xterm -T idle -geometry 20x5+600+500 -e sleep 300"
        cls.agent = Agent(cls.tmp, apps=[app, idle])
        cls.addClassCleanup(cls.agent.close)
        cls.evlog = os.path.join(cls.tmp, "events.log")
        cls.xev = XClient([cls.xevlog, cls.evlog], cls.agent.env)
        cls.addClassCleanup(cls.xev.stop)
        wait_until(lambda: "mapped" in read(cls.evlog), what="xevlog window")
        wait_until(lambda: cls.window("typing") and cls.window("idle"), what="xterm windows")

    @classmethod
    def window(cls, title):
        for w in cls.agent.result("windows")[0]["windows"]:
            if title in w["title"]:
                return w
        return None

    def focus_xevlog(self):
        self.agent.actions({"action": "focus_window", "title": "xevlog"})
        self.agent.result("display.get")

    def log_lines(self):
        return read(self.evlog).splitlines()

    def new_log_lines(self, before, count, what):
        """Key and button lines logged after line `before`, once there are
        `count` of them (xevlog's "painted" notes come at their own pace
        and are left out)."""
        def got():
            lines = [l for l in self.log_lines()[before:] if l.startswith(("key ", "button "))]
            return lines if len(lines) >= count else None
        return wait_until(got, what=what)

    # -- start-up

    def test_ready_event_and_xauthority(self):
        r = self.agent.ready
        self.assertEqual(r["display"], {"width": 1280, "height": 800})
        self.assertEqual(r["display_name"], ":%d" % self.agent.display)
        self.assertEqual(r["xauthority"], self.agent.xauth)
        st = os.stat(self.agent.xauth)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(self.agent.xauth, "rb") as f:
            data = f.read()
        fam, alen = struct.unpack(">HH", data[:4])
        self.assertEqual((fam, alen), (0xFFFF, 0))
        pos = 4
        fields = []
        for _ in range(3):
            (n,) = struct.unpack(">H", data[pos:pos + 2])
            fields.append(data[pos + 2:pos + 2 + n])
            pos += 2 + n
        self.assertEqual(fields[0], str(self.agent.display).encode())
        self.assertEqual(fields[1], b"MIT-MAGIC-COOKIE-1")
        self.assertEqual(len(fields[2]), 16)
        self.assertEqual(pos, len(data))
        self.assertEqual(len(self.agent.xvfb), 1, "one Xvfb child")

    # -- screenshots

    def test_screenshot_png_full(self):
        res, blobs = self.agent.result("screenshot", {"format": "png"})
        self.assertEqual(res["media_type"], "image/png")
        self.assertEqual((res["width"], res["height"]), (1280, 800))
        self.assertEqual(res["size"], len(blobs[0]))
        w, h, rows = png_decode(blobs[0])
        self.assertEqual((w, h, len(rows)), (1280, 800, 800))
        res, blobs = self.agent.result("screenshot")   # PNG is the default
        self.assertEqual(png_size(blobs[0]), (1280, 800))

    def test_screenshot_jpeg(self):
        res, blobs = self.agent.result("screenshot", {"format": "jpeg", "quality": 60})
        self.assertEqual(res["media_type"], "image/jpeg")
        self.assertEqual(jpeg_size(blobs[0]), (1280, 800))
        self.assertEqual(blobs[0][-2:], b"\xff\xd9")

    def test_screenshot_region_and_scaled(self):
        res, blobs = self.agent.result("screenshot", {"region": {"x": 10, "y": 20, "w": 300, "h": 200}})
        self.assertEqual(png_size(blobs[0]), (300, 200))
        res, blobs = self.agent.result("screenshot", {"format": "jpeg", "width": 640})
        self.assertEqual(jpeg_size(blobs[0]), (640, 400))
        res, blobs = self.agent.result("screenshot", {"width": 500, "height": 500})
        self.assertEqual(png_size(blobs[0]), (500, 313))   # fits inside, aspect kept
        res, blobs = self.agent.result("screenshot", {"region": {"x": 100, "y": 100, "w": 400, "h": 400},
                                                      "height": 100, "cursor": True})
        self.assertEqual(png_size(blobs[0]), (100, 100))
        res, blobs = self.agent.result("screenshot", {"width": 5000})   # never upscaled
        self.assertEqual(png_size(blobs[0]), (1280, 800))
        for bad in ({"region": {"x": 1200, "y": 0, "w": 100, "h": 10}}, {"quality": 0},
                    {"format": "gif"}, {"width": -1}, {"region": [1, 2]}, {"cursor": "yes"}):
            m = self.agent.call("screenshot", bad)
            self.assertEqual(m["error"]["code"], "bad_request", bad)

    def test_etag_not_modified_then_changed_by_a_click(self):
        self.focus_xevlog()
        params = {"format": "png"}
        res, _ = self.agent.result("screenshot", params)
        etag = res["etag"]
        t = time.monotonic()
        nm, blobs = self.agent.result("screenshot", dict(params, if_none_match=etag))
        dt = time.monotonic() - t
        self.assertEqual(nm, {"not_modified": True, "etag": etag})
        self.assertEqual(blobs, [])
        self.assertLess(dt, 0.05)
        # Other parameters, other etag.
        res2, _ = self.agent.result("screenshot", {"format": "jpeg"})
        self.assertNotEqual(res2["etag"], etag)
        # The pointer is not in the image unless asked for: moving it
        # changes nothing, except for screenshots with the cursor drawn.
        ce = self.agent.result("screenshot", {"cursor": True})[0]["etag"]
        self.agent.actions({"action": "mouse_move", "coordinate": [5, 5]})
        self.assertTrue(self.agent.result("screenshot", dict(params, if_none_match=etag))[0]
                        .get("not_modified"))
        self.assertNotIn("not_modified",
                         self.agent.result("screenshot", {"cursor": True, "if_none_match": ce})[0])
        # A click makes xevlog paint a red square where it landed.
        n = len(self.log_lines())
        self.agent.actions({"action": "left_click", "coordinate": [700, 333]})
        wait_until(lambda: "painted" in self.log_lines()[n:], what="click and paint")
        res3, blobs = self.agent.result("screenshot", dict(params, if_none_match=etag))
        self.assertNotIn("not_modified", res3)
        self.assertNotEqual(res3["etag"], etag)
        w, h, rows = png_decode(blobs[0])
        self.assertEqual(rows[333][700 * 3:700 * 3 + 3], b"\xff\x00\x00")
        self.assertEqual(rows[333][690 * 3:690 * 3 + 3], b"\xff\xff\xff")

    # -- keyboard

    def test_typing_unicode_into_xterm(self):
        self.agent.actions({"action": "focus_window", "title": "typing"})
        text = "héllo 世界 🙂\n"
        # More distinct characters missing from the keymap than it has
        # spare keycodes (18 on Xvfb's): bindings are recycled, after they
        # settle, without garbling anything.
        cjk = "".join(chr(0x4e00 + i) for i in range(60))
        long_lines = ("0123456789" * 50 + "\n") * 10   # over one typing slice
        actions = [
            {"action": "type", "text": text},
            {"action": "type", "text": "--verbose -x\n"},
            {"action": "type", "text": "a\tb\n"},
            {"type": "type", "text": "two\nlines ÄÖÜ ß € αβγ ✓\n"},
            {"action": "type", "text": cjk + "\n" + cjk[::-1] + "\n"},
            {"action": "type", "text": long_lines},
            {"action": "type", "text": "slow", "delay_ms": 5},
            {"action": "key", "text": "Return"},
            {"action": "key", "text": "ctrl+d"},
        ]
        results = self.agent.actions({"actions": actions})
        self.assertEqual(len(results), len(actions))
        self.assertTrue(all(r["ok"] for r in results))
        wait_until(lambda: os.path.exists(self.typed_done), what="cat to end")
        self.assertEqual(read(self.typed),
                         text + "--verbose -x\na\tb\ntwo\nlines ÄÖÜ ß € αβγ ✓\n" +
                         cjk + "\n" + cjk[::-1] + "\n" + long_lines + "slow\n")

    def test_key_chord_is_one_chord(self):
        self.focus_xevlog()
        n = len(self.log_lines())
        self.agent.actions({"action": "key", "text": "ctrl+shift+t"})
        lines = self.new_log_lines(n, 6, "chord events")
        keys = [l for l in lines if l.startswith("key ")]
        self.assertEqual(keys, [
            "key press Control_L state=0",
            "key press Shift_L state=4",
            "key press t state=5",
            "key release t state=5",
            "key release Shift_L state=5",
            "key release Control_L state=4",
        ])

    def test_key_names_and_openai_keypress(self):
        self.focus_xevlog()
        cases = [
            ({"action": "key", "text": "ctrl++"}, "key press equal state=5"),      # ctrl + shift + '='
            ({"action": "key", "text": "ctrl+plus"}, "key press equal state=5"),
            ({"type": "keypress", "keys": ["CTRL", "A"]}, "key press a state=4"),
            ({"action": "key", "text": "KP_Enter"}, "key press KP_Enter state=0"),
            ({"action": "key", "text": "enter"}, "key press Return state=0"),
            ({"action": "key", "text": "PageDown"}, "key press Next state=0"),
            ({"action": "key", "text": "ArrowLeft"}, "key press Left state=0"),
            ({"action": "key", "text": "F11"}, "key press F11 state=0"),
            ({"action": "key", "text": "A"}, "key press a state=1"),
            ({"action": "key", "text": "cmd+space"}, "key press space state=64"),
            ({"action": "key", "text": "alt+Tab"}, "key press Tab state=8"),
        ]
        for action, want in cases:
            with self.subTest(action=action):
                n = len(self.log_lines())
                self.agent.actions(action)
                wait_until(lambda: want in self.log_lines()[n:], what=want)
        n = len(self.log_lines())
        self.agent.actions({"action": "key", "text": "Escape", "repeat": 3})
        lines = self.new_log_lines(n, 6, "repeat")
        self.assertEqual(sum(1 for l in lines if l.startswith("key press Escape")), 3)
        t = time.monotonic()
        n = len(self.log_lines())
        self.agent.actions({"action": "hold_key", "text": "shift", "duration": 0.2})
        self.assertGreaterEqual(time.monotonic() - t, 0.19)
        lines = self.new_log_lines(n, 2, "hold")
        self.assertEqual(lines[:2], ["key press Shift_L state=0", "key release Shift_L state=1"])

    # -- pointer

    def test_clicks_land_where_aimed(self):
        self.focus_xevlog()
        a = self.agent
        cases = [
            ({"action": "left_click", "coordinate": [123, 45]}, "button 1 123 45"),
            ({"action": "right_click", "coordinate": [1279, 799]}, "button 3 1279 799"),
            ({"action": "middle_click", "coordinate": [0, 0]}, "button 2 0 0"),
            ({"type": "click", "x": 300, "y": 200, "button": "right"}, "button 3 300 200"),
            ({"type": "click", "x": 301, "y": 201, "button": "back"}, "button 8 301 201"),
            # Model space 640x400 on a 1280x800 screen: model pixel 100
            # is real pixel 200 (x * ratio, as agents' reference code maps).
            ({"actions": [{"action": "left_click", "coordinate": [100, 50]}],
              "scale_to": {"width": 640, "height": 400}}, "button 1 200 100"),
            ({"actions": [{"type": "click", "x": 639, "y": 399}],
              "scale_to": {"width": 640, "height": 400}}, "button 1 1278 798"),
            ({"action": "left_click", "coordinate": [1023, 100], "scale_to": {"width": 1024, "height": 640}},
             "button 1 1279 125"),
        ]
        for action, want in cases:
            with self.subTest(action=action):
                n = len(self.log_lines())
                a.actions(action)
                wait_until(lambda: want in self.log_lines()[n:], what=want)
        n = len(self.log_lines())
        a.actions({"action": "double_click", "coordinate": [50, 60]})
        lines = self.new_log_lines(n, 2, "double click")
        self.assertEqual(lines, ["button 1 50 60"] * 2)
        n = len(self.log_lines())
        a.actions({"type": "scroll", "x": 10, "y": 10, "scroll_x": 0, "scroll_y": 250})
        lines = self.new_log_lines(n, 3, "scroll")
        self.assertEqual(lines[:3], ["button 5 10 10"] * 3)
        n = len(self.log_lines())
        a.actions({"action": "scroll", "coordinate": [20, 30], "scroll_direction": "up",
                   "scroll_amount": 2})
        lines = self.new_log_lines(n, 2, "scroll up")
        self.assertEqual(lines[:2], ["button 4 20 30"] * 2)
        n = len(self.log_lines())
        a.actions({"action": "left_click", "coordinate": [400, 300], "text": "shift"})
        lines = self.new_log_lines(n, 2, "shift-click")
        self.assertEqual(lines[:2], ["key press Shift_L state=0", "button 1 400 300"])
        n = len(self.log_lines())
        a.actions({"type": "drag", "path": [{"x": 10, "y": 11}, {"x": 50, "y": 51}, {"x": 90, "y": 91}]})
        self.new_log_lines(n, 1, "drag press")
        self.assertIn("button 1 10 11", self.log_lines()[n:])

    def test_cursor_position_and_scale(self):
        r = self.agent.actions([{"action": "mouse_move", "coordinate": [640, 400]},
                                {"action": "cursor_position"}])
        self.assertEqual((r[1]["x"], r[1]["y"]), (640, 400))
        r = self.agent.actions({"actions": [{"action": "mouse_move", "coordinate": [320, 200]},
                                            {"action": "cursor_position"}],
                                "scale_to": {"width": 640, "height": 400}})
        self.assertEqual((r[1]["x"], r[1]["y"]), (320, 200))
        self.assertEqual(self.agent.result("display.get")[0]["cursor"], {"x": 640, "y": 400})

    def shots(self, params):
        """An actions batch's results, each image's bytes put in as
        "bytes": the reply names them by their place among its fds, which
        are sealed memfds."""
        r, blobs = self.agent.result("actions", params)
        named = [x["image"]["fd"] for x in r["results"] + [r.get("settled", {})] if "image" in x]
        self.assertEqual(sorted(named), list(range(len(blobs))), "each fd named once")
        for b in blobs:
            self.assertEqual(b.seals & SEALED, SEALED, "images come sealed")
        for x in r["results"] + [r.get("settled", {})]:
            if "image" in x:
                self.assertNotIn("data", x["image"])
                x["image"]["bytes"] = blobs[x["image"]["fd"]]
        return r["results"]

    def test_screenshot_zoom_and_wait_actions(self):
        r = self.shots({"actions": [{"action": "screenshot"},
                                    {"action": "zoom", "region": [0, 0, 320, 200]},
                                    {"type": "screenshot"}],
                        "scale_to": {"width": 640, "height": 400}})
        img = r[0]["image"]["bytes"]
        self.assertEqual(r[0]["image"]["media_type"], "image/png")
        self.assertEqual(png_size(img), (640, 400))
        self.assertEqual((r[0]["width"], r[0]["height"]), (640, 400))
        zoom = r[1]["image"]["bytes"]
        self.assertEqual(png_size(zoom), (640, 400))   # the region at full resolution
        self.assertEqual(png_size(r[2]["image"]["bytes"]), (640, 400))
        r = self.shots({"actions": [{"action": "screenshot"}], "format": "jpeg"})
        self.assertEqual(jpeg_size(r[0]["image"]["bytes"]), (1280, 800))
        # The most images a batch takes: its JSON stays a small inline
        # datagram, the images beside it.
        m = self.agent.call("actions", [{"action": "screenshot"}] * 16)
        self.assertFalse(m["_body_fd"], "an actions reply is inline")
        self.assertEqual(len(m["result"]["results"]), 16)
        self.assertEqual(len(m["_blobs"]), 16)
        self.assertGreater(sum(len(b) for b in m["_blobs"]), 64 * 1024)

    def test_wait_does_not_block_other_requests(self):
        a = self.agent
        t = time.monotonic()
        wid = a.send("actions", {"action": "wait", "duration": 0.4})
        gid = a.send("display.get")
        first = a.reply(None)
        self.assertEqual(first["id"], gid, "display.get answered during the wait")
        self.assertLess(time.monotonic() - t, 0.3)
        done = a.reply(wid)
        self.assertGreaterEqual(time.monotonic() - t, 0.39)
        self.assertIn("image", done["result"]["results"][0])

    # -- clipboard

    def test_clipboard_round_trip(self):
        a = self.agent
        text = "héllo wörld 🙂 ✓ 世界\nline 2\ttab"
        self.assertEqual(a.result("clipboard.set", {"text": text})[0], {"ok": True})
        self.assertEqual(a.result("clipboard.get")[0], {"text": text})
        # Another X client pastes what the agent owns ...
        out = os.path.join(self.tmp, "paste.txt")
        c = XClient([self.xevlog, "--get", out], a.env)
        self.addCleanup(c.stop)
        c.proc.wait(timeout=10)
        self.assertEqual(read(out), text)
        # ... and the agent reads what another client owns.
        own_log = os.path.join(self.tmp, "own.log")
        other = "from another client: ünïcødé ✓"
        c2 = XClient([self.xevlog, "--own", other, own_log], a.env)
        self.addCleanup(c2.stop)
        wait_until(lambda: "owned" in read(own_log), what="xevlog owning CLIPBOARD")
        self.assertEqual(a.result("clipboard.get")[0], {"text": other})
        m = a.call("clipboard.set", {"text": 5})
        self.assertEqual(m["error"]["code"], "bad_request")

    # -- display

    def test_display_resize(self):
        a = self.agent
        self.addCleanup(lambda: a.result("display.set", {"width": 1280, "height": 800}))
        before = len(a.events)
        res, _ = a.result("display.set", {"width": 1024, "height": 768})
        self.assertEqual((res["width"], res["height"], res["max_width"], res["max_height"]),
                         (1024, 768, 1920, 1080))
        self.assertEqual(a.result("display.get")[0]["width"], 1024)
        self.assertIn(("display", 1024, 768),
                      [(e["event"], e.get("width"), e.get("height")) for e in a.events[before:]])
        res, blobs = a.result("screenshot", {"format": "jpeg"})
        self.assertEqual(jpeg_size(blobs[0]), (1024, 768))
        res, blobs = a.result("display.set", {"width": 1920, "height": 1080})
        self.assertEqual(png_size(a.result("screenshot")[1][0]), (1920, 1080))
        res, blobs = a.result("display.set", {"width": 800, "height": 1000})
        self.assertEqual(png_size(a.result("screenshot")[1][0]), (800, 1000))
        for bad in ({"width": 1921, "height": 100}, {"width": 0, "height": 100}, {"width": 100}):
            m = a.call("display.set", bad)
            self.assertEqual(m["error"]["code"], "bad_request", bad)

    def test_windows(self):
        ws = self.agent.result("windows")[0]["windows"]
        titles = [w["title"] for w in ws]
        self.assertIn("xevlog", titles)
        self.assertIn("idle", titles)
        xev = [w for w in ws if w["title"] == "xevlog"][0]
        self.assertEqual((xev["x"], xev["y"], xev["width"], xev["height"]), (0, 0, 1280, 800))
        term = [w for w in ws if w["title"] == "idle"][0]
        self.assertEqual((term["x"], term["y"]), (601, 501))   # inside xterm's 1px border
        self.assertGreater(term["pid"], 0)
        self.assertTrue(all(isinstance(w["focused"], bool) and w["id"] > 0 for w in ws))
        r = self.agent.actions({"action": "focus_window", "window": xev["id"]})
        self.assertEqual(r[0]["window"], xev["id"])
        m = self.agent.call("actions", {"action": "focus_window", "title": "no such window"})
        self.assertEqual(m["error"]["code"], "not_found")
        self.assertEqual(m["error"]["index"], 0)

    # -- malformed requests

    def test_bad_requests_are_answered_and_survived(self):
        a = self.agent
        for raw in (b"{not json", b"[1,2]", b"\xff\xfe", b"{}", b'{"id":1,"method":5}'):
            a.send(None, raw=raw)
            m = a.reply(None)
            self.assertEqual(m["error"]["code"], "bad_request", raw)
        a.send(None, raw=b'{"id": 77, "method": "x", "params": "' + b"a" * (170 * 1024) + b'"}')
        m = a.reply(None)
        self.assertEqual(m["error"]["code"], "bad_request")
        self.assertIn("160", m["error"]["message"])
        self.assertEqual(a.call("no.such.method")["error"]["code"], "not_found")
        bad_actions = [
            ([{"action": "left_click", "coordinate": [1, 2]}, {"action": "left_click", "coordinate": [5]}], 1),
            ([{"action": "screenshot"}, {"action": "mouse_move"}], 1),
            ({"action": "fly"}, 0),
            ({"type": "click", "x": 1}, 0),
            ([{"action": "key", "text": "ctrl+"}], 0),
            ([{"action": "key", "text": "ctrl+nosuchkey"}], 0),
            ([{"action": "type", "text": "bell\x07"}], 0),
            ([{"action": "wait", "duration": 1000}], 0),
            ([{"action": "scroll", "scroll_direction": "sideways"}], 0),
            ([{"action": "zoom", "region": [5, 5, 1, 1]}], 0),
            ([{"action": "screenshot"}, {"action": "left_click", "coordinate": [5000, 5]}], 1),
            (5, None),
            ({"actions": []}, None),
            ({"actions": [{"action": "screenshot"}], "scale_to": {"width": 0, "height": 5}}, None),
        ]
        for params, index in bad_actions:
            with self.subTest(params=params):
                m = a.call("actions", params)
                self.assertEqual(m["error"]["code"], "bad_request")
                self.assertEqual(m["error"].get("index"), index)
                if index is not None:
                    self.assertTrue(m["error"]["message"].startswith("action %d (" % index),
                                    m["error"]["message"])
        self.assertEqual(a.result("display.get")[0]["max_width"], 1920)
        self.assertIsNone(a.proc.poll())


class AgentEventsTest(unittest.TestCase):
    """events.watch and wait.settled on an agent with an xterm, and xanim."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-agent-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.xanim = build_xanim(cls.tmp)
        cls.xevlog = build_xevlog(cls.tmp)
        cls.agent = Agent(cls.tmp, apps=["xterm -T shell -geometry 60x10+0+0 -e sh"])
        cls.addClassCleanup(cls.agent.close)
        wait_until(lambda: any(w["title"] == "shell"
                               for w in cls.agent.result("windows")[0]["windows"]),
                   what="xterm window")

    def setUp(self):
        self.addCleanup(self.unwatch)

    def unwatch(self):
        self.agent.result("events.watch", {})
        self.agent.events.clear()

    def watch(self, **what):
        self.assertEqual(self.agent.result("events.watch", what)[0], {"ok": True})

    def quiet(self, seconds=0.5):
        """Let the screen settle, then forget the events so far."""
        self.agent.result("wait.settled", {"quiet_ms": int(seconds * 1000), "timeout_ms": 10000})
        while self.agent.next_event(0.05):
            pass

    def type_in_shell(self, text):
        self.agent.actions([{"action": "focus_window", "title": "shell"},
                            {"action": "mouse_move", "coordinate": [100, 60]},
                            {"action": "type", "text": text}])

    def anim(self, ms):
        """xanim animating for ms; returns the marker prefix."""
        prefix = os.path.join(self.tmp, "anim-%d-%d" % (ms, time.monotonic_ns()))
        c = XClient([self.xanim, "anim", str(ms), prefix], self.agent.env)
        self.addCleanup(c.stop)
        wait_until(lambda: os.path.exists(prefix + ".started"), what="animation start")
        return prefix

    def test_screen_events_when_xterm_prints_and_silence_when_idle(self):
        a = self.agent
        self.watch(screen=True, min_interval_ms=50, quiet_ms=200)
        self.quiet()
        self.type_in_shell("echo printed\n")
        seen = a.wait_event(lambda e: e["event"] == "screen.settled", "screen.settled")
        changed = [e for e in seen if e["event"] == "screen.changed"]
        self.assertTrue(changed, "no screen.changed before settled")
        for e in changed:
            self.assertTrue(1 <= len(e["rects"]) <= 32, e)
            for x, y, w, h in e["rects"]:
                self.assertTrue(x >= 0 and y >= 0 and w > 0 and h > 0 and
                                x + w <= 1280 and y + h <= 800, e)
        # xterm is at the top left: what it printed lies there.
        self.assertTrue(any(x < 500 and y < 200 for e in changed for x, y, w, h in e["rects"]))
        frames = [e["frame"] for e in changed]
        self.assertEqual(frames, sorted(frames))
        self.assertEqual(seen[-1]["quiet_ms"], 200)
        self.assertGreaterEqual(seen[-1]["frame"], frames[-1])
        # Idle (once the shell's prompt is surely out): nothing at all.
        self.quiet()
        self.assertIsNone(a.next_event(1.0))
        # Unwatched: printing says nothing either.
        self.watch()
        self.type_in_shell("echo again\n")
        self.assertIsNone(a.next_event(1.0))

    def test_screen_changed_is_coalesced(self):
        a = self.agent
        self.watch(screen=True, min_interval_ms=300)
        self.quiet()
        prefix = self.anim(1000)   # a frame every 20 ms
        seen = a.wait_event(lambda e: e["event"] == "screen.settled" and
                            os.path.exists(prefix + ".ended"), "screen.settled")
        changed = [e for e in seen if e["event"] == "screen.changed"]
        # 1 s of 50 frames/s at most once per 300 ms: about 4, never 50.
        self.assertTrue(2 <= len(changed) <= 8, len(changed))

    def test_window_opened_closed_focused(self):
        a = self.agent
        self.watch(windows=True)
        prefix = os.path.join(self.tmp, "popup-%d" % time.monotonic_ns())
        c = XClient([self.xanim, "popup", prefix], a.env)
        self.addCleanup(c.stop)
        seen = a.wait_event(lambda e: e["event"] == "window.opened" and e["title"] == "xanim",
                            "window.opened")
        opened = seen[-1]
        self.assertGreater(opened["window"], 0)
        self.assertEqual(opened["pid"], c.proc.pid)
        # A click on it opens another.
        a.actions({"action": "left_click", "coordinate": [100, 100]})
        seen = a.wait_event(lambda e: e["event"] == "window.opened" and e["title"] == "popup 1",
                            "window.opened (popup)")
        for title in ("popup 1", "shell"):
            a.actions({"action": "focus_window", "title": title})
            seen = a.wait_event(lambda e: e["event"] == "window.focused", "window.focused")
            self.assertEqual(seen[-1]["title"], title)
        c.stop()
        seen = a.wait_event(lambda e: e["event"] == "window.closed" and
                            e["window"] == opened["window"], "window.closed")

    def test_clipboard_changed(self):
        a = self.agent
        self.watch(clipboard=True)
        a.result("clipboard.set", {"text": "mine"})
        a.wait_event(lambda e: e["event"] == "clipboard.changed", "clipboard.changed")
        log = os.path.join(self.tmp, "own-%d.log" % time.monotonic_ns())
        c = XClient([self.xevlog, "--own", "theirs", log], a.env)
        self.addCleanup(c.stop)
        a.wait_event(lambda e: e["event"] == "clipboard.changed", "clipboard.changed (other client)")
        self.watch()
        a.result("clipboard.set", {"text": "unwatched"})
        self.assertIsNone(a.next_event(0.5))

    def test_wait_settled_returns_after_the_animation_not_before(self):
        a = self.agent
        prefix = self.anim(1000)
        # 400 ms: a loaded machine may hold xanim between two frames.
        res, _ = a.result("wait.settled", {"quiet_ms": 400, "timeout_ms": 10000})
        self.assertTrue(os.path.exists(prefix + ".ended"), "answered while still animating")
        self.assertTrue(res["settled"])
        self.assertGreater(res["waited_ms"], 0)
        self.assertGreater(res["frame"], 0)

    def test_wait_settled_on_an_idle_screen_and_at_the_timeout(self):
        a = self.agent
        self.quiet()
        res, _ = a.result("wait.settled", {"quiet_ms": 100, "timeout_ms": 10000})
        self.assertTrue(res["settled"])
        self.assertLess(res["waited_ms"], 10000)
        frame = res["frame"]
        res, _ = a.result("wait.settled", {})   # defaults: 150 ms, 3 s
        self.assertTrue(res["settled"])
        self.assertEqual(res["frame"], frame)
        prefix = self.anim(5000)
        res, _ = a.result("wait.settled", {"quiet_ms": 400, "timeout_ms": 1500})
        self.assertFalse(res["settled"])
        self.assertGreaterEqual(res["waited_ms"], 1500)
        self.assertFalse(os.path.exists(prefix + ".ended"))

    def test_wait_settled_with_a_screenshot(self):
        a = self.agent
        res, blobs = a.result("wait.settled", {"quiet_ms": 100, "screenshot": {"format": "jpeg",
                                                                               "width": 640}})
        self.assertTrue(res["settled"])
        self.assertEqual(res["media_type"], "image/jpeg")
        self.assertEqual(jpeg_size(blobs[0]), (640, 400))
        self.assertEqual(res["size"], len(blobs[0]))
        m = a.call("wait.settled", {"screenshot": {"format": "gif"}})
        self.assertEqual(m["error"]["code"], "bad_request")

    def test_actions_settle_ms_adds_the_settled_screen(self):
        a = self.agent
        prefix = os.path.join(self.tmp, "popup-%d" % time.monotonic_ns())
        c = XClient([self.xanim, "popup", prefix], a.env)
        self.addCleanup(c.stop)
        wait_until(lambda: os.path.exists(prefix + ".ready"), what="xanim popup")
        self.quiet(0.3)
        res, blobs = a.result("actions", {"actions": [{"action": "left_click", "coordinate": [50, 50]}],
                                          "settle_ms": 150, "scale_to": {"width": 640, "height": 400}})
        self.assertEqual(res["results"], [{"ok": True}])
        st = res["settled"]
        self.assertTrue(st["settled"])
        self.assertEqual((st["width"], st["height"]), (640, 400))
        self.assertEqual(st["image"]["media_type"], "image/png")
        self.assertEqual(st["image"]["fd"], 0)
        self.assertEqual(len(blobs), 1)
        self.assertEqual(blobs[0].seals & SEALED, SEALED)
        w, h, rows = png_decode(blobs[0])
        self.assertEqual((w, h), (640, 400))
        # The popup (black bar at 270..530 x 120..160 real, halved) is in it.
        row = rows[70]
        self.assertEqual(row[3 * 200:3 * 200 + 3], b"\0\0\0")
        # Without settle_ms: no "settled".
        res, _ = a.result("actions", {"action": "mouse_move", "coordinate": [1, 1]})
        self.assertNotIn("settled", res)

    def test_bad_watch_and_wait_params(self):
        a = self.agent
        for method, params in (("events.watch", {"screen": 1}),
                               ("events.watch", {"min_interval_ms": -1}),
                               ("events.watch", {"quiet_ms": 0}),
                               ("events.watch", [1]),
                               ("wait.settled", {"quiet_ms": "x"}),
                               ("wait.settled", {"timeout_ms": 10 ** 9}),
                               ("wait.settled", {"screenshot": 5}),
                               ("actions", {"action": "cursor_position", "settle_ms": 0}),
                               ("actions", {"action": "cursor_position", "settle_ms": 100,
                                            "settle_timeout_ms": -5})):
            with self.subTest(method=method, params=params):
                m = a.call(method, params)
                self.assertEqual(m["error"]["code"], "bad_request")
        self.assertIsNone(a.proc.poll())


class AgentEndsTest(unittest.TestCase):
    """How the agent ends: its channel closes, or its X server dies."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="deskbox-agent-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_channel_close_stops_everything(self):
        agent = Agent(self.tmp, apps=["exec sleep 300"], size=(800, 600), max_size=(800, 600),
                      extra=["--wm"])
        self.addCleanup(agent.close)
        self.assertEqual(agent.ready["display"], {"width": 800, "height": 600})
        # The app starts once the window manager has the screen.
        wait_until(lambda: len(children(agent.proc.pid)) == 3,
                   what="Xvfb, the window manager and the app")
        kids = children(agent.proc.pid)
        agent.sock.close()
        agent.sock = None
        self.assertEqual(agent.proc.wait(timeout=10), 0)
        for p in kids:
            wait_until(lambda: not alive(p), what="child %d to end" % p)
        self.assertIn("channel closed", agent.agent_log())

    def test_display_lost(self):
        agent = Agent(self.tmp)
        self.addCleanup(agent.close)
        self.assertEqual(len(agent.xvfb), 1)
        os.kill(agent.xvfb[0], signal.SIGKILL)
        m = agent.recv()
        while m.get("event") != "display_lost":
            m = agent.recv()
        self.assertIn("X server connection lost", m["error"])
        self.assertIn("signal 9", m["error"])
        self.assertEqual(agent.proc.wait(timeout=10), 1)

    def test_sigterm_stops_everything(self):
        agent = Agent(self.tmp, apps=["exec sleep 300"], extra=["--gl"])
        self.addCleanup(agent.close)
        wait_until(lambda: len(children(agent.proc.pid)) == 2, what="Xvfb and the app")
        kids = children(agent.proc.pid)
        agent.proc.send_signal(signal.SIGTERM)
        self.assertEqual(agent.proc.wait(timeout=10), 0)
        for p in kids:
            wait_until(lambda: not alive(p), what="child %d to end" % p)

    def test_bad_arguments(self):
        for argv in (["--width", "3000"], ["--width", "0"], ["--display", "x"], ["extra"]):
            r = subprocess.run([AGENT] + argv, capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, argv)
        r = subprocess.run([AGENT, "--xauth", os.path.join(self.tmp, "xa")],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("SOCK_SEQPACKET", r.stderr)


if __name__ == "__main__":
    unittest.main()
