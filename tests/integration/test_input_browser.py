"""Input as a real browser receives it: Chromium inside a sandbox gets the
action corpus of both vendors, and each action's DOM effect is checked.

Chromium runs as the sandbox's app (Debian's /usr/bin/chromium wrapper, the
jail's /etc/chromium.d config) in kiosk mode over the whole screen, with
--remote-debugging-port on the sandbox's own loopback. The test reads the
page's event log (input_page.html) from inside the sandbox: cdp.py, with
wsclient.py beside it, is uploaded and run by exec, and speaks DevTools'
Runtime.evaluate. Positions are checked with MouseEvent.screenX/Y, which
are screen pixels whatever the window's place.

What is asserted: mousedown positions and buttons for every click shape,
dblclick and detail for double/triple clicks with the word and the line
they select, modifiers held on clicks and scrolls, wheel directions and
counts, drag paths (press at the start, moves with the button down on the
path, release at the end), typed text exactly (ASCII, Latin-1, currency
signs with the euro, emoji, CJK, Hangul and Cyrillic at the start, middle
and end of a line, 50 runs each, every run's characters new to the keymap
so each run needs a fresh keycode binding), key chords and keypad digits.
Nothing about speed is asserted; every wait is a bounded poll.
"""

import json
import os
import random
import time
import unittest

from deskbox import API, ServerTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 9222
PAGE = "file:///tmp/input_page.html"
CHROMIUM = ("chromium --kiosk --remote-debugging-port=%d --user-data-dir=/tmp/chromium "
            "--disable-gpu --no-default-browser-check --disable-features=Translate "
            "about:blank" % PORT)
RUNS = 50

# DOM MouseEvent.button for X buttons 1, 2, 3, 8, 9.
LEFT, MIDDLE, RIGHT, BACK, FORWARD = 0, 1, 2, 3, 4

# Characters per category; each run draws fresh ones, so each run's first
# character needs a keycode bound just for it.
POOLS = {
    "ascii": [chr(c) for c in range(0x21, 0x7f)],
    "latin1": [chr(c) for c in range(0xc0, 0x100) if c not in (0xd7, 0xf7)],
    "currency": [chr(c) for c in range(0x20a0, 0x20c0)],
    "emoji": [chr(c) for c in range(0x1f600, 0x1f650)],
    "cjk": [chr(c) for c in range(0x4e00, 0x9fa0)],
    "hangul": [chr(c) for c in range(0xac00, 0xd7a4)],
    "cyrillic": [chr(c) for c in range(0x410, 0x450)],
}
# The issue's own examples come first in their category.
FIRST = {"cjk": "日本語", "emoji": "😀🎉👍", "cyrillic": "Н", "currency": "€", "latin1": "é",
         "hangul": "한국어", "ascii": "A"}


def runs_for(category, rnd):
    """3 x RUNS lines: the category's characters at the start, middle and
    end of a line of ASCII words."""
    out = []
    for i in range(RUNS):
        for pos in ("start", "middle", "end"):
            special = FIRST[category] if i == 0 and pos == "start" else \
                "".join(rnd.choice(POOLS[category]) for _ in range(2))
            if category == "currency" and i % 2 == 0:
                special = "€" + special[1:]
            if pos == "start":
                out.append(special + " run %d" % i)
            elif pos == "middle":
                out.append("run %s %d" % (special, i))
            else:
                out.append("run %d %s" % (i, special))
    return out


class BrowserInputTest(ServerTestCase):
    server_options = {"max_sandboxes": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sb = cls.server.create(apps=[CHROMIUM])
        cls.sid = sb["id"]
        cls.addClassCleanup(cls.server.delete, cls.sid)
        for name in ("input_page.html", "cdp.py", "wsclient.py"):
            with open(os.path.join(HERE, name), "rb") as f:
                cls.server.put_file(cls.sid, "/tmp/" + name, f.read())
        deadline = time.monotonic() + 60
        while True:
            r = cls.server.exec(cls.sid, argv=["python3", "/tmp/cdp.py", str(PORT),
                                               "--navigate", PAGE])
            if r["exit_code"] == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError("Chromium's DevTools never answered: %r, apps %r"
                                     % (r, cls.server.get(cls.sid)["desktop"]["apps"]))
            time.sleep(0.5)
        while cls.js_cls("typeof reset") != "function":
            if time.monotonic() > deadline:
                raise AssertionError("the page never loaded")
            time.sleep(0.2)
        # The window is mapped and full screen once a click reaches the page.
        while True:
            cls.act_cls([{"action": "left_click", "coordinate": [640, 600]}])
            time.sleep(0.2)
            if any(e["t"] == "mousedown" for e in cls.js_cls("takeLog()")):
                break
            if time.monotonic() > deadline:
                raise AssertionError("clicks never reached the page")
            time.sleep(0.6)   # not a double click with the next probe

    @classmethod
    def js_cls(cls, expr):
        r = cls.server.exec(cls.sid, argv=["python3", "/tmp/cdp.py", str(PORT), expr],
                            timeout_ms=30000)
        if r["exit_code"] != 0:
            raise AssertionError("cdp.py %r: %r" % (expr, r))
        return json.loads(r["stdout"])

    @classmethod
    def act_cls(cls, body):
        r = cls.server.request("POST", "%s/%s/actions" % (API, cls.sid), body, timeout=300)
        if r.status != 200:
            raise AssertionError("actions %r -> %s %r" % (str(body)[:200], r.status, r.body))
        return r.body["results"]

    def js(self, expr):
        return self.js_cls(expr)

    def act(self, body):
        return self.act_cls(body)

    def setUp(self):
        super().setUp()
        # Clicks of one test must not continue another's click series.
        time.sleep(0.6)
        self.js("reset()")

    def events(self, pred, what, timeout=10.0):
        """The page's events from now until pred(events) holds."""
        got, deadline = [], time.monotonic() + timeout
        while True:
            got += self.js("takeLog()")
            if pred(got):
                return got
            if time.monotonic() > deadline:
                self.fail("%s: events were %s" % (what, json.dumps(got)[:3000]))
            time.sleep(0.1)

    def js_until(self, expr, want, timeout=15.0):
        """Poll expr until it equals want (Chromium handles input after the
        actions call returns, later still on a loaded machine); return the
        last value for the caller to assert on."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.js(expr)
            if got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    @staticmethod
    def of(events, kind):
        return [e for e in events if e["t"] == kind]

    # ------------------------------------------------------------ pointer

    def test_clicks_land_with_their_buttons(self):
        corpus = [
            ({"action": "left_click", "coordinate": [100, 450]}, (100, 450, LEFT)),
            ({"action": "right_click", "coordinate": [300, 500]}, (300, 500, RIGHT)),
            ({"action": "middle_click", "coordinate": [500, 550]}, (500, 550, MIDDLE)),
            ({"action": "mouse_move", "coordinate": [700, 600]}, None),
            ({"action": "left_click"}, (700, 600, LEFT)),        # where the pointer is
            ({"type": "click", "x": 900, "y": 650, "button": "left"}, (900, 650, LEFT)),
            ({"type": "click", "x": 150, "y": 700, "button": "right"}, (150, 700, RIGHT)),
            ({"type": "click", "x": 350, "y": 720, "button": "wheel"}, (350, 720, MIDDLE)),
            ({"type": "click", "x": 550, "y": 740, "button": "back"}, (550, 740, BACK)),
            ({"type": "click", "x": 750, "y": 760, "button": "forward"}, (750, 760, FORWARD)),
            ({"type": "move", "x": 1000, "y": 500}, None),
            ({"action": "left_mouse_down"}, (1000, 500, LEFT)),
            ({"action": "left_mouse_up", "coordinate": [1000, 500]}, None),
        ]
        want = [w for _, w in corpus if w]
        self.act([c for c, _ in corpus])
        ev = self.events(lambda e: len(self.of(e, "mouseup")) >= len(want), "clicks")
        downs = [(e["x"], e["y"], e["b"]) for e in self.of(ev, "mousedown")]
        self.assertEqual(downs, want)
        ups = [(e["x"], e["y"], e["b"]) for e in self.of(ev, "mouseup")]
        self.assertEqual(ups, want)     # each release where and what it pressed
        self.assertEqual(len(self.of(ev, "contextmenu")), 2)
        self.assertTrue(all(e["d"] == 1 for e in self.of(ev, "mousedown")))

    def test_double_click_selects_a_word(self):
        for i, action in enumerate([{"action": "double_click", "coordinate": [80, 15]},
                                    {"type": "double_click", "x": 80, "y": 15}]):
            with self.subTest(action=action):
                if i:
                    time.sleep(0.6)
                    self.js("reset()")
                self.act(action)
                ev = self.events(lambda e: self.of(e, "dblclick"), "dblclick")
                self.assertEqual([e["d"] for e in self.of(ev, "mousedown")], [1, 2])
                self.assertEqual([(e["x"], e["y"]) for e in self.of(ev, "dblclick")], [(80, 15)])
                self.assertEqual(self.js_until("selected()", "beta"), "beta")

    def test_triple_click_selects_a_line(self):
        self.act({"action": "triple_click", "coordinate": [200, 45]})
        ev = self.events(lambda e: len(self.of(e, "mouseup")) == 3, "triple click")
        self.assertEqual([e["d"] for e in self.of(ev, "mousedown")], [1, 2, 3])
        got = self.js_until("selected().replace(/\\n$/, '')", "second line here")
        self.assertEqual(got, "second line here")

    def test_modifiers_held_on_clicks_and_scrolls(self):
        corpus = [
            ({"action": "left_click", "coordinate": [100, 500], "text": "shift"}, "S"),
            ({"action": "left_click", "coordinate": [200, 500], "key": "ctrl"}, "C"),
            ({"action": "right_click", "coordinate": [300, 500], "key": "alt"}, "A"),
            ({"action": "left_click", "coordinate": [400, 500], "key": "ctrl+shift"}, "SC"),
            ({"type": "click", "x": 500, "y": 500, "button": "left", "keys": ["CTRL"]}, "C"),
            ({"type": "click", "x": 600, "y": 500, "button": "left", "keys": ["SHIFT", "ALT"]}, "SA"),
            ({"action": "left_click", "coordinate": [700, 500]}, ""),
        ]
        self.act([c for c, _ in corpus])
        ev = self.events(lambda e: len(self.of(e, "mouseup")) >= len(corpus), "modified clicks")
        self.assertEqual([e["m"] for e in self.of(ev, "mousedown")], [m for _, m in corpus])
        time.sleep(0.6)
        self.act([{"action": "scroll", "coordinate": [640, 600], "scroll_direction": "down",
                   "scroll_amount": 2, "text": "shift"},
                  {"type": "scroll", "x": 640, "y": 600, "scroll_x": 0, "scroll_y": -100,
                   "keys": ["CTRL"]}])
        ev = self.events(lambda e: any(w["dy"] < 0 for w in self.of(e, "wheel")), "modified wheel")
        self.assertEqual({(w["dy"] > 0, w["m"]) for w in self.of(ev, "wheel")},
                         {(True, "S"), (False, "C")})

    def wheel_total(self, action, what):
        """Act, then sum the page's wheel deltas until they stop changing:
        Chromium coalesces wheel events that arrive together, so the sum,
        not the number of events, is what a scroll did."""
        self.act(action)
        got, last, deadline = [], None, time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.3)
            got += self.of(self.js("takeLog()"), "wheel")
            total = (sum(w["dx"] for w in got), sum(w["dy"] for w in got))
            if got and total == last:
                return total, got
            last = total
        self.fail("%s: wheel events never settled: %r" % (what, got))

    def test_wheel_directions_and_amounts(self):
        (_, notch), ev = self.wheel_total({"action": "scroll", "coordinate": [300, 600],
                                           "scroll_direction": "down", "scroll_amount": 1},
                                          "one notch")
        self.assertGreater(notch, 0)
        self.assertEqual((ev[0]["x"], ev[0]["y"]), (300, 600))
        corpus = [
            ({"action": "scroll", "coordinate": [300, 600], "scroll_direction": "down",
              "scroll_amount": 3}, (0, 3)),
            ({"action": "scroll", "coordinate": [300, 600], "scroll_direction": "up",
              "scroll_amount": 2}, (0, -2)),
            ({"action": "scroll", "coordinate": [400, 620], "scroll_direction": "right",
              "scroll_amount": 1}, (1, 0)),
            ({"action": "scroll", "coordinate": [400, 620], "scroll_direction": "left",
              "scroll_amount": 2}, (-2, 0)),
            ({"type": "scroll", "x": 500, "y": 650, "scroll_x": 0, "scroll_y": 200}, (0, 2)),
            ({"type": "scroll", "x": 500, "y": 650, "scroll_x": -100, "scroll_y": 0}, (-1, 0)),
        ]
        for action, (nx, ny) in corpus:
            with self.subTest(action=action):
                (dx, dy), ev = self.wheel_total(action, str(action))
                self.assertAlmostEqual(dx, nx * notch, delta=0.5)
                self.assertAlmostEqual(dy, ny * notch, delta=0.5)
                where = (action.get("coordinate") or [action.get("x"), action.get("y")])
                self.assertEqual({(w["x"], w["y"]) for w in ev}, {tuple(where)})

    def test_drag_paths(self):
        path = [(400, 450), (450, 500), (500, 550), (560, 620)]
        corpus = [
            ({"action": "left_click_drag", "start_coordinate": [100, 420],
              "coordinate": [300, 700]}, [(100, 420), (300, 700)]),
            ({"action": "mouse_move", "coordinate": [700, 450]}, None),
            # computer_20241022 shape: from wherever the pointer is.
            ({"action": "left_click_drag", "coordinate": [900, 750]}, [(700, 450), (900, 750)]),
            ({"type": "drag", "path": [{"x": x, "y": y} for x, y in path]}, path),
            ({"action": "left_click_drag", "start_coordinate": [120, 430],
              "coordinate": [220, 530], "key": "shift"}, [(120, 430), (220, 530)]),
        ]
        drags = [p for _, p in corpus if p]
        self.act([c for c, _ in corpus])
        ev = self.events(lambda e: len(self.of(e, "mouseup")) >= len(drags), "drags")
        # Split the log at each press: one slice per drag.
        slices, cur = [], None
        for e in ev:
            if e["t"] == "mousedown":
                cur = [e]
                slices.append(cur)
            elif cur is not None:
                cur.append(e)
        self.assertEqual(len(slices), len(drags), json.dumps(ev)[:2000])
        for want, got in zip(drags, slices):
            with self.subTest(path=want):
                self.assertEqual((got[0]["x"], got[0]["y"], got[0]["b"]), want[0] + (LEFT,))
                up = [e for e in got if e["t"] == "mouseup"][0]
                self.assertEqual((up["x"], up["y"]), want[-1])
                moved = [(e["x"], e["y"]) for e in got if e["t"] == "drag"]
                self.assertTrue(moved, "no mousemove with the button down")
                self.assertTrue(set(moved) <= set(want[1:]), moved)
                self.assertEqual(moved[-1], want[-1])
        self.assertEqual(slices[-1][0]["m"], "S")

    # ------------------------------------------------------------ keyboard

    def test_typed_text_exactly(self):
        """Every category at the start, middle and end of a line, RUNS runs
        each, one type action per line: zero lost or wrong characters."""
        rnd = random.Random(7)
        self.act({"action": "left_click", "coordinate": [600, 200]})   # the textarea
        failures = []
        for category in POOLS:
            self.js("reset()")
            lines = runs_for(category, rnd)
            body = []
            for line in lines:
                body += [{"action": "type", "text": line}, {"action": "key", "text": "Return"}]
            self.act(body)
            want = "\n".join(lines) + "\n"
            got = self.js_until("document.getElementById('ta').value", want)
            if got != want:
                g = got.split("\n")
                bad = [(w, g[i] if i < len(g) else None) for i, w in enumerate(lines)
                       if i >= len(g) or g[i] != w]
                failures.append("%s: %d of %d lines differ, e.g. %r"
                                % (category, len(bad), len(lines), bad[:5]))
        self.maxDiff = None
        self.assertEqual(failures, [])

    def test_openai_type_and_first_character(self):
        self.act({"action": "left_click", "coordinate": [600, 200]})
        self.act([{"type": "type", "text": "Нет"}, {"type": "keypress", "keys": ["ENTER"]},
                  {"type": "type", "text": "😀🎉👍"}])
        self.assertEqual(self.js_until("document.getElementById('ta').value", "Нет\n😀🎉👍"),
                         "Нет\n😀🎉👍")

    def test_key_chords(self):
        self.act([{"action": "left_click", "coordinate": [600, 200]},
                  {"action": "type", "text": "hello world"}])
        # Chromium inserts typed text asynchronously: a select-all that
        # overtakes the last insertions ends as a caret at the end. Wait
        # for the text, as a model would look before pressing ctrl+a.
        self.assertEqual(self.js_until("document.getElementById('ta').value", "hello world"),
                         "hello world")
        self.act({"action": "key", "text": "ctrl+a"})
        sel = self.js_until("[document.getElementById('ta').selectionStart,"
                            " document.getElementById('ta').selectionEnd]", [0, len("hello world")])
        self.assertEqual(sel, [0, len("hello world")])
        self.js("takeLog()")
        self.act([{"action": "key", "text": "ctrl+shift+F7"},
                  {"action": "key", "text": "alt+x"},
                  {"type": "keypress", "keys": ["CTRL", "SHIFT", "Z"]},
                  {"action": "key", "text": "super+y"},
                  {"action": "key", "text": "ctrl+Left shift+End"}])
        ev = self.events(lambda e: any(x["t"] == "keyup" and x["k"] == "End" for x in e),
                         "chords")
        downs = [(e["k"].lower(), e["m"]) for e in self.of(ev, "keydown")
                 if e["k"] not in ("Control", "Shift", "Alt", "Meta", "Super", "OS")]
        self.assertEqual(downs, [("f7", "SC"), ("x", "A"), ("z", "SC"), ("y", "M"),
                                 ("arrowleft", "C"), ("end", "S")])

    def test_keypad_digits(self):
        keys = "KP_0 KP_1 KP_2 KP_3 KP_4 KP_5 KP_6 KP_7 KP_8 KP_9 KP_Decimal KP_Add KP_Enter"
        self.act([{"action": "left_click", "coordinate": [600, 200]},
                  {"action": "key", "text": keys},
                  {"type": "keypress", "keys": ["KP_5"]}])
        self.assertEqual(self.js_until("document.getElementById('ta').value", "0123456789.+\n5"),
                         "0123456789.+\n5")
        ev = self.js("takeLog()")
        downs = [(e["k"], e["c"], e["m"]) for e in self.of(ev, "keydown")]
        # Xvfb's keymap has KP_Decimal on two keys, the keypad's "." and its
        # comma key; the agent uses the one where it needs no modifier.
        downs = [(k, "NumpadDecimal" if c == "NumpadComma" else c, m) for k, c, m in downs]
        want = [(str(d), "Numpad%d" % d, "") for d in range(10)] + \
            [(".", "NumpadDecimal", ""), ("+", "NumpadAdd", ""), ("Enter", "NumpadEnter", ""),
             ("5", "Numpad5", "")]
        self.assertEqual(downs, want)
        # NumLock is put back: the keypad's other level still answers.
        self.act({"action": "key", "text": "KP_Home"})
        ev = self.events(lambda e: self.of(e, "keyup"), "KP_Home")
        self.assertEqual([(e["k"], e["c"]) for e in self.of(ev, "keydown")], [("Home", "Numpad7")])


if __name__ == "__main__":
    unittest.main()
