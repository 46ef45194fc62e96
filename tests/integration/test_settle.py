"""Settle-aware waits end to end: a real deskboxd, a real jail and Xvfb per
sandbox, and an X client inside it (tests/integration/xanim.c, compiled
here and uploaded into the sandbox's /tmp) that animates for a while or
opens a window when clicked.

- POST /v1/sandboxes/{id}/desktop/wait answers after a 1 s animation has
  ended, not before (xanim writes a marker file after its last frame is
  drawn; the marker must exist when the answer comes); promptly with
  settled:true on an idle screen; with settled:false at its timeout while
  the screen keeps changing; with a screenshot when asked.
- GET …/screenshot?settle_ms=…&timeout_ms=… is an image of the settled
  screen.
- An actions batch with settle_ms answers with "settled": {settled,
  waited_ms, frame, image, width, height}, the image showing what the
  click opened.
- Bad parameters are refused with 400 naming them.

No speed is asserted: orderings are checked through the marker files.
"""

import base64
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from deskbox import API, ServerTestCase, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
XANIM_SRC = os.path.join(HERE, "xanim.c")
XANIM = "/tmp/xanim"


def build_xanim(cls):
    """Compile the xanim probe into a temp dir that goes with the class;
    returns its path (the settle suites upload it into their sandboxes)."""
    tmp = tempfile.mkdtemp(prefix="deskbox-xanim-")
    cls.addClassCleanup(shutil.rmtree, tmp, ignore_errors=True)
    path = os.path.join(tmp, "xanim")
    subprocess.run(["cc", "-O1", "-o", path, XANIM_SRC, "-lX11"], check=True)
    return path


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature: %r" % data[:16]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


class SettleTest(ServerTestCase):
    server_options = {"max_sandboxes": 8}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.xanim = build_xanim(cls)

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox()
        with open(self.xanim, "rb") as f:
            self.server.put_file(self.sb["id"], XANIM, f.read())
        self.sh(self.sb, "chmod 755 %s" % XANIM)

    def path(self, tail):
        return "%s/%s/%s" % (API, self.sb["id"], tail)

    def wait(self, body, status=200, raw=False):
        r = self.server.request("POST", self.path("desktop/wait"), body, timeout=60, raw=raw)
        self.assertEqual(r.status, status, "desktop/wait %r -> %r" % (body, r.body))
        return r

    def exists(self, path):
        return self.run_cmd(self.sb, "test -e %s" % path)["exit_code"] == 0

    def start(self, *args):
        """xanim with args in the background (it ends itself in 120 s and
        with the sandbox)."""
        self.sh(self.sb, "setsid %s %s >/dev/null 2>&1 </dev/null &" % (XANIM, " ".join(args)))

    def test_wait_returns_after_the_animation_not_before(self):
        self.wait({"quiet_ms": 300, "timeout_ms": 10000})
        self.start("anim", "1000", "/tmp/a")
        self.assertTrue(wait_until(lambda: self.exists("/tmp/a.started"), 20), "no animation")
        # 400 ms: a loaded machine may hold xanim between two frames.
        r = self.wait({"until": "settled", "quiet_ms": 400, "timeout_ms": 10000})
        self.assertTrue(self.exists("/tmp/a.ended"), "answered while the animation ran: %r" % r.body)
        self.assertIs(r.body["settled"], True)
        self.assertGreater(r.body["waited_ms"], 0)
        self.assertEqual(set(r.body), {"settled", "waited_ms"})

    def test_wait_on_an_idle_screen_and_at_the_timeout(self):
        self.wait({"quiet_ms": 300, "timeout_ms": 10000})
        r = self.wait({})
        self.assertIs(r.body["settled"], True)
        self.assertLess(r.body["waited_ms"], 3000)
        self.start("anim", "20000", "/tmp/b")
        self.assertTrue(wait_until(lambda: self.exists("/tmp/b.started"), 20), "no animation")
        r = self.wait({"quiet_ms": 400, "timeout_ms": 1500})
        self.assertIs(r.body["settled"], False)
        self.assertGreaterEqual(r.body["waited_ms"], 1500)
        self.assertFalse(self.exists("/tmp/b.ended"))

    def test_wait_with_a_screenshot_and_screenshot_settle_ms(self):
        r = self.wait({"quiet_ms": 100, "screenshot": {"format": "png", "width": 640}}, raw=True)
        self.assertEqual(r.headers["content-type"], "image/png")
        self.assertEqual(png_size(r.body), (640, 400))
        # What the wait found rides in headers beside the image.
        self.assertEqual(r.headers["deskbox-settled"], "true")
        self.assertGreaterEqual(int(r.headers["deskbox-waited-ms"]), 100)
        self.assertEqual((r.headers["deskbox-width"], r.headers["deskbox-height"]), ("640", "400"))
        r = self.server.request("GET", self.path("screenshot?settle_ms=100&timeout_ms=3000&format=png"),
                                raw=True, timeout=60)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(png_size(r.body), (1280, 800))
        etag = r.headers["etag"]
        r = self.server.request("GET", self.path("screenshot?settle_ms=100"), raw=True,
                                headers={"If-None-Match": etag}, timeout=60)
        self.assertEqual(r.status, 304)

    def test_actions_settle_ms_shows_what_the_click_opened(self):
        self.start("popup", "/tmp/p")
        self.assertTrue(wait_until(lambda: self.exists("/tmp/p.ready"), 20), "no xanim window")
        self.wait({"quiet_ms": 300, "timeout_ms": 10000})
        r = self.server.request("POST", self.path("actions"), {
            "actions": [{"action": "left_click", "coordinate": [50, 50]}],
            "settle_ms": 150, "scale_to": {"width": 640, "height": 400}, "format": "jpeg"},
            timeout=60)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["results"], [{"ok": True}])
        st = r.body["settled"]
        self.assertIs(st["settled"], True)
        self.assertEqual((st["width"], st["height"]), (640, 400))
        self.assertEqual(st["image"]["media_type"], "image/jpeg")
        self.assertEqual(base64.b64decode(st["image"]["data"])[:2], b"\xff\xd8")
        titles = [w["title"] for w in self.server.request("GET", self.path("windows")).body["windows"]]
        self.assertIn("popup 1", titles)

    def test_bad_parameters(self):
        for body in ({"until": "idle"}, {"quiet_ms": 0}, {"quiet_ms": "x"},
                     {"timeout_ms": 10 ** 6}, {"screenshot": 5},
                     {"screenshot": {"format": "gif"}}, {"screenshot": {"nope": 1}},
                     {"screenshot": {"settle_ms": 5}}, {"quiet": 5}):
            with self.subTest(body=body):
                r = self.wait(body, status=400)
                self.assertEqual(r.body["error"]["code"], "bad_request")
        for q in ("settle_ms=0", "timeout_ms=100", "settle_ms=x"):
            r = self.server.request("GET", self.path("screenshot?" + q))
            self.assertEqual(r.status, 400, (q, r.body))
        for body in ({"actions": [{"action": "cursor_position"}], "settle_ms": 0},
                     {"actions": [{"action": "cursor_position"}], "settle_timeout_ms": 5}):
            r = self.server.request("POST", self.path("actions"), body)
            self.assertEqual(r.status, 400, (body, r.body))
        self.assertIn("nope", self.wait({"screenshot": {"nope": 1}}, status=400).body["error"]["message"])


if __name__ == "__main__":
    unittest.main()
