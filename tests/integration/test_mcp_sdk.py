"""test_mcp_sdk.py - deskboxd's /mcp driven by the official MCP TypeScript SDK.

tests/mcp/drive.mjs runs a whole client session with @modelcontextprotocol/sdk
(Client over StreamableHTTPClientTransport, protocol 2025-11-25): it lists the
tools, creates a sandbox with an xterm, takes a screenshot, clicks into the
xterm and types a command through `computer`, reads the command's output back
with `exec`, writes and reads a file, meets an isError result and a protocol
error, deletes the sandbox and ends the session. This test checks its report
and that the sandbox is gone.
"""

import json
import os
import subprocess
import unittest

from deskbox import REPO, ServerTestCase

DRIVE = os.path.join(REPO, "tests", "mcp", "drive.mjs")
SDK = os.path.join(REPO, "tests", "mcp", "node_modules", "@modelcontextprotocol", "sdk")


class TestMcpSdk(ServerTestCase):
    def test_sdk_session(self):
        self.assertTrue(os.path.isdir(SDK), "run make (tests/mcp/install.sh installs the SDK)")
        p = subprocess.run(["node", DRIVE, self.server.url + "/mcp", self.server.token],
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        try:
            rep = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.fail("drive.mjs printed no report (exit %d): %s %s" % (p.returncode, p.stdout, p.stderr))
        if rep.get("sandbox"):
            # Created through MCP, not POST /v1/sandboxes: have the harness
            # prove it gone like any other.
            self.server._track(rep["sandbox"])
            self.addCleanup(self.delete_checked, rep["sandbox"]["id"])
        self.assertTrue(rep["ok"], rep.get("error"))
        self.assertEqual(rep["protocolVersion"], "2025-11-25")
        self.assertRegex(rep["sessionId"], r"^[0-9a-f]{32,}$")
        self.assertEqual(set(rep["tools"]), {
            "sandbox_create", "sandbox_list", "sandbox_delete", "computer", "screenshot", "exec",
            "files_read", "files_write", "clipboard_get", "clipboard_set", "windows_list",
            "window_activate", "window_move", "window_resize", "window_minimize", "window_maximize",
            "window_restore", "window_close",
            "apps_list", "apps_launch", "apps_open"})
        self.assertIn("sandbox_id", rep["computerSchema"]["required"])
        self.assertIn("left_click", rep["computerSchema"]["properties"]["action"]["enum"])
        steps = {s["name"]: s for s in rep["steps"]}
        disp = rep["sandbox"]["display"]
        for name in ("screenshot", "computer_screenshot"):
            png = steps[name]["png"]
            self.assertEqual(png["signature"], "89504e470d0a1a0a", name)
            self.assertEqual((png["width"], png["height"]), (disp["width"], disp["height"]), name)
        self.assertEqual(steps["screenshot"]["mimeType"], "image/png")
        self.assertIsNotNone(steps["windows_list"]["window"])
        self.assertFalse(steps["window_move"]["isError"], steps["window_move"])
        self.assertEqual(steps["window_move"]["xy"], [0, 30])
        self.assertFalse(steps["left_click"]["isError"])
        self.assertEqual(steps["exec_readback"]["stdout"], "typed-via-mcp-42\n")
        self.assertEqual(steps["files_read"]["text"], "héllo\n")
        self.assertTrue(steps["bad_sandbox"]["isError"])
        self.assertIn("not_found", steps["bad_sandbox"]["text"])
        self.assertEqual(steps["unknown_tool"], {"name": "unknown_tool", "threw": True, "code": -32602})
        self.assertFalse(steps["sandbox_delete"]["isError"])
        self.assertTrue(rep["terminated"])
        self.server.assert_sandbox_gone(rep["sandbox"]["id"])


if __name__ == "__main__":
    unittest.main()
