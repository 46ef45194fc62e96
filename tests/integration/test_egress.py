"""Network egress by policy (docs/network.md): real curl, Python clients and
Chromium inside sandboxes, through the proxies deskboxd hands out, to origin
servers this test starts on 127.0.0.1. Names reach them through
--egress-hosts, the test-only name map.

Every origin runs in this process; every sandbox is deleted and proven gone.
"""

import http.server
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from deskbox import API, Server, ServerTestCase, wait_until

HOSTS = ["allowed.test", "denied.test", "other.test", "later.test", "cdn.pkg.test",
         "pkg.test"]


class _Origin(http.server.BaseHTTPRequestHandler):
    """/ and /page: a small page. /big?n=N: N bytes. /stream: a chunk every
    50 ms for up to 60 s (until the client goes away)."""

    protocol_version = "HTTP/1.1"
    stream_started = None   # threading.Event, set per server

    def do_GET(self):
        if self.path.startswith("/stream"):
            self.server.stream_started.set()
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            try:
                for _ in range(1200):
                    self.wfile.write(b"x" * 4096)
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
            return
        if self.path.startswith("/big"):
            n = int(self.path.split("n=")[1])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"y" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= min(n, len(chunk))
            return
        body = ("<html><head><title>egress page</title></head><body%s><h1>EGRESS-OK %s</h1>"
                "</body></html>" % (' style="margin:0;background:#00c000"'
                                    if self.path.startswith("/green") else "",
                                    self.headers.get("Host", ""))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_origin(tls_ctx=None):
    srv = _Server(("127.0.0.1", 0), _Origin)
    srv.stream_started = threading.Event()
    if tls_ctx:
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


def helper_pid(server):
    """The deskbox-egress child of this deskboxd."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if comm == "deskbox-egress" and ppid == server.proc.pid:
            return int(d)
    return None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class EgressCase(ServerTestCase):
    """One deskboxd with --egress-hosts; plain and TLS origins."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-egress-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        key, cert = os.path.join(cls.tmp, "key.pem"), os.path.join(cls.tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "1", "-subj", "/CN=allowed.test",
                        "-addext", "subjectAltName=DNS:allowed.test"],
                       check=True, capture_output=True, timeout=60)
        with open(cert, "rb") as f:
            cls.cert = f.read()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        cls.origin = start_origin()
        cls.tls_origin = start_origin(ctx)
        for o in (cls.origin, cls.tls_origin):
            cls.addClassCleanup(o.server_close)
            cls.addClassCleanup(o.shutdown)
        cls.port = cls.origin.server_address[1]
        cls.tls_port = cls.tls_origin.server_address[1]
        hosts = os.path.join(cls.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("# test names\n127.0.0.1 %s\n169.254.169.254 metadata.test\n" % " ".join(HOSTS))
        cls.server_options = dict(cls.server_options, egress_hosts=hosts)
        super().setUpClass()

    def box(self, network, **fields):
        fields.setdefault("desktop", False)
        if network is not None:
            fields["network"] = network
        return self.sandbox(**fields)

    def run_in(self, sb, cmd, **kw):
        return self.server.exec(sb["id"], cmd=cmd, **kw)

    def curl(self, sb, url, *opts):
        """curl in sb with the sandbox's proxy environment; returns
        (exit code, HTTP status or 0, body)."""
        cmd = "curl -sS -m 20 -o /tmp/body -w '%%{http_code}' %s '%s'; echo \" rc=$?\"; " \
              "cat /tmp/body 2>/dev/null; rm -f /tmp/body" % (" ".join(opts), url)
        r = self.run_in(sb, cmd)
        head, _, body = r["stdout"].partition("\n")
        m = re.match(r"(\d+) rc=(\d+)", head)
        self.assertTrue(m, r)
        return int(m.group(2)), int(m.group(1)), body

    def log(self, sb):
        return self.server.expect(200, "GET", "%s/%s/network/log" % (API, sb["id"])).body["records"]

    def put_policy(self, sb, policy, status=200):
        return self.server.expect(status, "PUT", "%s/%s/network" % (API, sb["id"]), policy).body


class TestEgressPolicy(EgressCase):

    def test_allowed_name_over_plain_http(self):
        sb = self.box({"allow": ["allowed.test"]})
        rc, status, body = self.curl(sb, "http://allowed.test:%d/page" % self.port)
        self.assertEqual((rc, status), (0, 200))
        # The origin saw the Host of the URI the proxy checked.
        self.assertIn("EGRESS-OK allowed.test:%d" % self.port, body)
        rec = self.log(sb)[-1]
        self.assertEqual((rec["host"], rec["port"], rec["allowed"], rec["rule"], rec["address"]),
                         ("allowed.test", self.port, True, "allowed.test", "127.0.0.1"))
        self.assertGreater(rec["bytes_in"], len(body))
        self.assertGreater(rec["bytes_out"], 0)
        stats = self.server.get(sb["id"])["network"]["stats"]
        self.assertEqual(stats["allowed"], 1)

    def test_allowed_name_over_https_connect(self):
        sb = self.box({"allow": ["allowed.test:%d" % self.tls_port]})
        self.server.put_file(sb["id"], "/tmp/ca.pem", self.cert)
        rc, status, body = self.curl(sb, "https://allowed.test:%d/page" % self.tls_port,
                                     "--cacert /tmp/ca.pem")
        self.assertEqual((rc, status), (0, 200), body)
        self.assertIn("EGRESS-OK", body)
        rec = self.log(sb)[-1]
        self.assertEqual((rec["proto"], rec["allowed"]), ("connect", True))
        # The port is part of the rule: another port of the same name is not allowed.
        rc, status, body = self.curl(sb, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 403)

    def test_denied_name_gets_403_with_a_reason_and_is_logged(self):
        sb = self.box({"allow": ["allowed.test", "denied.test"],
                       "deny": ["denied.test"]})
        off = self.server.log_size()
        rc, status, body = self.curl(sb, "http://denied.test:%d/" % self.port)
        self.assertEqual(status, 403)
        self.assertIn("denied.test:%d denied: denied by a deny entry denied.test" % self.port, body)
        rc, status, body = self.curl(sb, "https://denied.test:%d/" % self.tls_port, "-k")
        self.assertNotEqual(rc, 0)   # CONNECT refused: curl reports the 403
        rec = self.log(sb)[-1]
        self.assertEqual((rec["allowed"], rec["rule"], rec["reason"]),
                         (False, "denied.test", "denied by a deny entry"))
        self.assertIsNone(rec["address"])   # never resolved, never connected
        self.assertIn("egress: connect denied.test:%d denied" % self.tls_port,
                      self.server.log_text(off))
        self.assertEqual(self.server.get(sb["id"])["network"]["stats"]["denied"], 2)

    def test_denial_is_a_network_denied_event(self):
        from wsclient import WSClient

        sb = self.box({"allow": ["allowed.test"]})
        ws = WSClient(self.server.host, self.server.port, "/v1/rpc?token=" + self.server.token,
                      protocol="deskbox.rpc.v1")
        self.addCleanup(ws.close)
        ws.send_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "events.subscribe",
                                 "params": {"sandbox": sb["id"], "topics": ["network.denied"]}}))
        kind, data = ws.recv(timeout=10)
        self.assertIn('"result"', data.decode(), data)
        rc, status, _ = self.curl(sb, "http://denied.test:%d/x" % self.port)
        self.assertEqual(status, 403)
        kind, data = ws.recv(timeout=10)
        ev = json.loads(data)
        self.assertEqual(ev["method"], "network.denied")
        self.assertEqual({k: ev["params"][k] for k in ("sandbox", "host", "port", "reason")},
                         {"sandbox": sb["id"], "host": "denied.test", "port": self.port,
                          "reason": "not in the allow list"})

    def test_name_not_in_the_list_is_denied(self):
        sb = self.box({"allow": ["allowed.test", "*.pkg.test"]})
        for host in ("other.test", "pkg.test"):   # a wildcard does not cover its base
            rc, status, body = self.curl(sb, "http://%s:%d/" % (host, self.port))
            self.assertEqual(status, 403, host)
            self.assertIn("not in the allow list", body)
        rc, status, body = self.curl(sb, "http://cdn.pkg.test:%d/" % self.port)
        self.assertEqual(status, 200)

    def test_never_reached_through_a_name(self):
        # "*" allows every public address by any name: still not loopback
        # by name, nor the metadata address, nor a literal private one.
        sb = self.box({"allow": ["*"]})
        for url, why in (("http://localhost:%d/" % self.port, "a loopback address"),
                         ("http://metadata.test/latest/meta-data/", "a link-local address"),
                         ("http://127.0.0.1:%d/" % self.port, "a loopback address"),
                         ("http://169.254.169.254/", "a link-local address"),
                         ("http://[::ffff:127.0.0.1]:%d/" % self.port, "a loopback address")):
            rc, status, body = self.curl(sb, url, "--noproxy ''")
            self.assertEqual(status, 403, url)
            self.assertIn(why, body, url)
        # Only an explicit address entry opens one.
        self.put_policy(sb, {"allow": ["127.0.0.1:%d" % self.port]})
        rc, status, body = self.curl(sb, "http://127.0.0.1:%d/" % self.port, "--noproxy ''")
        self.assertEqual(status, 200)

    def test_no_network_field_means_no_egress(self):
        sb = self.box(None)
        net = self.server.get(sb["id"])["network"]
        self.assertEqual((net["allow"], net["deny"]), ([], []))
        rc, status, body = self.curl(sb, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 403)
        self.assertIn("this sandbox has no network egress", body)

    def test_direct_connections_fail_and_only_lo_exists(self):
        sb = self.box({"allow": ["allowed.test"]})
        rc, status, body = self.curl(sb, "http://127.0.0.1:%d/" % self.port, "--noproxy '*'")
        self.assertEqual(rc, 7)   # cannot connect: nothing listens in the sandbox's netns
        r = self.run_in(sb, "ls /sys/class/net")
        self.assertEqual(r["stdout"].split(), ["lo"])
        r = self.run_in(sb, "curl -sS -m 5 --noproxy '*' http://allowed.test/; echo rc=$?")
        self.assertIn("rc=6", r["stdout"])   # no name resolution inside either

    def test_socks5_with_remote_names(self):
        sb = self.box({"allow": ["allowed.test"]})
        rc, status, body = self.curl(sb, "http://allowed.test:%d/s" % self.port,
                                     "-x socks5h://127.0.0.1:1080")
        self.assertEqual((rc, status), (0, 200))
        self.assertEqual(self.log(sb)[-1]["proto"], "socks5")
        rc, status, body = self.curl(sb, "http://denied.test:%d/s" % self.port,
                                     "-x socks5h://127.0.0.1:1080")
        self.assertEqual(rc, 97)   # the proxy refused: "connection not allowed by ruleset"
        rec = self.log(sb)[-1]
        self.assertEqual((rec["proto"], rec["allowed"]), ("socks5", False))
        # A name of arbitrary bytes: refused (reply 4), and still logged.
        r = self.run_in(sb, "python3 -c 'import socket; s=socket.create_connection((\"127.0.0.1\","
                            "1080)); s.sendall(b\"\\5\\1\\0\"); s.recv(2); n=b\"\\xff\\x01a\"; "
                            "s.sendall(b\"\\5\\1\\0\\3\"+bytes([len(n)])+n+b\"\\0P\"); "
                            "print(list(s.recv(10))[:2])'")
        self.assertEqual(r["stdout"].strip(), "[5, 4]", r)
        rec = self.log(sb)[-1]
        self.assertEqual((rec["host"], rec["reason"]), ("??a", "not a valid host name"))

    def test_runtime_change_cuts_and_opens(self):
        sb = self.box({"allow": ["allowed.test"]})
        rc, status, _ = self.curl(sb, "http://later.test:%d/" % self.port)
        self.assertEqual(status, 403)
        self.origin.stream_started.clear()
        result = {}

        def download():
            result["r"] = self.run_in(
                sb, "curl -sS -N -o /dev/null http://allowed.test:%d/stream; echo rc=$?" % self.port,
                timeout_ms=40000)

        t = threading.Thread(target=download)
        t.start()
        self.assertTrue(self.origin.stream_started.wait(20))
        self.assertTrue(wait_until(lambda: self.server.get(sb["id"])["network"]["stats"]["open"] == 1,
                                   timeout=10), "the open connection is not counted")
        net = self.put_policy(sb, {"allow": ["later.test"]})
        self.assertEqual(net["allow"], ["later.test"])
        t.join(60)
        self.assertFalse(t.is_alive())
        r = result["r"]
        self.assertFalse(r["timed_out"], r)
        self.assertRegex(r["stdout"], r"rc=(18|56)")
        cut = [x for x in self.log(sb) if x.get("closed") == "policy changed"]
        self.assertEqual(len(cut), 1)
        self.assertEqual(self.server.get(sb["id"])["network"]["stats"]["open"], 0)
        self.assertGreater(cut[0]["bytes_in"], 0)
        # The newly allowed host works at once, in the same sandbox.
        rc, status, body = self.curl(sb, "http://later.test:%d/" % self.port)
        self.assertEqual(status, 200)
        self.assertEqual(self.server.expect(200, "GET", "%s/%s/network" % (API, sb["id"])).body["allow"],
                         ["later.test"])

    def test_bad_policies_are_refused_with_the_field_named(self):
        for net, msg in (({"allow": "x"}, "network.allow must be an array"),
                         ({"allow": ["exa mple.com"]}, "network.allow[0]"),
                         ({"allow": ["a.com:0"]}, "port must be from 1 to 65535"),
                         ({"deny": ["10.0.0.0/33"]}, "network.deny[0]"),
                         ({"alow": []}, "did you mean network.allow"),
                         ({"max_connections": 0}, "max_connections"),
                         ("everything", "network must be an object")):
            r = self.server.request("POST", API, {"network": net, "desktop": False})
            self.assertEqual(r.status, 400, net)
            self.assertIn(msg, r.body["error"]["message"])
        sb = self.box({"allow": ["allowed.test"]})
        r = self.put_policy(sb, {"allow": ["*.", "x"]}, status=400)
        self.assertIn("network.allow[0]", r["error"]["message"])
        self.put_policy(sb, [], status=400)
        self.assertEqual(self.server.get(sb["id"])["network"]["allow"], ["allowed.test"])

    def test_normalized_policy_round_trips(self):
        net = {"allow": ["Allowed.TEST.", "*.PyPI.org:443", "10.1.2.3/8", "[2001:db8::1]:22",
                         "*:443"], "deny": ["192.168.0.0/16"], "bandwidth_bytes_per_s": 1000000,
               "max_connections": 10}
        sb = self.box(net)
        got = self.server.get(sb["id"])["network"]
        self.assertEqual(got["allow"], ["allowed.test", "*.pypi.org:443", "10.0.0.0/8",
                                        "[2001:db8::1]:22", "*:443"])
        self.assertEqual((got["deny"], got["bandwidth_bytes_per_s"], got["max_connections"]),
                         (["192.168.0.0/16"], 1000000, 10))

    def test_bandwidth_cap(self):
        cap = 2 << 20
        sb = self.box({"allow": ["allowed.test"], "bandwidth_bytes_per_s": cap})
        r = self.run_in(sb, "curl -sS -o /dev/null -w '%%{size_download} %%{speed_download}' "
                            "http://allowed.test:%d/big?n=%d" % (self.port, 3 << 20))
        size, speed = r["stdout"].split()
        self.assertEqual(int(size), 3 << 20)
        # An upper bound only (a loaded machine is slower, never faster):
        # the cap plus its 1/10 s burst over the whole transfer.
        self.assertLess(float(speed), cap * 1.3)
        # Lifting the cap at run time takes effect.
        self.put_policy(sb, {"allow": ["allowed.test"]})
        r = self.run_in(sb, "curl -sS -o /dev/null -w '%%{size_download}' "
                            "http://allowed.test:%d/big?n=%d" % (self.port, 3 << 20))
        self.assertEqual(r["stdout"], str(3 << 20))

    def test_helper_is_unprivileged_and_leaks_nothing(self):
        pid = helper_pid(self.server)
        self.assertIsNotNone(pid)
        with open("/proc/%d/status" % pid) as f:
            st = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        if os.geteuid() == 0:
            self.assertEqual(st["Uid"].split()[0], "65534")
        self.assertEqual(int(st["CapEff"].strip(), 16), 0)
        self.assertEqual(st["NoNewPrivs"].strip(), "1")
        self.assertEqual(st["Seccomp"].strip(), "2")
        before = fd_count(pid)
        sb = self.server.create(desktop=False, network={"allow": ["allowed.test"]})
        try:
            self.server.exec(sb["id"], cmd="curl -sS -m 5 http://allowed.test:%d/ >/dev/null; "
                             "python3 -c 'import socket,time; s=[socket.create_connection"
                             "((\"127.0.0.1\",3128)) for _ in range(20)]; time.sleep(0.3)'"
                             % self.port)
            self.assertGreater(fd_count(pid), before)
        finally:
            self.delete_checked(sb["id"])
        self.assertTrue(wait_until(lambda: fd_count(pid) == before, timeout=10),
                        "the helper kept fds of a destroyed sandbox")


class TestEgressHelperRestart(EgressCase):
    """The helper is where sandbox traffic is parsed: if it dies, deskboxd
    restarts it and hands every sandbox's proxies and policy back."""

    def test_killed_helper_comes_back_with_every_sandbox(self):
        sb = self.box({"allow": ["allowed.test"]})
        rc, status, _ = self.curl(sb, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 200)
        old = helper_pid(self.server)
        os.kill(old, 9)
        self.assertTrue(wait_until(lambda: helper_pid(self.server) not in (None, old), timeout=15),
                        "no new helper")
        self.assertTrue(wait_until(lambda: self.curl(sb, "http://allowed.test:%d/" % self.port)[1]
                                   == 200, timeout=15, interval=0.5))
        rc, status, body = self.curl(sb, "http://denied.test:%d/" % self.port)
        self.assertEqual(status, 403)
        self.assertIn("the helper exited", self.server.log_text(self._log_offset))


class TestEgressHostsFile(unittest.TestCase):
    def test_a_bad_hosts_file_stops_the_start_with_its_line(self):
        from deskbox import ServerError

        tmp = tempfile.mkdtemp(prefix="deskbox-egress-hosts-")
        self.addCleanup(shutil.rmtree, tmp, True)
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 fine.test\n127.0.0.1 not_a name!\n")
        srv = Server(egress_hosts=hosts)
        # stop() keeps the log of a deskboxd that exited non-zero: this one
        # is meant to, so its directory goes too.
        self.addCleanup(shutil.rmtree, srv.root, True)
        self.addCleanup(srv.stop, check=False)
        with self.assertRaises(ServerError) as cm:
            srv.start()
        self.assertIn("--egress-hosts %s: line 2: 'name!' is not a host name" % hosts,
                      str(cm.exception))


class TestEgressRootless(unittest.TestCase):
    """deskboxd without root: the listeners come from a jail in a user
    namespace and the helper keeps deskboxd's uid; same behaviour."""

    def test_allowed_and_denied_without_root(self):
        from test_modes import RootlessServer, _nobody_can_run_deskboxd
        from deskbox import deskboxd_path

        why = _nobody_can_run_deskboxd(deskboxd_path())
        if why:
            self.skipTest(why)
        tmp = tempfile.mkdtemp(prefix="deskbox-egress-rootless-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 allowed.test denied.test\n")
        os.chmod(hosts, 0o644)
        origin = start_origin()
        self.addCleanup(origin.server_close)
        self.addCleanup(origin.shutdown)
        port = origin.server_address[1]
        srv = RootlessServer(egress_hosts=hosts)
        self.addCleanup(srv.stop)
        srv.start()
        sb = srv.create(desktop=False, network={"allow": ["allowed.test"]})
        r = srv.exec(sb["id"], cmd="curl -sS -m 10 http://allowed.test:%d/page; "
                     "curl -sS -m 10 http://denied.test:%d/" % (port, port))
        self.assertIn("EGRESS-OK", r["stdout"])
        self.assertIn("denied.test:%d denied: not in the allow list" % port, r["stdout"])
        srv.delete(sb["id"])


ABUSE = r"""
import select, socket, sys, time
mode = sys.argv[1]
if mode == "long":
    s = socket.create_connection(("127.0.0.1", 3128))
    try:
        s.sendall(b"CONNECT " + b"a" * (1 << 20) + b":443 HTTP/1.1\r\n\r\n")
    except OSError:
        pass
    print(s.recv(200).split(b"\r\n")[0].decode())
elif mode == "slow":
    s = socket.create_connection(("127.0.0.1", 3128))
    t0 = time.monotonic()
    s.settimeout(1)
    got = b""
    for c in b"CONNECT allowed.test:80 HTTP/1.1\r\nX: " + b"y" * 100:
        try:
            s.send(bytes([c]))
            got = s.recv(200)
            if got or time.monotonic() - t0 > 30:
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print("closed after %.0f s: %s" % (time.monotonic() - t0, got.split(b"\r\n")[0].decode()))
elif mode == "deny":
    n, t0 = int(sys.argv[2]), time.monotonic()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", 3128))
        s.sendall(b"CONNECT denied.test:443 HTTP/1.1\r\n\r\n")
        assert s.recv(12) == b"HTTP/1.1 403"
        s.close()
    print("%.1f" % (time.monotonic() - t0))
elif mode == "many":
    n, limit = int(sys.argv[2]), int(sys.argv[3])
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", 3128))
        except BlockingIOError:
            pass
        socks.append(s)
    p = select.poll()
    byfd = {s.fileno(): s for s in socks}
    for fd in byfd:
        p.register(fd, select.POLLIN)
    refused, deadline = 0, time.monotonic() + 60
    while len(byfd) > limit and time.monotonic() < deadline:
        for fd, ev in p.poll(200):
            try:
                d = byfd[fd].recv(100)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d.startswith(b"HTTP/1.1 503") or not d:
                refused += 1
                p.unregister(fd)
                byfd.pop(fd).close()
    print("refused=%d held=%d" % (refused, len(byfd)))
"""


class TestEgressAbuse(EgressCase):

    def setUp(self):
        super().setUp()
        self.attacker = self.box({"allow": ["allowed.test"], "max_connections": 100},
                                 limits={"nofile": 12000})
        self.server.put_file(self.attacker["id"], "/tmp/abuse.py", ABUSE.encode())
        self.bystander = self.box({"allow": ["allowed.test"]})

    def bystander_fine(self):
        rc, status, body = self.curl(self.bystander, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 200)
        self.server.healthz()

    def test_a_one_megabyte_connect_line(self):
        r = self.run_in(self.attacker, "python3 /tmp/abuse.py long")
        self.assertEqual(r["stdout"].strip(), "HTTP/1.1 431 Request Header Fields Too Large")
        self.bystander_fine()

    def test_a_slowloris_client_is_cut(self):
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=self.run_in(self.attacker, "python3 /tmp/abuse.py slow", timeout_ms=40000)))
        t.start()
        self.bystander_fine()
        rc, status, _ = self.curl(self.attacker, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 200)   # the same sandbox is not stuck either
        t.join(60)
        self.assertRegex(result["r"]["stdout"], r"closed after \d+ s: HTTP/1.1 504")

    def test_a_flood_of_denials_keeps_the_log_bounded(self):
        off = self.server.log_size()
        r = self.run_in(self.attacker, "python3 /tmp/abuse.py deny 3000", timeout_ms=120000)
        self.assertEqual(r["exit_code"], 0, r)
        secs = float(r["stdout"])
        self.bystander_fine()
        self.assertTrue(wait_until(lambda: "more denials" in self.server.log_text(off), timeout=5))
        lines = [l for l in self.server.log_text(off).splitlines()
                 if self.attacker["id"] in l and "egress: connect denied.test" in l]
        self.assertLessEqual(len(lines), 20 * (int(secs) + 2))
        self.assertGreater(self.server.get(self.attacker["id"])["network"]["stats"]["denied"], 0)

    def test_ten_thousand_connections(self):
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=self.run_in(self.attacker, "python3 /tmp/abuse.py many 10000 100",
                          timeout_ms=90000)))
        t.start()
        time.sleep(1)
        self.bystander_fine()
        t.join(120)
        m = re.search(r"refused=(\d+) held=(\d+)", result["r"]["stdout"])
        self.assertTrue(m, result["r"])
        self.assertGreaterEqual(int(m.group(1)), 9900 - 100)
        self.assertLessEqual(int(m.group(2)), 100)
        self.assertTrue(wait_until(
            lambda: self.server.get(self.attacker["id"])["network"]["stats"]["refused"] >= 9800,
            timeout=10), "the refusals were not counted")
        # Once its connections are gone the sandbox gets through again.
        rc, status, _ = self.curl(self.attacker, "http://allowed.test:%d/" % self.port)
        self.assertEqual(status, 200)
        self.bystander_fine()


class TestEgressBrowser(EgressCase):
    """Chromium inside the sandbox, headless, through the proxy variables
    it reads from its environment."""

    def chromium(self, sb, url):
        return self.run_in(sb, "/usr/lib/chromium/chromium --headless=new --no-sandbox --disable-gpu "
                               "--no-first-run --dump-dom '%s' 2>/dev/null" % url,
                           timeout_ms=60000)

    def test_chromium_loads_allowed_and_errors_on_denied(self):
        if not os.access("/usr/lib/chromium/chromium", os.X_OK):
            self.skipTest("chromium is not installed")
        sb = self.box({"allow": ["allowed.test"]}, limits={"memory_mb": 2048})
        r = self.chromium(sb, "http://allowed.test:%d/page" % self.port)
        if "EGRESS-OK" not in r["stdout"] and "EGRESS-OK" not in json.dumps(r):
            self.fail("chromium did not load the allowed page: %s" % r)
        rec = [x for x in self.log(sb) if x["host"] == "allowed.test"]
        self.assertTrue(rec and rec[-1]["allowed"])
        r = self.chromium(sb, "http://denied.test:%d/page" % self.port)
        self.assertNotIn("EGRESS-OK", r["stdout"])
        # Plain HTTP: the page shown is the proxy's refusal, with its reason.
        self.assertIn("denied.test:%d denied: not in the allow list" % self.port, r["stdout"])
        self.assertTrue(any(x["host"] == "denied.test" and not x["allowed"] for x in self.log(sb)))


    def test_firefox_uses_the_proxy_environment(self):
        if not shutil.which("firefox-esr"):
            self.skipTest("firefox-esr is not installed")
        sb = self.box({"allow": ["allowed.test"]}, limits={"memory_mb": 2048})
        r = self.run_in(sb, "timeout 50 firefox-esr --headless --screenshot /tmp/shot.png "
                            "http://allowed.test:%d/green >/dev/null 2>&1; test -s /tmp/shot.png"
                        % self.port, timeout_ms=60000)
        self.assertEqual(r["exit_code"], 0, r)
        self.assertTrue(any(x["host"] == "allowed.test" and x["allowed"] for x in self.log(sb)))


class TestEgressDesktopBrowser(EgressCase):
    """Chromium on the sandbox's desktop (started as a desktop app, so with
    the proxy environment every app gets): the allowed page is on screen,
    the denied one is replaced by the proxy's refusal."""

    GREEN = (0, 0xc0, 0)

    def green_share(self, sid):
        from test_agent_standalone import png_decode

        r = self.server.request("GET", "%s/%s/screenshot?format=png" % (API, sid), raw=True)
        self.assertEqual(r.status, 200)
        w, h, rows = png_decode(r.body)
        green = total = 0
        for y in range(0, h, 8):
            row = rows[y]
            for x in range(0, w, 8):
                px = tuple(row[3 * x:3 * x + 3])
                total += 1
                green += all(abs(a - b) < 16 for a, b in zip(px, self.GREEN))
        return green / total

    def test_chromium_on_the_desktop(self):
        chromium = "/usr/lib/chromium/chromium"
        if not os.access(chromium, os.X_OK):
            self.skipTest("chromium is not installed")
        flags = "--no-sandbox --no-first-run --disable-gpu --kiosk --user-data-dir=/tmp/chr"
        sb = self.box({"allow": ["allowed.test"]}, desktop={"width": 800, "height": 600},
                      limits={"memory_mb": 2048},
                      apps=["%s %s http://allowed.test:%d/green" % (chromium, flags, self.port)])
        self.assertTrue(wait_until(lambda: self.green_share(sb["id"]) > 0.5, timeout=60, interval=0.5),
                        "the allowed page never showed on the desktop")
        # The same browser opens a denied page: the proxy's 403 replaces it.
        self.run_in(sb, "%s %s http://denied.test:%d/green >/dev/null 2>&1" % (chromium, flags, self.port),
                    timeout_ms=30000)
        self.assertTrue(wait_until(lambda: self.green_share(sb["id"]) < 0.05, timeout=30, interval=0.5),
                        "the denied page showed")
        recs = self.log(sb)
        self.assertTrue(any(x["host"] == "allowed.test" and x["allowed"] for x in recs))
        self.assertTrue(any(x["host"] == "denied.test" and not x["allowed"] for x in recs))


if __name__ == "__main__":
    unittest.main()
