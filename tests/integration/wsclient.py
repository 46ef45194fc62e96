"""wsclient.py - a small RFC 6455 WebSocket client (stdlib only) for tests.

    ws = WSClient("127.0.0.1", port, "/v1/sandboxes/ID/pty?token=T", protocol="binary")
    ws.send_binary(b"echo hi\\n")
    kind, data = ws.recv(timeout=5)     # ("binary"|"text"|"close", bytes)
    ws.close()

Raises WSRefused when the server does not upgrade (with its status line).
"""

import base64
import os
import socket
import struct
import time


class WSRefused(Exception):
    pass


class WSClient:
    def __init__(self, host, port, path, protocol=None, headers=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        try:
            self._upgrade(host, port, path, protocol, headers, timeout)
        except BaseException:
            self.sock.close()
            raise
        self.closed = False

    def _upgrade(self, host, port, path, protocol, headers, timeout):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port),
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append("Sec-WebSocket-Protocol: " + protocol)
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in head:
            if time.monotonic() > deadline:
                raise WSRefused("no answer to the upgrade")
            try:
                chunk = self.sock.recv(4096)
            except OSError as e:
                raise WSRefused("connection failed: %s" % e)
            if not chunk:
                raise WSRefused("closed without upgrading: %r" % head[:200])
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise WSRefused(status.decode("latin-1"))

    def _send(self, opcode, data):
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x80 | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + masked)

    def send_binary(self, data):
        self._send(0x2, data)

    def send_text(self, text):
        self._send(0x1, text.encode())

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("websocket read timed out")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=10.0):
        """Next whole message: (kind, payload)."""
        deadline = time.monotonic() + timeout
        payload, kind = b"", None
        while True:
            b0, b1 = self._need(2, deadline)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._need(2, deadline))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._need(8, deadline))[0]
            if b1 & 0x80:
                mask = self._need(4, deadline)
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._need(n, deadline)))
            else:
                data = self._need(n, deadline)
            if opcode == 0x8:
                self.closed = True
                return "close", data
            if opcode == 0x9:
                self._send(0xA, data)
                continue
            if opcode in (0x1, 0x2):
                kind = "text" if opcode == 0x1 else "binary"
            payload += data
            if b0 & 0x80:
                return kind, payload

    def recv_until(self, needle, timeout=10.0):
        """Collect binary payloads until needle (bytes) shows up; return all."""
        deadline = time.monotonic() + timeout
        got = b""
        while needle not in got:
            kind, data = self.recv(max(0.01, deadline - time.monotonic()))
            if kind == "close":
                raise ConnectionError("closed before %r arrived; got %r" % (needle, got[-300:]))
            got += data
        return got

    def close(self):
        try:
            if not self.closed:
                self._send(0x8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


class WSSocket:
    """A WebSocket's binary stream as the socket RFBClient expects."""

    def __init__(self, ws):
        self.ws = ws
        self.buf = b""
        self.timeout = 10.0

    def settimeout(self, t):
        self.timeout = t

    def recv(self, n):
        while not self.buf:
            kind, data = self.ws.recv(self.timeout if self.timeout is not None else 3600)
            if kind == "close":
                return b""
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def sendall(self, data):
        self.ws.send_binary(data)

    def shutdown(self, how):
        pass

    def close(self):
        self.ws.close()
