"""client.py - a synchronous client for one deskboxd.

    from deskbox import Deskbox
    dbx = Deskbox("http://127.0.0.1:8080", token)
    sb = dbx.create(apps=["xterm"])
    sb.left_click(100, 200); sb.write("ls -l\\n")
    png = sb.screenshot()
    print(sb.exec("uname -a").stdout)
    sb.kill()

REST over http.client (one kept-alive connection per Deskbox, not shared
between threads), the control channel (/v1/rpc, JSON-RPC over a WebSocket)
through `websockets` for streaming processes and `rpc`. Method names follow
E2B Desktop's SDK where they mean the same thing (left_click, write, press,
move_mouse, drag, scroll, screenshot, files.read/write, kill).
"""

import asyncio
import base64
import http.client
import json
import os
import time
import urllib.parse

from .errors import ConnectionFailed, DeskboxError, NotFound, error_for

DEFAULT_URL = "http://127.0.0.1:8080"


class ExecResult:
    """A finished command: exit_code (None if a signal ended it), signal,
    stdout and stderr (str), timed_out."""

    def __init__(self, d):
        self.exit_code = d.get("exit_code")
        self.signal = d.get("signal")
        self.stdout = d.get("stdout", "")
        self.stderr = d.get("stderr", "")
        self.timed_out = bool(d.get("timed_out"))
        self.raw = d

    def __repr__(self):
        return "ExecResult(exit_code=%r, stdout=%r, stderr=%r)" % (self.exit_code, self.stdout[:60],
                                                                     self.stderr[:60])


class OutputChunk:
    """Output of a spawned process: stream ("stdout"/"stderr") and data (bytes)."""

    def __init__(self, stream, data):
        self.stream, self.data = stream, data

    def __repr__(self):
        return "OutputChunk(%r, %r)" % (self.stream, self.data[:60])


class ProcessExit:
    """The end of a spawned process: exit_code, signal, timed_out."""

    def __init__(self, d):
        self.exit_code = d.get("exit_code")
        self.signal = d.get("signal")
        self.timed_out = bool(d.get("timed_out"))

    def __repr__(self):
        return "ProcessExit(exit_code=%r, signal=%r)" % (self.exit_code, self.signal)


def _token_default():
    tok = os.environ.get("DESKBOX_TOKEN")
    if tok:
        return tok
    state = os.environ.get("DESKBOX_STATE_DIR") or "/var/lib/deskbox"
    try:
        with open(os.path.join(state, "token")) as f:
            return f.read().strip()
    except OSError:
        return None


class _Channel:
    """One control-channel connection, driven synchronously: its own event
    loop, stepped by run_until_complete."""

    def __init__(self, dbx):
        import websockets  # the one dependency beyond the standard library
        self.loop = asyncio.new_event_loop()
        url = "ws://%s:%d/v1/rpc" % (dbx._host, dbx._port)
        async def connect():
            # Made inside the loop: websockets binds to the running one.
            return await websockets.connect(url, subprotocols=["deskbox.rpc.v1"], max_size=None,
                                            extra_headers={"Authorization": "Bearer %s" % dbx.token})
        try:
            self.ws = self.loop.run_until_complete(connect())
        except OSError as e:
            self.loop.close()
            raise ConnectionFailed("cannot reach %s: %s" % (url, e))
        except Exception as e:  # websockets' InvalidStatusCode and kin
            self.loop.close()
            status = getattr(e, "status_code", None)
            if status in (401, 403):
                raise error_for("unauthorized" if status == 401 else "forbidden",
                                "the control channel refused the token", status)
            raise ConnectionFailed("cannot open the control channel: %s" % e)
        self.next_id = 1

    def send(self, method, params):
        i = self.next_id
        self.next_id += 1
        self.loop.run_until_complete(self.ws.send(json.dumps(
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params})))
        return i

    def recv(self):
        msg = self.loop.run_until_complete(self.ws.recv())
        return msg if isinstance(msg, bytes) else json.loads(msg)

    def call(self, method, params):
        i = self.send(method, params)
        while True:
            msg = self.recv()
            if isinstance(msg, dict) and msg.get("id") == i:
                if "error" in msg:
                    raise _rpc_error(msg["error"])
                return self.take_frames(msg["result"])

    def take_frames(self, result):
        """The binary frames a result announces, which follow it at once:
        one for "binary": true (into result["bytes_data"]), or
        "binary_frames" of them for desktop.actions' images (each into the
        image object whose "binary_frame" is its position)."""
        if not isinstance(result, dict):
            return result
        if result.get("binary") is True:
            result["bytes_data"] = self.recv()
            return result
        slots = {}
        for r in (result.get("results") or []) + [result.get("settled") or {}]:
            img = r.get("image") if isinstance(r, dict) else None
            if isinstance(img, dict) and "binary_frame" in img:
                slots[img["binary_frame"]] = img
        for k in range(result.get("binary_frames") or 0):
            slots[k]["bytes_data"] = self.recv()
        return result

    def close(self):
        try:
            self.loop.run_until_complete(self.ws.close())
        finally:
            self.loop.close()


def _rpc_error(err):
    data = err.get("data") or {}
    code = data.get("code") or ("not_found" if err.get("code") == -32601 else "bad_request")
    return error_for(code, err.get("message", ""), index=data.get("index"))


class Deskbox:
    """A deskboxd: url (default $DESKBOX_URL or http://127.0.0.1:8080) and
    token (default $DESKBOX_TOKEN, or the state dir's token file)."""

    def __init__(self, url=None, token=None, timeout=120.0):
        self.url = (url or os.environ.get("DESKBOX_URL") or DEFAULT_URL).rstrip("/")
        u = urllib.parse.urlsplit(self.url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError("url must be http://HOST[:PORT] (got %r)" % self.url)
        self._host, self._port = u.hostname, u.port or 80
        self.token = token or _token_default()
        self.timeout = timeout
        self._conn = None

    # -- plumbing

    def request(self, method, path, body=None, query=None, raw=False, headers=None, timeout=None):
        """One REST call: the decoded JSON (or bytes with raw=True, or
        (status, headers, bytes) when raw="full"). Raises the error class of
        the server's code."""
        q = urllib.parse.urlencode({k: v for k, v in (query or {}).items() if v is not None})
        if q:
            path += "?" + q
        hdrs = {"Authorization": "Bearer %s" % self.token} if self.token else {}
        hdrs.update(headers or {})
        data = None
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout or self.timeout)
            fresh = self._conn.sock is None
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                resp = self._conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self._conn.close()
                self._conn = None
                if fresh or attempt == 2:
                    raise ConnectionFailed("lost the connection to %s: %s" % (self.url, e))
            except OSError as e:
                self._conn.close()
                self._conn = None
                raise ConnectionFailed("cannot reach %s: %s" % (self.url, e))
        if resp.status >= 400:
            try:
                err = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                err = {"code": "internal", "message": payload.decode(errors="replace")}
            raise error_for(err.get("code"), err.get("message", ""), resp.status, err.get("index"))
        if raw == "full":
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
        if raw:
            return payload
        return json.loads(payload) if payload else None

    def rpc(self, method, params=None):
        """Call any operation on the control channel; its result."""
        ch = _Channel(self)
        try:
            return ch.call(method, params or {})
        finally:
            ch.close()

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sandboxes

    def create(self, apps=None, size=None, desktop=True, timeout_s=None, **fields):
        """A new sandbox (answered once it runs). size=(w, h) sets the
        screen; desktop=False makes one without; other fields go as the
        API takes them (limits, env, network, rootfs, …)."""
        body = dict(fields)
        if apps:
            body["apps"] = list(apps)
        if not desktop:
            body["desktop"] = False
        elif size:
            body["desktop"] = {"width": int(size[0]), "height": int(size[1])}
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        return Sandbox(self, self.request("POST", "/v1/sandboxes", body))

    def list(self):
        return [Sandbox(self, d) for d in self.request("GET", "/v1/sandboxes")["sandboxes"]]

    def get(self, sandbox_id):
        return Sandbox(self, self.request("GET", "/v1/sandboxes/%s" % sandbox_id))


class _Files:
    def __init__(self, sb):
        self._sb = sb

    def read(self, path, format="text"):
        """The file's content: str (format="text") or bytes ("bytes")."""
        data = self._sb._dbx.request("GET", self._sb._path("files"), query={"path": path}, raw=True)
        return data if format == "bytes" else data.decode()

    def write(self, path, data):
        """Write str or bytes to path (parents made)."""
        if isinstance(data, str):
            data = data.encode()
        return self._sb._dbx.request("PUT", self._sb._path("files"), data, query={"path": path})


class Sandbox:
    """One sandbox. `id`, `info` (the object the server last gave)."""

    def __init__(self, dbx, info):
        self._dbx = dbx
        self.info = info
        self.id = info["id"]
        self.files = _Files(self)

    def __repr__(self):
        return "Sandbox(%s)" % self.id

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    def _path(self, tail=""):
        return "/v1/sandboxes/%s%s" % (self.id, "/" + tail if tail else "")

    def refresh(self):
        self.info = self._dbx.request("GET", self._path())
        return self.info

    def kill(self):
        """Delete the sandbox (answers once it is gone)."""
        self._dbx.request("DELETE", self._path())

    def set_timeout(self, timeout_s):
        return self._dbx.request("POST", self._path("timeout"), {"timeout_s": timeout_s})

    # -- commands

    def exec(self, cmd, timeout=None, cwd=None, env=None, stdin=None):
        """Run cmd (a shell string, or an argv list) to its end: ExecResult."""
        body = {"argv": list(cmd)} if isinstance(cmd, (list, tuple)) else {"cmd": cmd}
        if timeout is not None:
            body["timeout_ms"] = int(timeout * 1000)
        if cwd:
            body["cwd"] = cwd
        if env:
            body["env"] = dict(env)
        if stdin is not None:
            body["stdin"] = stdin
        return ExecResult(self._dbx.request("POST", self._path("exec"), body,
                                            timeout=(timeout or 60) + 30))

    def spawn(self, cmd, stdin=None, timeout=None, cwd=None, env=None):
        """Start cmd and iterate over its output as it comes: OutputChunk
        items, then one ProcessExit. stdin (str/bytes) is written, then
        closed."""
        params = {"sandbox": self.id, "output_encoding": "base64", "kill_on_close": True}
        params.update({"argv": list(cmd)} if isinstance(cmd, (list, tuple)) else {"cmd": cmd})
        if timeout is not None:
            params["timeout_ms"] = int(timeout * 1000)
        if cwd:
            params["cwd"] = cwd
        if env:
            params["env"] = dict(env)
        ch = _Channel(self._dbx)
        try:
            pid = ch.call("process.spawn", params)["pid"]
            if stdin is not None:
                data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
                ch.send("process.write", {"sandbox": self.id, "pid": pid, "encoding": "base64",
                                          "data": base64.b64encode(data).decode()})
            ch.send("process.close_stdin", {"sandbox": self.id, "pid": pid})
            while True:
                msg = ch.recv()
                if not isinstance(msg, dict) or msg.get("params", {}).get("pid") != pid:
                    continue
                if msg.get("method") == "process.output":
                    yield OutputChunk(msg["params"]["stream"], base64.b64decode(msg["params"]["data"]))
                elif msg.get("method") == "process.exit":
                    yield ProcessExit(msg["params"])
                    return
        finally:
            ch.close()

    # -- the desktop (names as E2B Desktop's)

    def _act(self, *actions):
        return self._dbx.request("POST", self._path("actions"), {"actions": list(actions)})["results"]

    def screenshot(self, format="png", region=None, width=None, height=None):
        """The screen as PNG (or JPEG) bytes."""
        q = {"format": format, "width": width, "height": height}
        if region:
            q["region"] = ",".join(str(int(v)) for v in region)
        return self._dbx.request("GET", self._path("screenshot"), query=q, raw=True)

    def get_screen_size(self):
        d = self._dbx.request("GET", self._path("display"))
        return d["width"], d["height"]

    def get_cursor_position(self):
        d = self._dbx.request("GET", self._path("display"))["cursor"]
        return d["x"], d["y"]

    def _click(self, action, x, y):
        a = {"action": action}
        if x is not None and y is not None:
            a["coordinate"] = [int(x), int(y)]
        self._act(a)

    def left_click(self, x=None, y=None):
        self._click("left_click", x, y)

    def double_click(self, x=None, y=None):
        self._click("double_click", x, y)

    def right_click(self, x=None, y=None):
        self._click("right_click", x, y)

    def middle_click(self, x=None, y=None):
        self._click("middle_click", x, y)

    def move_mouse(self, x, y):
        self._act({"action": "mouse_move", "coordinate": [int(x), int(y)]})

    def drag(self, fr, to):
        """Press at fr (x, y), move, release at to."""
        self._act({"action": "left_click_drag", "start_coordinate": [int(fr[0]), int(fr[1])],
                   "coordinate": [int(to[0]), int(to[1])]})

    def scroll(self, direction="down", amount=1, x=None, y=None):
        a = {"action": "scroll", "scroll_direction": direction, "scroll_amount": int(amount)}
        if x is not None and y is not None:
            a["coordinate"] = [int(x), int(y)]
        self._act(a)

    def write(self, text, delay_in_ms=None):
        """Type text (any Unicode)."""
        a = {"action": "type", "text": text}
        if delay_in_ms is not None:
            a["delay_ms"] = int(delay_in_ms)
        self._act(a)

    def press(self, keys):
        """Press a key or chord: "Return", "ctrl+c", or ["ctrl", "c"]."""
        self._act({"action": "key", "text": "+".join(keys) if isinstance(keys, (list, tuple)) else keys})

    def wait(self, ms):
        time.sleep(ms / 1000.0)

    def get_clipboard(self):
        return self._dbx.request("GET", self._path("clipboard"))["text"]

    def set_clipboard(self, text):
        self._dbx.request("PUT", self._path("clipboard"), {"text": text})

    clipboard = property(get_clipboard, set_clipboard)

    def windows(self):
        return self._dbx.request("GET", self._path("windows"))["windows"]

    def wait_settled(self, quiet_ms=500, timeout=10.0, poll_ms=100):
        """Wait until the screen has not changed for quiet_ms. True when
        settled, False at the timeout. Servers without desktop.wait are
        polled with the screenshot's ETag (an unchanged screen costs a 304)."""
        try:
            return bool(self._dbx.request("POST", self._path("desktop/wait"),
                                          {"quiet_ms": int(quiet_ms), "timeout_ms": int(min(timeout, 20) * 1000)},
                                          timeout=timeout + 30)["settled"])
        except NotFound as e:
            if "route" not in e.message:
                raise
        deadline = time.monotonic() + timeout
        etag, since = None, time.monotonic()
        while time.monotonic() < deadline:
            status, hdrs, _ = self._dbx.request("GET", self._path("screenshot"), raw="full",
                                                headers={"If-None-Match": etag} if etag else None)
            now = time.monotonic()
            if status == 304:
                if (now - since) * 1000 >= quiet_ms:
                    return True
            else:
                etag, since = hdrs.get("etag"), now
            time.sleep(poll_ms / 1000.0)
        return False

    def viewer_url(self, view_only=True, ttl_s=None):
        body = {"view_only": bool(view_only)}
        if ttl_s:
            body["ttl_s"] = int(ttl_s)
        return self._dbx.request("POST", self._path("viewer-tokens"), body)["url"]

    # -- the agent adapters

    def anthropic_tool(self, block, display_width_px=None, display_height_px=None):
        """Run an Anthropic tool_use block (dict, or an SDK object with
        model_dump); the tool_result block for the next request."""
        if hasattr(block, "model_dump"):
            block = block.model_dump()
        return self._dbx.request("POST", self._path("tools/anthropic"), block,
                                 query={"display_width_px": display_width_px,
                                        "display_height_px": display_height_px})

    def anthropic_tools(self, version=None, display_width_px=None, display_height_px=None):
        return self._dbx.request("GET", self._path("tools/anthropic"),
                                 query={"version": version, "display_width_px": display_width_px,
                                        "display_height_px": display_height_px})["tools"]

    def openai_tool(self, item, display_width=None, display_height=None, acknowledged_safety_checks=None):
        """Run an OpenAI computer_call item; the computer_call_output item.
        Pending safety checks run only with your user's acknowledgement."""
        if hasattr(item, "model_dump"):
            item = item.model_dump()
        item = dict(item)
        if acknowledged_safety_checks:
            item["acknowledged_safety_checks"] = list(acknowledged_safety_checks)
        return self._dbx.request("POST", self._path("tools/openai"), item,
                                 query={"display_width": display_width, "display_height": display_height})

    def openai_tools(self, version=None, display_width=None, display_height=None):
        return self._dbx.request("GET", self._path("tools/openai"),
                                 query={"version": version, "display_width": display_width,
                                        "display_height": display_height})["tools"]


__all__ = ["Deskbox", "Sandbox", "ExecResult", "OutputChunk", "ProcessExit", "DeskboxError"]
