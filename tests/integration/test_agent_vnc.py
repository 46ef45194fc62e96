"""test_agent_vnc.py - the desktop agent's VNC server, standalone.

Runs the real agent (deskbox-desktop) outside any jail against its own real
Xvfb with a socketpair as its fd 3, the way test_agent_standalone.py does,
and attaches VNC viewers the way deskboxd does: vnc.attach with one end of
a stream socketpair passed beside the request. The viewer is rfbclient.py,
a small RFB 3.8 client, and, when it is installed, TigerVNC's
xtigervncviewer on a second Xvfb (through a TCP relay in the test).

Checks: ServerInit (size, BGRX format, name); a full update equals a
screenshot; drawing in X arrives as an incremental update covering it;
pointer and keys from a viewer reach X (xevlog.c logs them), non-US
keysyms included; where the pointer is, whoever moved it (PointerPos, or
the cursor painted into the pixels of a viewer that takes no cursor
shapes); a view-only viewer changes nothing; the clipboard both ways in
UTF-8 (extended clipboard, also as noVNC negotiates it: caps with Notify,
Notify answered by Request, CRLF line ends) and Latin-1; resizes (display.set and a
viewer's SetDesktopSize) reach viewers as DesktopSize/ExtendedDesktopSize;
several viewers at once; a viewer that stops reading is dropped without
stalling the others or the channel; no CPU while idle with a viewer; 1000
attach/detach cycles leave the agent's descriptors and RSS where they were;
an agent whose libvncserver.so.1 cannot be loaded (hidden in a mount
namespace of its own) fails attaches with an error naming it and serves
on.
Third-party viewers: TigerVNC (the desktop shown, the clipboard both ways)
and gtk-vnc's gvnccapture (the cursor painted where the pointer is).

    /usr/bin/python3 -m unittest tests/integration/test_agent_vnc.py -v

DESKBOX_BUILD picks the build directory. Everything started is killed and
every temporary file removed, whatever the outcome.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from rfbclient import (CLIP_NOTIFY, COPYRECT, DESKTOP_SIZE, EXT_CLIPBOARD, EXT_DESKTOP_SIZE,
                       LAST_RECT, POINTER_POS, RAW, RICH_CURSOR, RFBClient)
from deskbox import cpu_ticks, fd_count, rss_kib, sanitized
from test_agent_standalone import Agent, XClient, build_xevlog, png_decode, read, wait_until

ENC_EXT = (RAW, COPYRECT, RICH_CURSOR, DESKTOP_SIZE, EXT_DESKTOP_SIZE, LAST_RECT, EXT_CLIPBOARD)
TICK = os.sysconf("SC_CLK_TCK")


def attach(agent, view_only=False, sock=None):
    """vnc.attach with the far end of a new stream socketpair (or with
    sock, which is then closed here). Returns (reply message, our end)."""
    mine = None
    if sock is None:
        mine, sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    agent.next_id += 1
    rid = agent.next_id
    body = json.dumps({"id": rid, "method": "vnc.attach", "params": {"view_only": view_only}})
    socket.send_fds(agent.sock, [body.encode()], [sock.fileno()])
    sock.close()
    return agent.reply(rid), mine


def viewer(agent, view_only=False, encodings=ENC_EXT, full=True, reader=True):
    """An attached RFBClient past its handshake (and first full update),
    reading its socket all the time unless reader is false."""
    m, mine = attach(agent, view_only)
    if "result" not in m:
        mine.close()
        raise AssertionError("vnc.attach failed: %r" % m)
    c = RFBClient(mine)
    c.id = m["result"]["client"]
    if reader:
        c.start_reader()
    c.start(encodings, full=full)
    return c


class VncTest(unittest.TestCase):
    """One agent with xevlog over the whole screen, for all tests; each
    test closes its viewers, and the agent must be back to none."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-vnc-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.xevlog = build_xevlog(cls.tmp)
        cls.agent = Agent(cls.tmp)
        cls.addClassCleanup(cls.agent.close)
        cls.evlog = os.path.join(cls.tmp, "events.log")
        cls.xev = None
        cls.addClassCleanup(lambda: cls.xev and cls.xev.stop())

    def setUp(self):
        self.clients = []
        self.addCleanup(self.no_viewers_left)
        # xevlog ends itself after 60 s: one per test.
        if self.xev:
            self.xev.stop()
        mapped = read(self.evlog).count("mapped")
        type(self).xev = XClient([self.xevlog, self.evlog], self.agent.env)
        wait_until(lambda: read(self.evlog).count("mapped") > mapped, what="xevlog window")

    def no_viewers_left(self):
        for c in self.clients:
            c.close()
        wait_until(lambda: self.stats()["clients"] == 0, timeout=5, what="viewers to be gone")
        self.assertIsNone(self.agent.proc.poll(), "the agent is still running")

    def viewer(self, **kw):
        c = viewer(self.agent, **kw)
        self.clients.append(c)
        return c

    def stats(self):
        return self.agent.result("vnc.stats")[0]

    def log_lines(self):
        return read(self.evlog).splitlines()

    def new_lines(self, before, count, what, prefix=("key ", "button ")):
        def got():
            lines = [l for l in self.log_lines()[before:] if l.startswith(prefix)]
            return lines if len(lines) >= count else None
        return wait_until(got, what=what)

    def focus_xevlog(self):
        """Focus xevlog and have it read the keymap once: Xlib loads it at
        the first key and only then listens for keymap changes, so a
        binding made just before could be missed."""
        before = len(self.log_lines())
        self.agent.actions([{"action": "focus_window", "title": "xevlog"},
                            {"action": "key", "text": "shift"}])
        self.new_lines(before, 2, "xevlog to see a first key")

    def click_paint(self, x, y):
        """xevlog paints a red 5x5 square where it is clicked."""
        before = len(self.log_lines())
        self.agent.actions({"action": "left_click", "coordinate": [x, y]})
        self.new_lines(before, 1, "xevlog to paint", prefix=("painted",))

    # -- attach

    def test_attach_checks_its_descriptor(self):
        a = self.agent
        m = a.call("vnc.attach", {"view_only": False})
        self.assertEqual(m["error"]["code"], "bad_request")
        self.assertIn("socket", m["error"]["message"])
        d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(d1.close)
        m, _ = attach(a, sock=d2)
        self.assertEqual(m["error"]["code"], "bad_request")
        r, w = os.pipe()
        os.close(w)
        m, _ = attach(a, sock=_FdOnly(r))
        self.assertEqual(m["error"]["code"], "bad_request")
        s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s1.close)
        a.next_id += 1
        socket.send_fds(a.sock, [json.dumps({"id": a.next_id, "method": "vnc.attach",
                                             "params": {"view_only": "yes"}}).encode()], [s2.fileno()])
        s2.close()
        self.assertEqual(a.reply(a.next_id)["error"]["code"], "bad_request")
        self.assertEqual(s1.recv(10), b"", "a refused socket is closed")
        st = self.stats()
        self.assertEqual(st["clients"], 0)
        self.assertEqual(a.result("display.get")[0]["vnc_clients"], 0)
        # A descriptor passed with another method is closed, not kept.
        fds = fd_count(a.proc.pid)
        s3, s4 = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s3.close)
        a.next_id += 1
        socket.send_fds(a.sock, [json.dumps({"id": a.next_id, "method": "display.get"}).encode()],
                        [s4.fileno()])
        s4.close()
        self.assertIn("result", a.reply(a.next_id))
        self.assertEqual(s3.recv(10), b"")
        self.assertEqual(fd_count(a.proc.pid), fds)

    # -- pixels

    def test_server_init_and_full_update_match_a_screenshot(self):
        self.click_paint(640, 400)
        m, mine = attach(self.agent)
        c = RFBClient(mine)
        self.clients.append(c)
        self.assertIsInstance(m["result"]["client"], int)
        t = time.monotonic()
        w, h, fmt, name = c.handshake()
        self.assertLess(time.monotonic() - t, 5)
        self.assertEqual(c.server_version, b"RFB 003.008\n")
        self.assertEqual((w, h, name), (1280, 800, b"deskbox"))
        bpp, depth, big, true_colour, rmax, gmax, bmax, rs, gs, bs = fmt
        self.assertEqual((bpp, depth, big, rmax, gmax, bmax, rs, gs, bs),
                         (32, 24, 0, 255, 255, 255, 16, 8, 0))
        self.assertTrue(true_colour)
        self.assertEqual(self.agent.result("display.get")[0]["vnc_clients"], 1)
        # No SetPixelFormat: the server's own format comes.
        c.set_encodings((RAW, RICH_CURSOR, LAST_RECT))
        c.request(False)
        u = c.next_update()
        self.assertIn((0, 0, 1280, 800, RAW), u.rects)
        c.settle()
        _, blobs = self.agent.result("screenshot", {"format": "png"})
        sw, sh, rows = png_decode(blobs[0])
        self.assertEqual((sw, sh), (1280, 800))
        got = c.rgb_rows(0, 0, 1280, 800)
        bad = [y for y in range(800) if got[y] != rows[y]]
        self.assertEqual(bad, [], "rows that differ from the screenshot")
        self.assertEqual(c.pixel(640, 400), (255, 0, 0), "the red square is there")
        self.assertEqual(c.pixel(100, 100), (255, 255, 255))
        # The pointer's shape came as a rich cursor.
        c.wait(lambda u: c.cursors, timeout=5)
        cw, ch, _, _, enc = c.cursors[-1]
        self.assertEqual(enc, RICH_CURSOR)
        self.assertTrue(0 < cw <= 64 and 0 < ch <= 64, c.cursors)

    def test_drawing_arrives_as_an_incremental_update(self):
        c = self.viewer()
        self.assertEqual(c.pixel(300, 200), (255, 255, 255))
        c.settle()
        c.request(True)
        self.click_paint(300, 200)
        u = c.wait(lambda u: u and u.covers(300, 200) and u, timeout=5, request=False)
        self.assertEqual(c.pixel(300, 200), (255, 0, 0))
        area = sum(w * h for _, _, w, h, _ in u.pixel_rects())
        self.assertLess(area, 1280 * 800 // 4, "only the changed area is sent: %r" % u.rects)
        # Nothing changes: an incremental request is not answered.
        c.request(True)
        with self.assertRaises(socket.timeout):
            c.next_update(timeout=0.5)

    def test_two_viewers_see_the_same_drawing(self):
        c1, c2 = self.viewer(), self.viewer()
        self.assertEqual(self.stats()["clients"], 2)
        c1.request(True)
        c2.request(True)
        self.click_paint(900, 600)
        for c in (c1, c2):
            c.wait(lambda u: u and u.covers(900, 600), timeout=5, request=False)
            self.assertEqual(c.pixel(900, 600), (255, 0, 0))
        c1.close()
        wait_until(lambda: self.stats()["clients"] == 1, timeout=5, what="one viewer gone")
        c2.request(True)
        self.click_paint(905, 600)
        c2.wait(lambda u: u and u.covers(905, 600), timeout=5, request=False)

    # -- input

    def test_pointer_and_buttons_reach_x(self):
        self.focus_xevlog()
        c = self.viewer()
        c.pointer(123, 456)
        wait_until(lambda: self.agent.result("display.get")[0]["cursor"] == {"x": 123, "y": 456},
                   what="the X pointer to move")
        before = len(self.log_lines())
        c.pointer(200, 150, 1)
        c.pointer(200, 150, 0)
        c.pointer(210, 160, 4)     # right button
        c.pointer(210, 160, 0)
        c.pointer(210, 160, 16)    # wheel down
        c.pointer(210, 160, 0)
        lines = self.new_lines(before, 3, "three button presses")
        self.assertEqual(lines[:3], ["button 1 200 150", "button 3 210 160", "button 5 210 160"])
        # Off-screen coordinates are clamped.
        c.pointer(5000, 5000)
        wait_until(lambda: self.agent.result("display.get")[0]["cursor"] == {"x": 1279, "y": 799},
                   what="the clamped pointer")

    def test_keys_reach_x_including_non_us_keysyms(self):
        self.focus_xevlog()
        c = self.viewer()
        before = len(self.log_lines())
        for ks in (0x61, 0xe9, 0x01004e16, 0xff0d):   # a é 世 Return
            c.tap(ks)
        c.key(0xffe1, True)    # Shift_L held while "B", as a keyboard sends it
        c.tap(0x42)
        c.key(0xffe1, False)
        lines = [l for l in self.new_lines(before, 12, "12 key events") if l.startswith("key press")]
        self.assertEqual([l.split(" state=")[0] for l in lines],
                         ["key press a", "key press eacute", "key press U4E16", "key press Return",
                          "key press Shift_L", "key press b"])
        self.assertTrue(lines[-1].endswith("state=1"), lines[-1])

    def test_viewer_keysyms_get_the_shift_they_need(self):
        # A bare '>' (Shift+. on this keymap) from a viewer that holds no
        # Shift, and a '/' from a viewer holding Shift (German Shift+7) both
        # arrive as those characters; Shift+Tab keeps its Shift.
        self.focus_xevlog()
        c = self.viewer()
        before = len(self.log_lines())
        c.tap(0x3e)                       # greater, no Shift held
        c.key(0xffe1, True)               # Shift_L held ...
        c.tap(0x2f)                       # ... while "slash"
        c.tap(0xff09)                     # ... and Tab
        c.key(0xffe1, False)
        lines = [l for l in self.new_lines(before, 12, "the key events") if l.startswith("key press")]
        # The log names a key by its plain keysym: '>' is period with Shift.
        names = [l.split(" state=")[0] for l in lines]
        self.assertIn("key press period", names)
        self.assertIn("key press slash", names)
        greater = lines[names.index("key press period")]
        slash = lines[names.index("key press slash")]
        self.assertTrue(greater.endswith("state=1"), greater)   # Shift added
        self.assertTrue(slash.endswith("state=0"), slash)       # Shift lifted
        tab = [l for l in lines if l.split(" state=")[0] in ("key press Tab", "key press ISO_Left_Tab")]
        self.assertTrue(tab and tab[-1].endswith("state=1"), lines)

    def test_keys_held_by_a_viewer_that_leaves_are_released(self):
        self.focus_xevlog()
        c = self.viewer()
        before = len(self.log_lines())
        c.key(0xffe3, True)    # Control_L
        self.new_lines(before, 1, "Control_L down")
        c.close()
        lines = self.new_lines(before, 2, "Control_L up")
        self.assertEqual([l.split(" state=")[0] for l in lines[:2]],
                         ["key press Control_L", "key release Control_L"])

    def test_view_only_viewer_changes_nothing(self):
        self.focus_xevlog()
        a = self.agent
        a.result("clipboard.set", {"text": "unchanged"})
        a.actions({"action": "mouse_move", "coordinate": [10, 20]})
        v = self.viewer(view_only=True)
        before = len(self.log_lines())
        v.pointer(500, 500)
        v.pointer(500, 500, 1)
        v.pointer(500, 500, 0)
        v.tap(0x61)
        v.tap(0xe9)
        v.cut_latin1("from a view-only viewer")
        v.wait(lambda u: v.clip_caps, timeout=5, request=False)
        v.cut_utf8("from a view-only viewer")
        v.notify_utf8("from a view-only viewer")
        v.send(struct.pack(">BxHHBx", 251, 800, 600, 1) + struct.pack(">IHHHHI", 0, 0, 0, 800, 600, 0))
        # A normal viewer's event after them shows they were all read.
        n = self.viewer()
        n.pointer(11, 21)
        wait_until(lambda: a.result("display.get")[0]["cursor"] == {"x": 11, "y": 21},
                   what="the normal viewer's pointer")
        self.assertEqual([l for l in self.log_lines()[before:] if l.startswith(("key", "button"))], [])
        self.assertEqual(a.result("clipboard.get")[0], {"text": "unchanged"})
        self.assertEqual(a.result("display.get")[0]["width"], 1280)
        # It still sees the screen.
        self.click_paint(50, 50)
        v.wait(lambda u: u and u.covers(50, 50), timeout=5)
        self.assertEqual(v.clip_requests, 0, "a view-only viewer's Notify is not asked for")
        refused = [r for r in v.resizes if r[2] == EXT_DESKTOP_SIZE and r[3] == 1]
        self.assertTrue(refused and refused[-1][4] == 1, "resize refused as prohibited: %r" % v.resizes)

    # -- clipboard

    def test_clipboard_utf8_both_ways(self):
        a = self.agent
        ext = self.viewer()
        ext.wait(lambda u: ext.clip_caps, timeout=5, request=False)
        legacy = self.viewer(encodings=(RAW, RICH_CURSOR, LAST_RECT))
        # viewer → X, UTF-8 (extended clipboard)
        text = "héllo wörld 🙂 世界\nline 2"
        ext.cut_utf8(text)
        wait_until(lambda: a.result("clipboard.get")[0]["text"] == text, what="UTF-8 paste")
        out = os.path.join(self.tmp, "paste.txt")
        XClient([self.xevlog, "--get", out], a.env).proc.wait(timeout=10)
        self.assertEqual(read(out), text, "another X client pastes it")
        # ... and it goes to the other viewers (Latin-1 for the legacy one).
        legacy.wait_cut("héllo wörld ? ??\nline 2", timeout=5)
        # viewer → X, Latin-1
        legacy.cut_latin1("café ñ")
        wait_until(lambda: a.result("clipboard.get")[0]["text"] == "café ñ", what="Latin-1 paste")
        ext.wait_cut("café ñ", timeout=5)
        # X → viewers: the agent's own clipboard.set ...
        text2 = "ünïcødé ✓ 日本語"
        a.result("clipboard.set", {"text": text2})
        ext.wait_cut(text2, timeout=5)
        legacy.wait_cut("ünïcødé ? ???", timeout=5)
        # ... and another X client taking CLIPBOARD.
        own_log = os.path.join(self.tmp, "own.log")
        text3 = "owned by an X client: ✓ 🙂"
        owner = XClient([self.xevlog, "--own", text3, own_log], a.env)
        self.addCleanup(owner.stop)
        wait_until(lambda: "owned" in read(own_log), what="xevlog owning CLIPBOARD")
        ext.wait_cut(text3, timeout=5)

    def test_clipboard_as_novnc_negotiates_it(self):
        """noVNC sends UTF-8 only when the server's caps have Notify, then
        announces its text with a Notify and provides it when asked; it
        gives 0 as its largest unasked text, so the desktop's text comes
        as Notify, Request, Provide too."""
        a = self.agent
        c = self.viewer()
        c.wait(lambda u: c.clip_caps and c.clip_caps & CLIP_NOTIFY, timeout=5, request=False)
        c.send_clip_caps()
        text = "✓ 日本\nzwei Zeilen"
        c.notify_utf8(text)
        c.wait(lambda u: c.clip_requests, timeout=5, request=False)
        wait_until(lambda: a.result("clipboard.get")[0]["text"] == text, what="the text after the Request")
        a.result("clipboard.set", {"text": "日本 ✓\r\nback"})
        c.wait_cut("日本 ✓\nback", timeout=5)
        # A Notify that arrives in two pieces (the second after the stall
        # guard has ticked twice) is still answered, and the viewer kept.
        for k in range(3):
            c.clip_offer = "split %d ✓" % k
            notify = struct.pack(">Bxxxi", 6, -4) + struct.pack(">I", CLIP_NOTIFY | 1)
            c.send(notify[:6])
            time.sleep(0.12)
            c.send(notify[6:])
            c.wait(lambda u: c.clip_requests == 2 + k, timeout=5, request=False)
            wait_until(lambda: a.result("clipboard.get")[0]["text"] == "split %d ✓" % k,
                       what="the split Notify's text")
        # Encodings sent again (noVNC does, on a quality change): our caps again.
        c.clip_caps = None
        c.set_encodings(ENC_EXT)
        c.wait(lambda u: c.clip_caps and c.clip_caps & CLIP_NOTIFY, timeout=5, request=False)

    # -- pointer

    def screen_box(self, x, y, w, h):
        _, blobs = self.agent.result("screenshot", {"region": {"x": x, "y": y, "w": w, "h": h}})
        return png_decode(blobs[0])[2]

    def cursor_pixels(self, c, x, y):
        """How many pixels of c's framebuffer differ from the screen (which
        has no cursor) in the 64x64 box around (x, y)."""
        x0, y0 = max(0, x - 32), max(0, y - 32)
        mine, real = c.rgb_rows(x0, y0, 64, 64), self.screen_box(x0, y0, 64, 64)
        return sum(a != b for ra, rb in zip(mine, real) for a, b in zip(ra, rb))

    def test_pointer_position_reaches_viewers(self):
        """Where the X pointer is, whoever moved it: PointerPos to a viewer
        that asks for it, the cursor painted there (and only there) for a
        viewer that takes no cursor shapes."""
        a = self.agent
        a.actions({"action": "mouse_move", "coordinate": [700, 500]})
        pos = self.viewer(encodings=ENC_EXT + (POINTER_POS,))
        painted = self.viewer(encodings=(RAW, LAST_RECT))
        pos.wait(lambda u: pos.pointer_pos and pos.pointer_pos[-1] == (700, 500), timeout=5)
        last = None
        for x, y in ((400, 300), (900, 650)):
            a.actions({"action": "mouse_move", "coordinate": [x, y]})
            pos.wait(lambda u: pos.pointer_pos[-1] == (x, y), timeout=5)
            painted.wait(lambda u: self.cursor_pixels(painted, x, y) > 20, timeout=5)
            self.assertEqual(self.cursor_pixels(painted, 0, 0), 0, "no cursor at 0,0")
            if last:
                self.assertEqual(self.cursor_pixels(painted, *last), 0, "none where it was")
            last = (x, y)
        # A viewer's own pointer moves it for everyone.
        painted.pointer(123, 234)
        pos.wait(lambda u: pos.pointer_pos[-1] == (123, 234), timeout=5)
        painted.wait(lambda u: self.cursor_pixels(painted, 123, 234) > 20, timeout=5)

    # -- size

    def test_resize_reaches_viewers(self):
        a = self.agent
        self.addCleanup(lambda: a.result("display.set", {"width": 1280, "height": 800}))
        ext = self.viewer()
        old = self.viewer(encodings=(RAW, DESKTOP_SIZE, LAST_RECT))
        ext.request(True)
        a.result("display.set", {"width": 1024, "height": 768})
        # One viewer at a time: one that has asked for an update must read
        # it, or it is dropped as a viewer that stopped reading.
        for c, enc in ((ext, EXT_DESKTOP_SIZE), (old, DESKTOP_SIZE)):
            c.wait(lambda u: u and (1024, 768, enc) in u.sizes(), timeout=5, request=c is old)
            self.assertEqual((c.width, c.height), (1024, 768))
            c.request(False)
            u = c.wait(lambda u: u and u.pixel_rects() and u, timeout=5, request=False)
            self.assertEqual(u.pixel_rects()[0][:4], (0, 0, 1024, 768))
        # A viewer asks for a size itself (ExtendedDesktopSize).
        ext.send(struct.pack(">BxHHBx", 251, 800, 600, 1) + struct.pack(">IHHHHI", 0, 0, 0, 800, 600, 0))
        ext.wait(lambda u: u and any(s[:2] == (800, 600) for s in u.sizes()), timeout=5)
        self.assertEqual(ext.resizes[-1], (800, 600, EXT_DESKTOP_SIZE, 1, 0))
        d = a.result("display.get")[0]
        self.assertEqual((d["width"], d["height"]), (800, 600))
        old.wait(lambda u: u and (800, 600, DESKTOP_SIZE) in u.sizes(), timeout=5)
        old.wait(lambda u: u and u.pixel_rects(), timeout=5, request=False)
        ext.send(struct.pack(">BxHHBx", 251, 5000, 600, 1) + struct.pack(">IHHHHI", 0, 0, 0, 5000, 600, 0))
        ext.wait(lambda u: ext.resizes[-1][4] != 0, timeout=5)
        self.assertEqual(a.result("display.get")[0]["width"], 800)

    # -- robustness

    def test_a_viewer_that_stops_reading_stalls_nothing(self):
        a = self.agent
        term = XClient(["xterm", "-geometry", "120x45+0+0", "-e", "sh", "-c",
                        "while :; do ls -lR /usr; done"], a.env)
        self.addCleanup(term.stop)
        good = self.viewer()
        m, stuck = attach(a)
        self.addCleanup(stuck.close)
        s = RFBClient(stuck)
        s.handshake()
        s.set_pixel_format_bgrx()
        s.set_encodings()
        stop = threading.Event()

        def pump():   # ask for full updates, never read
            req = struct.pack(">BBHHHH", 3, 0, 0, 0, 1280, 800)
            stuck.settimeout(0.05)
            while not stop.is_set():
                try:
                    stuck.send(req)
                except socket.timeout:
                    pass
                except OSError:
                    return
        t = threading.Thread(target=pump, daemon=True)
        t.start()
        self.addCleanup(t.join, 5)
        self.addCleanup(stop.set)
        self.assertEqual(self.stats()["clients"], 2)
        end = time.monotonic() + 4
        updates, worst_call, dropped_at = 0, 0.0, None
        while time.monotonic() < end:
            good.request(True)
            good.next_update(timeout=3)
            updates += 1
            t0 = time.monotonic()
            n = a.result("vnc.stats")[0]["clients"]
            worst_call = max(worst_call, time.monotonic() - t0)
            if n == 1 and dropped_at is None:
                dropped_at = time.monotonic()
        self.assertIsNotNone(dropped_at, "the viewer that does not read was dropped")
        self.assertGreater(updates, 10)
        self.assertLess(worst_call, 3, "the channel kept answering")
        stop.set()

    def test_idle_viewer_costs_no_cpu(self):
        c = self.viewer()
        c.request(True)
        c2 = self.viewer(view_only=True)
        c2.request(True)
        time.sleep(0.3)
        pid = self.agent.proc.pid
        t0, cpu0 = time.monotonic(), cpu_ticks(pid) / TICK
        time.sleep(2)
        used = cpu_ticks(pid) / TICK - cpu0
        self.assertLess(used, 0.1 * (time.monotonic() - t0), "agent busy while idle: %.2f s" % used)
        self.click_paint(700, 100)
        c.wait(lambda u: u and u.covers(700, 100), timeout=5, request=False)

    def test_attach_detach_1000_times_leaks_nothing(self):
        a = self.agent
        pid = a.proc.pid

        def cycle(i):
            m, mine = attach(a, view_only=bool(i & 1))
            c = RFBClient(mine)
            if i % 10 == 9:      # some go away before the handshake
                c.close()
                return
            c.handshake()
            c.set_pixel_format_bgrx()
            c.set_encodings(ENC_EXT)
            c.request(False, 0, 0, 64, 64)
            c.wait(lambda u: u and u.pixel_rects(), timeout=5, request=False) if i % 3 else None
            c.close()

        for i in range(50):
            cycle(i)
        wait_until(lambda: self.stats()["clients"] == 0, what="warm-up viewers gone")
        fds0, rss0 = fd_count(pid), rss_kib(pid)
        for i in range(1000):
            cycle(i)
        wait_until(lambda: self.stats()["clients"] == 0, what="viewers gone")
        fds1, rss1 = fd_count(pid), rss_kib(pid)
        self.assertEqual(fds1, fds0, "descriptors before and after")
        if not sanitized(pid):   # ASan's quarantine keeps freed memory; LSan checks at exit
            self.assertLess(rss1 - rss0, 2048, "RSS grew from %d to %d KiB" % (rss0, rss1))


class VncEndsTest(unittest.TestCase):
    """The agent ends cleanly with viewers attached."""

    def test_channel_close_with_viewers_attached(self):
        tmp = tempfile.mkdtemp(prefix="deskbox-vnc-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        agent = Agent(tmp, size=(640, 480), max_size=(640, 480))
        self.addCleanup(agent.close)
        c1 = viewer(agent)
        self.addCleanup(c1.close)
        c2 = viewer(agent, view_only=True, reader=False)
        self.addCleanup(c2.close)
        c1.request(True)
        agent.sock.close()
        agent.sock = None
        self.assertEqual(agent.proc.wait(timeout=10), 0)
        for c in (c1, c2):
            with self.assertRaises(EOFError):
                while True:
                    c.read_message(time.monotonic() + 5)


def library_path(soname):
    """The file the dynamic loader maps for soname (loaded by a child)."""
    out = subprocess.run([sys.executable, "-c", "import ctypes; ctypes.CDLL(%r); "
                          "print(open('/proc/self/maps').read())" % soname],
                         capture_output=True, text=True, check=True).stdout
    prefix = soname.split(".so")[0] + ".so"
    for line in out.splitlines():
        path = line.split()[-1]
        if os.path.basename(path).startswith(prefix):
            return path
    raise AssertionError("no %s mapped" % soname)


class VncWithoutTheLibraryTest(unittest.TestCase):
    """An agent whose root has no usable libvncserver.so.1 (an image
    without it): it starts and serves as ever, and an attach fails with an
    error naming the library. The library is hidden from the agent alone,
    in a mount namespace of its own, by /dev/null bound over it."""

    def test_attach_fails_naming_the_library_and_the_agent_serves_on(self):
        tmp = tempfile.mkdtemp(prefix="deskbox-vnc-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        lib = library_path("libvncserver.so.1")
        agent = Agent(tmp, wrap=["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                 'mount --bind /dev/null "$0" && exec "$@"', lib])
        self.addCleanup(agent.close)
        for _ in range(2):   # the second attach tries again, fails the same way
            m, mine = attach(agent)
            mine.close()
            self.assertEqual(m.get("error", {}).get("code"), "internal", m)
            self.assertIn("libvncserver.so.1", m["error"]["message"])
        self.assertEqual(agent.result("vnc.stats")[0]["clients"], 0)
        res, blobs = agent.result("screenshot", {"format": "png"})
        self.assertEqual((res["width"], res["height"]), (1280, 800))
        self.assertIsNone(agent.proc.poll(), "the agent is still running")


class _FdOnly:
    """A bare descriptor that attach() can pass and close."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd

    def close(self):
        os.close(self.fd)


class _TwoAgents(unittest.TestCase):
    """A served agent (with xevlog over its screen) for a third-party
    viewer, and a second agent whose display the viewer runs on. Viewers
    listen nowhere, so a TCP relay in the test accepts the viewer and
    passes the accepted socket itself to vnc.attach."""

    VIEWER = None
    PACKAGE = None

    def setUp(self):
        if not self.VIEWER:
            self.skipTest("the viewer is not installed (Debian: %s)" % self.PACKAGE)
        self.tmp = tempfile.mkdtemp(prefix="deskbox-tiger-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        xevlog = build_xevlog(self.tmp)
        self.served = Agent(os.path.join(self.tmp), size=(800, 600), max_size=(800, 600))
        self.addCleanup(self.served.close)
        os.makedirs(os.path.join(self.tmp, "b"))
        self.screen = Agent(os.path.join(self.tmp, "b"), size=(1024, 768), max_size=(1024, 768))
        self.addCleanup(self.screen.close)
        self.evlog = os.path.join(self.tmp, "events.log")
        xev = XClient([xevlog, self.evlog], self.served.env)
        self.addCleanup(xev.stop)
        wait_until(lambda: "mapped" in read(self.evlog), what="xevlog window")


class TigerVncTest(_TwoAgents):
    """TigerVNC's viewer against the agent, on the second agent's Xvfb,
    whose screenshot shows what the viewer drew."""

    VIEWER = shutil.which("xtigervncviewer")
    PACKAGE = "tigervnc-viewer"

    def viewer_window(self):
        for w in self.screen.result("windows")[0]["windows"]:
            if w["width"] == 800 and w["height"] == 600:
                return w
        return None

    def start_viewer(self):
        """xtigervncviewer on the second display, attached to the served
        agent. Returns its process."""
        lst = socket.socket()
        self.addCleanup(lst.close)
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        lst.settimeout(15)
        port = lst.getsockname()[1]
        log = open(os.path.join(self.tmp, "viewer.log"), "w")
        self.addCleanup(log.close)
        env = dict(self.screen.env, HOME=os.path.join(self.tmp, "b", "home"))
        v = subprocess.Popen([self.VIEWER, "-SecurityTypes", "None", "-Shared",
                              "-geometry", "+0+0", "127.0.0.1::%d" % port],
                             env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        self.addCleanup(lambda: (v.poll() is None and os.killpg(v.pid, signal.SIGKILL), v.wait()))
        conn, _ = lst.accept()
        m, _ = attach(self.served, sock=conn)
        self.assertIn("result", m, m)
        return v

    def test_xtigervncviewer_clipboard_both_ways(self):
        """TigerVNC speaks the extended clipboard too: UTF-8 both ways,
        between the served desktop and the viewer's own display. (It
        takes and offers clipboard text only while its window has the
        focus.)"""
        self.start_viewer()
        wait_until(lambda: self.served.result("vnc.stats")[0]["updates_sent"] > 0, timeout=10,
                   what="a first update to the viewer")
        self.screen.actions({"action": "focus_window", "title": "TigerVNC"})
        text = "café ✓ 日本\nline 2"
        self.served.result("clipboard.set", {"text": text})
        wait_until(lambda: self.screen.result("clipboard.get")[0].get("text") == text, timeout=10,
                   what="the viewer's display to get the text")
        back = "from the viewer's display: ñ ✓ 日本"
        self.screen.result("clipboard.set", {"text": back})
        wait_until(lambda: self.served.result("clipboard.get")[0].get("text") == back, timeout=10,
                   what="the served desktop to get the viewer's text")

    def test_xtigervncviewer_shows_the_desktop(self):
        v = self.start_viewer()
        wait_until(lambda: self.served.result("vnc.stats")[0]["updates_sent"] > 0, timeout=10,
                   what="a first update to the viewer")
        b0 = self.served.result("vnc.stats")[0]["bytes_sent"]
        # Paint in the served desktop; the viewer's window on the other
        # display must show it.
        self.served.actions({"action": "left_click", "coordinate": [100, 100]})

        def shows_red():
            _, blobs = self.screen.result("screenshot", {"region": {"x": 0, "y": 0, "w": 800, "h": 600}})
            _, _, rows = png_decode(blobs[0])
            reds = [(x, y) for y in range(0, 600) for x in range(0, 800, 1)
                    if rows[y][3 * x:3 * x + 3] == b"\xff\x00\x00"]
            return reds
        reds = wait_until(shows_red, timeout=10, step=0.2, what="the viewer to show the red square")
        self.assertEqual(len(reds), 25, "one 5x5 square: %r" % reds[:30])
        # The square is where it was painted, inside the viewer's window.
        win = wait_until(self.viewer_window, what="the viewer's 800x600 window")
        self.assertEqual(min(reds), (win["x"] + 98, win["y"] + 98), win)
        time.sleep(2)
        self.assertIsNone(v.poll(), "the viewer stays connected")
        self.assertGreater(self.served.result("vnc.stats")[0]["bytes_sent"], b0)
        self.assertEqual(self.served.result("vnc.stats")[0]["clients"], 1)



def bmp_decode(data):
    """(width, height, rows) of a 24-bit uncompressed BMP (what gvnccapture
    writes for a .bmp name); rows are bytes of RGB, top first."""
    assert data[:2] == b"BM", "not a BMP"
    off = struct.unpack("<I", data[10:14])[0]
    w, h, _, bpp, comp = struct.unpack("<iiHHI", data[18:34])
    assert (bpp, comp) == (24, 0), "not 24-bit uncompressed"
    stride = (w * 3 + 3) & ~3
    rows = []
    for r in range(abs(h)):
        row = data[off + (abs(h) - 1 - r if h > 0 else r) * stride:][:w * 3]
        rgb = bytearray(w * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[2::3], row[1::3], row[0::3]
        rows.append(bytes(rgb))
    return w, abs(h), rows


class GvncCaptureTest(_TwoAgents):
    """gtk-vnc's gvnccapture takes no cursor shapes: the server paints the
    cursor into what it gets, and it must be where the X pointer is (it
    was at 0,0, or where a VNC viewer last pointed)."""

    VIEWER = shutil.which("gvnccapture")
    PACKAGE = "gvncviewer"

    def capture(self):
        lst = socket.socket()
        self.addCleanup(lst.close)
        for n in range(1, 100):    # it takes a display number: port 5900 + n
            try:
                lst.bind(("127.0.0.1", 5900 + n))
                break
            except OSError:
                continue
        lst.listen(1)
        lst.settimeout(15)
        out = os.path.join(self.tmp, "capture.bmp")
        p = subprocess.Popen([self.VIEWER, "--quiet", "127.0.0.1:%d" % n, out],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(lambda: (p.poll() is None and os.killpg(p.pid, signal.SIGKILL), p.wait(),
                                 p.stdout.close()))
        conn, _ = lst.accept()
        m, _ = attach(self.served, sock=conn)
        self.assertIn("result", m, m)
        self.assertEqual(p.wait(timeout=20), 0, p.stdout.read())
        with open(out, "rb") as f:
            return bmp_decode(f.read())[2]

    def test_the_cursor_is_where_the_pointer_is(self):
        _, blobs = self.served.result("screenshot")
        real = png_decode(blobs[0])[2]       # the screen has no cursor
        for x, y in ((300, 200), (650, 420)):
            self.served.actions({"action": "mouse_move", "coordinate": [x, y]})
            got = self.capture()
            diff = [(i // 3, r) for r, (a, b) in enumerate(zip(got, real))
                    for i in range(0, len(a), 3) if a[i:i + 3] != b[i:i + 3]]
            self.assertGreater(len(diff), 20, "a cursor at %d,%d" % (x, y))
            far = [(px, py) for px, py in diff if abs(px - x) > 40 or abs(py - y) > 40]
            self.assertEqual(far, [], "cursor pixels away from %d,%d" % (x, y))


if __name__ == "__main__":
    unittest.main()
