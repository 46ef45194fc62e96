"""examples/ run against a live deskboxd: the Python (python3-websockets)
and Node.js (npm ws) control-channel scripts each create a sandbox with an
xterm, type into it, wait for the screen to settle, save a screenshot,
stream a command and delete the sandbox. Checked by what they print, the
PNG they write, and that no sandbox of theirs is left.
"""

import os
import re
import shutil
import subprocess
import tempfile

from deskbox import API, REPO, ServerTestCase, find_cgroup_dirs, pids_in_cgroups_matching, wait_until

EXAMPLES = os.path.join(REPO, "examples")


class TestExamples(ServerTestCase):

    def run_example(self, argv):
        tmp = tempfile.mkdtemp(prefix="deskbox-example-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "shot.png")
        env = dict(os.environ, DESKBOX_TOKEN=self.server.token)
        p = subprocess.run(argv + ["--url", "ws://%s:%d" % (self.server.host, self.server.port), "--out", out],
                           env=env, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=180)
        self.assertEqual(p.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        text = p.stdout
        m = re.search(r"^sandbox ([0-9a-f]{32}) created$", text, re.M)
        self.assertTrue(m, text)
        sid = m.group(1)
        self.assertIn("sandbox %s deleted" % sid, text)
        # Made and deleted by the script, so the harness never tracked it:
        # gone means unknown to deskboxd, no process and no cgroup left.
        self.assertEqual(self.server.request("GET", "%s/%s" % (API, sid)).status, 404)
        self.assertTrue(wait_until(lambda: not pids_in_cgroups_matching(sid) and not find_cgroup_dirs(sid), 10),
                        (pids_in_cgroups_matching(sid), find_cgroup_dirs(sid)))
        self.assertRegex(text, r"screen settled \(")
        m = re.search(r"^screenshot saved: .* \((\d+) bytes, image/png\)$", text, re.M)
        self.assertTrue(m, text)
        with open(out, "rb") as f:
            png = f.read()
        self.assertEqual(len(png), int(m.group(1)))
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual((int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")), (1280, 800))
        # What was typed into the xterm ran in its shell: the streamed
        # command reads the file it wrote.
        self.assertIn("[stdout] typed-over-rpc\n", text)
        lines = [l for l in text.splitlines() if l.startswith("[stdout] line")]
        self.assertEqual(lines, ["[stdout] line 1", "[stdout] line 2", "[stdout] line 3"])
        self.assertIn("[stderr] oops\n", text)
        self.assertTrue(text.rstrip().splitlines()[-2] == "exit code: 3", text)
        self.assertEqual(self.server.list(), [])

    def test_python_example(self):
        self.run_example(["/usr/bin/python3", os.path.join(EXAMPLES, "rpc_demo.py")])

    def test_node_example(self):
        self.assertTrue(os.path.isdir(os.path.join(EXAMPLES, "node_modules", "ws")),
                        "examples/node_modules/ws is missing: run make")
        self.run_example(["node", os.path.join(EXAMPLES, "rpc_demo.mjs")])
