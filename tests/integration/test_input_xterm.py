"""The action corpus against a real xterm, checked by the bytes it sends.

One xterm per class, in UTF-8 mode, runs `stty raw -echo` and `cat` into a
file inside the sandbox, after asking itself for SGR mouse reports with
button-motion tracking (CSI ?1002h, CSI ?1006h). So every key arrives as the
exact bytes the terminal sends, and every click, wheel notch and drag as
ESC [ < button ; column ; row M (press) / m (release). The test computes the
cell under each coordinate from the window's place and the font's cell
size, and compares bytes exactly.

Modifiers on clicks are left out here: xterm keeps Shift+click and
Ctrl+click for itself (selection, menus); the browser suite checks them.
"""

import time
import unittest

from deskbox import API, ServerTestCase, wait_until

COLS, ROWS = 100, 30
REC = "/tmp/rec"
XTERM = ("xterm -u8 -T rec -geometry %dx%d+0+0 -e sh -c "
         "'stty raw -echo; printf \"\\033[?1002h\\033[?1006h\"; exec cat > %s'"
         % (COLS, ROWS, REC))
BORDER = 2   # xterm's internalBorder


class XtermInputTest(ServerTestCase):
    server_options = {"max_sandboxes": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sb = cls.server.create(apps=[XTERM])
        cls.sid = sb["id"]
        cls.addClassCleanup(cls.server.delete, cls.sid)
        deadline = time.monotonic() + 30
        while True:
            wins = [w for w in cls.server.request("GET", "%s/%s/windows" % (API, cls.sid)).body
                    ["windows"] if w["title"] == "rec"]
            ready = cls.server.exec(cls.sid, cmd="pgrep -x cat")["exit_code"] == 0
            if wins and ready:
                break
            if time.monotonic() > deadline:
                raise AssertionError("the recording xterm never came up")
            time.sleep(0.1)
        w = wins[0]
        cls.win = w
        cls.cw = (w["width"] - 2 * BORDER) // COLS
        cls.ch = (w["height"] - 2 * BORDER) // ROWS
        cls.seen = 0
        # The window manager focused it (new windows get the focus); a
        # click makes sure, and its report is skipped.
        cls.act_cls([{"action": "left_click", "coordinate": list(cls.at(COLS, ROWS))}])
        time.sleep(0.6)
        cls.take_cls(lambda b: b.endswith(b"m"))

    @classmethod
    def at(cls, col, row):
        """Screen pixel at the middle of cell (col, row), 1-based."""
        return (cls.win["x"] + BORDER + (col - 1) * cls.cw + cls.cw // 2,
                cls.win["y"] + BORDER + (row - 1) * cls.ch + cls.ch // 2)

    @classmethod
    def act_cls(cls, body):
        r = cls.server.request("POST", "%s/%s/actions" % (API, cls.sid), body, timeout=120)
        if r.status != 200:
            raise AssertionError("actions %r -> %s %r" % (body, r.status, r.body))

    @classmethod
    def take_cls(cls, done, timeout=10):
        """The bytes xterm sent since the last call, once done(bytes)."""
        deadline, got = time.monotonic() + timeout, b""
        while True:
            data = cls.server.get_file(cls.sid, REC)
            got = data[cls.seen:]
            if done(got) or time.monotonic() > deadline:
                cls.seen = len(data)
                return got
            time.sleep(0.1)

    def take(self, want):
        got = self.take_cls(lambda b: len(b) >= len(want))
        self.assertEqual(got, want)

    def setUp(self):
        super().setUp()
        time.sleep(0.6)   # no click series across tests

    @staticmethod
    def sgr(button, col, row, press=True):
        return b"\x1b[<%d;%d;%d%s" % (button, col, row, b"M" if press else b"m")

    def test_typed_text_bytes(self):
        texts = ["plain ASCII ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
                 "Latin-1 éüßñøå ÀÉÖ", "€ 100", "😀🎉👍", "日本語のテキスト", "한국어",
                 "Нет, спасибо", "mix é€😀日한Н end"]
        body = []
        for t in texts:
            body += [{"action": "type", "text": t}, {"action": "key", "text": "Return"}]
        body.append({"type": "type", "text": "openai Ж\n"})
        self.act_cls(body)
        want = b"".join(t.encode() + b"\r" for t in texts) + "openai Ж\r".encode()
        self.take(want)

    def test_key_chords_and_keypad(self):
        self.act_cls([{"action": "key", "text": "ctrl+a"},
                      {"action": "key", "text": "ctrl+c ctrl+d"},
                      {"action": "key", "text": "Tab"},
                      {"action": "key", "text": "Escape"},
                      {"action": "key", "text": "Up"},
                      {"action": "key", "text": "F1"},
                      {"action": "key", "text": "KP_0 KP_1 KP_5 KP_9 KP_Add KP_Enter"},
                      {"type": "keypress", "keys": ["CTRL", "E"]},
                      {"type": "keypress", "keys": ["KP_7"]},
                      {"action": "key", "text": "shift+a", "repeat": 2}])
        self.take(b"\x01\x03\x04\t\x1b\x1b[A\x1bOP0159+\r\x057AA")

    def test_clicks_and_multi_clicks(self):
        c1, c2, c3 = (10, 3), (50, 10), (80, 20)
        self.act_cls([{"action": "left_click", "coordinate": list(self.at(*c1))},
                      {"action": "right_click", "coordinate": list(self.at(*c2))},
                      {"action": "middle_click", "coordinate": list(self.at(*c3))},
                      {"type": "click", "x": self.at(*c1)[0], "y": self.at(*c1)[1],
                       "button": "right"}])
        self.take(self.sgr(0, *c1) + self.sgr(0, *c1, press=False) +
                  self.sgr(2, *c2) + self.sgr(2, *c2, press=False) +
                  self.sgr(1, *c3) + self.sgr(1, *c3, press=False) +
                  self.sgr(2, *c1) + self.sgr(2, *c1, press=False))
        time.sleep(0.6)
        click = self.sgr(0, *c2) + self.sgr(0, *c2, press=False)
        self.act_cls({"action": "double_click", "coordinate": list(self.at(*c2))})
        self.take(click * 2)
        time.sleep(0.6)
        self.act_cls({"action": "triple_click", "coordinate": list(self.at(*c2))})
        self.take(click * 3)

    def test_wheel(self):
        c = (40, 12)
        x, y = self.at(*c)
        self.act_cls([{"action": "scroll", "coordinate": [x, y], "scroll_direction": "down",
                       "scroll_amount": 2},
                      {"action": "scroll", "coordinate": [x, y], "scroll_direction": "up",
                       "scroll_amount": 1},
                      {"type": "scroll", "x": x, "y": y, "scroll_x": 0, "scroll_y": 300}])
        self.take(self.sgr(65, *c) * 2 + self.sgr(64, *c) + self.sgr(65, *c) * 3)

    def test_drags(self):
        a, b, m = (5, 5), (30, 15), (20, 8)
        path = [(60, 5), (62, 6), (64, 8), (66, 10)]
        self.act_cls([{"action": "left_click_drag", "start_coordinate": list(self.at(*a)),
                       "coordinate": list(self.at(*b))},
                      {"action": "mouse_move", "coordinate": list(self.at(*m))},
                      {"action": "left_click_drag", "coordinate": list(self.at(*a))},
                      {"type": "drag", "path": [{"x": self.at(*p)[0], "y": self.at(*p)[1]}
                                                for p in path]}])
        want = (self.sgr(0, *a) + self.sgr(32, *b) + self.sgr(0, *b, press=False) +
                self.sgr(0, *m) + self.sgr(32, *a) + self.sgr(0, *a, press=False) +
                self.sgr(0, *path[0]) + b"".join(self.sgr(32, *p) for p in path[1:]) +
                self.sgr(0, *path[-1], press=False))
        self.take(want)


if __name__ == "__main__":
    unittest.main()
