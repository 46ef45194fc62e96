"""The control channel (GET /v1/rpc, JSON-RPC 2.0 over a WebSocket,
subprotocol deskbox.rpc.v1) end to end, black-box: a real deskboxd, real
jails and desktops, and clients we did not write (Debian's python3-websockets
through rpcclient.py; the stdlib wsclient.py where raw frames matter).

Conformance (every JSON-RPC error, batches, ids, limits), auth (API token by
header and ?token=, viewer tokens), binary results and uploads, streams of
process.spawn compared with REST exec, and what a client that leaves, or
stops reading, costs deskboxd (fds, memory, processes). Nothing asserts a
speed; every wait is bounded.
"""

import asyncio
import base64
import functools
import hashlib
import json
import os
import re
import subprocess
import unittest
import time

import websockets

from deskbox import API, ServerTestCase, fd_count, rss_kib, sanitized, wait_until
from rpcclient import RPC, SUBPROTOCOL, connect
from wsclient import WSClient, WSRefused

PNG_SIG = b"\x89PNG\r\n\x1a\n"


def run_async(fn):
    """Run an async test method to its end on a fresh event loop."""
    @functools.wraps(fn)
    def wrapper(self):
        asyncio.run(asyncio.wait_for(fn(self), 300))
    return wrapper


async def poll(pred, timeout=10, what="the condition"):
    """Wait (yielding to the event loop) until pred() is true."""
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("%s did not happen in %ss" % (what, timeout))
        await asyncio.sleep(0.05)


async def drop(rpc):
    """Hang up on the server without a close handshake (the socket closes
    on the loop's next turns, so yield to it)."""
    rpc.ws.transport.abort()
    rpc.reader.cancel()
    await asyncio.sleep(0.2)


class RPCCase(ServerTestCase):
    server_options = {"max_sandboxes": 8}

    def assertRPCError(self, msg, code, data_code=None, names=None):
        """msg is an error answer with code (and data.code, and a message
        naming names)."""
        self.assertIn("error", msg, msg)
        err = msg["error"]
        self.assertEqual(err["code"], code, msg)
        self.assertIsInstance(err.get("message"), str, msg)
        if data_code is not None:
            self.assertEqual(err.get("data", {}).get("code"), data_code, msg)
        if names is not None:
            self.assertIn(names, err["message"], msg)

    async def quiet(self, rpc, seconds=0.5):
        """Nothing unasked arrives on rpc for seconds."""
        await asyncio.sleep(seconds)
        self.assertEqual(rpc.unsolicited, [])


class TestConformance(RPCCase):
    """JSON-RPC 2.0's rules, deskbox's error codes, batches and limits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(desktop=False)
        cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, cls.sb["id"]), timeout=60)

    async def raw(self, rpc, text):
        """Send text; return the one answer message it gets (parsed)."""
        await rpc.send(text)
        return await rpc.unasked()

    @run_async
    async def test_parse_error(self):
        async with RPC(self.server) as rpc:
            for text in ("{bad", '{"jsonrpc": "2.0", "method": ', "\x00", '[{"jsonrpc":"2.0"}'):
                msg = await self.raw(rpc, text)
                self.assertRPCError(msg, -32700, "bad_json", "parse error")
                self.assertIsNone(msg["id"])
            # Still usable.
            self.assertIsInstance((await rpc.call("sandbox.list"))["sandboxes"], list)

    @run_async
    async def test_invalid_request(self):
        async with RPC(self.server) as rpc:
            cases = [
                ('{"jsonrpc": "1.0", "method": "sandbox.list", "id": 5}', 5, "jsonrpc"),
                ('{"method": "sandbox.list", "id": 6}', 6, "jsonrpc"),
                ('{"jsonrpc": "2.0", "id": 7}', 7, "method"),
                ('{"jsonrpc": "2.0", "method": 12, "id": 8}', 8, "method"),
                ('{"jsonrpc": "2.0", "method": "sandbox.list", "id": {"a": 1}}', None, "id"),
                ('{"jsonrpc": "2.0", "method": "sandbox.list", "id": [1]}', None, "id"),
                ("5", None, None),
                ('"sandbox.list"', None, None),
            ]
            for text, rid, names in cases:
                msg = await self.raw(rpc, text)
                self.assertRPCError(msg, -32600, None, names)
                self.assertEqual(msg["id"], rid, msg)
            msg = await self.raw(rpc, "[]")
            self.assertRPCError(msg, -32600, None, "empty batch")
            self.assertIsNone(msg["id"])
            # A batch of things that are not requests: one error each.
            msgs = await self.raw(rpc, "[1, 2, 3]")
            self.assertIsInstance(msgs, list)
            self.assertEqual(len(msgs), 3, msgs)
            for m in msgs:
                self.assertRPCError(m, -32600)
            self.assertIsInstance((await rpc.call("sandbox.list"))["sandboxes"], list)

    @run_async
    async def test_method_not_found(self):
        async with RPC(self.server) as rpc:
            msg = await rpc.request("sandbox.explode", {})
            self.assertRPCError(msg, -32601, None, "sandbox.explode")
            # As a notification: no answer at all.
            await rpc.send({"jsonrpc": "2.0", "method": "sandbox.explode"})
            await self.quiet(rpc)

    @run_async
    async def test_invalid_params_name_the_param(self):
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            msg = await rpc.request("sandbox.get", {})
            self.assertRPCError(msg, -32602, "bad_request", "sandbox")
            msg = await rpc.request("process.exec", {"sandbox": sid, "cmdd": "true"})
            self.assertRPCError(msg, -32602, "bad_request", "cmdd")
            msg = await rpc.request("process.exec", {"sandbox": sid, "cmd": "true", "timeout_ms": "soon"})
            self.assertRPCError(msg, -32602, "bad_request", "timeout_ms")
            msg = await rpc.request("sandbox.set_timeout", {"sandbox": sid, "timeout_s": -1})
            self.assertRPCError(msg, -32602, "bad_request", "timeout_s")
            msg = await rpc.request("desktop.screenshot", {"sandbox": sid, "encoding": "hex"})
            self.assertRPCError(msg, -32602, "bad_request", "encoding")
            msg = await rpc.request("sandbox.list", [1, 2])
            self.assertRPCError(msg, -32602, None, "params")

    @run_async
    async def test_application_errors_carry_rest_codes(self):
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            msg = await rpc.request("sandbox.get", {"sandbox": "0" * 32})
            self.assertRPCError(msg, 4040, "not_found")
            msg = await rpc.request("files.read", {"sandbox": sid, "path": "/no/such/file"})
            self.assertRPCError(msg, 4040, "not_found")
            # The same strings as REST for the same mistakes.
            r = self.server.request("GET", "%s/%s" % (API, "0" * 32))
            self.assertEqual(r.body["error"]["code"], "not_found")
            msg = await rpc.request("desktop.screenshot", {"sandbox": sid})
            self.assertRPCError(msg, 4091, "no_desktop")
            r = self.server.request("GET", "%s/%s/screenshot" % (API, sid))
            self.assertError(r, 409, "no_desktop")
            msg = await rpc.request("process.write", {"sandbox": sid, "pid": 99999, "data": "x"})
            self.assertRPCError(msg, 4040, "not_found")

    @run_async
    async def test_sandbox_not_running(self):
        """A request in flight when its sandbox is deleted (by another request
        on the same connection) answers sandbox_not_running, then not_found."""
        sb = self.sandbox(desktop=False)
        async with RPC(self.server) as rpc:
            long = asyncio.ensure_future(rpc.request("process.exec", {"sandbox": sb["id"], "cmd": "sleep 60"}))
            await poll(lambda: "sleep 60" in self.server.exec(sb["id"], cmd="ps -eo args=")["stdout"])
            await rpc.call("sandbox.delete", {"sandbox": sb["id"]})
            self.assertRPCError(await asyncio.wait_for(long, 30), 4090, "sandbox_not_running")
            msg = await rpc.request("process.exec", {"sandbox": sb["id"], "cmd": "true"})
            self.assertRPCError(msg, 4040, "not_found")

    @run_async
    async def test_batches(self):
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            batch = [
                {"jsonrpc": "2.0", "id": "a", "method": "sandbox.get", "params": {"sandbox": sid}},
                {"jsonrpc": "2.0", "method": "sandbox.list"},                       # notification
                {"jsonrpc": "2.0", "id": "b", "method": "no.such"},
                {"jsonrpc": "2.0", "id": "c", "method": "process.exec",
                 "params": {"sandbox": sid, "cmd": "echo batched"}},
                {"jsonrpc": "2.0", "id": "d", "method": "sandbox.get", "params": {}},
                {"foo": "bar"},
                {"jsonrpc": "2.0", "id": "e", "method": "sandbox.get", "params": {"sandbox": "x" * 32}},
            ]
            await rpc.send(json.dumps(batch))
            msgs = await rpc.unasked(20)
            self.assertIsInstance(msgs, list, msgs)
            by_id = {m["id"]: m for m in msgs}
            self.assertEqual(len(msgs), 6, msgs)           # the notification has none
            self.assertEqual(set(by_id), {"a", "b", "c", "d", "e", None})
            self.assertEqual(by_id["a"]["result"]["id"], sid)
            self.assertRPCError(by_id["b"], -32601)
            self.assertEqual(by_id["c"]["result"]["stdout"], "batched\n")
            self.assertRPCError(by_id["d"], -32602, "bad_request", "sandbox")
            self.assertRPCError(by_id[None], -32600)
            self.assertRPCError(by_id["e"], 4040, "not_found")
            # Notifications only: no answer at all.
            await rpc.send(json.dumps([{"jsonrpc": "2.0", "method": "sandbox.list"},
                                       {"jsonrpc": "2.0", "method": "no.such"},
                                       {"jsonrpc": "2.0", "method": "sandbox.get", "params": {}}]))
            await self.quiet(rpc)
            # A batch's binary result comes inline as base64.
            await rpc.send(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "files.read",
                                        "params": {"sandbox": sid, "path": "/etc/hostname"}}]))
            msgs = await rpc.unasked(20)
            self.assertEqual(msgs[0]["result"]["encoding"], "base64", msgs)
            data = base64.b64decode(msgs[0]["result"]["data"])
            self.assertEqual(len(data), msgs[0]["result"]["bytes"])

    @run_async
    async def test_fifty_interleaved_requests_answered_by_id(self):
        """50 requests in flight at once, answered as each finishes: the slow
        ones first in the send order come last."""
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            want, futs = {}, {}
            for i in range(50):
                rid = "r%d" % i
                if i % 5 == 0:
                    delay = (50 - i) / 100.0   # earlier = slower
                    msg = {"method": "process.exec",
                           "params": {"sandbox": sid, "cmd": "sleep %.2f; echo %d" % (delay, i)}}
                    want[rid] = ("exec", "%d\n" % i)
                elif i % 2:
                    msg = {"method": "sandbox.get", "params": {"sandbox": sid}}
                    want[rid] = ("get", sid)
                else:
                    msg = {"method": "files.read",
                           "params": {"sandbox": sid, "path": "/etc/hostname", "encoding": "base64"}}
                    want[rid] = ("file", None)
                msg.update(jsonrpc="2.0", id=rid)
                futs[rid] = rpc.expect(rid)
                await rpc.send(msg)
            order = []
            for fut in asyncio.as_completed(list(futs.values()), timeout=60):
                order.append((await fut)["id"])
            self.assertEqual(sorted(order), sorted(futs))
            for rid, fut in futs.items():
                msg = fut.result()
                self.assertNotIn("error", msg)
                kind, val = want[rid]
                if kind == "exec":
                    self.assertEqual(msg["result"]["stdout"], val)
                elif kind == "get":
                    self.assertEqual(msg["result"]["id"], val)
                else:
                    self.assertEqual(msg["result"]["encoding"], "base64")
            # Out of order: r0 (the slowest) came after quick ones sent later.
            self.assertGreater(order.index("r0"), order.index("r1"), order)
            self.assertGreater(order.index("r0"), order.index("r49"), order)

    @run_async
    async def test_oversized_message_refused_connection_usable(self):
        async with RPC(self.server) as rpc:
            big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sandbox.list",
                              "params": {"pad": "x" * (20 << 20)}})
            await rpc.send(big)
            msg = await rpc.unasked(60)
            self.assertRPCError(msg, -32600, "too_large", "limit")
            self.assertIn(str(16 << 20), msg["error"]["message"])
            self.assertIsInstance((await rpc.call("sandbox.list"))["sandboxes"], list)
            # A binary message over the limit too.
            await rpc.ws.send(b"\0" * (20 << 20))
            msg = await rpc.unasked(60)
            self.assertRPCError(msg, -32600, "too_large")
            self.assertIsInstance((await rpc.call("sandbox.list"))["sandboxes"], list)

    @run_async
    async def test_binary_nobody_announced(self):
        async with RPC(self.server) as rpc:
            await rpc.ws.send(b"stray bytes")
            msg = await rpc.unasked()
            self.assertRPCError(msg, -32600, "bad_request", "binary")
            self.assertIsInstance((await rpc.call("sandbox.list"))["sandboxes"], list)


class TestMessageLimitFlag(RPCCase):
    server_options = {"max_rpc_message": 1 << 20}

    @run_async
    async def test_max_rpc_message(self):
        async with RPC(self.server) as rpc:
            await rpc.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sandbox.list",
                                       "params": {"pad": "x" * (2 << 20)}}))
            msg = await rpc.unasked(60)
            self.assertRPCError(msg, -32600, "too_large", str(1 << 20))
            # Just under the limit is parsed (and refused for its unknown field).
            msg = await rpc.request("sandbox.list", {"pad": "x" * ((1 << 20) - 200)})
            self.assertRPCError(msg, -32602, "bad_request", "pad")


class TestAuth(RPCCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(apps=["xterm"])
        cls.other = cls.server.create(desktop=False)
        for s in (cls.sb, cls.other):
            cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, s["id"]), timeout=60)

    def refused(self, **kw):
        async def go():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                ws = await connect(self.server, **kw)
                await ws.close()
            return cm.exception.status_code
        return asyncio.run(go())

    def test_no_or_wrong_token_refused_at_upgrade(self):
        self.assertEqual(self.refused(token=None), 401)
        self.assertEqual(self.refused(token="wrong" * 6), 401)
        self.assertEqual(self.refused(token="wrong" * 6, query_token=True), 401)
        # The stdlib client sees the same, and the server stays healthy.
        with self.assertRaises(WSRefused):
            WSClient(self.server.host, self.server.port, "/v1/rpc", protocol=SUBPROTOCOL)
        self.assertHealthy()

    @run_async
    async def test_api_token_by_header_and_query(self):
        for query in (False, True):
            async with RPC(self.server, query_token=query) as rpc:
                self.assertEqual(rpc.ws.subprotocol, SUBPROTOCOL)
                ids = [s["id"] for s in (await rpc.call("sandbox.list"))["sandboxes"]]
                self.assertIn(self.sb["id"], ids)

    @run_async
    async def test_view_only_viewer_token(self):
        sid = self.sb["id"]
        tok = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid), {}).body["token"]
        async with RPC(self.server, token=tok, query_token=True) as rpc:
            res = await rpc.call("desktop.screenshot", {"sandbox": sid})
            self.assertTrue(res["_bytes"].startswith(PNG_SIG))
            await rpc.call("events.subscribe", {"sandbox": sid, "topics": ["desktop.state", "screen.changed"]})
            await rpc.call("events.unsubscribe", {"sandbox": sid, "topics": ["desktop.state"]})
            forbidden = [
                ("desktop.actions", {"sandbox": sid, "actions": [{"action": "left_click", "coordinate": [5, 5]}]}),
                ("process.exec", {"sandbox": sid, "cmd": "true"}),
                ("process.spawn", {"sandbox": sid, "cmd": "true"}),
                ("files.read", {"sandbox": sid, "path": "/etc/hostname"}),
                ("clipboard.set", {"sandbox": sid, "text": "x"}),
                ("sandbox.delete", {"sandbox": sid}),
                ("viewer.create_token", {"sandbox": sid}),
                ("sandbox.list", {}),
                ("sandbox.create", {}),
                # Not its sandbox: nothing at all, not even a look.
                ("desktop.screenshot", {"sandbox": self.other["id"]}),
                ("events.subscribe", {"sandbox": self.other["id"], "topics": ["sandbox.state"]}),
            ]
            for method, params in forbidden:
                msg = await rpc.request(method, params)
                self.assertRPCError(msg, 4030, "forbidden")
            # The sandbox is untouched and the connection still works.
            self.assertEqual(self.server.get(sid)["state"], "running")
            await rpc.call("desktop.screenshot", {"sandbox": sid, "format": "jpeg", "encoding": "base64"})

    @run_async
    async def test_full_control_viewer_token(self):
        sid = self.sb["id"]
        tok = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid), {"view_only": False}).body["token"]
        async with RPC(self.server, token=tok) as rpc:
            await rpc.call("desktop.actions", {"sandbox": sid, "actions": [{"action": "mouse_move", "coordinate": [3, 3]}]})
            for method, params in (("process.exec", {"sandbox": sid, "cmd": "true"}),
                                   ("sandbox.delete", {"sandbox": sid}),
                                   ("desktop.actions", {"sandbox": self.other["id"], "actions": []})):
                self.assertRPCError(await rpc.request(method, params), 4030, "forbidden")

    @run_async
    async def test_expired_viewer_token_refused(self):
        sid = self.sb["id"]
        tok = self.server.expect(201, "POST", "%s/%s/viewer-tokens" % (API, sid), {"ttl_s": 1}).body["token"]
        await asyncio.sleep(2.2)
        with self.assertRaises(websockets.exceptions.InvalidStatusCode):
            ws = await connect(self.server, token=tok, query_token=True)
            await ws.close()


class TestBinary(RPCCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(apps=["xterm"])
        cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, cls.sb["id"]), timeout=60)

    @run_async
    async def test_screenshot_binary_frame_and_base64(self):
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            res = await rpc.call("desktop.screenshot", {"sandbox": sid})
            self.assertIs(res["binary"], True)
            self.assertEqual(res["media_type"], "image/png")
            self.assertEqual(res["bytes"], len(res["_bytes"]))
            self.assertTrue(res["_bytes"].startswith(PNG_SIG))
            res = await rpc.call("desktop.screenshot", {"sandbox": sid, "format": "jpeg", "encoding": "base64"})
            self.assertNotIn("binary", res)
            self.assertEqual(res["encoding"], "base64")
            self.assertEqual(res["media_type"], "image/jpeg")
            jpeg = base64.b64decode(res["data"])
            self.assertEqual(len(jpeg), res["bytes"])
            self.assertEqual(jpeg[:2], b"\xff\xd8")
            # REST gives the same kind of bytes.
            r = self.server.request("GET", "%s/%s/screenshot" % (API, sid), raw=True)
            self.assertTrue(r.body.startswith(PNG_SIG))
            # Several in flight: each binary frame follows its own result.
            futs = [asyncio.ensure_future(rpc.call("desktop.screenshot",
                                                   {"sandbox": sid, "width": 100 + i, "format": "png"}))
                    for i in range(8)]
            for i, fut in enumerate(futs):
                res = await fut
                w = int.from_bytes(res["_bytes"][16:20], "big")
                self.assertEqual(w, 100 + i)

    @run_async
    async def test_actions_images_as_binary_frames_and_base64(self):
        sid = self.sb["id"]
        shots = [{"action": "screenshot"}, {"action": "cursor_position"},
                 {"action": "zoom", "region": [0, 0, 160, 100]}]
        async with RPC(self.server) as rpc:
            # Each image is announced in the result (media_type, bytes,
            # binary_frame) and its bytes are the binary frames that
            # follow, in binary_frame order; nothing inline.
            res = await rpc.call("desktop.actions", {"sandbox": sid, "actions": shots, "settle_ms": 50})
            self.assertEqual(res["binary_frames"], 3)
            imgs = [res["results"][0]["image"], res["results"][2]["image"], res["settled"]["image"]]
            self.assertEqual(sorted(i["binary_frame"] for i in imgs), [0, 1, 2])
            for img in imgs:
                self.assertEqual(set(img), {"media_type", "bytes", "binary_frame", "_bytes"})
                self.assertEqual(img["media_type"], "image/png")
                self.assertEqual(img["bytes"], len(img["_bytes"]))
                self.assertTrue(img["_bytes"].startswith(PNG_SIG))
            self.assertEqual(int.from_bytes(imgs[0]["_bytes"][16:20], "big"), 1280)
            self.assertEqual(res["results"][1], {"ok": True, "x": res["results"][1]["x"],
                                                 "y": res["results"][1]["y"]})
            # Asked for: base64 inline, as REST has them, and no frames.
            res = await rpc.call("desktop.actions", {"sandbox": sid, "actions": shots, "format": "jpeg",
                                                     "encoding": "base64"})
            self.assertNotIn("binary_frames", res)
            for img in (res["results"][0]["image"], res["results"][2]["image"]):
                self.assertEqual(set(img), {"media_type", "data"})
                self.assertEqual(base64.b64decode(img["data"])[:2], b"\xff\xd8")
            msg = await rpc.request("desktop.actions", {"sandbox": sid, "actions": shots, "encoding": "hex"})
            self.assertRPCError(msg, -32602, "bad_request", "encoding")
            # No images, no frames.
            res = await rpc.call("desktop.actions", {"sandbox": sid, "actions": shots[1:2]})
            self.assertNotIn("binary_frames", res)
            # The most a batch holds (16 and the settled screen), and other
            # binary answers in flight beside it: each result is followed by
            # its own frames, nothing between.
            many = asyncio.ensure_future(rpc.call("desktop.actions", {
                "sandbox": sid, "actions": [{"action": "screenshot"}] * 16, "settle_ms": 50,
                "format": "jpeg", "scale_to": {"width": 320, "height": 200}}))
            singles = [asyncio.ensure_future(rpc.call("desktop.screenshot",
                                                      {"sandbox": sid, "width": 100 + i, "format": "png"}))
                       for i in range(4)]
            res = await many
            self.assertEqual(res["binary_frames"], 17)
            imgs = [r["image"] for r in res["results"]] + [res["settled"]["image"]]
            self.assertEqual(sorted(i["binary_frame"] for i in imgs), list(range(17)))
            for img in imgs:
                self.assertEqual(img["media_type"], "image/jpeg")
                self.assertEqual(img["bytes"], len(img["_bytes"]))
                self.assertEqual(img["_bytes"][:2], b"\xff\xd8")
            for i, fut in enumerate(singles):
                self.assertEqual(int.from_bytes((await fut)["_bytes"][16:20], "big"), 100 + i)
            # Inside a batch no frame can follow: inline.
            futs = [rpc.expect(rid) for rid in ("a1", "a2")]
            await rpc.send([{"jsonrpc": "2.0", "id": rid, "method": "desktop.actions",
                             "params": {"sandbox": sid, "actions": shots[:1]}} for rid in ("a1", "a2")])
            for f in futs:
                res = (await asyncio.wait_for(f, 60))["result"]
                self.assertNotIn("binary_frames", res)
                self.assertTrue(base64.b64decode(res["results"][0]["image"]["data"]).startswith(PNG_SIG))
            await self.quiet(rpc)

    @run_async
    async def test_files_write_binary_frame_and_base64(self):
        sid = self.sb["id"]
        blob = os.urandom(5 * 1000 * 1000)
        async with RPC(self.server) as rpc:
            res = await rpc.call("files.write", {"sandbox": sid, "path": "/tmp/big.bin", "binary": True},
                                 binary=blob)
            self.assertEqual(res.get("bytes", len(blob)), len(blob), res)
            res = await rpc.call("files.read", {"sandbox": sid, "path": "/tmp/big.bin"})
            self.assertEqual(res["bytes"], len(blob))
            self.assertEqual(hashlib.sha256(res["_bytes"]).hexdigest(), hashlib.sha256(blob).hexdigest())
            # Base64 in, base64 out, and REST agrees.
            small = bytes(range(256)) * 40
            await rpc.call("files.write", {"sandbox": sid, "path": "/tmp/small.bin",
                                           "data": base64.b64encode(small).decode()})
            res = await rpc.call("files.read", {"sandbox": sid, "path": "/tmp/small.bin", "encoding": "base64"})
            self.assertEqual(base64.b64decode(res["data"]), small)
            self.assertEqual(self.server.get_file(sid, "/tmp/small.bin"), small)
            self.assertEqual(self.server.get_file(sid, "/tmp/big.bin"), blob)
            # Two announced uploads take the next binary messages in order.
            f1 = asyncio.ensure_future(rpc.request("files.write", {"sandbox": sid, "path": "/tmp/one", "binary": True}))
            await asyncio.sleep(0.05)
            f2 = asyncio.ensure_future(rpc.request("files.write", {"sandbox": sid, "path": "/tmp/two", "binary": True}))
            await asyncio.sleep(0.05)
            await rpc.ws.send(b"first")
            await rpc.ws.send(b"second")
            for f in (f1, f2):
                self.assertNotIn("error", await asyncio.wait_for(f, 20))
            self.assertEqual(self.server.get_file(sid, "/tmp/one"), b"first")
            self.assertEqual(self.server.get_file(sid, "/tmp/two"), b"second")

    @run_async
    async def test_files_write_bad_input(self):
        sid = self.sb["id"]
        async with RPC(self.server) as rpc:
            for params, names in (({"path": "/tmp/x"}, "data"),
                                  ({"path": "/tmp/x", "data": "QUJD", "binary": True}, "data"),
                                  ({"path": "/tmp/x", "data": "not base64!"}, "base64"),
                                  ({"path": "/tmp/x", "data": 5}, "base64")):
                params["sandbox"] = sid
                self.assertRPCError(await rpc.request("files.write", params), -32602, "bad_request", names)
            # A binary upload cannot ride in a batch.
            await rpc.send(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "files.write",
                                        "params": {"sandbox": sid, "path": "/tmp/x", "binary": True}}]))
            msgs = await rpc.unasked()
            self.assertEqual(len(msgs), 1, msgs)
            self.assertRPCError(msgs[0], -32602, "bad_request", "batch")
            r = self.server.request("GET", API + "/%s/files?path=/tmp/x" % sid)
            self.assertError(r, 404, "not_found")


class TestStreams(RPCCase):
    """process.spawn's notifications against REST exec's answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(desktop=False)
        cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, cls.sb["id"]), timeout=60)

    async def spawn(self, rpc, **params):
        params.setdefault("sandbox", self.sb["id"])
        return (await rpc.call("process.spawn", params))["pid"]

    def ps(self):
        return self.server.exec(self.sb["id"], cmd="ps -eo args=")["stdout"]

    @run_async
    async def test_output_order_and_exit_codes_match_rest(self):
        sid = self.sb["id"]
        script = ("for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.02; done; "
                  "printf 'no newline'; printf '\\303\\251t\\303\\251' >&2; exit 3")
        rest = self.server.exec(sid, cmd=script)
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd=script)
            out, ex = await rpc.stream(pid)
        stdout = "".join(d for s, d in out if s == "stdout")
        stderr = "".join(d for s, d in out if s == "stderr")
        self.assertEqual(stdout, rest["stdout"])
        self.assertEqual(stderr, rest["stderr"])
        self.assertEqual(stderr, "err1\nerr2\nerr3\nerr4\nerr5\n\u00e9t\u00e9")
        self.assertEqual(ex["exit_code"], rest["exit_code"])
        self.assertEqual(ex["exit_code"], 3)
        self.assertEqual((ex["signal"], ex["timed_out"]), (None, False))
        self.assertEqual(ex["pid"], pid)
        self.assertEqual(ex["sandbox"], sid)
        # Interleaving across the two streams follows the command's order
        # (each line was written 20 ms apart).
        lines = [d for s, d in out]
        self.assertLess(lines.index("out1\n"), lines.index("err1\n"))
        self.assertLess(lines.index("err1\n"), lines.index("out2\n"))

    @run_async
    async def test_every_byte_value_matches_rest(self):
        """Output notifications are encoded apart from the REST answer (one
        pass, no jansson): every byte value, quotes, backslashes, control
        characters and invalid UTF-8 come out as REST gives them."""
        sid = self.sb["id"]
        octal = "".join("\\%03o" % b for b in range(256))
        script = "for i in 1 2 3; do printf '%s'; done; printf 'caf\\303\\251 \"q\" \\\\'" % octal
        want = (bytes(range(128)).decode() + "\ufffd" * 128) * 3 + 'café "q" \\'
        rest = self.server.exec(sid, cmd=script)
        self.assertEqual(rest["stdout"], want)
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd=script)
            out, ex = await rpc.stream(pid)
        self.assertEqual("".join(d for s, d in out if s == "stdout"), want)
        self.assertEqual(ex["exit_code"], 0)

    @run_async
    async def test_exit_codes_and_signals(self):
        async with RPC(self.server) as rpc:
            for cmd, code, sig in (("true", 0, None), ("exit 42", 42, None), ("kill -9 $$", None, 9),
                                   ("kill -TERM $$", None, 15)):
                pid = await self.spawn(rpc, cmd=cmd)
                _, ex = await rpc.stream(pid)
                rest = self.server.exec(self.sb["id"], cmd=cmd)
                self.assertEqual((ex["exit_code"], ex["signal"]), (rest["exit_code"], rest["signal"]), cmd)
                self.assertEqual(ex["exit_code"], code, (cmd, ex))
                self.assertEqual(ex["signal"], sig, (cmd, ex))
            # argv, env, cwd like exec.
            pid = await self.spawn(rpc, argv=["/bin/sh", "-c", 'echo "$FOO $(pwd)"'], env={"FOO": "bar"}, cwd="/tmp")
            out, ex = await rpc.stream(pid)
            self.assertEqual("".join(d for _, d in out), "bar /tmp\n")
            msg = await rpc.request("process.spawn", {"sandbox": self.sb["id"], "argv": ["/no/such/program"]})
            rest = self.server.request("POST", "%s/%s/exec" % (API, self.sb["id"]), {"argv": ["/no/such/program"]})
            if "error" in msg:
                self.assertEqual(msg["error"]["data"]["code"], rest.body["error"]["code"])
            else:
                _, ex = await rpc.stream(msg["result"]["pid"])
                self.assertEqual(ex["exit_code"], rest.body["exit_code"])

    @run_async
    async def test_stdin_round_trip(self):
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd="cat; echo done >&2", stdin="first\n")
            await rpc.call("process.write", {"sandbox": self.sb["id"], "pid": pid, "data": "h\u00e9llo\n"})
            await rpc.call("process.write", {"sandbox": self.sb["id"], "pid": pid,
                                             "data": base64.b64encode(b"\x00\x01raw\n").decode(),
                                             "encoding": "base64"})
            got = ""
            while not got.startswith("first\nh\u00e9llo\n"):
                n = await rpc.note(lambda m: m["params"].get("pid") == pid and m["params"]["stream"] == "stdout")
                got += n["params"]["data"]
            listed = await rpc.call("process.list", {"sandbox": self.sb["id"]})
            self.assertIn(pid, [p["pid"] for p in (listed if isinstance(listed, list) else listed["processes"])])
            await rpc.call("process.close_stdin", {"sandbox": self.sb["id"], "pid": pid})
            out, ex = await rpc.stream(pid)
            self.assertEqual(got[len("first\nh\u00e9llo\n"):] + "".join(d for s, d in out if s == "stdout"),
                             "\x00\x01raw\n")
            self.assertEqual("".join(d for s, d in out if s == "stderr"), "done\n")
            self.assertEqual(ex["exit_code"], 0)
            # It is gone: writing to it now is not_found.
            msg = await rpc.request("process.write", {"sandbox": self.sb["id"], "pid": pid, "data": "x"})
            self.assertRPCError(msg, 4040, "not_found")

    @run_async
    async def test_signal_to_a_trap(self):
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd="trap 'echo got INT; exit 7' INT; echo ready; "
                                             "while :; do sleep 0.05; done")
            n = await rpc.note(lambda m: m["params"].get("pid") == pid)
            self.assertEqual(n["params"]["data"], "ready\n")
            await rpc.call("process.signal", {"sandbox": self.sb["id"], "pid": pid, "signal": "INT"})
            out, ex = await rpc.stream(pid)
            self.assertIn("got INT\n", "".join(d for _, d in out))
            self.assertEqual(ex["exit_code"], 7)
            msg = await rpc.request("process.signal", {"sandbox": self.sb["id"], "pid": pid, "signal": "BOGUS"})
            self.assertIn("error", msg)

    @run_async
    async def test_timeout_kills_the_tree_like_rest(self):
        sid = self.sb["id"]
        cmd = "sleep 301 & sleep 302 & sleep 303"
        rest = self.server.exec(sid, cmd=cmd, timeout_ms=300)
        self.assertTrue(rest["timed_out"], rest)
        self.assertTrue(wait_until(lambda: "sleep 30" not in self.ps(), 10), self.ps())
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd=cmd, timeout_ms=300)
            _, ex = await rpc.stream(pid)
        self.assertTrue(ex["timed_out"], ex)
        self.assertEqual((ex["exit_code"], ex["signal"]), (rest["exit_code"], rest["signal"]))
        self.assertTrue(wait_until(lambda: "sleep 30" not in self.ps(), 10), self.ps())

    @run_async
    async def test_kill_on_close(self):
        async with RPC(self.server) as rpc:
            await self.spawn(rpc, cmd="sleep 311", kill_on_close=True)
            await self.spawn(rpc, cmd="sleep 312")
            self.assertTrue(wait_until(lambda: "sleep 311" in self.ps() and "sleep 312" in self.ps(), 10))
        # The first dies with the connection; the second keeps running.
        self.assertTrue(wait_until(lambda: "sleep 311" not in self.ps(), 10), self.ps())
        self.assertIn("sleep 312", self.ps())
        async with RPC(self.server) as rpc:
            listed = await rpc.call("process.list", {"sandbox": self.sb["id"]})
            procs = listed if isinstance(listed, list) else listed["processes"]
            mine = [p for p in procs if "sleep 312" in json.dumps(p)]
            self.assertEqual(len(mine), 1, procs)
            await rpc.call("process.signal", {"sandbox": self.sb["id"], "pid": mine[0]["pid"], "signal": "KILL"})
        self.assertTrue(wait_until(lambda: "sleep 312" not in self.ps(), 10), self.ps())

    @run_async
    async def test_pty(self):
        async with RPC(self.server) as rpc:
            pid = await self.spawn(rpc, cmd="tty; test -t 0 && echo stdin-is-tty; echo to-err >&2; "
                                             "read line; echo got:$line", pty=True)
            await rpc.call("process.write", {"sandbox": self.sb["id"], "pid": pid, "data": "abc\n"})
            out, ex = await rpc.stream(pid)
        text = "".join(d for _, d in out)
        self.assertEqual({s for s, _ in out}, {"stdout"})
        self.assertIn("/dev/pts/", text)
        self.assertIn("stdin-is-tty", text)
        self.assertIn("to-err", text)
        self.assertIn("got:abc", text)
        self.assertEqual(ex["exit_code"], 0)


class TestEvents(RPCCase):

    @run_async
    async def test_state_events(self):
        sb = self.sandbox(desktop={"width": 800, "height": 600})
        sid = sb["id"]
        async with RPC(self.server) as rpc:
            await rpc.call("events.subscribe", {"sandbox": sid, "topics": ["sandbox.state", "display.resized",
                                                                            "process.exit", "desktop.state"]})
            await rpc.call("display.set", {"sandbox": sid, "width": 640, "height": 480})
            n = await rpc.note(lambda m: m["method"] == "display.resized", 20)
            self.assertEqual(n["params"]["sandbox"], sid)
            self.assertEqual((n["params"]["width"], n["params"]["height"]), (640, 480))
            # process.exit of a process another connection spawned.
            async with RPC(self.server) as other:
                pid = (await other.call("process.spawn", {"sandbox": sid, "cmd": "exit 5"}))["pid"]
                n = await rpc.note(lambda m: m["method"] == "process.exit", 20)
                self.assertEqual((n["params"]["pid"], n["params"]["exit_code"]), (pid, 5))
                _, ex = await other.stream(pid)
                self.assertEqual(ex["exit_code"], 5)
            msg = await rpc.request("events.subscribe", {"sandbox": sid, "topics": ["no.such.topic"]})
            self.assertRPCError(msg, -32602, "bad_request", "no.such.topic")
            await rpc.call("sandbox.delete", {"sandbox": sid})
            n = await rpc.note(lambda m: m["method"] == "sandbox.state", 30)
            self.assertEqual(n["params"]["sandbox"], sid)


class TestLeaks(RPCCase):
    """Clients that leave or stop reading cost deskboxd nothing lasting."""

    server_options = {"max_sandboxes": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(apps=["xterm"])
        cls.addClassCleanup(cls.server.request, "DELETE", "%s/%s" % (API, cls.sb["id"]), timeout=60)

    def ps(self):
        return self.server.exec(self.sb["id"], cmd="ps -eo args=")["stdout"]

    def settled_fds(self, base):
        pid = self.server.proc.pid
        ok = wait_until(lambda: fd_count(pid) <= base, 15)
        self.assertTrue(ok, "deskboxd holds %d fds, %d before" % (fd_count(pid), base))

    @run_async
    async def test_disconnect_mid_stream_and_mid_screenshot(self):
        sid = self.sb["id"]
        dpid = self.server.proc.pid
        # Warm up (lazily made buffers, the agent's channel).
        async with RPC(self.server) as rpc:
            await rpc.call("desktop.screenshot", {"sandbox": sid})
            pid = (await rpc.call("process.spawn", {"sandbox": sid, "cmd": "echo warm"}))["pid"]
            await rpc.stream(pid)
        base_fds, base_rss = fd_count(dpid), rss_kib(dpid)
        for round_ in range(10):
            rpc = RPC(self.server)
            await rpc.__aenter__()
            await rpc.call("process.spawn", {"sandbox": sid, "cmd": "yes leak%d" % round_, "kill_on_close": True})
            await rpc.note(lambda m: m["method"] == "process.output")
            for _ in range(3):
                await rpc.send({"jsonrpc": "2.0", "id": "s", "method": "desktop.screenshot",
                                "params": {"sandbox": sid}})
            await drop(rpc)                   # gone, mid-stream, mid-screenshot
        self.assertTrue(wait_until(lambda: "yes leak" not in self.ps(), 15), self.ps())
        self.settled_fds(base_fds)
        if not sanitized(dpid):   # ASan's quarantine keeps freed memory; LSan checks at exit
            self.assertLess(rss_kib(dpid) - base_rss, 32 * 1024)
        # Without kill_on_close the command keeps running, its output read
        # and dropped, so it runs to its end rather than blocking.
        rpc = RPC(self.server)
        await rpc.__aenter__()
        await rpc.call("process.spawn", {"sandbox": sid, "cmd": "head -c 30000000 /dev/zero | tr '\\0' x; sleep 313"})
        await rpc.note(lambda m: m["method"] == "process.output")
        await drop(rpc)
        self.assertTrue(wait_until(lambda: "sleep 313" in self.ps(), 30), self.ps())
        self.server.exec(sid, cmd="pkill -f 'sleep 313'")
        self.assertTrue(wait_until(lambda: "sleep 313" not in self.ps(), 15))
        self.settled_fds(base_fds)
        self.assertHealthy()

    @run_async
    async def test_slow_reader_of_100mb_bounded(self):
        sid = self.sb["id"]
        dpid = self.server.proc.pid
        total = 100 << 20
        bound = 24 * 1024 if not sanitized(dpid) else 1 << 30   # ASan's quarantine keeps freed memory
        ws = await connect(self.server, max_queue=4, read_limit=1 << 16)
        try:
            base = rss_kib(dpid)
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "process.spawn",
                                      "params": {"sandbox": sid, "cmd": "yes | head -c %d" % total}}))
            # Read nothing for a while: the command must be held back.
            peak = 0
            for _ in range(20):
                await asyncio.sleep(0.15)
                peak = max(peak, rss_kib(dpid) - base)
            self.assertLess(peak, bound, "deskboxd grew %d KiB for a client that does not read" % peak)
            self.assertIn("yes", self.ps())   # not finished: paused
            got, ex = 0, None
            while ex is None:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg.get("method") == "process.output":
                    got += len(msg["params"]["data"])
                    if got % (8 << 20) < 65536:
                        peak = max(peak, rss_kib(dpid) - base)
                elif msg.get("method") == "process.exit":
                    ex = msg["params"]
            self.assertEqual(got, total)
            self.assertEqual(ex["exit_code"], 0)
            self.assertLess(peak, bound, "deskboxd grew %d KiB while streaming" % peak)
        finally:
            await ws.close()

    @run_async
    async def test_client_that_never_reads_is_dropped(self):
        """A client that stops reading while its answers pile up (big
        screenshots, not a pausable stream) is closed at the queue bound;
        deskboxd and other clients carry on."""
        sid = self.sb["id"]
        dpid = self.server.proc.pid
        self.server.exec(sid, cmd="head -c 1000000 /dev/urandom > /tmp/blob")
        base_fds = fd_count(dpid)
        ws = await connect(self.server, max_queue=1, read_limit=1 << 16)
        ws.transport.pause_reading()
        try:
            for i in range(400):       # 400 MB of answers asked for
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "files.read",
                                          "params": {"sandbox": sid, "path": "/tmp/blob"}}))
        except websockets.exceptions.ConnectionClosed:
            pass                       # the server hung up already
        # deskboxd let go of the connection (and every answer's fd) while
        # this client still holds its end, reading nothing.
        await asyncio.sleep(0.5)
        self.settled_fds(base_fds)
        self.assertIn("stopped reading", self.server.log_text(self._log_offset))
        async with RPC(self.server) as other:
            res = await other.call("process.exec", {"sandbox": sid, "cmd": "echo alive"})
            self.assertEqual(res["stdout"], "alive\n")
        ws.transport.abort()
        await asyncio.sleep(0.2)
        self.settled_fds(base_fds)
        self.assertHealthy()


class TestDocs(unittest.TestCase):
    """docs/rpc.md names every method of the operation table and every
    event topic (a new operation or topic needs its line there)."""

    def test_every_method_and_topic_documented(self):
        from deskbox import REPO, deskboxd_path
        with open(os.path.join(REPO, "docs", "rpc.md")) as f:
            doc = f.read()
        ops = json.loads(subprocess.run([deskboxd_path(), "--list-ops"], check=True,
                                        capture_output=True, text=True).stdout)
        missing = [o["name"] for o in ops if "`%s`" % o["name"] not in doc]
        self.assertEqual(missing, [], "docs/rpc.md does not mention these methods (add them to "
                                      "their family under Methods)")
        with open(os.path.join(REPO, "server", "bus.c")) as f:
            topics = re.findall(r'\[BUS_[A-Z_]+\] = "([a-z_.]+)"', f.read())
        self.assertGreater(len(topics), 5)
        missing = [t for t in topics if "| `%s` |" % t not in doc]
        self.assertEqual(missing, [], "docs/rpc.md's event table lacks these topics")


if __name__ == "__main__":
    unittest.main()
