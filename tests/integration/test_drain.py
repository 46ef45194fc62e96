"""test_drain.py - draining: POST /v1/admin/drain, SIGUSR1 and SIGTERM with
--drain-grace, with an exec in flight and a VNC viewer attached.

A drain refuses creates (503, Retry-After, code "unavailable") and fails
/readyz, while every held sandbox keeps working: calls in flight finish,
new calls on it succeed, its viewer keeps getting frames. SIGTERM then
stops the server once the last sandbox is gone, or when the grace passes,
destroying the rest, and exits 0 (the harness checks nothing is left).
"""

import signal
import threading
import time
import unittest

from deskbox import API, Server, ServerTestCase, until
from rfbclient import RFBClient
from wsclient import WSClient, WSSocket


def viewer(srv, sid):
    ws = WSClient(srv.host, srv.port, "%s/%s/vnc?token=%s" % (API, sid, srv.token),
                  protocol="binary")
    c = RFBClient(WSSocket(ws))
    c.start()
    c.start_reader()   # keep reading, as a real viewer does
    return c


def exec_in_thread(srv, sid, cmd):
    """Run an exec on its own connection; returns (thread, result list)."""
    out = []

    def run():
        out.append(srv.request("POST", "%s/%s/exec" % (API, sid), {"cmd": cmd}, timeout=60))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


class DrainCase(unittest.TestCase):
    def server(self, **opts):
        srv = Server(**opts)
        self.addCleanup(srv.stop)
        # If a test fails midway, stop at once instead of draining.
        self.addCleanup(lambda: srv.running() and srv.proc.send_signal(signal.SIGINT))
        return srv.start()

    def assert_refuses_creates(self, srv):
        r = srv.request("POST", API, {"desktop": False})
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.body["error"]["code"], "unavailable")
        self.assertEqual(r.headers.get("retry-after"), "1")
        r = srv.request("GET", "/readyz", token=None)
        self.assertEqual(r.status, 503, r)
        self.assertIn("draining", r.body["error"]["message"])

    def assert_still_serves(self, srv, sid, view):
        """The held sandbox works: exec, screenshot, and frames for its
        viewer."""
        r = srv.expect(200, "POST", "%s/%s/exec" % (API, sid), {"cmd": "echo still"}).body
        self.assertEqual(r["stdout"], "still\n")
        srv.expect(200, "GET", "%s/%s/screenshot" % (API, sid), raw=True)
        # The viewer still gets frames: a full update on request.
        view.request(False)
        view.wait(lambda u: u is not None and u.pixel_rects(), timeout=20, request=False)


class TestDrain(DrainCase):
    def test_api_drain_with_work_in_flight(self):
        srv = self.server(drain_grace=30)
        # No window manager: assert_still_serves expects the xterm's first
        # line of text at the top-left corner, undecorated.
        a = srv.create(apps=["xterm"], wm=False)
        b = srv.create(desktop=False)
        view = viewer(srv, a["id"])
        self.addCleanup(view.close)
        t, out = exec_in_thread(srv, b["id"], "sleep 1; echo finished")
        until(lambda: srv.request("GET", "/metrics", token=None, raw=True).body.find(
            b'deskbox_operations_total{op="process.exec",outcome="ok"} 0') >= 0,
            what="the exec is under way")

        r = srv.request("POST", "/v1/admin/drain", {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, {"draining": True, "sandboxes": 2})
        self.assert_refuses_creates(srv)
        self.assertEqual(srv.request("GET", "/healthz", token=None).status, 200)

        t.join(30)
        self.assertEqual(out[0].status, 200, out)
        self.assertEqual(out[0].body["stdout"], "finished\n")
        self.assert_still_serves(srv, a["id"], view)
        self.assertIn(b"deskbox_draining 1", srv.request("GET", "/metrics", token=None, raw=True).body)
        # Draining again is harmless; the sandboxes are deleted as usual.
        self.assertEqual(srv.request("POST", "/v1/admin/drain", {}).status, 200)
        view.close()
        srv.expect(204, "DELETE", "%s/%s" % (API, a["id"]))
        srv.expect(204, "DELETE", "%s/%s" % (API, b["id"]))
        self.assertTrue(srv.running(), "an API drain does not stop the server")

    def test_drain_needs_the_token(self):
        srv = self.server()
        self.assertEqual(srv.request("POST", "/v1/admin/drain", {}, token=None).status, 401)
        self.assertEqual(srv.request("POST", "/v1/admin/drain", {"now": 1}).status, 400)
        self.assertEqual(srv.request("GET", "/readyz", token=None).status, 200)

    def test_sigusr1_drains_and_stays(self):
        srv = self.server()
        srv.proc.send_signal(signal.SIGUSR1)
        until(lambda: srv.request("GET", "/readyz", token=None).status == 503,
              what="/readyz fails after SIGUSR1")
        self.assert_refuses_creates(srv)
        time.sleep(0.2)
        self.assertTrue(srv.running())


class TestSigterm(DrainCase):
    def test_sigterm_waits_for_the_last_sandbox(self):
        srv = self.server(drain_grace=60)
        # No window manager: assert_still_serves expects the xterm's first
        # line of text at the top-left corner, undecorated.
        a = srv.create(apps=["xterm"], wm=False)
        b = srv.create(desktop=False)
        view = viewer(srv, a["id"])
        self.addCleanup(view.close)
        t, out = exec_in_thread(srv, b["id"], "sleep 1; echo finished")
        time.sleep(0.2)

        srv.proc.send_signal(signal.SIGTERM)
        until(lambda: srv.request("GET", "/readyz", token=None).status == 503,
              what="/readyz fails after SIGTERM")
        self.assert_refuses_creates(srv)
        t.join(30)
        self.assertEqual(out[0].body["stdout"], "finished\n")
        self.assert_still_serves(srv, a["id"], view)

        srv.expect(204, "DELETE", "%s/%s" % (API, b["id"]))
        time.sleep(0.3)
        self.assertTrue(srv.running(), "one sandbox is still held")
        view.close()
        t0 = time.monotonic()
        srv.expect(204, "DELETE", "%s/%s" % (API, a["id"]))
        srv.proc.wait(20)
        self.assertEqual(srv.proc.returncode, 0)
        self.assertLess(time.monotonic() - t0, 20, "it exits when the last sandbox goes, "
                        "not at the end of the grace")
        self.assertIn("no sandbox left", srv.log_text())

    def test_sigterm_grace_destroys_the_rest(self):
        srv = self.server(drain_grace=1)
        a = srv.create(apps=["xterm"])
        view = viewer(srv, a["id"])
        self.addCleanup(view.close)
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(30)
        self.assertEqual(srv.proc.returncode, 0)
        log = srv.log_text()
        self.assertIn("grace of 1 s passed with 1 sandbox(es) left", log)
        self.assertIn("%s destroyed" % a["id"], log)
        # stop() (the cleanup) checks that nothing of the sandbox is left.

    def test_second_sigterm_stops_at_once(self):
        srv = self.server(drain_grace=600)
        srv.create(desktop=False)
        srv.proc.send_signal(signal.SIGTERM)
        until(lambda: srv.request("GET", "/readyz", token=None).status == 503, what="draining")
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(30)
        self.assertEqual(srv.proc.returncode, 0)

    def test_no_sandbox_no_wait(self):
        srv = self.server(drain_grace=600)
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(10)
        self.assertEqual(srv.proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
