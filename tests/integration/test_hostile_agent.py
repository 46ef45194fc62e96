"""test_hostile_agent.py - deskboxd against a desktop agent that breaks the
channel's rules (issue 11: deskboxd treats the agent as hostile).

tests/integration/hostile_agent.c stands in for deskbox-desktop beside a
copy of deskboxd. For each method it answers the way a taken-over agent
might (a body where a reply has none, a file where none belongs, unsealed
memfds, a body over the method's cap) and floods replies to ids nobody
waits for, with 60 MiB bodies, plus junk. Each call must fail with a clear
500 naming what was wrong, and deskboxd stays healthy and small.

An actions batch's images come as sealed memfds beside an inline reply;
the agent breaks each of their rules in turn (picked by the batch's first
action), and its honest answer (two known images) must reach every face
byte for byte: REST and JSON-RPC (base64 in the result), MCP image
content, the Anthropic and OpenAI adapters.
"""

import asyncio
import base64
import os
import shutil
import subprocess
import tempfile
import unittest

from deskbox import API, Server, ServerTestCase, deskboxd_path
from rpcclient import RPC

HERE = os.path.dirname(os.path.abspath(__file__))
# The honest answer's images (hostile_agent.c's HONEST_A and HONEST_B).
HONEST_A = b"\x89PNG\r\n\x1a\n\0hostile-agent image A \xff\xfe"
HONEST_B = b"\xff\xd8\xff\xe0 hostile-agent image B, the settled one"
MCP_HEADERS = {"Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28"}
MCP_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "hostile-test", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}


def _fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


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

    def mode(self, name):
        """An actions batch whose first action picks the agent's answer."""
        return [{"action": "type", "text": "mode-" + name}]

    def test_rule_breaking_images_are_refused(self):
        pid = self.server.proc.pid
        self.call("POST", "actions", self.mode("honest"), status=200)
        fds = _fds(pid)
        for mode, words in (("unsealed", "an unsealed file"), ("empty", "an empty file"),
                            ("toomany", "too many files"), ("huge", "over their size limit"),
                            ("unnamed", "malformed reply"), ("twice", "malformed reply"),
                            ("html", "malformed reply"),
                            ("body", "a body for a reply that has none")):
            with self.subTest(mode=mode):
                self.refused("POST", "actions", words, self.mode(mode))
        # Every refused file was closed; deskboxd still answers.
        self.server.healthz()
        self.assertLessEqual(_fds(pid), fds + 2)

    def test_honest_images_reach_rest_byte_for_byte(self):
        out = self.call("POST", "actions", self.mode("honest"), status=200)
        self.assertEqual(out["results"][0], {"ok": True})
        img = out["results"][1]["image"]
        self.assertEqual(set(img), {"media_type", "data"})
        self.assertEqual(img["media_type"], "image/png")
        self.assertEqual(base64.b64decode(img["data"]), HONEST_A)
        st = out["settled"]
        self.assertEqual((st["settled"], st["waited_ms"], st["frame"], st["width"], st["height"]),
                         (True, 5, 3, 2, 2))
        self.assertEqual(st["image"]["media_type"], "image/jpeg")
        self.assertEqual(base64.b64decode(st["image"]["data"]), HONEST_B)

    def test_honest_images_reach_rpc_byte_for_byte(self):
        async def go():
            async with RPC(self.server) as rpc:
                one = await rpc.call("desktop.actions", {"sandbox": self.sb["id"],
                                                         "actions": self.mode("honest")})
                # Inside a batch too.
                futs = [rpc.expect(rid) for rid in ("b1", "b2")]
                await rpc.send([{"jsonrpc": "2.0", "id": rid, "method": "desktop.actions",
                                 "params": {"sandbox": self.sb["id"], "actions": self.mode("honest")}}
                                for rid in ("b1", "b2")])
                both = [await asyncio.wait_for(f, 60) for f in futs]
                return one, both
        one, both = asyncio.run(go())
        # Alone: binary frames after the result, the memfds' bytes as sent.
        self.assertEqual(one["binary_frames"], 2)
        self.assertEqual(one["results"][1]["image"]["_bytes"], HONEST_A)
        self.assertEqual(one["settled"]["image"]["_bytes"], HONEST_B)
        for res in [b["result"] for b in both]:
            self.assertNotIn("binary_frames", res)
            self.assertEqual(base64.b64decode(res["results"][1]["image"]["data"]), HONEST_A)
            self.assertEqual(base64.b64decode(res["settled"]["image"]["data"]), HONEST_B)

    def test_honest_images_reach_mcp_and_the_adapters(self):
        r = self.server.request("POST", "/mcp", {
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "computer", "_meta": MCP_META,
                       "arguments": {"sandbox_id": self.sb["id"], "action": "type",
                                     "text": "mode-honest"}}},
            headers=dict(MCP_HEADERS, **{"Mcp-Method": "tools/call", "Mcp-Name": "computer"}),
            timeout=60)
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(r.body["result"]["isError"], r.body)
        images = [c for c in r.body["result"]["content"] if c["type"] == "image"]
        self.assertEqual([(c["mimeType"], base64.b64decode(c["data"])) for c in images],
                         [("image/png", HONEST_A)])
        r = self.server.request("POST", "%s/%s/tools/anthropic" % (API, self.sb["id"]),
                                {"type": "tool_use", "id": "toolu_1", "name": "computer",
                                 "input": {"action": "screenshot"}}, timeout=60)
        self.assertEqual(r.status, 200, r.body)
        images = [c for c in r.body["content"] if c["type"] == "image"]
        self.assertEqual([(c["source"]["media_type"], base64.b64decode(c["source"]["data"]))
                          for c in images], [("image/png", HONEST_A)])
        r = self.server.request("POST", "%s/%s/tools/openai" % (API, self.sb["id"]),
                                {"type": "computer_call", "call_id": "c1",
                                 "action": {"type": "screenshot"}}, timeout=60)
        self.assertEqual(r.status, 200, r.body)
        url = r.body["output"]["image_url"]
        prefix = "data:image/png;base64,"
        self.assertTrue(url.startswith(prefix), url[:40])
        self.assertEqual(base64.b64decode(url[len(prefix):]), HONEST_A)

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
