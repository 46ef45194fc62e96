"""test_cli.py - the `deskbox` command against a real deskboxd: every
subcommand, the ways it finds the server and token, exit statuses, --help,
and `deskbox mcp` driven by the official MCP SDK's stdio client."""

import json
import os
import subprocess
import tempfile
import unittest

from deskbox import REPO, ServerTestCase, deskboxd_path, until

CLI = os.path.join(os.path.dirname(deskboxd_path()), "deskbox")
STDIO = os.path.join(REPO, "tests", "mcp", "stdio.mjs")


class TestCli(ServerTestCase):
    def run_cli(self, *args, input=None, env=None, url=True, token=True, timeout=120):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if url:
            e["DESKBOX_URL"] = self.server.url
        if token:
            e["DESKBOX_TOKEN"] = self.server.token
        e.update(env or {})
        return subprocess.run([CLI, *args], input=input, capture_output=True, env=e, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def ok(self, *args, **kw):
        p = self.run_cli(*args, **kw)
        self.assertEqual(p.returncode, 0, (args, p.stdout, p.stderr))
        return p.stdout.decode()

    def created(self, *args):
        sid = self.ok("create", *args).strip()
        self.assertRegex(sid, r"^[0-9a-f]{32}$")
        self.server._track(self.server.request("GET", "/v1/sandboxes/" + sid).body)
        self.addCleanup(self.delete_checked, sid)
        return sid

    def test_lifecycle_and_listing(self):
        sid = self.created("--no-desktop")
        self.assertIn(sid, self.ok("ls"))
        listed = json.loads(self.ok("ls", "--json"))
        self.assertIn(sid, [s["id"] for s in listed["sandboxes"]])
        obj = json.loads(self.ok("create", "--json", "--size", "1024x768"))
        self.server._track(obj)
        self.assertEqual(obj["display"], {"width": 1024, "height": 768})
        self.ok("rm", obj["id"])
        self.server.assert_sandbox_gone(obj["id"])
        p = self.run_cli("rm", obj["id"])
        self.assertEqual(p.returncode, 66)
        self.assertIn(b"not_found", p.stderr)

    def test_exec(self):
        sid = self.created("--no-desktop")
        p = self.run_cli("exec", sid, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (3, b"out\n", b"err\n"))
        self.assertEqual(self.ok("exec", sid, "--", "true"), "")
        self.assertEqual(self.ok("exec", sid, "--", "wc", "-c", input=b"x" * 100000), "100000\n")
        blob = bytes(range(256)) * 64
        p = self.run_cli("exec", sid, "--", "cat", input=blob)
        self.assertEqual(p.stdout, blob)
        p = self.run_cli("exec", sid, "-n", "--", "sh", "-c", "kill -9 $$")
        self.assertEqual(p.returncode, 128 + 9)
        p = self.run_cli("exec", "0" * 32, "--", "true")
        self.assertEqual(p.returncode, 66)

    def test_desktop_and_files(self):
        sid = self.created("--app", "xterm -T clitest -geometry 80x20+0+0")
        until(lambda: any(w["title"] == "clitest" for w in self.server.request(
            "GET", "/v1/sandboxes/%s/windows" % sid).body.get("windows", [])), timeout=30, what="xterm")
        with tempfile.TemporaryDirectory() as d:
            shot = os.path.join(d, "s.png")
            self.assertEqual(self.ok("shot", sid, "-o", shot).strip(), shot)
            with open(shot, "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual((int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")), (1280, 800))
            self.assertEqual(self.run_cli("shot", sid, "--jpeg", "-o", "-").stdout[:2], b"\xff\xd8")
            src = os.path.join(d, "in.bin")
            with open(src, "wb") as f:
                f.write(os.urandom(70000))
            self.ok("cp", src, sid + ":/tmp/in.bin")
            back = os.path.join(d, "out.bin")
            self.ok("cp", sid + ":/tmp/in.bin", back)
            with open(src, "rb") as a, open(back, "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(self.run_cli("cp", sid + ":/nope", back).returncode, 66)
        self.ok("click", sid, "100", "60")
        self.ok("type", sid, "echo typed-by-cli > /tmp/cli.txt")
        self.ok("key", sid, "Return")
        until(lambda: self.server.request("GET", "/v1/sandboxes/%s/files?path=/tmp/cli.txt" % sid,
                                          raw=True).body == b"typed-by-cli\n", timeout=20, what="the typed file")
        self.ok("wait", sid, "--settled", "--quiet", "200")
        p = self.run_cli("wait", sid, "--quiet", "5000", "--timeout", "0")
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertEqual(self.run_cli("shot", sid, "--settle", "-o", "-").stdout[:8], b"\x89PNG\r\n\x1a\n")
        url = self.ok("view", sid).strip()
        self.assertIn("viewer.html?id=" + sid, url)
        self.assertIn("view_only=1", url)
        disp = json.loads(self.ok("rpc", "display.get", json.dumps({"sandbox": sid})))
        self.assertEqual((disp["cursor"]["x"], disp["cursor"]["y"]), (100, 60))

    def test_server_and_token_sources(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "token"), "w") as f:
                f.write(self.server.token + "\n")
            self.ok("ls", token=False, env={"DESKBOX_STATE_DIR": d})
            self.ok("--state-dir", d, "ls", token=False)
        self.ok("--url", self.server.url, "--token", self.server.token, "ls", url=False, token=False)
        p = self.run_cli("--token", "wrong", "ls")
        self.assertEqual(p.returncode, 77)
        self.assertIn(b"unauthorized", p.stderr)
        p = self.run_cli("--url", "http://127.0.0.1:1", "ls")
        self.assertEqual(p.returncode, 69)
        self.assertEqual(self.run_cli("--url", "ftp://x", "ls").returncode, 64)
        self.assertEqual(self.run_cli("--token", "wrong", "exec", "0" * 32, "--", "true").returncode, 77)

    def test_usage_and_help(self):
        for cmd in ("create", "ls", "rm", "exec", "shot", "click", "type", "key", "cp", "view", "wait", "rpc", "mcp"):
            with self.subTest(cmd=cmd):
                out = self.ok(cmd, "--help")
                self.assertTrue(out.startswith("usage: deskbox " + cmd), out)
        self.assertIn("commands:", self.ok("--help"))
        for bad in (["frob"], [], ["click", "x"], ["click", "x", "1", "b"], ["create", "--size", "big"],
                    ["exec", "x"], ["cp", "a", "b"], ["rpc", "m", "[1]"]):
            with self.subTest(bad=bad):
                p = self.run_cli(*bad)
                self.assertEqual(p.returncode, 64, (bad, p.stderr))
                self.assertTrue(p.stderr.startswith(b"deskbox: ") or p.stderr.startswith(b"usage:"), p.stderr)
        p = self.run_cli("rpc", "no.such.method")
        self.assertEqual(p.returncode, 66)

    def test_mcp_bridge_with_the_sdk(self):
        p = subprocess.run(["node", STDIO, CLI, self.server.url, self.server.token], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        rep = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(rep["ok"], rep.get("error"))
        self.assertIn("computer", rep["tools"])
        self.assertEqual(rep["sandboxes"], [])
        self.assertTrue(rep["badIsError"])


if __name__ == "__main__":
    unittest.main()
