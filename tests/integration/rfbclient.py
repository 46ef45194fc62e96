"""rfbclient.py - a small RFB 3.8 client for the tests and benches.

Speaks to a VNC server over any connected stream socket: the version and
security-type None handshake, ClientInit/ServerInit, SetPixelFormat (32 bpp
little-endian BGRX: red shift 16, green 8, blue 0), SetEncodings,
FramebufferUpdateRequest, Raw and CopyRect rectangles into a local
framebuffer, the pseudo-encodings Cursor/RichCursor (-239), XCursor
(-240), DesktopSize (-223), ExtendedDesktopSize (-308), LastRect (-224),
PointerPos (-232) and the Extended Clipboard (0xC0A1E5CE, UTF-8 text with
CRLF line ends both ways, zlib per message: caps, a Provide unasked or a
Notify answered by the server's Request, as noVNC does); KeyEvent,
PointerEvent, ClientCutText (Latin-1 or extended UTF-8); ServerCutText in
both forms. No dependency beyond the standard library.

Everything that reads takes a timeout and raises socket.timeout (an
OSError) when the server is silent that long, EOFError when it closes.
"""

import socket
import struct
import threading
import time
import zlib

RAW = 0
COPYRECT = 1
RICH_CURSOR = -239
X_CURSOR = -240
DESKTOP_SIZE = -223
LAST_RECT = -224
POINTER_POS = -232
EXT_DESKTOP_SIZE = -308
EXT_CLIPBOARD = struct.unpack(">i", bytes.fromhex("c0a1e5ce"))[0]

CLIP_TEXT = 1
CLIP_CAPS = 1 << 24
CLIP_REQUEST = 1 << 25
CLIP_PEEK = 1 << 26
CLIP_NOTIFY = 1 << 27
CLIP_PROVIDE = 1 << 28

DEFAULT_ENCODINGS = (RAW, COPYRECT, RICH_CURSOR, DESKTOP_SIZE, EXT_DESKTOP_SIZE, LAST_RECT)


class Update:
    """One FramebufferUpdate: its rectangles as (x, y, w, h, encoding)."""

    def __init__(self, rects, t):
        self.rects = rects
        self.time = t          # time.monotonic() when it was fully read

    def pixel_rects(self):
        return [r for r in self.rects if r[4] in (RAW, COPYRECT)]

    def covers(self, x, y):
        return any(rx <= x < rx + w and ry <= y < ry + h for rx, ry, w, h, _ in self.pixel_rects())

    def sizes(self):
        """New framebuffer sizes announced: (w, h, encoding)."""
        return [(w, h, e) for _, _, w, h, e in self.rects if e in (DESKTOP_SIZE, EXT_DESKTOP_SIZE)]


class RFBClient:
    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = bytearray()
        self.width = self.height = 0
        self.fb = bytearray()
        self.name = b""
        self.server_format = None
        self.cut_texts = []        # text from ServerCutText, in order (str)
        self.cursors = []          # (w, h, xhot, yhot, encoding)
        self.cursor_images = []    # each cursor's pixels and mask, as sent
        self.clip_caps = None      # the server's extended clipboard caps
        self.clip_requests = 0     # Requests the server sent us
        self.clip_offer = None     # text announced by notify_utf8, given on Request
        self.pointer_pos = []      # PointerPos rectangles received: (x, y)
        self.bytes_read = 0
        self.resizes = []          # (w, h, encoding, x, y) for size rects
        self.bells = 0
        self.reader = None         # see start_reader
        self.cond = threading.Condition()
        self.eof = False

    # -- socket

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        if self.reader:
            self.reader.join(5)

    def start_reader(self):
        """Read the socket from a thread from now on, as a real viewer
        does, so the server never finds it full while the test looks
        elsewhere (a server may drop a viewer that stops reading).
        Messages are still parsed on the caller's thread."""
        def run():
            while True:
                try:
                    chunk = self.sock.recv(1 << 20)
                except OSError:
                    chunk = b""
                with self.cond:
                    if not chunk:
                        self.eof = True
                    else:
                        self.bytes_read += len(chunk)
                        self.buf += chunk
                    self.cond.notify_all()
                if not chunk:
                    return
        self.sock.settimeout(None)
        self.reader = threading.Thread(target=run, daemon=True)
        self.reader.start()

    def _fill(self, n, deadline):
        if self.reader:
            with self.cond:
                while len(self.buf) < n:
                    if self.eof:
                        raise EOFError("RFB server closed the connection")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise socket.timeout("RFB server silent")
                    self.cond.wait(left)
            return
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("RFB server silent")
            self.sock.settimeout(left)
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise EOFError("RFB server closed the connection")
            self.bytes_read += len(chunk)
            self.buf += chunk

    def read(self, n, deadline=None):
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        self._fill(n, deadline)
        with self.cond:
            out = bytes(self.buf[:n])
            del self.buf[:n]
        return out

    def unpack(self, fmt, deadline=None):
        return struct.unpack(fmt, self.read(struct.calcsize(fmt), deadline))

    def send(self, data):
        if not self.reader:
            self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    # -- handshake

    def handshake(self, shared=True, vnc_auth=None, version=b"RFB 003.008\n"):
        """Version 3.8 (or `version`), security None, ClientInit. Returns
        ServerInit as (width, height, pixel format tuple, name).

        vnc_auth: a function challenge(16 bytes) -> response(16 bytes) to
        answer the VNC password challenge (security type 2) instead."""
        server_version = self.read(12)
        if not server_version.startswith(b"RFB 003."):
            raise AssertionError("not an RFB server: %r" % server_version)
        self.server_version = server_version
        self.send(version)
        want = 2 if vnc_auth else 1
        if version == b"RFB 003.003\n":
            (chosen,) = self.unpack(">I")
            if chosen != want:
                raise AssertionError("server chose security type %d" % chosen)
        else:
            (n,) = self.unpack("B")
            if n == 0:
                (ln,) = self.unpack(">I")
                raise AssertionError("server refused: %r" % self.read(ln))
            types = self.read(n)
            if want not in types:
                raise AssertionError("no security type %d in %r" % (want, list(types)))
            self.send(bytes([want]))
        if vnc_auth:
            self.send(vnc_auth(self.read(16)))
        if vnc_auth or version == b"RFB 003.008\n":
            (result,) = self.unpack(">I")
            if result != 0:
                reason = b""
                if version == b"RFB 003.008\n":
                    (ln,) = self.unpack(">I")
                    reason = self.read(ln)
                raise AssertionError("security result %d %r" % (result, reason))
        self.send(b"\x01" if shared else b"\x00")
        w, h = self.unpack(">HH")
        fmt = self.unpack(">BBBBHHHBBB3x")
        (ln,) = self.unpack(">I")
        self.name = self.read(ln)
        self.server_format = fmt
        self._resize(w, h)
        return w, h, fmt, self.name

    def _resize(self, w, h):
        self.width, self.height = w, h
        self.fb = bytearray(w * h * 4)

    def set_pixel_format_bgrx(self):
        """32 bpp, depth 24, little-endian, red 16, green 8, blue 0."""
        self.send(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))

    def set_encodings(self, encodings=DEFAULT_ENCODINGS):
        self.send(struct.pack(">BxH", 2, len(encodings)) +
                  b"".join(struct.pack(">i", e) for e in encodings))

    def request(self, incremental=True, x=0, y=0, w=None, h=None):
        w = self.width - x if w is None else w
        h = self.height - y if h is None else h
        self.send(struct.pack(">BBHHHH", 3, 1 if incremental else 0, x, y, w, h))

    def key(self, keysym, down):
        self.send(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))

    def tap(self, keysym):
        self.key(keysym, True)
        self.key(keysym, False)

    def pointer(self, x, y, mask=0):
        self.send(struct.pack(">BBHH", 5, mask, x, y))

    def cut_latin1(self, text):
        data = text.encode("latin-1")
        self.send(struct.pack(">BxxxI", 6, len(data)) + data)

    def cut_utf8(self, text):
        """Extended clipboard Provide with UTF-8 text, unasked (the server
        must have announced its caps)."""
        raw = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8") + b"\0"
        # A flushed, unfinished zlib stream, as noVNC sends it (0.9.14
        # takes the end of a finished stream for an error).
        zo = zlib.compressobj()
        z = zo.compress(struct.pack(">I", len(raw)) + raw) + zo.flush(zlib.Z_SYNC_FLUSH)
        body = struct.pack(">I", CLIP_PROVIDE | CLIP_TEXT) + z
        self.send(struct.pack(">Bxxxi", 6, -len(body)) + body)

    def notify_utf8(self, text):
        """Announce clipboard text with an extended clipboard Notify, as
        noVNC does; it is provided when the server sends a Request (read
        by read_message)."""
        self.clip_offer = text
        self.send(struct.pack(">Bxxxi", 6, -4) + struct.pack(">I", CLIP_NOTIFY | CLIP_TEXT))

    def send_clip_caps(self):
        """Our extended clipboard caps (text, all actions), as noVNC
        answers the server's."""
        flags = CLIP_CAPS | CLIP_REQUEST | CLIP_PEEK | CLIP_NOTIFY | CLIP_PROVIDE | CLIP_TEXT
        self.send(struct.pack(">Bxxxi", 6, -8) + struct.pack(">II", flags, 0))

    # -- server messages

    def read_message(self, deadline):
        """Read one server message; returns ("update", Update) or (kind, None)."""
        (kind,) = self.unpack("B", deadline)
        if kind == 0:
            return "update", self._read_update(deadline)
        if kind == 1:
            _, _, n = self.unpack(">xHH", deadline)
            self.read(6 * n, deadline)
            return "colours", None
        if kind == 2:
            self.bells += 1
            return "bell", None
        if kind == 3:
            self._read_cut(deadline)
            return "cut", None
        raise AssertionError("unknown server message %d" % kind)

    def _read_cut(self, deadline):
        (ln,) = self.unpack(">xxxi", deadline)
        if ln >= 0:
            self.cut_texts.append(self.read(ln, deadline).decode("latin-1"))
            return
        body = self.read(-ln, deadline)
        (flags,) = struct.unpack(">I", body[:4])
        if flags & CLIP_CAPS:
            self.clip_caps = flags
        elif flags & CLIP_REQUEST:
            self.clip_requests += 1
            if self.clip_offer is not None:
                self.cut_utf8(self.clip_offer)
        elif flags & CLIP_PROVIDE:
            raw = zlib.decompress(body[4:])
            (n,) = struct.unpack(">I", raw[:4])
            text = raw[4:4 + n]
            self.cut_texts.append(text.rstrip(b"\0").decode("utf-8").replace("\r\n", "\n"))
        elif flags & CLIP_NOTIFY:
            # Ask for the text that is waiting.
            self.send(struct.pack(">Bxxxi", 6, -4) + struct.pack(">I", CLIP_REQUEST | CLIP_TEXT))

    def _read_update(self, deadline):
        (n,) = self.unpack(">xH", deadline)
        rects = []
        while n == 0xFFFF or len(rects) < n:
            x, y, w, h, enc = self.unpack(">HHHHi", deadline)
            if enc == LAST_RECT:
                break
            rects.append((x, y, w, h, enc))
            if enc == RAW:
                data = self.read(w * h * 4, deadline)
                if x + w > self.width or y + h > self.height:
                    raise AssertionError("rect %r outside %dx%d" % ((x, y, w, h), self.width, self.height))
                for row in range(h):
                    o = ((y + row) * self.width + x) * 4
                    self.fb[o:o + w * 4] = data[row * w * 4:(row + 1) * w * 4]
            elif enc == COPYRECT:
                sx, sy = self.unpack(">HH", deadline)
                rows = [bytes(self.fb[((sy + r) * self.width + sx) * 4:((sy + r) * self.width + sx + w) * 4])
                        for r in range(h)]
                for r, data in enumerate(rows):
                    o = ((y + r) * self.width + x) * 4
                    self.fb[o:o + w * 4] = data
            elif enc == RICH_CURSOR:
                self.cursor_images.append(self.read(w * h * 4 + (w + 7) // 8 * h, deadline))
                self.cursors.append((w, h, x, y, enc))
            elif enc == X_CURSOR:
                self.cursor_images.append(self.read(6 + 2 * ((w + 7) // 8 * h), deadline)
                                          if w and h else b"")
                self.cursors.append((w, h, x, y, enc))
            elif enc == DESKTOP_SIZE:
                self._resize(w, h)
                self.resizes.append((w, h, enc, x, y))
            elif enc == EXT_DESKTOP_SIZE:
                (screens,) = self.unpack(">B3x", deadline)
                self.read(16 * screens, deadline)
                if y == 0:        # status: success
                    self._resize(w, h)
                self.resizes.append((w, h, enc, x, y))
            elif enc == POINTER_POS:
                self.pointer_pos.append((x, y))
            else:
                raise AssertionError("encoding %d not asked for" % enc)
        return Update(rects, time.monotonic())

    def next_update(self, timeout=None):
        """Read messages until a FramebufferUpdate; returns it."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            kind, u = self.read_message(deadline)
            if kind == "update":
                return u

    def wait(self, pred, timeout=None, request=True):
        """Until pred(update or None) is true, keep reading messages
        (asking for an incremental update before each one when request is
        set); returns what pred returned. pred(None) is tried first, so
        what came earlier counts."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        v = pred(None)
        while not v:
            if request:
                self.request(True)
            while True:
                kind, u = self.read_message(deadline)
                v = pred(u)
                if v or kind == "update":
                    break
        return v

    def wait_cut(self, text, timeout=None):
        """Read until ServerCutText with exactly text arrives."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while text not in self.cut_texts:
            self.read_message(deadline)
        return True

    def pixel(self, x, y):
        """(r, g, b) of the local framebuffer at (x, y)."""
        o = (y * self.width + x) * 4
        b, g, r = self.fb[o], self.fb[o + 1], self.fb[o + 2]
        return r, g, b

    def rgb_rows(self, x, y, w, h):
        """Rows of RGB bytes, the way a decoded screenshot gives them."""
        rows = []
        for row in range(y, y + h):
            o = (row * self.width + x) * 4
            bgrx = self.fb[o:o + w * 4]
            rgb = bytearray(w * 3)
            rgb[0::3] = bgrx[2::4]
            rgb[1::3] = bgrx[1::4]
            rgb[2::3] = bgrx[0::4]
            rows.append(bytes(rgb))
        return rows

    def start(self, encodings=DEFAULT_ENCODINGS, full=True):
        """Handshake, BGRX format, encodings and (full) a first full
        update read into the framebuffer. Returns the ServerInit tuple."""
        init = self.handshake()
        self.set_pixel_format_bgrx()
        self.set_encodings(encodings)
        if full:
            # With DesktopSize asked for, the first answer may only
            # announce the size; the pixels follow.
            self.request(False)
            while not self.next_update().pixel_rects():
                pass
        return init

    def settle(self, quiet=0.3, timeout=None):
        """Take incremental updates until none comes for `quiet` seconds."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.request(True)
        while time.monotonic() < deadline:
            try:
                self.next_update(timeout=quiet)
            except socket.timeout:
                return
            self.request(True)
        raise AssertionError("the screen kept changing")
