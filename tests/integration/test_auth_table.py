"""test_auth_table.py - auth over every row of the tables, read at test time.

The lists come from the server itself, never from this file, so a new route,
operation or MCP tool is covered the day it is added (and one that forgot
auth fails here):

  routes      the rows of rest_routes[] in server/rest.c (method, pattern,
              operation), cross-checked with `deskboxd --list-ops`
  operations  `deskboxd --list-ops` (name, flags), called over JSON-RPC
  MCP tools   tools/list over /mcp

and, for each, what a request may do:

  - no token and a wrong token: 401 on every route but the public ones
    (their operations carry the "public" flag), WebSocket routes included
    (a refused upgrade is an HTTP 401 too); the JSON-RPC channel and /mcp
    refuse the connection or request itself, so no method or tool runs;
  - a viewer token reaches only its own sandbox and only the operations
    whose flags name its scope: "view_token" for a view-only token,
    "view_token" or "control_token" for a full-control one. Everything else
    is 403 (REST) or forbidden (JSON-RPC), whatever the sandbox: that is
    how a view-only token never injects input — every input-bearing
    operation lacks "view_token". /mcp takes the API token only.
  - after all of it, the server's log holds neither the API token nor any
    viewer token.

Other auth tests (the many malformed Authorization headers, expiry, query
tokens) are in test_core_api.py, test_rpc.py and test_mcp_http.py, and a
view-only VNC viewer's own pointer and key events being ignored in
test_vnc_server.py; this one is about coverage of the tables.
"""

import asyncio
import json
import os
import re
import socket
import subprocess
import unittest

from deskbox import API, REPO, ServerTestCase, deskboxd_path

try:
    from rpcclient import RPC, RPCError, connect
    import websockets
    import websockets.exceptions
except ImportError:  # python3-websockets comes with `make deps-test`
    websockets = None

MCP_HEADERS = {"Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28"}
MCP_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "auth-table", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}
REFUSED_RPC = 4030   # JSON-RPC code of "forbidden" (common/operr.c)


def route_table():
    """[(method, pattern, op or None, body kind)] from server/rest.c."""
    with open(os.path.join(REPO, "server", "rest.c")) as f:
        src = f.read()
    body = re.search(r"rest_routes\[\]\s*=\s*\{(.*?)\n\};", src, re.S).group(1)
    rows = re.findall(r'\{\s*HM_(\w+),\s*"([^"]+)",\s*(?:"([^"]+)"|NULL),\s*\d+,\s*(RB_\w+)\s*\}',
                      body)
    # Every row parsed: as many matches as rows in the table.
    assert len(rows) == body.count("{ HM_"), "a row of rest_routes[] this test cannot read"
    return [(m, p, op or None, kind) for m, p, op, kind in rows]


def op_table():
    """{name: op} from deskboxd --list-ops."""
    out = subprocess.run([deskboxd_path(), "--list-ops"], stdout=subprocess.PIPE,
                         check=True, timeout=30).stdout
    return {o["name"]: o for o in json.loads(out)}


def allowed(op, scope):
    """May a viewer token of scope ("view" or "control") call op on its own
    sandbox? Only sandbox operations flagged for it."""
    flags = set(op["flags"])
    if "public" in flags:
        return True
    if "sandbox" not in flags:
        return False
    return "view_token" in flags or (scope == "control" and "control_token" in flags)


def upgrade_status(server, path, token):
    """Status of a WebSocket upgrade of path with token (None: none sent)."""
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n"
           % (path, server.port))
    if token is not None:
        req += "Authorization: Bearer %s\r\n" % token
    with socket.create_connection((server.host, server.port), timeout=30) as s:
        s.sendall((req + "\r\n").encode())
        line = b""
        while b"\r\n" not in line:
            chunk = s.recv(4096)
            if not chunk:
                break
            line += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3})", line)
    return int(m.group(1)) if m else None


class TestAuthTable(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.routes = route_table()
        cls.ops = op_table()
        cls.mine = cls.server.create(apps=["xterm"])
        cls.other = cls.server.create()
        for s in (cls.mine, cls.other):
            cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, s["id"]),
                                timeout=60)
        cls.view = cls.server.api.expect(
            201, "POST", "%s/%s/viewer-tokens" % (API, cls.mine["id"]), {}).body["token"]
        cls.control = cls.server.api.expect(
            201, "POST", "%s/%s/viewer-tokens" % (API, cls.mine["id"]),
            {"view_only": False}).body["token"]
        cls.wrong = "0" * len(cls.server.token)

    def request(self, method, pattern, kind, sid, token):
        """One request of a route; its status."""
        path = pattern.replace("*", sid)
        if kind == "RB_WS":
            return upgrade_status(self.server, path, token)
        if "/files" in path:
            path += "?path=/tmp/auth-table"
        body = None
        if kind in ("RB_JSON", "RB_ACTIONS", "RB_MCP"):
            body = {}
        elif kind == "RB_TEXT":
            body = {"text": "auth-table"}
        elif kind == "RB_BINARY":
            body = b"auth-table"
        headers = MCP_HEADERS if kind == "RB_MCP" else None
        return self.server.request(method, path, body, token=token, headers=headers,
                                   raw=True, timeout=60).status

    def test_the_tables_agree(self):
        # Every routed operation exists, and every operation with a REST
        # face names a route of the table.
        named = {op for _, _, op, _ in self.routes if op}
        self.assertEqual(named - set(self.ops), set(), "routes naming no operation")
        with_rest = {n for n, o in self.ops.items() if o.get("rest")}
        self.assertEqual(with_rest - named, set(), "operations whose route is not in rest.c")
        self.assertGreaterEqual(len(self.routes), 30)

    def test_no_token_and_wrong_token_on_every_route(self):
        for method, pattern, opname, kind in self.routes:
            public = opname is not None and "public" in self.ops[opname]["flags"]
            for label, token in (("none", None), ("wrong", self.wrong)):
                with self.subTest(route="%s %s" % (method, pattern), token=label):
                    st = self.request(method, pattern, kind, self.mine["id"], token)
                    if public:
                        self.assertEqual(st, 200)
                    else:
                        self.assertEqual(st, 401)
        # Nothing was done by any of them.
        self.assertEqual(self.server.get(self.mine["id"])["state"], "running")
        self.assertEqual(self.server.exec(self.mine["id"], cmd="ls /tmp/auth-table 2>&1; true")
                         ["stdout"].count("No such file"), 1)

    def test_viewer_tokens_on_every_route(self):
        for method, pattern, opname, kind in self.routes:
            for scope, token in (("view", self.view), ("control", self.control)):
                if opname is None:        # /mcp: the API token only
                    with self.subTest(route="%s %s" % (method, pattern), scope=scope):
                        self.assertIn(self.request(method, pattern, kind, self.mine["id"], token),
                                      (401, 403))
                    continue
                op = self.ops[opname]
                if op["name"] == "sandbox.delete" and allowed(op, scope):
                    self.fail("a viewer token may delete its sandbox")
                # Not its sandbox: refused, whatever the operation.
                if "*" in pattern:
                    with self.subTest(route="%s %s" % (method, pattern), scope=scope,
                                      sandbox="other"):
                        if "public" not in op["flags"]:
                            self.assertEqual(self.request(method, pattern, kind,
                                                          self.other["id"], token), 403)
                with self.subTest(route="%s %s" % (method, pattern), scope=scope,
                                  sandbox="its own"):
                    st = self.request(method, pattern, kind, self.mine["id"], token)
                    if allowed(op, scope):
                        self.assertNotIn(st, (401, 403))
                    else:
                        self.assertEqual(st, 403)
        self.assertEqual(self.server.get(self.mine["id"])["state"], "running")

    def test_mcp_tools_take_the_api_token_only(self):
        r = self.server.request("POST", "/mcp", {"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                                                 "params": {"_meta": MCP_META}},
                                headers=dict(MCP_HEADERS, **{"Mcp-Method": "tools/list"}))
        self.assertEqual(r.status, 200, r.body)
        tools = [t["name"] for t in r.body["result"]["tools"]]
        self.assertTrue(tools)
        for name in tools:
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": name, "arguments": {"sandbox_id": self.mine["id"]},
                               "_meta": MCP_META}}
            h = dict(MCP_HEADERS, **{"Mcp-Method": "tools/call", "Mcp-Name": name})
            for label, token, want in (("none", None, (401,)), ("wrong", self.wrong, (401,)),
                                       ("view-only viewer", self.view, (401, 403)),
                                       ("full-control viewer", self.control, (401, 403))):
                with self.subTest(tool=name, token=label):
                    r = self.server.request("POST", "/mcp", call, token=token, headers=h)
                    self.assertIn(r.status, want, r.body)
                    self.assertNotIn("result", r.body if isinstance(r.body, dict) else {})

    @unittest.skipIf(websockets is None, "python3-websockets is not installed")
    def test_every_rpc_method(self):
        async def go():
            # No token or a wrong one: no channel, so no method at all.
            for token in (None, self.wrong):
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                    ws = await connect(self.server, token=token)
                    await ws.close()
                self.assertEqual(cm.exception.status_code, 401)
            for scope, token in (("view", self.view), ("control", self.control)):
                async with RPC(self.server, token=token) as rpc:
                    for name, op in sorted(self.ops.items()):
                        for sid, label in ((self.other["id"], "other"), (self.mine["id"], "its own")):
                            if "public" in op["flags"]:
                                continue
                            with self.subTest(method=name, scope=scope, sandbox=label):
                                params = {"sandbox": sid} if "sandbox" in op["flags"] else {}
                                msg = await rpc.request(name, params)
                                err = msg.get("error") or {}
                                if label == "its own" and allowed(op, scope):
                                    self.assertNotEqual(err.get("code"), REFUSED_RPC, msg)
                                else:
                                    self.assertEqual(err.get("code"), REFUSED_RPC, msg)
        asyncio.run(go())
        self.assertEqual(self.server.get(self.mine["id"])["state"], "running")

    def test_zz_no_token_in_the_log(self):
        # Runs last (name order): after every refused and accepted request above.
        # The harness's own lines (its command line names --token) are not
        # the server's.
        log = "\n".join(l for l in self.server.log_text().splitlines()
                        if not l.startswith("### harness"))
        self.assertTrue(log)
        for label, tok in (("API token", self.server.token), ("view-only token", self.view),
                           ("full-control token", self.control)):
            with self.subTest(token=label):
                self.assertNotIn(tok, log)


if __name__ == "__main__":
    unittest.main()
