"""test_mcp_http.py - /mcp on the wire, one class per MCP revision.

Raw HTTP (no SDK), so each rule of the transport spec is seen as it is sent:
2025-11-25 (initialize, Mcp-Session-Id, DELETE, GET refused) and 2026-07-28
(stateless: MCP-Protocol-Version and the Mcp-Method / Mcp-Name headers checked
against the body, server/discover, errors -32020 and -32022, no sessions).
Plus what both share: token auth as REST, Origin validation, tools generated
from the operation table, tool errors as isError results.
"""

import base64
import json
import subprocess
import unittest

from deskbox import ServerTestCase, deskboxd_path

ACCEPT = {"Accept": "application/json, text/event-stream"}
MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}
TOOLS = {  # MCP tool -> the operation it is a row of
    "sandbox_create": "sandbox.create", "sandbox_list": "sandbox.list",
    "sandbox_delete": "sandbox.delete", "computer": "desktop.actions",
    "screenshot": "desktop.screenshot", "exec": "process.exec", "files_read": "files.read",
    "files_write": "files.write", "clipboard_get": "clipboard.get",
    "clipboard_set": "clipboard.set", "windows_list": "windows.list",
    "window_activate": "window.activate", "window_move": "window.move", "window_resize": "window.resize",
    "window_minimize": "window.minimize", "window_maximize": "window.maximize",
    "window_restore": "window.restore", "window_close": "window.close",
    "apps_list": "apps.list", "apps_launch": "apps.launch", "apps_open": "apps.open",
}


def rpc(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        m["id"] = id
    if params is not None:
        m["params"] = params
    return m


class McpCase(ServerTestCase):
    def post(self, body, headers=None, **kw):
        h = dict(ACCEPT)
        h.update(headers or {})
        return self.server.request("POST", "/mcp", body, headers=h, **kw)

    def assertRpcError(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.body["jsonrpc"], "2.0")
        self.assertEqual(r.body["error"]["code"], code, r.body)
        self.assertTrue(r.body["error"]["message"])


class TestMcpLegacy(McpCase):
    """2025-11-25: a session from initialize."""

    def initialize(self, version="2025-11-25"):
        r = self.post(rpc("initialize", {"protocolVersion": version, "capabilities": {},
                                         "clientInfo": {"name": "raw", "version": "1"}}))
        self.assertEqual(r.status, 200, r.body)
        sid = r.headers.get("mcp-session-id")
        self.assertRegex(sid or "", r"^[0-9a-f]{32,}$")
        return sid, r.body["result"]

    def session(self, sid, version="2025-11-25"):
        return {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version}

    def test_initialize_negotiates(self):
        sid, res = self.initialize()
        self.assertEqual(res["protocolVersion"], "2025-11-25")
        self.assertEqual(res["capabilities"], {"tools": {"listChanged": False}})
        self.assertEqual(res["serverInfo"]["name"], "deskbox")
        self.assertNotIn("resultType", res)
        _, res = self.initialize("2025-06-18")
        self.assertEqual(res["protocolVersion"], "2025-06-18")
        _, res = self.initialize("1999-01-01")   # unknown: we offer our latest
        self.assertEqual(res["protocolVersion"], "2025-11-25")
        sid2, _ = self.initialize()
        self.assertNotEqual(sid, sid2)

    def test_session_flow(self):
        sid, _ = self.initialize()
        r = self.post(rpc("notifications/initialized", id=None), self.session(sid))
        self.assertEqual((r.status, r.body), (202, b""))
        r = self.post(rpc("ping"), self.session(sid))
        self.assertEqual(r.body["result"], {})
        r = self.post(rpc("tools/list", id="a"), self.session(sid))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body["id"], "a")
        self.assertEqual({t["name"] for t in r.body["result"]["tools"]}, set(TOOLS))
        r = self.post(rpc("resources/list"), self.session(sid))
        self.assertRpcError(r, 200, -32601)
        # Ended by DELETE; then the session is unknown (404).
        r = self.server.request("DELETE", "/mcp", headers=self.session(sid))
        self.assertEqual(r.status, 200)
        r = self.post(rpc("tools/list"), self.session(sid))
        self.assertRpcError(r, 404, -32001)
        r = self.server.request("DELETE", "/mcp", headers=self.session(sid))
        self.assertEqual(r.status, 404)

    def test_session_required(self):
        r = self.post(rpc("tools/list"))
        self.assertRpcError(r, 400, -32600)
        r = self.post(rpc("tools/list"), {"MCP-Protocol-Version": "2025-11-25"})
        self.assertRpcError(r, 400, -32600)
        r = self.post(rpc("tools/list"), self.session("0" * 64))
        self.assertRpcError(r, 404, -32001)
        sid, _ = self.initialize()
        r = self.post(rpc("tools/list"), self.session(sid, "1999-01-01"))
        self.assertRpcError(r, 400, -32600)
        r = self.post(rpc("initialize"))   # a request, but malformed params are ours to fill
        self.assertEqual(r.status, 200)

    def test_get_stream_refused(self):
        sid, _ = self.initialize()
        r = self.server.request("GET", "/mcp", headers=dict(ACCEPT, **self.session(sid)))
        self.assertEqual(r.status, 405)

    def test_tool_errors_are_results(self):
        sid, _ = self.initialize()
        h = self.session(sid)
        r = self.post(rpc("tools/call", {"name": "screenshot", "arguments": {"sandbox_id": "f" * 32}}), h)
        self.assertEqual(r.status, 200)
        res = r.body["result"]
        self.assertTrue(res["isError"])
        self.assertEqual(res["content"][0]["type"], "text")
        self.assertIn("not_found", res["content"][0]["text"])
        self.assertEqual(res["structuredContent"]["code"], "not_found")
        # An unknown argument is the tool's error, named.
        r = self.post(rpc("tools/call", {"name": "sandbox_list", "arguments": {"bogus": 1}}), h)
        self.assertTrue(r.body["result"]["isError"])
        self.assertIn("bogus", r.body["result"]["content"][0]["text"])
        r = self.post(rpc("tools/call", {"name": "exec", "arguments": {"sandbox": "x"}}), h)
        self.assertTrue(r.body["result"]["isError"])
        # Unknown tools and malformed calls are protocol errors.
        r = self.post(rpc("tools/call", {"name": "nope", "arguments": {}}), h)
        self.assertRpcError(r, 200, -32602)
        r = self.post(rpc("tools/call", {"name": "exec", "arguments": [1]}), h)
        self.assertRpcError(r, 200, -32602)


class TestMcpModern(McpCase):
    """2026-07-28: stateless, every request carries its version."""

    def headers(self, method, name=None, version=MODERN):
        h = {"MCP-Protocol-Version": version, "Mcp-Method": method}
        if name is not None:
            h["Mcp-Name"] = name
        return h

    def call(self, name, args, expect_error=False):
        r = self.post(rpc("tools/call", {"name": name, "arguments": args, "_meta": META}),
                      self.headers("tools/call", name), timeout=120)
        self.assertEqual(r.status, 200, r.body)
        res = r.body["result"]
        self.assertEqual(res["resultType"], "complete")
        self.assertEqual(res["isError"], expect_error, res)
        return res

    def test_discover(self):
        r = self.post(rpc("server/discover", {"_meta": META}), self.headers("server/discover"))
        self.assertEqual(r.status, 200, r.body)
        res = r.body["result"]
        self.assertEqual(res["resultType"], "complete")
        self.assertEqual(res["supportedVersions"][0], MODERN)
        self.assertIn("2025-11-25", res["supportedVersions"])
        self.assertIn("tools", res["capabilities"])
        self.assertEqual(res["serverInfo"]["name"], "deskbox")
        self.assertNotIn("mcp-session-id", r.headers)

    def test_tools_from_the_operation_table(self):
        ops = {o["name"]: o for o in json.loads(subprocess.run(
            [deskboxd_path(), "--list-ops"], capture_output=True, check=True).stdout)}
        r = self.post(rpc("tools/list", {"_meta": META}), self.headers("tools/list"))
        tools = {t["name"]: t for t in r.body["result"]["tools"]}
        self.assertEqual(set(tools), set(TOOLS))
        for name, opname in TOOLS.items():
            op, tool = ops[opname], tools[name]
            self.assertTrue(tool["description"].startswith(op["summary"]), name)
            props = tool["inputSchema"]["properties"]
            self.assertNotIn("sandbox", props, name)
            needs = "sandbox" in op["params"].get("required", [])
            self.assertEqual("sandbox_id" in tool["inputSchema"].get("required", []), needs, name)
            for key in op["params"].get("properties", {}):
                if key not in ("sandbox", "actions", "if_none_match"):
                    self.assertEqual(props[key], op["params"]["properties"][key], (name, key))

    def test_header_checks(self):
        body = rpc("tools/list", {"_meta": META})
        # Missing or mismatched Mcp-Method.
        r = self.post(body, {"MCP-Protocol-Version": MODERN})
        self.assertRpcError(r, 400, -32020)
        r = self.post(body, self.headers("tools/call"))
        self.assertRpcError(r, 400, -32020)
        # The header's version against _meta's.
        r = self.post(rpc("tools/list", {"_meta": dict(META, **{
            "io.modelcontextprotocol/protocolVersion": "2025-11-25"})}), self.headers("tools/list"))
        self.assertRpcError(r, 400, -32020)
        r = self.post(rpc("tools/list", {}), self.headers("tools/list"))
        self.assertRpcError(r, 400, -32602)
        # Modern markers without the version header.
        r = self.post(body, {"Mcp-Method": "tools/list"})
        self.assertRpcError(r, 400, -32020)
        # Mcp-Name: required for tools/call, checked, base64 sentinel decoded.
        call = rpc("tools/call", {"name": "sandbox_list", "arguments": {}, "_meta": META})
        r = self.post(call, self.headers("tools/call"))
        self.assertRpcError(r, 400, -32020)
        r = self.post(call, self.headers("tools/call", "sandbox_lis"))
        self.assertRpcError(r, 400, -32020)
        self.assertIn("sandbox_lis", r.body["error"]["message"])
        enc = "=?base64?%s?=" % base64.b64encode(b"sandbox_list").decode()
        r = self.post(call, self.headers("tools/call", enc))
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(r.body["result"]["isError"])
        r = self.post(call, self.headers("tools/call", "=?base64?!!!?="))
        self.assertRpcError(r, 400, -32020)

    def test_versions_and_methods(self):
        r = self.post(rpc("tools/list", {"_meta": dict(META, **{
            "io.modelcontextprotocol/protocolVersion": "1900-01-01"})}),
            self.headers("tools/list", version="1900-01-01"))
        self.assertRpcError(r, 400, -32022)
        self.assertEqual(r.body["error"]["data"]["requested"], "1900-01-01")
        self.assertIn(MODERN, r.body["error"]["data"]["supported"])
        r = self.post(rpc("resources/list", {"_meta": META}), self.headers("resources/list"))
        self.assertRpcError(r, 404, -32601)
        # A session header is ignored, never minted or echoed.
        h = dict(self.headers("tools/list"), **{"Mcp-Session-Id": "f" * 64})
        r = self.post(rpc("tools/list", {"_meta": META}), h)
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn("mcp-session-id", r.headers)
        # A notification is accepted with 202 and no body.
        r = self.post(rpc("notifications/cancelled", {"requestId": 1}, id=None),
                      self.headers("notifications/cancelled"))
        self.assertEqual((r.status, r.body), (202, b""))
        # Neither a stream (GET) nor a session to end (DELETE).
        self.assertEqual(self.server.request("GET", "/mcp", headers=ACCEPT).status, 405)
        self.assertEqual(self.server.request("DELETE", "/mcp").status, 405)

    def test_sandbox_through_tools(self):
        sb = self.call("sandbox_create", {"desktop": False})["structuredContent"]
        self.server._track(sb)
        self.addCleanup(self.delete_checked, sb["id"])
        res = self.call("exec", {"sandbox_id": sb["id"], "cmd": "echo hi; exit 3"})
        self.assertEqual(res["structuredContent"]["stdout"], "hi\n")
        self.assertEqual(res["structuredContent"]["exit_code"], 3)
        self.assertEqual(json.loads(res["content"][0]["text"]), res["structuredContent"])
        blob = bytes(range(256))
        self.call("files_write", {"sandbox_id": sb["id"], "path": "bin.dat",
                                  "content": base64.b64encode(blob).decode(), "encoding": "base64"})
        res = self.call("files_read", {"sandbox_id": sb["id"], "path": "bin.dat"})
        self.assertEqual(res["content"][0]["type"], "resource")
        self.assertEqual(res["content"][0]["resource"]["uri"], "file:///home/user/bin.dat")
        self.assertEqual(base64.b64decode(res["content"][0]["resource"]["blob"]), blob)
        res = self.call("files_write", {"sandbox_id": sb["id"], "path": "x", "content": "a",
                                        "encoding": "rot13"}, expect_error=True)
        self.assertIn("encoding", res["content"][0]["text"])
        res = self.call("screenshot", {"sandbox_id": sb["id"]}, expect_error=True)
        self.assertIn("no_desktop", res["content"][0]["text"])
        self.call("sandbox_delete", {"sandbox_id": sb["id"]})
        self.server.assert_sandbox_gone(sb["id"])


class TestMcpShared(McpCase):
    """Auth, Origin and message framing, whatever the revision."""

    def test_token(self):
        body = rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                  "clientInfo": {"name": "raw", "version": "1"}})
        self.assertEqual(self.post(body, token=None).status, 401)
        self.assertEqual(self.post(body, token="wrong").status, 401)
        self.assertEqual(self.post(body).status, 200)

    def test_origin(self):
        body = rpc("server/discover", {"_meta": META})
        h = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"}
        for bad in ("http://evil.example", "http://evil.example:%d" % self.server.port, "null"):
            r = self.post(body, dict(h, Origin=bad))
            self.assertEqual(r.status, 403, bad)
            self.assertNotIn("id", r.body)
        for good in ("http://localhost:%d" % self.server.port, "http://127.0.0.1:%d" % self.server.port):
            self.assertEqual(self.post(body, dict(h, Origin=good)).status, 200, good)

    def test_framing(self):
        r = self.post(b"{nope", {"Content-Type": "application/json"})
        self.assertRpcError(r, 400, -32700)
        r = self.post([rpc("ping")])
        self.assertRpcError(r, 400, -32600)
        r = self.post({"jsonrpc": "2.0", "id": 1, "result": {}})
        self.assertRpcError(r, 400, -32600)
        r = self.post({"jsonrpc": "1.0", "id": 1, "method": "ping"})
        self.assertRpcError(r, 400, -32600)
        r = self.post(json.dumps(rpc("ping")), {"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415)
        r = self.post(rpc("ping"), {"Accept": "text/html"})
        self.assertEqual(r.status, 406)


if __name__ == "__main__":
    unittest.main()
