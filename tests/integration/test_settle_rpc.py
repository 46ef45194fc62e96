"""Desktop events and settle waits over the JSON-RPC control channel, end
to end: a real deskboxd, a real jail and Xvfb, an xterm and xanim.c (an X
client compiled here and uploaded into the sandbox) inside it, and the
channel spoken with tests/integration/wsclient.py.

- screen.changed arrives when xterm prints, with rectangles on the screen
  and growing frames, then screen.settled; nothing arrives while the
  screen is idle; after events.unsubscribe, printing says nothing.
- window.opened (title, pid) when an app starts, window.closed when it
  ends; clipboard.changed when the clipboard is set.
- desktop.wait returns after a 1 s animation has ended (xanim's marker
  file exists by then), and with a screenshot as a binary message.

No speed is asserted; waits are bounded.
"""

import json
import time

from deskbox import API, ServerTestCase, wait_until
from test_settle import build_xanim
from wsclient import WSClient

XANIM = "/tmp/xanim"


class RPC:
    """A JSON-RPC connection; notifications are kept in order apart."""

    def __init__(self, server):
        self.ws = WSClient(server.host, server.port, "/v1/rpc?token=" + server.token,
                           protocol="deskbox.rpc.v1")
        self.next_id = 0
        self.notes = []

    def close(self):
        self.ws.close()

    def _recv(self, timeout):
        kind, data = self.ws.recv(timeout=timeout)
        if kind == "close":
            raise EOFError("the channel closed")
        return kind, data

    def call(self, method, params, timeout=30):
        """The result (and the binary message after it, if it names one)."""
        self.next_id += 1
        self.ws.send_text(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                      "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            kind, data = self._recv(max(0.1, deadline - time.monotonic()))
            if kind != "text":
                raise AssertionError("a binary message before the result")
            m = json.loads(data)
            if "id" not in m:
                self.notes.append(m)
                continue
            if m["id"] != self.next_id:
                raise AssertionError("answer to %r while waiting for %r" % (m["id"], self.next_id))
            if "error" in m:
                raise AssertionError("%s failed: %r" % (method, m["error"]))
            res = m["result"]
            blob = None
            if isinstance(res, dict) and res.get("binary"):
                kind, blob = self._recv(timeout)
                assert kind == "binary", kind
            return res, blob

    def note(self, timeout):
        """The next notification, or None when none comes in timeout s."""
        if self.notes:
            return self.notes.pop(0)
        try:
            kind, data = self._recv(timeout)
        except TimeoutError:
            return None
        m = json.loads(data)
        assert "id" not in m, "an answer nobody asked for: %r" % m
        return m

    def until(self, pred, what, timeout=20):
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.note(max(0.05, deadline - time.monotonic()))
            if m is None:
                continue
            seen.append(m)
            if pred(m):
                return seen
        raise AssertionError("no %s; saw %r" % (what, [m["method"] for m in seen]))


class SettleRPCTest(ServerTestCase):
    server_options = {"max_sandboxes": 8}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.xanim = build_xanim(cls)

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox(apps=["xterm -T shell -geometry 60x10+0+0"])
        self.sid = self.sb["id"]
        with open(self.xanim, "rb") as f:
            self.server.put_file(self.sid, XANIM, f.read())
        self.sh(self.sb, "chmod 755 %s" % XANIM)
        self.rpc = RPC(self.server)
        self.addCleanup(self.rpc.close)
        wait_until(lambda: any(w["title"] == "shell" for w in self.windows()), 20)

    def windows(self):
        return self.server.request("GET", "%s/%s/windows" % (API, self.sid)).body["windows"]

    def settle(self, quiet_ms=500):
        self.rpc.call("desktop.wait", {"sandbox": self.sid, "quiet_ms": quiet_ms,
                                       "timeout_ms": 10000})

    def drain(self):
        while self.rpc.note(0.1):
            pass

    def exists(self, path):
        return self.run_cmd(self.sb, "test -e %s" % path)["exit_code"] == 0

    def type_in_shell(self, text):
        self.rpc.call("desktop.actions", {"sandbox": self.sid, "actions": [
            {"action": "focus_window", "title": "shell"},
            {"action": "mouse_move", "coordinate": [100, 60]},
            {"action": "type", "text": text}]})

    def test_screen_changed_when_xterm_prints_silent_when_idle(self):
        r = self.rpc
        r.call("events.subscribe", {"sandbox": self.sid,
                                    "topics": ["screen.changed", "screen.settled"]})
        self.settle()
        self.drain()
        self.type_in_shell("echo printed\n")
        seen = r.until(lambda m: m["method"] == "screen.settled", "screen.settled")
        changed = [m["params"] for m in seen if m["method"] == "screen.changed"]
        self.assertTrue(changed, "no screen.changed before screen.settled")
        for p in changed:
            self.assertEqual(p["sandbox"], self.sid)
            for x, y, w, h in p["rects"]:
                self.assertTrue(x >= 0 and y >= 0 and w > 0 and h > 0 and
                                x + w <= 1280 and y + h <= 800, p)
        frames = [p["frame"] for p in changed]
        self.assertEqual(frames, sorted(frames))
        # Idle: silence.
        self.settle()
        self.drain()
        self.assertIsNone(r.note(1.0))
        # Unsubscribed: printing says nothing.
        r.call("events.unsubscribe", {"sandbox": self.sid,
                                      "topics": ["screen.changed", "screen.settled"]})
        self.type_in_shell("echo again\n")
        self.assertIsNone(r.note(1.0))

    def test_window_opened_and_closed_and_clipboard_changed(self):
        r = self.rpc
        r.call("events.subscribe", {"sandbox": self.sid,
                                    "topics": ["window.opened", "window.closed",
                                               "clipboard.changed"]})
        self.sh(self.sb, "setsid %s popup /tmp/p >/dev/null 2>&1 </dev/null &" % XANIM)
        seen = r.until(lambda m: m["method"] == "window.opened" and
                       m["params"]["title"] == "xanim", "window.opened")
        opened = seen[-1]["params"]
        self.assertEqual(opened["sandbox"], self.sid)
        self.assertGreater(opened["pid"], 0)
        self.sh(self.sb, "pkill -x xanim")
        r.until(lambda m: m["method"] == "window.closed" and
                m["params"]["window"] == opened["window"], "window.closed")
        r.call("clipboard.set", {"sandbox": self.sid, "text": "copied"})
        r.until(lambda m: m["method"] == "clipboard.changed", "clipboard.changed")

    def test_desktop_wait_after_an_animation_and_with_a_screenshot(self):
        self.settle()
        self.sh(self.sb, "setsid %s anim 1000 /tmp/a >/dev/null 2>&1 </dev/null &" % XANIM)
        self.assertTrue(wait_until(lambda: self.exists("/tmp/a.started"), 20), "no animation")
        res, _ = self.rpc.call("desktop.wait", {"sandbox": self.sid, "until": "settled",
                                                "quiet_ms": 400, "timeout_ms": 10000})
        self.assertTrue(self.exists("/tmp/a.ended"), "answered while animating: %r" % res)
        self.assertIs(res["settled"], True)
        res, blob = self.rpc.call("desktop.wait", {"sandbox": self.sid, "quiet_ms": 100,
                                                   "screenshot": {"format": "png"}})
        self.assertIs(res["settled"], True)
        self.assertEqual(res["media_type"], "image/png")
        self.assertEqual(blob[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(len(blob), res["bytes"])
