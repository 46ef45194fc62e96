"""test_single.py - single-sandbox mode (--single JSON), the shape of one
desktop per pod under kubernetes-sigs/agent-sandbox, and its activity
keep-alive (--activity-url): while a viewer WebSocket is open, deskboxd sends
a request with the router's headers to a stand-in router this test runs on
loopback; with none open it sends nothing.
"""

import http.server
import json
import threading
import time
import unittest

from deskbox import API, Server, ServerError, until
from rfbclient import RFBClient
from wsclient import WSClient, WSSocket


class Router:
    """An HTTP server on 127.0.0.1 that records each request's path and
    headers, standing in for agent-sandbox's sandbox-router."""

    def __init__(self):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class TestSingle(unittest.TestCase):
    def start(self, **opts):
        srv = Server(**opts)
        self.addCleanup(srv.stop)
        return srv.start()

    def test_one_sandbox_ready_when_its_desktop_is(self):
        router = Router()
        self.addCleanup(router.close)
        srv = self.start(single=json.dumps({"apps": ["xterm"], "timeout_s": 60}),
                         activity_url="http://127.0.0.1:%d/healthz" % router.port,
                         activity_id="desk-7", activity_namespace="team-a",
                         activity_interval=1)
        until(lambda: srv.request("GET", "/readyz", token=None).status == 200, timeout=20,
              what="ready once the desktop is up")
        sbs = srv.list()
        self.assertEqual(len(sbs), 1)
        sb = sbs[0]
        srv._track(sb)
        self.assertEqual(sb["state"], "running")
        self.assertEqual(sb["desktop"]["state"], "running")
        self.assertIsNone(sb["expires_at"], "it lives as long as the server")
        srv.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)

        r = srv.request("POST", API, {"desktop": False})
        self.assertEqual(r.status, 403, r)
        self.assertIn("single-sandbox mode", r.body["error"]["message"])

        # Nobody watching: no keep-alive.
        time.sleep(2.5)
        self.assertEqual(router.seen, [])
        ws = WSClient(srv.host, srv.port, "%s/%s/vnc?token=%s" % (API, sb["id"], srv.token),
                      protocol="binary")
        view = RFBClient(WSSocket(ws))
        self.addCleanup(view.close)
        view.start()
        view.start_reader()
        until(lambda: len(router.seen) >= 2, timeout=10, what="keep-alive requests while watched")
        path, hdrs = router.seen[0]
        self.assertEqual(path, "/healthz")
        self.assertEqual(hdrs["x-sandbox-id"], "desk-7")
        self.assertEqual(hdrs["x-sandbox-namespace"], "team-a")
        self.assertEqual(hdrs["x-sandbox-port"], str(srv.port))
        view.close()
        time.sleep(1.5)   # a tick already under way may still land
        n = len(router.seen)
        time.sleep(2.5)
        self.assertEqual(len(router.seen), n, "no keep-alive once nobody watches")

        # A control channel (JSON-RPC) counts as watching too.
        ctl = WSClient(srv.host, srv.port, "/v1/rpc?token=%s" % srv.token,
                       protocol="deskbox.rpc.v1")
        self.addCleanup(ctl.close)
        until(lambda: len(router.seen) > n, timeout=10, what="keep-alive while a control channel is open")
        ctl.close()

        # Deleting its sandbox ends the server, cleanly.
        srv.expect(204, "DELETE", "%s/%s" % (API, sb["id"]))
        srv.proc.wait(20)
        self.assertEqual(srv.proc.returncode, 0)

    def test_bad_options_fail_at_start(self):
        for opts, says in [({"single": '{"apps": "xterm"}'}, "apps"),
                           ({"single": "{", }, "JSON"),
                           ({"activity_url": "http://127.0.0.1:1/x"}, "--activity-url needs --single"),
                           ({"single": "{}", "activity_url": "http://127.0.0.1:1/x"},
                            "needs --activity-id")]:
            with self.subTest(opts=opts):
                srv = Server(**opts)
                self.addCleanup(srv.stop, check=False)
                with self.assertRaises(ServerError) as e:
                    srv.start()
                self.assertIn(says, str(e.exception))
                self.assertEqual(srv.proc.returncode, 1)


if __name__ == "__main__":
    unittest.main()
