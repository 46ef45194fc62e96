"""test_metrics.py - GET /metrics (Prometheus text, checked by promtool) and
GET /readyz, against a real deskboxd with desktops, an exec, screenshots and
a VNC viewer attached.
"""

import shutil
import subprocess
import unittest

from deskbox import API, ServerTestCase, until
from rfbclient import RFBClient
from wsclient import WSClient, WSSocket


def parse(text):
    """{(name, frozenset(labels)): value} of an exposition's samples."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        if "{" in head:
            name, rest = head.split("{", 1)
            labels = frozenset(tuple(kv.split("=", 1)) for kv in rest.rstrip("}").split(",") if kv)
            labels = frozenset((k, v.strip('"')) for k, v in labels)
        else:
            name, labels = head, frozenset()
        out[(name, labels)] = float(value)
    return out


def sample(m, name, **labels):
    return m[(name, frozenset(labels.items()))]


class TestMetrics(ServerTestCase):
    server_options = {"max_sandboxes": 3}

    def scrape(self):
        r = self.server.request("GET", "/metrics", token=None, raw=True)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = r.body.decode()
        if shutil.which("promtool") is None:
            raise AssertionError("promtool is missing: scripts/deps.sh deploy installs it")
        chk = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(chk.returncode, 0, "promtool: %s%s" % (chk.stdout, chk.stderr))
        return parse(text)

    def test_metrics_follow_the_work(self):
        m0 = self.scrape()
        self.assertEqual(sample(m0, "deskbox_sandboxes", state="running"), 0)
        sb = self.sandbox(apps=["xterm"])
        sid = sb["id"]
        self.server.expect(200, "POST", "%s/%s/exec" % (API, sid), {"cmd": "true"})
        for _ in range(2):
            self.server.expect(200, "GET", "%s/%s/screenshot" % (API, sid), raw=True)
        self.server.request("GET", "%s/nope" % API)   # an error outcome
        ws = WSClient(self.server.host, self.server.port,
                      "%s/%s/vnc?token=%s" % (API, sid, self.server.token), protocol="binary")
        viewer = RFBClient(WSSocket(ws))
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.start_reader()
        ctl = WSClient(self.server.host, self.server.port, "/v1/rpc?token=%s" % self.server.token,
                       protocol="deskbox.rpc.v1")
        self.addCleanup(ctl.close)

        m = self.scrape()
        self.assertEqual(sample(m, "deskbox_websockets", kind="control"), 1)
        self.assertEqual(sample(m, "deskbox_sandboxes", state="running"), 1)
        self.assertEqual(sample(m, "deskbox_desktops_ready"), 1)
        self.assertEqual(sample(m, "deskbox_sandbox_creates_total"), 1)
        self.assertEqual(sample(m, "deskbox_execs_total"), 1)
        self.assertEqual(sample(m, "deskbox_websockets", kind="vnc"), 1)
        self.assertGreater(sample(m, "deskbox_viewer_bytes_total"), 0)
        self.assertEqual(sample(m, "deskbox_screenshot_seconds_count"), 2)
        self.assertEqual(sample(m, "deskbox_operations_total", op="desktop.screenshot", outcome="ok"), 2)
        self.assertEqual(sample(m, "deskbox_operation_seconds_count", op="desktop.screenshot"), 2)
        self.assertEqual(sample(m, "deskbox_operations_total", op="sandbox.get", outcome="error"), 1)
        self.assertGreater(sample(m, "deskbox_sandbox_memory_bytes", sandbox=sid), 1 << 20)
        self.assertEqual(sample(m, "deskbox_draining"), 0)

        viewer.close()
        ctl.close()
        self.delete_checked(sid)
        m = self.scrape()
        self.assertEqual(sample(m, "deskbox_sandboxes", state="running"), 0)
        self.assertEqual(sample(m, "deskbox_sandbox_destroys_total"), 1)
        self.assertEqual(sample(m, "deskbox_websockets", kind="vnc"), 0)
        until(lambda: sample(self.scrape(), "deskbox_websockets", kind="control") == 0,
              what="the control channel counted out")
        self.assertNotIn(("deskbox_sandbox_memory_bytes", frozenset({("sandbox", sid)})), m)



class TestBounded(ServerTestCase):
    server_options = {"max_sandboxes": 14}

    def test_per_sandbox_series_are_bounded(self):
        """However many sandboxes run, at most 10 carry their own series."""
        srv = self.server
        for _ in range(12):
            self.sandbox(desktop=False)
        text = srv.request("GET", "/metrics", token=None, raw=True).body.decode()
        per = [ln for ln in text.splitlines() if ln.startswith("deskbox_sandbox_memory_bytes{")]
        self.assertEqual(len(per), 10)
        self.assertEqual(sample(parse(text), "deskbox_sandboxes", state="running"), 12)


class TestReady(ServerTestCase):
    server_options = {"max_sandboxes": 1}

    def test_ready_until_full(self):
        r = self.server.request("GET", "/readyz", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "ready")
        sb = self.sandbox(desktop=False)
        r = self.server.request("GET", "/readyz", token=None)
        self.assertEqual(r.status, 503)
        self.assertIn("full", r.body["error"]["message"])
        self.assertEqual(r.headers.get("retry-after"), "1")
        # Liveness is not readiness.
        self.assertEqual(self.server.request("GET", "/healthz", token=None).status, 200)
        self.delete_checked(sb["id"])
        until(lambda: self.server.request("GET", "/readyz", token=None).status == 200,
              what="ready again once a slot is free")


if __name__ == "__main__":
    unittest.main()
