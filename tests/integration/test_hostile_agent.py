"""test_hostile_agent.py - deskboxd against a desktop agent that breaks the
channel's rules (issue 11: deskboxd treats the agent as hostile).

tests/integration/hostile_agent.c stands in for deskbox-desktop beside a
copy of deskboxd. For each method it answers the way a taken-over agent
might (a body where a reply has none, a file where none belongs, unsealed
memfds, a body over the method's cap) and floods replies to ids nobody
waits for, with 60 MiB bodies, plus junk. Each call must fail with a clear
500 naming what was wrong, the one honest answer (actions, a sealed body
within its cap) must come through, and deskboxd stays healthy and small.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from deskbox import API, Server, ServerTestCase, deskboxd_path

HERE = os.path.dirname(os.path.abspath(__file__))


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class HostileAgentTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        build = os.path.dirname(deskboxd_path())
        cls.bindir = tempfile.mkdtemp(prefix="deskbox-hostile-")
        cls.addClassCleanup(shutil.rmtree, cls.bindir, ignore_errors=True)
        for name in ("deskboxd", "deskbox-init", "deskbox-egress"):
            shutil.copy2(os.path.join(build, name), cls.bindir)
        subprocess.run(["cc", "-static", "-O1", "-o", os.path.join(cls.bindir, "deskbox-desktop"),
                        os.path.join(HERE, "hostile_agent.c")], check=True)
        cls.server_options = {"binary": os.path.join(cls.bindir, "deskboxd")}
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox(desktop={"width": 800, "height": 600})

    def call(self, method, tail, body=None, status=500):
        r = self.server.request(method, "%s/%s/%s" % (API, self.sb["id"], tail), body, timeout=60)
        self.assertEqual(r.status, status, r.body)
        return r.body

    def refused(self, method, tail, words, body=None):
        err = self.call(method, tail, body)["error"]
        self.assertEqual(err["code"], "internal", err)
        self.assertIn(words, err["message"])

    def test_rule_breaking_replies_are_refused(self):
        self.refused("GET", "screenshot", "a body for a reply that has none")
        self.refused("POST", "desktop/wait", "an unsealed file", {"screenshot": {}})
        self.refused("GET", "display", "a file it should not")
        self.refused("GET", "windows", "over its size limit")
        self.refused("GET", "clipboard", "malformed reply")

    def test_an_honest_body_within_its_cap_comes_through(self):
        out = self.call("POST", "actions", [{"action": "screenshot"}], status=200)
        self.assertEqual(out["results"], [{"ok": True}])

    def test_floods_leave_deskboxd_healthy_and_small(self):
        pid = self.server.proc.pid
        self.call("GET", "display")
        before = _rss_kib(pid)
        for _ in range(5):
            self.call("GET", "display")
            self.server.healthz()
        grown = _rss_kib(pid) - before
        # 5 x 20 bodies of 60 MiB were offered; none may have been read
        self.assertLess(grown, 32 * 1024, "deskboxd grew by %d KiB" % grown)
        # sizes the agent reported out of range were not taken
        desk = self.server.get(self.sb["id"])["desktop"]
        self.assertEqual(desk["display"], {"width": 800, "height": 600})
        self.assertEqual(desk["state"], "running")


if __name__ == "__main__":
    unittest.main()
