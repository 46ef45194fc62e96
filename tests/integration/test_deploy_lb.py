"""test_deploy_lb.py - three deskboxd behind a load balancer, the way the
Kubernetes density shape runs them: HAProxy (from Debian) on loopback
stands in for the ClusterIP Service, with the pods' readiness probe as its
health check (/readyz) and a retry of refused creates on another server.

60 creates go through it while one instance is drained; none fails. Every
follow-up call goes to the sandbox's `endpoint` and reaches the instance
that holds it (the command's hostname is the sandbox id, and the other
instances do not know the id).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest
import urllib.parse

from deskbox import API, Client, Server, free_port, until

N_CREATES = 60


class TestLoadBalanced(unittest.TestCase):
    def setUp(self):
        if not shutil.which("haproxy"):
            raise AssertionError("haproxy is missing: scripts/deps.sh deploy installs it")
        token = "lb-" + os.urandom(8).hex()
        self.servers = []
        for i in range(3):
            srv = Server(token=token, max_sandboxes=N_CREATES, drain_grace=0)
            self.addCleanup(srv.stop)
            self.servers.append(srv.start())
        self.tmp = tempfile.mkdtemp(prefix="deskbox-lb-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        cfg = os.path.join(self.tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY % {"port": self.port} + "".join(
                "    server d%d 127.0.0.1:%d check\n" % (i, s.port) for i, s in enumerate(self.servers)))
        self.log = open(os.path.join(self.tmp, "haproxy.log"), "w+")
        self.addCleanup(self.log.close)
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)
        self.addCleanup(self._stop_haproxy)
        self.lb = Client("127.0.0.1", self.port, token, timeout=60)
        until(self._lb_up, timeout=10, what="haproxy listening")
        # Every server passed a health check (rise 2 at 200 ms).
        until(lambda: len({self._create_through_lb_probe() for _ in range(6)}) == 3, timeout=10,
              what="all three servers in rotation")

    def _stop_haproxy(self):
        self.haproxy.terminate()
        try:
            self.haproxy.wait(10)
        except subprocess.TimeoutExpired:
            self.haproxy.kill()
            self.haproxy.wait()

    def _lb_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _create_through_lb_probe(self):
        """Which server answers a readiness probe through the balancer."""
        r = self.lb.request("GET", "/readyz", token=None)
        return r.headers.get("x-served-by") if r.status == 200 else None

    def _server_of(self, endpoint):
        port = urllib.parse.urlsplit(endpoint).port
        return next(s for s in self.servers if s.port == port)

    def test_creates_spread_follow_ups_reach_their_instance_one_drains(self):
        made, failures, lock = [], [], threading.Lock()
        drained = self.servers[1]

        def worker(k):
            for i in range(k, N_CREATES, 4):
                body = {"apps": ["xterm"]} if i % 10 == 0 else {"desktop": False}
                r = self.lb.request("POST", API, body)
                with lock:
                    (made if r.status == 201 else failures).append(r.body if r.status == 201 else r)
                if i == 20:
                    # One instance leaves the rotation (an upgrade, a node
                    # drain) while creates keep coming.
                    drained.expect(200, "POST", "/v1/admin/drain", {})
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for sb in made:
            self._server_of(sb["endpoint"])._track(sb)
        self.assertEqual(failures, [], "a create failed through the balancer")
        self.assertEqual(len(made), N_CREATES)

        per = {s.port: 0 for s in self.servers}
        for sb in made:
            per[self._server_of(sb["endpoint"]).port] += 1
        self.assertTrue(all(n > 0 for n in per.values()), "creates spread over all three: %r" % per)
        self.assertEqual(sum(1 for s in drained.list()), per[drained.port])
        r = drained.request("POST", API, {"desktop": False})
        self.assertEqual(r.status, 503, "the drained instance refuses creates")

        for sb in made:
            home = self._server_of(sb["endpoint"])
            self.assertEqual(sb["endpoint"], "http://127.0.0.1:%d" % home.port)
            r = home.exec(sb["id"], cmd="hostname")
            self.assertEqual(r["stdout"], sb["id"] + "\n")
            if sb["desktop"]:
                home.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
            for other in self.servers:
                if other is not home:
                    self.assertEqual(other.request("GET", "%s/%s" % (API, sb["id"])).status, 404)
            home.expect(204, "DELETE", "%s/%s" % (API, sb["id"]))
        for s in self.servers:
            self.assertEqual(s.list(), [])


HAPROXY = """\
global
    maxconn 1024
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    # A create refused by a draining server (503) goes to another one; a
    # request with a body is retried only when HAProxy holds all of it.
    option http-buffer-request
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response 503
frontend deskbox
    bind 127.0.0.1:%(port)d
    default_backend pods
backend pods
    balance roundrobin
    http-response set-header X-Served-By %%s
    # The pods' readiness probe: a draining or full server leaves.
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 200ms fall 1 rise 2
"""


if __name__ == "__main__":
    unittest.main()
