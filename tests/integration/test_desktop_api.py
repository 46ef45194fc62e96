"""The desktop REST API end to end: a real deskboxd, real jails, a real Xvfb
per sandbox, real xterms.

Input is checked where it lands: typed text must reach a file through an
xterm's shell or `cat`, and key chords, clicks and scrolls must be seen by an
X client inside the sandbox (tests/integration/xevlog.c, compiled here with
cc -lX11 and uploaded into each sandbox's /tmp, since the jail sees the
host's /usr but not our temp dir). Screenshots are decoded here (PNG fully,
JPEG down to its frame header) and their pixels checked where it matters.

Every sandbox is made through ServerTestCase.sandbox(), so it is deleted and
proven gone after its test, pass or fail. Nothing here asserts a speed; every
wait is a bounded poll.
"""

import base64
import os
import re
import shlex
import shutil
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

from deskbox import API, ServerTestCase, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
XEVLOG_SRC = os.path.join(HERE, "xevlog.c")
PROBE = "/tmp/xevlog"          # where the probe lives inside a sandbox
UNICODE = "h\u00e9llo \u4e16\u754c \U0001F642"   # "héllo 世界 🙂"
SCREEN = (1280, 800)

ShiftMask, ControlMask = 1, 4


# ---------------------------------------------------------------- images

def png_decode(data):
    """(width, height, channels, rows) of an 8-bit RGB/RGBA PNG, every chunk
    CRC-checked and every row unfiltered; rows is a list of bytes. Raises
    AssertionError if data is not such a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature: %r" % data[:16]
    pos, idat, ihdr, ended = 8, [], None, False
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(ctype + body) & 0xffffffff == crc, "bad CRC in %r" % ctype
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            ended = True
            break
        pos += 12 + length
    assert ihdr and ended, "PNG without IHDR or IEND"
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG kind %r" % (ihdr,)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    assert len(raw) == h * (stride + 1), "IDAT has %d bytes for %dx%d" % (len(raw), w, h)
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        assert 0 <= f <= 4, "bad PNG filter %d" % f
        for i in range(stride if f else 0):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png_size(data):
    """(width, height) from a PNG's IHDR, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature: %r" % data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def pixel(img, x, y):
    w, h, bpp, rows = img
    return tuple(rows[y][x * bpp:x * bpp + 3])


def jpeg_size(data):
    """(width, height) from a baseline/progressive JPEG's SOF, after checking
    SOI, the marker chain up to SOS, and EOI at the end."""
    assert data[:2] == b"\xff\xd8", "no JPEG SOI: %r" % data[:8]
    assert data[-2:] == b"\xff\xd9", "no JPEG EOI at the end"
    pos = 2
    while pos + 4 <= len(data):
        assert data[pos] == 0xff, "broken JPEG marker chain at %d" % pos
        marker = data[pos + 1]
        length, = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in (0xc0, 0xc1, 0xc2):
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            return w, h
        assert marker != 0xda, "JPEG SOS before any SOF"
        pos += 2 + length
    raise AssertionError("JPEG without SOF")


def is_red(rgb):
    return rgb[0] > 200 and rgb[1] < 60 and rgb[2] < 60


def poll(fetch, pred, timeout, interval=0.05):
    """Call fetch() until pred(value) holds or timeout seconds pass; return
    the last value (the caller asserts on it, so a failure shows it)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fetch()
        if pred(v) or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- the probe

class _Probe:
    """xevlog compiled once for the whole module."""
    path = None
    tmp = None

    @classmethod
    def build(cls):
        if cls.path:
            return cls.path
        if not os.path.exists(XEVLOG_SRC):
            raise unittest.SkipTest("no %s" % XEVLOG_SRC)
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-xevlog-")
        out = os.path.join(cls.tmp, "xevlog")
        r = subprocess.run(["cc", "-O1", "-o", out, XEVLOG_SRC, "-lX11"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            raise AssertionError("cannot build xevlog:\n%s" % r.stdout.decode(errors="replace"))
        cls.path = out
        return out

    @classmethod
    def remove(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.tmp = cls.path = None


# ---------------------------------------------------------------- base class

class DesktopCase(ServerTestCase):
    """Helpers over the desktop routes of one sandbox."""

    server_options = {"max_sandboxes": 16}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(_Probe.remove)

    def sandbox(self, **fields):
        """These tests read raw X input through xevlog, one undecorated
        window over the whole screen: they run without the window manager
        (a desktop's default), which tests/integration/test_input_*.py
        exercise."""
        if fields.get("desktop") is not False:
            fields.setdefault("wm", False)
        return super().sandbox(**fields)

    def path(self, sb, tail):
        return "%s/%s/%s" % (API, sb["id"], tail)

    def actions(self, sb, body, status=200):
        r = self.server.request("POST", self.path(sb, "actions"), body, timeout=60)
        self.assertEqual(r.status, status, "actions %r -> %r" % (body, r.body))
        return r.body

    def results(self, sb, body):
        out = self.actions(sb, body)["results"]
        n = len(body) if isinstance(body, list) else len(body.get("actions", [body]))
        self.assertEqual(len(out), n, out)
        for res in out:
            self.assertIs(res.get("ok"), True, out)
        return out

    def shot(self, sb, query="", headers=None, status=200):
        r = self.server.request("GET", self.path(sb, "screenshot") + (("?" + query) if query else ""),
                                headers=headers, raw=True, timeout=60)
        self.assertEqual(r.status, status, "screenshot?%s -> %s %r" % (query, r.status, r.body[:300]))
        return r

    def etag(self, sb):
        return self.shot(sb).headers["etag"]

    def stable_etag(self, sb, timeout=10):
        """The screenshot etag once two in a row agree (the screen settled)."""
        last = [self.etag(sb)]

        def settled():
            time.sleep(0.1)
            cur = self.etag(sb)
            same, last[0] = cur == last[0], cur
            return same
        self.assertTrue(wait_until(settled, timeout), "the screen never settled")
        return last[0]

    def file_or_none(self, sb, path):
        r = self.server.request("GET", self.server.api.files_path(sb["id"], path), raw=True)
        return r.body if r.status == 200 else None

    def wait_file(self, sb, path, pred, timeout=15):
        """Poll a sandbox file until pred(bytes) holds; return its bytes."""
        return poll(lambda: self.file_or_none(sb, path),
                    lambda b: b is not None and pred(b), timeout, 0.1)

    def windows(self, sb):
        r = self.server.request("GET", self.path(sb, "windows"))
        self.assertEqual(r.status, 200, r.body)
        return r.body["windows"]

    def wait_window(self, sb, title, timeout=20):
        """The window whose title contains title, once it is listed."""
        found = wait_until(lambda: [w for w in self.windows(sb) if title in w["title"]],
                           timeout, 0.1)
        self.assertTrue(found, "no window titled %r in %r" % (title, self.windows(sb)))
        return found[0]

    def wait_no_window(self, sb, title, timeout=20):
        self.assertTrue(wait_until(lambda: not [w for w in self.windows(sb) if title in w["title"]],
                                   timeout, 0.1), "window %r never went away" % title)

    def wait_process(self, sb, pattern, timeout=20):
        """Poll until a process whose command line matches pattern runs in
        the sandbox. An xterm maps its window before its child has set up
        the terminal; keys typed before that can be flushed away."""
        ok = wait_until(lambda: self.run_cmd(sb, "pgrep -f -- %s" % shlex.quote(pattern))
                        ["exit_code"] == 0, timeout, 0.05)
        self.assertTrue(ok, "no process matching %r" % pattern)

    def desktop_state(self, sb):
        return self.server.get(sb["id"]).get("desktop") or {}

    # -- the X probe inside a sandbox

    def install_probe(self, sb):
        with open(_Probe.build(), "rb") as f:
            self.server.put_file(sb["id"], PROBE, f.read())
        self.sh(sb, "chmod 755 %s" % PROBE)

    def start_logger(self, sb, log="/tmp/ev.log"):
        """Start xevlog (a fullscreen window that logs input) and wait until
        it is mapped and focused. Returns the log's path."""
        self.install_probe(sb)
        self.sh(sb, "rm -f %s; %s %s </dev/null >/dev/null 2>&1 &" % (log, PROBE, log))
        got = self.wait_file(sb, log, lambda b: b"mapped" in b)
        self.assertIn(b"mapped", got or b"", "xevlog did not map its window")
        return log

    def events(self, sb, log="/tmp/ev.log"):
        return (self.file_or_none(sb, log) or b"").decode().splitlines()

    def wait_events(self, sb, pred, log="/tmp/ev.log", timeout=10):
        """Poll the probe's log until pred(lines) holds; return the lines."""
        return poll(lambda: self.events(sb, log), pred, timeout)

    def buttons(self, lines):
        """[(button, x, y)] of the probe's ButtonPress lines."""
        out = []
        for ln in lines:
            p = ln.split()
            if p[:1] == ["button"]:
                out.append((int(p[1]), int(p[2]), int(p[3])))
        return out

    def key_presses(self, lines):
        """[(keysym name, state)] of the probe's KeyPress lines."""
        out = []
        for ln in lines:
            p = ln.split()
            if p[:2] == ["key", "press"]:
                out.append((p[2], int(p[3].split("=")[1])))
        return out


# ---------------------------------------------------------------- typing

class TestTyping(DesktopCase):

    def click_into(self, sb, win):
        cx, cy = win["x"] + win["width"] // 2, win["y"] + win["height"] // 2
        self.results(sb, {"action": "left_click", "coordinate": [cx, cy]})

    def test_type_into_xterm_shell(self):
        sb = self.sandbox(apps=["xterm"])
        win = self.wait_window(sb, "xterm")
        self.wait_process(sb, "^bash")
        self.click_into(sb, win)
        self.results(sb, [{"action": "type", "text": "echo deskbox-ok > /tmp/typed"},
                          {"action": "key", "text": "Return"}])
        got = self.wait_file(sb, "/tmp/typed", lambda b: b == b"deskbox-ok\n")
        self.assertEqual(got, b"deskbox-ok\n")
        self.assertEqual(self.sh(sb, "cat /tmp/typed"), "deskbox-ok\n")

    def type_through_cat(self, sb, n, text, keys=None):
        """Start an xterm running `cat > FILE`, type text, Return, ctrl+d;
        return what cat wrote."""
        title, out = "cat-%d" % n, "/tmp/cat-%d" % n
        self.sh(sb, "xterm -T %s -geometry 80x10+0+0 -e sh -c 'cat > %s' "
                    "</dev/null >/dev/null 2>&1 &" % (title, out))
        self.click_into(sb, self.wait_window(sb, title))
        self.wait_process(sb, "^cat$")
        self.results(sb, [{"action": "type", "text": text},
                          {"action": "key", "text": "Return"},
                          {"action": "key", "text": "ctrl+d"}])
        self.wait_no_window(sb, title)      # cat saw EOF, xterm exited
        return self.file_or_none(sb, out)

    def test_type_text_exactly(self):
        sb = self.sandbox()
        cases = [
            ("unicode", UNICODE),
            ("dashes", "--help -x --not-an-option"),
            ("tab", "a\tb\t\tc"),
            ("two lines", "first line\nsecond line"),
            ("symbols", "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./ AZaz09"),
        ]
        for n, (name, text) in enumerate(cases):
            with self.subTest(name):
                got = self.type_through_cat(sb, n, text)
                self.assertEqual(got, (text + "\n").encode(), "%s typed as %r" % (name, got))

    def test_type_unicode_openai(self):
        sb = self.sandbox()
        self.sh(sb, "xterm -T oai -geometry 80x10+0+0 -e sh -c 'cat > /tmp/oai' "
                    "</dev/null >/dev/null 2>&1 &")
        win = self.wait_window(sb, "oai")
        self.wait_process(sb, "^cat$")
        self.results(sb, [{"type": "click", "x": win["x"] + 20, "y": win["y"] + 20},
                          {"type": "type", "text": UNICODE},
                          {"type": "keypress", "keys": ["ENTER"]},
                          {"type": "keypress", "keys": ["CTRL", "D"]}])
        self.wait_no_window(sb, "oai")
        self.assertEqual(self.file_or_none(sb, "/tmp/oai"), (UNICODE + "\n").encode())


# ---------------------------------------------------------------- keys and chords

class TestKeysAndClicks(DesktopCase):

    def plain_keys(self, lines):
        return [k for k in self.key_presses(lines)
                if not k[0].startswith(("Control", "Shift", "Alt", "Meta", "Super"))]

    def test_chords_arrive_as_one(self):
        sb = self.sandbox()
        self.start_logger(sb)
        cases = [
            ("anthropic", {"action": "key", "text": "ctrl+shift+a"}),
            ("openai", {"type": "keypress", "keys": ["CTRL", "SHIFT", "A"]}),
        ]
        seen = 0
        for name, act in cases:
            with self.subTest(name):
                self.results(sb, [act, {"action": "key", "text": "b"}])
                seen += 2
                lines = self.wait_events(sb, lambda ls: len(self.plain_keys(ls)) >= seen)
                plain = self.plain_keys(lines)[seen - 2:seen]
                self.assertEqual(len(plain), 2, lines)
                (sym, state), (sym_b, state_b) = plain
                self.assertIn(sym, ("a", "A"), lines)
                self.assertEqual(state & (ControlMask | ShiftMask), ControlMask | ShiftMask,
                                 "%s: a pressed with state %#x, not Control+Shift: %r"
                                 % (name, state, lines))
                # Released afterwards: the next key has no modifier held.
                self.assertEqual(sym_b, "b")
                self.assertEqual(state_b & (ControlMask | ShiftMask), 0, lines)

    def test_key_names_and_repeat(self):
        sb = self.sandbox()
        self.start_logger(sb)
        self.results(sb, [{"action": "key", "text": "Return"},
                          {"action": "key", "text": "alt+F4"},
                          {"action": "key", "text": "x", "repeat": 3},
                          {"type": "keypress", "keys": ["ESC"]}])
        want = ["Return", "F4", "x", "x", "x", "Escape"]
        lines = self.wait_events(sb, lambda ls: len([k for k in self.key_presses(ls)
                                                     if not k[0].startswith("Alt")]) >= len(want))
        got = [k for k in self.key_presses(lines) if not k[0].startswith(("Alt", "Meta"))]
        self.assertEqual([k[0] for k in got], want, lines)
        alt_f4 = got[1]
        self.assertTrue(alt_f4[1] & 8, "F4 without Mod1 (alt): %r" % (lines,))

    def test_clicks_land_on_the_pixel(self):
        sb = self.sandbox()
        self.start_logger(sb)
        w, h = SCREEN
        points = [(0, 0), (w - 1, h - 1), (300, 200), (641, 37), (5, h - 1)]
        self.results(sb, [{"action": "left_click", "coordinate": list(p)} for p in points])
        lines = self.wait_events(sb, lambda ls: len(self.buttons(ls)) >= len(points))
        self.assertEqual(self.buttons(lines), [(1, x, y) for x, y in points])
        # The probe painted a red 5x5 square where it saw the click: the
        # screenshot shows it there.
        img = png_decode(self.shot(sb, "format=png&region=290,190,21,21").body)
        self.assertEqual(img[:2], (21, 21))
        self.assertTrue(is_red(pixel(img, 10, 10)), pixel(img, 10, 10))
        self.assertFalse(is_red(pixel(img, 0, 0)), pixel(img, 0, 0))
        self.assertFalse(is_red(pixel(img, 20, 20)), pixel(img, 20, 20))

    def test_scale_to_maps_clicks(self):
        sb = self.sandbox()
        self.start_logger(sb)
        scale = {"width": 640, "height": 400}
        self.actions(sb, {"actions": [{"action": "left_click", "coordinate": [100, 50]},
                                      {"action": "left_click", "coordinate": [639, 399]},
                                      {"type": "click", "x": 320, "y": 200},
                                      {"action": "left_click", "coordinate": [0, 0]}],
                          "scale_to": scale})
        lines = self.wait_events(sb, lambda ls: len(self.buttons(ls)) >= 4)
        got = self.buttons(lines)
        # Model pixel (x, y) is real pixel (2x, 2y) at this ratio, as agents'
        # own reference scaling computes it.
        self.assertEqual(len(got), 4, lines)
        for (b, x, y), (mx, my) in zip(got, [(100, 50), (639, 399), (320, 200), (0, 0)]):
            self.assertEqual(b, 1)
            self.assertEqual((x, y), (2 * mx, 2 * my), got)
        # Outside the model's screen is refused, with the index.
        body = self.actions(sb, {"actions": [{"action": "mouse_move", "coordinate": [10, 10]},
                                             {"action": "left_click", "coordinate": [641, 10]}],
                                 "scale_to": scale}, status=400)
        self.assertEqual(body["error"]["index"], 1, body)

    def test_buttons_and_counts(self):
        sb = self.sandbox()
        self.start_logger(sb)
        steps = [
            ({"action": "right_click", "coordinate": [10, 20]}, [(3, 10, 20)]),
            ({"action": "middle_click", "coordinate": [11, 21]}, [(2, 11, 21)]),
            ({"action": "double_click", "coordinate": [12, 22]}, [(1, 12, 22)] * 2),
            ({"action": "triple_click", "coordinate": [13, 23]}, [(1, 13, 23)] * 3),
            ({"type": "click", "x": 14, "y": 24, "button": "right"}, [(3, 14, 24)]),
            ({"type": "click", "x": 15, "y": 25, "button": "wheel"}, [(2, 15, 25)]),
            ({"type": "double_click", "x": 16, "y": 26}, [(1, 16, 26)] * 2),
            ({"action": "scroll", "coordinate": [17, 27], "scroll_direction": "down",
              "scroll_amount": 2}, [(5, 17, 27)] * 2),
            ({"action": "scroll", "coordinate": [18, 28], "scroll_direction": "up",
              "scroll_amount": 1}, [(4, 18, 28)]),
            ({"type": "scroll", "x": 19, "y": 29, "scroll_x": 0, "scroll_y": 200},
             [(5, 19, 29)] * 2),
            ({"action": "left_mouse_down", "coordinate": [20, 30]}, [(1, 20, 30)]),
            ({"action": "left_mouse_up", "coordinate": [40, 50]}, []),
            ({"action": "left_click_drag", "start_coordinate": [21, 31],
              "coordinate": [300, 310]}, [(1, 21, 31)]),
        ]
        want = []
        for act, expect in steps:
            self.results(sb, [act])
            want += expect
            lines = self.wait_events(sb, lambda ls: len(self.buttons(ls)) >= len(want))
            self.assertEqual(self.buttons(lines), want, "after %r" % (act,))
        # The drag ended where it was told to.
        pos = self.results(sb, {"action": "cursor_position"})[0]
        self.assertEqual((pos["x"], pos["y"]), (300, 310))

    def test_cursor_position(self):
        sb = self.sandbox()
        self.results(sb, {"action": "mouse_move", "coordinate": [123, 456]})
        pos = self.results(sb, {"action": "cursor_position"})[0]
        self.assertEqual((pos["x"], pos["y"]), (123, 456))
        disp = self.server.expect(200, "GET", self.path(sb, "display")).body
        self.assertEqual((disp["cursor"]["x"], disp["cursor"]["y"]), (123, 456))
        # Through scale_to both ways: the model's (100, 50) is the screen's
        # (200, 100), and is reported back as (100, 50) to that model.
        res = self.actions(sb, {"actions": [{"type": "move", "x": 100, "y": 50},
                                            {"action": "cursor_position"}],
                                "scale_to": {"width": 640, "height": 400}})["results"]
        self.assertEqual((res[1]["x"], res[1]["y"]), (100, 50))
        pos = self.results(sb, {"action": "cursor_position"})[0]
        self.assertEqual((pos["x"], pos["y"]), (200, 100))

    def test_failed_validation_has_no_effect(self):
        sb = self.sandbox()
        self.start_logger(sb)
        body = self.actions(sb, [{"action": "left_click", "coordinate": [50, 50]},
                                 {"action": "type", "text": "abc"},
                                 {"action": "no_such_action"}], status=400)
        self.assertEqual(body["error"]["index"], 2, body)
        # A later, good request is seen; the refused one never was (X
        # delivers events in order, so it would show up first).
        self.results(sb, {"action": "left_click", "coordinate": [60, 60]})
        lines = self.wait_events(sb, lambda ls: len(self.buttons(ls)) >= 1)
        self.assertEqual(self.buttons(lines), [(1, 60, 60)], lines)
        self.assertEqual(self.key_presses(lines), [], lines)


# ---------------------------------------------------------------- screenshots

class TestScreenshots(DesktopCase):

    def test_png_and_jpeg(self):
        sb = self.sandbox()
        self.start_logger(sb)
        self.results(sb, {"action": "left_click", "coordinate": [100, 100]})
        self.wait_events(sb, lambda ls: "painted" in ls)
        r = self.shot(sb)
        self.assertEqual(r.headers["content-type"], "image/png")
        img = png_decode(r.body)
        self.assertEqual(img[:2], SCREEN)
        self.assertEqual(pixel(img, 500, 500), (255, 255, 255))   # xevlog's window
        self.assertTrue(is_red(pixel(img, 100, 100)), pixel(img, 100, 100))
        self.assertEqual(int(r.headers["content-length"]), len(r.body))

        r = self.shot(sb, "format=jpeg")
        self.assertEqual(r.headers["content-type"], "image/jpeg")
        self.assertEqual(jpeg_size(r.body), SCREEN)
        small = self.shot(sb, "format=jpeg&quality=5").body
        big = self.shot(sb, "format=jpeg&quality=100").body
        self.assertEqual(jpeg_size(small), SCREEN)
        self.assertLess(len(small), len(big))
        self.assertEqual(jpeg_size(self.shot(sb, "format=jpg").body), SCREEN)

    def test_first_screenshot_is_the_screen(self):
        """A bare screen's first full screenshot is written from one pixel's
        colour without capturing the rest (desktop/methods.c, methods_blank):
        it must equal what a capture gives. A region is always captured, so
        the screen as two halves is the truth; the etag shows nothing drew
        meanwhile."""
        sb = self.sandbox()
        r = self.shot(sb)
        first = png_decode(r.body)
        self.assertEqual(first[:2], SCREEN)
        w, h = SCREEN
        top = png_decode(self.shot(sb, "region=0,0,%d,%d" % (w, h // 2)).body)
        bottom = png_decode(self.shot(sb, "region=0,%d,%d,%d" % (h // 2, w, h - h // 2)).body)
        self.assertEqual(self.etag(sb), r.headers["etag"], "something drew on the bare screen")
        got, want = b"".join(first[3]), b"".join(top[3] + bottom[3])
        if got != want:   # not assertEqual: its diff of 3 MB takes minutes
            at = next(i for i in range(len(got)) if got[i] != want[i]) // 3
            self.fail("the first screenshot is not the screen: pixel (%d, %d) is %r, not %r"
                      % (at % w, at // w, got[at * 3:at * 3 + 3], want[at * 3:at * 3 + 3]))

    def test_region_and_scaling(self):
        sb = self.sandbox()
        cases = [
            ("region=10,20,300,200", (300, 200)),
            ("x=10&y=20&w=300&h=200", (300, 200)),
            ("region=0,0,1280,800", SCREEN),
            ("region=1279,799,1,1", (1, 1)),
            ("width=640", (640, 400)),
            ("height=200", (320, 200)),
            ("width=640&height=640", (640, 400)),     # fits, keeps the aspect
            ("width=2000&height=300", (480, 300)),
            ("region=0,0,400,100&width=200", (200, 50)),
        ]
        for q, size in cases:
            with self.subTest(q):
                self.assertEqual(png_size(self.shot(sb, q).body), size)
                self.assertEqual(jpeg_size(self.shot(sb, q + "&format=jpeg").body), size)
        for q in ("region=1200,0,100,10", "region=0,0,0,10", "region=1,2,3", "x=1&y=2",
                  "format=gif", "quality=0", "quality=101", "width=0", "width=abc",
                  "x=0&y=0&w=10&h=900"):
            with self.subTest(bad=q):
                r = self.shot(sb, q, status=400)
                self.assertIn(b"bad_request", r.body)

    def test_etag_and_304(self):
        sb = self.sandbox()
        self.start_logger(sb)
        tag = self.stable_etag(sb)
        self.assertTrue(tag.startswith('"') and tag.endswith('"'), tag)
        r = self.shot(sb, headers={"If-None-Match": tag}, status=304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("etag"), tag)
        self.shot(sb, headers={"If-None-Match": "W/" + tag}, status=304)
        # Another variant of the same screen has another tag.
        self.shot(sb, "format=jpeg", headers={"If-None-Match": tag}, status=200)
        self.shot(sb, "region=0,0,10,10", headers={"If-None-Match": tag}, status=200)
        self.shot(sb, headers={"If-None-Match": '"nope"'}, status=200)
        # Moving the pointer alone does not change the picture (no cursor).
        self.results(sb, {"action": "mouse_move", "coordinate": [700, 300]})
        self.shot(sb, headers={"If-None-Match": tag}, status=304)
        # Drawing does: the probe paints where it is clicked.
        self.results(sb, {"action": "left_click", "coordinate": [640, 400]})
        self.wait_events(sb, lambda ls: "painted" in ls)
        r = wait_until(lambda: (lambda x: x if x.status == 200 else None)(
            self.server.request("GET", self.path(sb, "screenshot"),
                                headers={"If-None-Match": tag}, raw=True)), 5, 0.05)
        self.assertIsNotNone(r, "the screen changed but the screenshot still answers 304")
        self.assertNotEqual(r.headers["etag"], tag)
        self.assertTrue(is_red(pixel(png_decode(r.body), 640, 400)))
        self.shot(sb, headers={"If-None-Match": r.headers["etag"]}, status=304)

    def test_action_screenshot_and_zoom(self):
        sb = self.sandbox()
        self.start_logger(sb)
        self.results(sb, {"action": "left_click", "coordinate": [200, 100]})
        self.wait_events(sb, lambda ls: "painted" in ls)

        res = self.actions(sb, {"actions": [{"action": "screenshot"}, {"type": "screenshot"}],
                                "scale_to": {"width": 640, "height": 400}})["results"]
        for one in res:
            self.assertEqual(one["image"]["media_type"], "image/png")
            data = base64.b64decode(one["image"]["data"], validate=True)
            self.assertEqual(png_size(data), (640, 400))
            self.assertEqual((one["width"], one["height"]), (640, 400))
        res = self.actions(sb, {"actions": [{"action": "screenshot"}], "format": "jpeg",
                                "quality": 50})["results"]
        self.assertEqual(res[0]["image"]["media_type"], "image/jpeg")
        self.assertEqual(jpeg_size(base64.b64decode(res[0]["image"]["data"])), SCREEN)

        res = self.results(sb, {"action": "zoom", "region": [150, 50, 470, 250]})
        img = png_decode(base64.b64decode(res[0]["image"]["data"]))
        self.assertEqual(img[:2], (320, 200))
        self.assertTrue(is_red(pixel(img, 50, 50)), pixel(img, 50, 50))
        self.assertEqual(pixel(img, 10, 10), (255, 255, 255))

        # zoom through scale_to: the region is in the model's pixels.
        res = self.actions(sb, {"actions": [{"action": "zoom", "region": [75, 25, 235, 125]}],
                                "scale_to": {"width": 640, "height": 400}})["results"]
        img = png_decode(base64.b64decode(res[0]["image"]["data"]))
        self.assertTrue(is_red(pixel(img, img[0] * 50 // 320, img[1] * 50 // 200)),
                        "zoom through scale_to shows the wrong place (%dx%d)" % img[:2])

        # wait answers with a screenshot after its duration.
        res = self.results(sb, {"action": "wait", "duration": 0.1})
        self.assertEqual(png_size(base64.b64decode(res[0]["image"]["data"])), SCREEN)

    def test_cursor_in_screenshot(self):
        sb = self.sandbox()
        self.results(sb, {"action": "mouse_move", "coordinate": [400, 300]})
        plain = png_decode(self.shot(sb, "region=390,290,40,40").body)
        withc = png_decode(self.shot(sb, "region=390,290,40,40&cursor=1").body)
        self.assertEqual(plain[:2], withc[:2])
        self.assertNotEqual(plain[3], withc[3], "cursor=1 drew no cursor")

    def test_repeated_shots_follow_the_screen(self):
        """The agent answers a shot of an unchanged screen from its last
        encoding: the same bytes while nothing changed, never an old
        picture once the screen, the pointer (cursor=1) or the asked
        variant changed."""
        sb = self.sandbox()
        self.start_logger(sb)
        tag = self.stable_etag(sb)
        a, b = self.shot(sb), self.shot(sb)
        self.assertEqual(a.headers["etag"], tag)
        self.assertEqual((a.body, b.headers["etag"]), (b.body, tag))
        self.assertEqual(png_size(self.shot(sb, "width=640&height=400").body), (640, 400))
        self.assertEqual(png_size(self.shot(sb).body), SCREEN)

        self.results(sb, {"action": "mouse_move", "coordinate": [400, 300]})
        self.shot(sb, "cursor=1")
        at_a = png_decode(self.shot(sb, "cursor=1").body)
        self.results(sb, {"action": "mouse_move", "coordinate": [900, 600]})
        at_b = png_decode(self.shot(sb, "cursor=1").body)
        plain = png_decode(self.shot(sb).body)
        def around(img, x, y):
            return [img[3][r][(x - 20) * img[2]:(x + 20) * img[2]] for r in range(y - 20, y + 20)]
        self.assertNotEqual(around(at_a, 400, 300), around(plain, 400, 300), "cursor=1 drew no cursor")
        self.assertEqual(around(at_b, 400, 300), around(plain, 400, 300),
                         "the cursor stayed where it was in a repeated shot")
        self.assertNotEqual(around(at_b, 900, 600), around(plain, 900, 600), "no cursor at its new place")

        self.results(sb, {"action": "left_click", "coordinate": [640, 400]})
        self.wait_events(sb, lambda ls: "painted" in ls)
        img = wait_until(lambda: (lambda i: i if is_red(pixel(i, 640, 400)) else None)(
            png_decode(self.shot(sb).body)), 5, 0.05)
        self.assertIsNotNone(img, "a repeated shot kept showing the screen before the paint")


# ---------------------------------------------------------------- display, clipboard, windows

class TestDisplayClipboardWindows(DesktopCase):

    def test_clipboard_round_trip(self):
        sb = self.sandbox()
        p = self.path(sb, "clipboard")
        self.server.expect(200, "PUT", p, {"text": UNICODE})
        self.assertEqual(self.server.expect(200, "GET", p).body, {"text": UNICODE})
        # An X client in the sandbox reads the same bytes from CLIPBOARD.
        self.install_probe(sb)
        self.sh(sb, "%s --get /tmp/clip" % PROBE, timeout_ms=20000)
        self.assertEqual(self.file_or_none(sb, "/tmp/clip"), UNICODE.encode())
        # Raw text body.
        raw = "raw \u00fcml\u00e4ut\nline 2\t\u2603"
        self.server.expect(200, "PUT", p, raw.encode(), headers={"Content-Type": "text/plain"})
        self.assertEqual(self.server.expect(200, "GET", p).body["text"], raw)
        # What an app puts in CLIPBOARD is what GET answers.
        owned = "from an app: \u4e16\u754c \U0001F642"
        self.sh(sb, "%s --own '%s' /tmp/own </dev/null >/dev/null 2>&1 &" % (PROBE, owned))
        self.assertIn(b"owned", self.wait_file(sb, "/tmp/own", lambda b: b"owned" in b) or b"")
        self.assertEqual(self.server.expect(200, "GET", p).body["text"], owned)
        self.sh(sb, "pkill -x xevlog; true")
        # Wrong types.
        r = self.server.request("PUT", p, {"text": 5})
        self.assertError(r, 400, "bad_request")

    def test_large_agent_calls_are_answered(self):
        # deskboxd and the agent share one size limit (include/agentproto.h):
        # calls over a datagram go as a memfd body, so each of these is
        # answered (once, 170 KB actions and 200 KB clipboards never were).
        sb = self.sandbox()
        p = self.path(sb, "clipboard")
        for kb in (150, 170, 200, 300):
            with self.subTest(kb=kb):
                text = "%d KiB of clipboard \u2603 " % kb
                text += "x" * (kb * 1024 - len(text.encode()))
                self.server.expect(200, "PUT", p, {"text": text}, timeout=30)
                self.assertEqual(self.server.expect(200, "GET", p, timeout=30).body["text"], text)
                # An action batch of that size (a long text to type).
                out = self.actions(sb, [{"action": "key", "text": "shift"},
                                        {"action": "type", "text": "a" * (kb * 1024)}])
                self.assertEqual(len(out["results"]), 2)

    def test_resize(self):
        sb = self.sandbox()
        d = self.path(sb, "display")
        got = self.server.expect(200, "GET", d).body
        self.assertEqual((got["width"], got["height"]), SCREEN)
        self.assertEqual((got["max_width"], got["max_height"]), (1920, 1080))
        self.assertIn("1280x800 pixels", self.sh(sb, "xdpyinfo"))
        body = self.server.expect(200, "PUT", d, {"width": 1024, "height": 768}).body
        self.assertEqual((body["width"], body["height"]), (1024, 768))
        got = self.server.expect(200, "GET", d).body
        self.assertEqual((got["width"], got["height"]), (1024, 768))
        self.assertEqual(png_size(self.shot(sb).body), (1024, 768))
        self.assertEqual(jpeg_size(self.shot(sb, "format=jpeg").body), (1024, 768))
        self.assertIn("1024x768 pixels", self.sh(sb, "xdpyinfo"))
        ok = wait_until(lambda: self.server.get(sb["id"]).get("display") ==
                        {"width": 1024, "height": 768}, 5)
        self.assertTrue(ok, "sandbox object still says %r" % self.server.get(sb["id"]).get("display"))
        # Clicks follow the new size: the last pixel is fine, one more is not.
        self.results(sb, {"action": "left_click", "coordinate": [1023, 767]})
        self.actions(sb, {"action": "left_click", "coordinate": [1024, 10]}, status=400)
        # Up to the maximum, and no further.
        self.server.expect(200, "PUT", d, {"width": 1920, "height": 1080})
        self.assertEqual(png_size(self.shot(sb).body), (1920, 1080))
        for bad in ({"width": 1921, "height": 1080}, {"width": 1920, "height": 1081},
                    {"width": 5000, "height": 5000}, {"width": 0, "height": 600},
                    {"width": "800", "height": 600}, {"width": 800}):
            with self.subTest(bad=bad):
                self.assertError(self.server.request("PUT", d, bad), 400)
        self.assertEqual(png_size(self.shot(sb).body), (1920, 1080))

    def test_create_sizes(self):
        sb = self.sandbox(desktop={"width": 800, "height": 600})
        self.assertEqual(sb["display"], {"width": 800, "height": 600})
        self.assertEqual(png_size(self.shot(sb).body), (800, 600))
        big = self.sandbox(desktop={"width": 1920, "height": 1080})
        self.assertEqual(png_size(self.shot(big).body), (1920, 1080))
        for bad in ({"width": 5000, "height": 5000}, {"width": 1921, "height": 1080},
                    {"width": 0, "height": 600}, {"width": "x", "height": 600}, "yes", 5):
            with self.subTest(bad=bad):
                r = self.server.request("POST", API, {"desktop": bad})
                self.assertError(r, 400, "bad_request")
        for bad in ({"apps": "xterm"}, {"apps": [5]}, {"apps": []}, {"gl": "yes"}, {"gl": 1}):
            with self.subTest(bad=bad):
                r = self.server.request("POST", API, bad)
                if r.status == 201:
                    self.delete_checked(r.body["id"])
                self.assertError(r, 400, "bad_request")

    def test_windows_lists_xterm(self):
        sb = self.sandbox(apps=["xterm -T first-term", "xterm"])
        win = self.wait_window(sb, "first-term")
        self.wait_window(sb, "xterm")
        for key in ("id", "title", "x", "y", "width", "height", "pid", "focused"):
            self.assertIn(key, win)
        self.assertGreater(win["width"], 50)
        self.assertGreater(win["height"], 50)
        # Apps run as the sandbox user, like exec.
        self.assertEqual(set(self.sh(sb, "ps -o user= -C xterm").split()), {"user"})
        # focus_window by title.
        res = self.results(sb, {"action": "focus_window", "title": "first-term"})
        self.assertEqual(res[0]["window"], win["id"])
        body = self.actions(sb, {"action": "focus_window", "title": "no such window"}, status=404)
        self.assertEqual(body["error"]["index"], 0)

    def test_gl_option(self):
        plain = self.sandbox()
        self.assertNotIn("GLX", self.sh(plain, "xdpyinfo -queryExtensions"))
        gl = self.sandbox(gl=True)
        self.assertIn("GLX", self.sh(gl, "xdpyinfo -queryExtensions"))
        self.assertEqual(png_size(self.shot(gl).body), SCREEN)

    def test_exec_sees_the_display(self):
        sb = self.sandbox()
        env = self.sh(sb, "echo $DISPLAY $XAUTHORITY")
        self.assertEqual(env.split(), [":0", "/home/user/.Xauthority"])
        self.assertIn("dimensions:    1280x800", self.sh(sb, "xdpyinfo"))


# ---------------------------------------------------------------- isolation

class TestTwoSandboxes(DesktopCase):

    def test_input_never_crosses(self):
        a, b = self.sandbox(), self.sandbox()
        self.start_logger(a)
        self.start_logger(b)
        tag_b = self.stable_etag(b)
        self.results(a, [{"action": "left_click", "coordinate": [100, 100]},
                         {"action": "type", "text": "secret"},
                         {"action": "key", "text": "ctrl+shift+a"},
                         {"type": "click", "x": 200, "y": 200, "button": "right"},
                         {"action": "scroll", "coordinate": [300, 300],
                          "scroll_direction": "down", "scroll_amount": 1}])
        got_a = self.wait_events(a, lambda ls: len(self.buttons(ls)) >= 3 and
                                 len(self.key_presses(ls)) >= 7)
        self.assertEqual(self.buttons(got_a), [(1, 100, 100), (3, 200, 200), (5, 300, 300)])
        self.shot(b, headers={"If-None-Match": tag_b}, status=304)
        self.shot(a, headers={"If-None-Match": tag_b}, status=200)
        # A's actions were answered after their events reached an X server;
        # a sentinel key sent to B now would arrive after anything of A's
        # that reached B's server. Only the sentinel may be there.
        self.results(b, {"action": "key", "text": "z"})
        got_b = self.wait_events(b, lambda ls: "key release z state=0" in ls)
        self.assertEqual(got_b, ["mapped", "key press z state=0", "key release z state=0"])
        # Clipboards are separate, too.
        self.server.expect(200, "PUT", self.path(a, "clipboard"), {"text": "only in a"})
        r = self.server.request("GET", self.path(b, "clipboard"))
        self.assertFalse(r.status == 200 and r.body.get("text") == "only in a", r.body)


# ---------------------------------------------------------------- failure and restart

class TestDesktopFailure(DesktopCase):

    def test_xvfb_killed_then_restart(self):
        sb = self.sandbox(apps=["xterm"])
        self.wait_window(sb, "xterm")
        self.server.put_file(sb["id"], "/home/user/keep.txt", b"still here\n")
        self.sh(sb, "echo more > /tmp/keep2")
        self.run_cmd(sb, "pkill -x Xvfb")
        failed = wait_until(lambda: self.desktop_state(sb).get("state") == "failed", 15)
        st = self.server.get(sb["id"])
        self.assertTrue(failed, "desktop state after Xvfb died: %r" % st.get("desktop"))
        self.assertEqual(st["state"], "running")       # the sandbox lives on
        self.assertIsInstance(st["desktop"].get("error"), str)
        self.assertTrue(st["desktop"]["error"])
        r = self.shot(sb, status=409)
        self.assertIn(b"desktop_not_running", r.body)
        r = self.server.request("POST", self.path(sb, "actions"),
                                {"action": "left_click", "coordinate": [1, 1]})
        self.assertError(r, 409, "desktop_not_running")
        self.assertError(self.server.request("GET", self.path(sb, "windows")), 409)
        self.assertEqual(self.sh(sb, "echo alive"), "alive\n")   # exec still works

        r = self.server.request("POST", self.path(sb, "desktop/restart"), timeout=60)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["desktop"]["state"], "running", r.body)
        self.assertEqual(png_size(self.shot(sb).body), SCREEN)
        self.results(sb, {"action": "left_click", "coordinate": [5, 5]})
        self.assertEqual(self.get_file(sb, "/home/user/keep.txt"), b"still here\n")
        self.assertEqual(self.sh(sb, "cat /tmp/keep2"), "more\n")
        self.assertEqual(self.sh(sb, "pgrep -c -x Xvfb").strip(), "1")

    def get_file(self, sb, path):
        return self.server.get_file(sb["id"], path)

    def test_restart_while_running(self):
        sb = self.sandbox()
        before = self.sh(sb, "pgrep -x Xvfb").strip()
        r = self.server.request("POST", self.path(sb, "desktop/restart"), timeout=60)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(png_size(self.shot(sb).body), SCREEN)
        after = self.sh(sb, "pgrep -x Xvfb").strip()
        self.assertTrue(after and after != before, "Xvfb %r -> %r" % (before, after))

    def test_restart_without_desktop(self):
        sb = self.sandbox(desktop=False)
        r = self.server.request("POST", self.path(sb, "desktop/restart"))
        self.assertError(r, 409, "no_desktop")


# ---------------------------------------------------------------- error paths

class TestCreateTimeline(ServerTestCase):
    """--log-level debug: each create's steps with their offsets, in order
    (docs/operating.md reads them)."""
    server_options = {"log_level": "debug"}

    def test_timeline_in_the_log(self):
        sb = self.sandbox(wm=False, apps=["xterm"])
        self.server.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
        steps = ["cgroups", "clone", "init ready", "agent spawn", "agent exec", "Xvfb exec",
                 "X ready", "X connected", "agent ready", "ready read", "answered"]
        line = wait_until(lambda: next((ln for ln in self.server.log_text().splitlines()
                                        if sb["id"] + " timeline (ms" in ln), None), 10)
        self.assertTrue(line, self.server.log_tail())
        got = [(float(m.group(1)), m.group(2)) for m in
               re.finditer(r"\+([\d.]+) ([A-Za-z ]+?)(?:,|$)", line.split(":", 3)[-1])]
        self.assertEqual([n for _, n in got], steps, line)
        self.assertEqual([t for t, _ in got], sorted(t for t, _ in got), line)
        for later in ("apps started", "first screenshot"):
            self.assertTrue(wait_until(lambda: re.search(
                r"%s timeline: \+[\d.]+ ms %s" % (sb["id"], later), self.server.log_text()), 10),
                later)


class TestErrors(DesktopCase):

    def test_bad_actions(self):
        sb = self.sandbox()
        cases = [
            ({"action": "bogus"}, 0),
            ([{"action": "mouse_move", "coordinate": [1, 1]}, {"action": "frobnicate"}], 1),
            ({"type": "bogus"}, 0),
            ({"action": 5}, 0),
            ({"coordinate": [1, 1]}, 0),
            ([{"action": "type"}], 0),
            ([{"action": "type", "text": 5}], 0),
            ([{"action": "type", "text": "a\u0007b"}], 0),
            ([{"action": "key"}], 0),
            ([{"action": "key", "text": "ctrl+nosuchkey"}], 0),
            ([{"action": "key", "text": ""}], 0),
            ([{"action": "left_click", "coordinate": "here"}], 0),
            ([{"action": "left_click", "coordinate": [1]}], 0),
            ([{"action": "left_click", "coordinate": [-1, 5]}], 0),
            ([{"action": "mouse_move"}], 0),
            ([{"action": "mouse_move", "coordinate": [1, 1]},
              {"action": "left_click_drag", "start_coordinate": [5, 5]}], 1),
            ([{"action": "scroll", "coordinate": [1, 1], "scroll_direction": "sideways"}], 0),
            ([{"action": "scroll", "coordinate": [1, 1]}], 0),
            ([{"action": "hold_key", "text": "shift"}], 0),
            ([{"action": "wait", "duration": "long"}], 0),
            ([{"action": "zoom", "region": [10, 10, 5, 5]}], 0),
            ([{"action": "zoom"}], 0),
            ([{"type": "click"}], 0),
            ([{"type": "click", "x": "1", "y": 2}], 0),
            ([{"type": "click", "x": 1, "y": 2, "button": "fourth"}], 0),
            ([{"type": "keypress", "keys": "CTRL"}], 0),
            ([{"type": "keypress", "keys": []}], 0),
            ([{"type": "drag", "path": [{"x": 1, "y": 1}]}], 0),
            ([{"action": "mouse_move", "coordinate": [1, 1]}, 7], 1),
        ]
        for body, index in cases:
            with self.subTest(body=body):
                r = self.server.request("POST", self.path(sb, "actions"), body)
                self.assertError(r, 400, "bad_request")
                self.assertEqual(r.body["error"].get("index"), index, r.body)
        # Run-time refusals (off the screen) also name the action.
        r = self.server.request("POST", self.path(sb, "actions"),
                                [{"action": "mouse_move", "coordinate": [1, 1]},
                                 {"action": "left_click", "coordinate": [1280, 10]}])
        self.assertError(r, 400, "bad_request")
        self.assertEqual(r.body["error"].get("index"), 1, r.body)
        # Whole-request problems.
        for body in ([], {"actions": "x"}, {"actions": []},
                     {"actions": [{"action": "screenshot"}], "scale_to": {"width": 10}},
                     {"actions": [{"action": "screenshot"}], "format": "gif"}):
            with self.subTest(body=body):
                self.assertError(self.server.request("POST", self.path(sb, "actions"), body),
                                 400, "bad_request")
        for raw in (b"not json", b"", b"42", b'"text"'):
            with self.subTest(raw=raw):
                r = self.server.request("POST", self.path(sb, "actions"), raw)
                self.assertError(r, 400, "bad_json")
        # The desktop is still fine.
        self.assertEqual(png_size(self.shot(sb).body), SCREEN)

    def test_desktopless_sandbox(self):
        sb = self.sandbox(desktop=False)
        self.assertIs(sb.get("desktop"), False)
        for method, tail, body in (("GET", "screenshot", None),
                                   ("POST", "actions", {"action": "screenshot"}),
                                   ("GET", "clipboard", None), ("GET", "display", None),
                                   ("GET", "windows", None)):
            with self.subTest(tail):
                r = self.server.request(method, self.path(sb, tail), body)
                self.assertError(r, 409, "no_desktop")
        self.assertEqual(self.sh(sb, "echo ${DISPLAY:-none}"), "none\n")

    def test_unknown_sandbox_and_auth(self):
        for tail in ("screenshot", "windows", "display", "clipboard"):
            with self.subTest(tail):
                r = self.server.request("GET", "%s/%s/%s" % (API, "0" * 32, tail))
                self.assertError(r, 404, "not_found")
        sb = self.sandbox()
        r = self.server.request("GET", self.path(sb, "screenshot"), token=None)
        self.assertEqual(r.status, 401)
        r = self.server.request("GET", self.path(sb, "screenshot"), token="wrong")
        self.assertEqual(r.status, 401)
        r = self.server.request("POST", self.path(sb, "actions"),
                                {"action": "left_click", "coordinate": [1, 1]}, token=None)
        self.assertEqual(r.status, 401)


if __name__ == "__main__":
    unittest.main()
