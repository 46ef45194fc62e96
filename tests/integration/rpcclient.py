"""rpcclient.py - a small JSON-RPC 2.0 client of deskboxd's control channel
(GET /v1/rpc, subprotocol deskbox.rpc.v1) over Debian's python3-websockets,
a WebSocket implementation we did not write.

    async with RPC(server) as rpc:
        sb = await rpc.call("sandbox.create", {"desktop": False})
        res = await rpc.call("desktop.screenshot", {"sandbox": sid})
        png = res["_bytes"]          # the binary frame that followed

Answers are matched to requests by id, whatever order they come in. A
result that says "binary": true takes the binary frame that follows it
(as "_bytes"); one that says "binary_frames": N (desktop.actions' images)
takes the N frames that follow, each into the object whose "binary_frame"
is its position (as "_bytes"). Notifications go to a queue (next_note / notes_until). An
error answer raises RPCError with code, message and data. Used by
test_rpc.py and tests/bench/bench_rpc.py.
"""

import asyncio
import itertools
import json

import websockets

SUBPROTOCOL = "deskbox.rpc.v1"


class RPCError(Exception):
    def __init__(self, err):
        self.err = err
        self.code = err.get("code")
        self.message = err.get("message", "")
        self.data = err.get("data") or {}
        super().__init__("%s %s %r" % (self.code, self.message, self.data))


def rpc_url(server, token=None, query_token=False):
    url = "ws://%s:%d/v1/rpc" % (server.host, server.port)
    if query_token and token:
        url += "?token=" + token
    return url


async def connect(server, token="default", query_token=False, **kw):
    """A raw websockets connection to server's channel (token: "default" =
    the server's API token; None = none)."""
    if token == "default":
        token = server.token
    headers = {}
    if token and not query_token:
        headers["Authorization"] = "Bearer " + token
    kw.setdefault("max_size", 64 << 20)
    kw.setdefault("open_timeout", 20)
    return await websockets.connect(rpc_url(server, token, query_token),
                                    subprotocols=[SUBPROTOCOL],
                                    extra_headers=headers, **kw)


def frame_slots(obj):
    """The objects in obj that name a binary frame, by its position."""
    slots = {}
    if isinstance(obj, dict):
        if isinstance(obj.get("binary_frame"), int):
            slots[obj["binary_frame"]] = obj
        for v in obj.values():
            slots.update(frame_slots(v))
    elif isinstance(obj, list):
        for v in obj:
            slots.update(frame_slots(v))
    return slots


class RPC:
    def __init__(self, server, token="default", query_token=False, **kw):
        self.server, self.token, self.query_token, self.kw = server, token, query_token, kw
        self.ws = None
        self.ids = itertools.count(1)
        self.pending = {}            # id -> future
        self.notes = asyncio.Queue()
        self.unsolicited = []        # answers with an id nobody waits for (or null)
        self.reader = None
        self.closed = None           # the exception that ended the reader

    async def __aenter__(self):
        self.ws = await connect(self.server, self.token, self.query_token, **self.kw)
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self.ws:
            await self.ws.close()
        if self.reader:
            try:
                await asyncio.wait_for(self.reader, 10)
            except Exception:
                pass

    def _answer(self, msg):
        fut = self.pending.pop(msg.get("id"), None) if msg.get("id") is not None else None
        if fut and not fut.done():
            fut.set_result(msg)
        else:
            self.unsolicited.append(msg)

    async def _read(self):
        want_bytes = None
        slots, got = {}, 0           # with want_bytes: where its frames go
        try:
            async for frame in self.ws:
                if isinstance(frame, bytes):
                    if want_bytes is None:
                        self.unsolicited.append({"_bytes": frame})
                        continue
                    slots[got]["_bytes"] = frame
                    got += 1
                    if got == len(slots):
                        self._answer(want_bytes)
                        want_bytes = None
                    continue
                msg = json.loads(frame)
                if isinstance(msg, list):
                    # A batch's answers: to whoever waits for their ids, or
                    # whole (as one list) to unsolicited.
                    if any(m.get("id") in self.pending for m in msg if isinstance(m, dict)):
                        for m in msg:
                            self._answer(m)
                    else:
                        self.unsolicited.append(msg)
                    continue
                if "method" in msg and "id" not in msg:
                    await self.notes.put(msg)
                elif isinstance(msg.get("result"), dict) and msg["result"].get("binary") is True:
                    want_bytes, slots, got = msg, {0: msg["result"]}, 0
                elif isinstance(msg.get("result"), dict) and msg["result"].get("binary_frames"):
                    want_bytes, slots, got = msg, frame_slots(msg["result"]), 0
                    if sorted(slots) != list(range(msg["result"]["binary_frames"])):
                        raise AssertionError("binary_frame positions %r for %d frames"
                                             % (sorted(slots), msg["result"]["binary_frames"]))
                else:
                    self._answer(msg)
        except Exception as e:
            self.closed = e
        finally:
            if self.closed is None:
                self.closed = ConnectionError("the connection closed")
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("the connection closed: %r" % (self.closed,)))
            self.pending.clear()

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    def expect(self, rid):
        """A future for the answer to id rid (whole message)."""
        fut = asyncio.get_event_loop().create_future()
        self.pending[rid] = fut
        return fut

    async def request(self, method, params=None, timeout=60, binary=None):
        """Send one request; return the whole answer message."""
        rid = next(self.ids)
        fut = self.expect(rid)
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        await self.send(msg)
        if binary is not None:
            await self.ws.send(binary)
        return await asyncio.wait_for(fut, timeout)

    async def call(self, method, params=None, timeout=60, binary=None):
        """Send one request; return its result or raise RPCError."""
        msg = await self.request(method, params, timeout, binary)
        if "error" in msg:
            raise RPCError(msg["error"])
        if method == "sandbox.create" and hasattr(self.server, "_track"):
            self.server._track(msg["result"])   # the harness's leak checks see it
        return msg["result"]

    async def unasked(self, timeout=10):
        """The next message nobody waited for (an answer to a raw send)."""
        loop = asyncio.get_event_loop()
        end = loop.time() + timeout
        while not self.unsolicited:
            if loop.time() > end or self.reader.done():
                raise asyncio.TimeoutError("no unasked message in %ss" % timeout)
            await asyncio.sleep(0.01)
        return self.unsolicited.pop(0)

    async def next_note(self, timeout=10):
        return await asyncio.wait_for(self.notes.get(), timeout)

    async def note(self, pred, timeout=10):
        """The next notification pred accepts (others are dropped)."""
        loop = asyncio.get_event_loop()
        end = loop.time() + timeout
        while True:
            left = end - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError("no matching notification in %ss" % timeout)
            n = await asyncio.wait_for(self.notes.get(), left)
            if pred(n):
                return n

    async def stream(self, pid, timeout=60):
        """Collect process pid's output until its process.exit: returns
        (list of (stream, data), exit params)."""
        out = []
        while True:
            n = await self.note(lambda m: m["params"].get("pid") == pid
                                and m["method"] in ("process.output", "process.exit"), timeout)
            if n["method"] == "process.exit":
                return out, n["params"]
            out.append((n["params"]["stream"], n["params"]["data"]))
