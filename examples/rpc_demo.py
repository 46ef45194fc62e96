#!/usr/bin/python3
"""rpc_demo.py - deskbox's control channel from Python (Debian's
python3-websockets): JSON-RPC 2.0 over one WebSocket at /v1/rpc.

Creates a sandbox with an xterm, listens for screen.changed, types a command
into the xterm, waits for the screen to settle, saves a screenshot, streams a
command's output (process.spawn) and prints its exit code, then deletes the
sandbox.

    DESKBOX_TOKEN=... python3 examples/rpc_demo.py [--url ws://127.0.0.1:8080] [--out shot.png]

docs/rpc.md describes every method and event.
"""

import argparse
import asyncio
import itertools
import json
import os
import sys

import websockets


class Channel:
    """Requests by id, answers matched as they come; notifications to a
    queue; a result saying "binary": true takes the binary frame after it."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting = {}
        self.events = asyncio.Queue()
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        held = None                       # a result waiting for its bytes
        async for frame in self.ws:
            if isinstance(frame, bytes):
                held["result"]["bytes_data"] = frame
                self.waiting.pop(held["id"]).set_result(held)
                held = None
                continue
            msg = json.loads(frame)
            if "id" not in msg:
                await self.events.put(msg)
            elif msg.get("result", {}).get("binary") if isinstance(msg.get("result"), dict) else False:
                held = msg
            elif msg["id"] in self.waiting:
                self.waiting.pop(msg["id"]).set_result(msg)

    async def call(self, method, **params):
        rid = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.waiting[rid] = fut
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
        msg = await asyncio.wait_for(fut, 120)
        if "error" in msg:
            err = msg["error"]
            raise RuntimeError("%s: %s (%s)" % (method, err["message"], err.get("data", {}).get("code", err["code"])))
        return msg["result"]


async def settle(ch, sid, quiet_s=0.3, limit_s=10.0):
    """Wait until the screen has been still for quiet_s: desktop.wait where
    the server has it, else until screen.changed stops for quiet_s."""
    try:
        return await ch.call("desktop.wait", sandbox=sid, until="settled",
                             quiet_ms=int(quiet_s * 1000), timeout_ms=int(limit_s * 1000))
    except RuntimeError as e:
        if "no such method" not in str(e):
            raise
    loop = asyncio.get_running_loop()
    end, changes = loop.time() + limit_s, 0
    while loop.time() < end:
        try:
            ev = await asyncio.wait_for(ch.events.get(), quiet_s)
        except asyncio.TimeoutError:
            break                          # quiet_s without a change
        if ev["method"] == "screen.changed":
            changes += 1
    return {"settled": True, "changes": changes}


async def find_window(ch, sid, title, limit_s=30.0):
    """The window titled title, once the app has mapped it."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while True:
        wins = (await ch.call("windows.list", sandbox=sid))["windows"]
        for w in wins:
            if w["title"] == title:
                return w
        if loop.time() > end:
            raise RuntimeError("no %s window after %ss" % (title, limit_s))
        await asyncio.sleep(0.1)


async def main(args):
    token = args.token or os.environ.get("DESKBOX_TOKEN", "")
    async with websockets.connect(args.url.rstrip("/") + "/v1/rpc", subprotocols=["deskbox.rpc.v1"],
                                  extra_headers={"Authorization": "Bearer " + token},
                                  max_size=64 << 20) as ws:
        ch = Channel(ws)
        sb = await ch.call("sandbox.create", apps=["xterm"])
        sid = sb["id"]
        print("sandbox %s created" % sid, flush=True)
        try:
            await ch.call("events.subscribe", sandbox=sid, topics=["screen.changed"])
            # Click into the xterm, then type a command into its shell.
            term = await find_window(ch, sid, "xterm")
            x, y = term["x"] + term["width"] // 2, term["y"] + term["height"] // 2
            await ch.call("desktop.actions", sandbox=sid, actions=[
                {"action": "left_click", "coordinate": [x, y]},
                {"action": "type", "text": "echo typed-over-rpc > /tmp/typed.txt"},
                {"action": "key", "text": "Return"},
            ])
            how = await settle(ch, sid)
            print("screen settled (%s)" % json.dumps(how, sort_keys=True), flush=True)
            shot = await ch.call("desktop.screenshot", sandbox=sid)
            with open(args.out, "wb") as f:
                f.write(shot["bytes_data"])
            print("screenshot saved: %s (%d bytes, %s)" % (args.out, shot["bytes"], shot["media_type"]), flush=True)
            # Stream a command's output as it runs.
            pid = (await ch.call("process.spawn", sandbox=sid,
                                 cmd="cat /tmp/typed.txt; for i in 1 2 3; do echo line $i; sleep 0.1; done; "
                                     "echo oops >&2; exit 3"))["pid"]
            while True:
                ev = await asyncio.wait_for(ch.events.get(), 60)
                if ev["params"].get("pid") != pid:
                    continue
                if ev["method"] == "process.output":
                    for line in ev["params"]["data"].splitlines(keepends=True):
                        print("[%s] %s" % (ev["params"]["stream"], line), end="", flush=True)
                elif ev["method"] == "process.exit":
                    print("exit code: %s" % ev["params"]["exit_code"], flush=True)
                    break
        finally:
            await ch.call("sandbox.delete", sandbox=sid)
            print("sandbox %s deleted" % sid, flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=os.environ.get("DESKBOX_URL", "ws://127.0.0.1:8080"))
    ap.add_argument("--token", help="the API token (default: $DESKBOX_TOKEN)")
    ap.add_argument("--out", default="screenshot.png")
    try:
        asyncio.run(main(ap.parse_args()))
    except (RuntimeError, OSError, websockets.exceptions.WebSocketException) as e:
        print("rpc_demo: %s" % e, file=sys.stderr)
        sys.exit(1)
