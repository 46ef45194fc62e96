"""deskbox.py - the black-box harness for deskboxd.

Starts a real deskboxd on a free loopback port with its own temporary state
dir and token, talks to it over HTTP, and proves on stop that nothing of it is
left on the host: no process in one of its cgroups, no cgroup directory it
made, no mount, no live sandbox init.

Everything here is Python 3 standard library, so /usr/bin/python3 runs it on a
bare machine. Test files import it:

    from deskbox import Server, ServerTestCase

    class TestFoo(ServerTestCase):
        server_options = {"max_sandboxes": 4}      # extra deskboxd flags

        def test_echo(self):
            sb = self.sandbox()                     # deleted (and checked) after
            self.assertEqual(self.sh(sb, "echo hi"), "hi\\n")

or, without unittest:

    with Server(memory_mb=256) as srv:
        sb = srv.create()
        print(srv.exec(sb["id"], cmd="id -u")["stdout"])

Which binary: $DESKBOXD if set, else $DESKBOX_BUILD/deskboxd ($DESKBOX_BUILD
defaults to build/, relative paths are taken from the repository root).
Set DESKBOX_KEEP_LOGS=1 to keep every server's log. Otherwise a log goes with
its server's temp dir, even when a check fails: the failure's message carries
the log's tail instead (tests leave no temp dirs behind, failing or not).

Safety nets: every started server is registered with atexit (SIGKILL, then
the same leftover sweep as stop()); the daemon gets PR_SET_PDEATHSIG=SIGTERM
so it goes away with the test process, and runs in its own process group so a
Ctrl-C at the terminal reaches only the runner, which then cleans up.
"""

import atexit
import collections
import ctypes
import errno
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CGROUP_ROOT = "/sys/fs/cgroup"
API = "/v1/sandboxes"

__all__ = [
    "REPO", "API", "APIError", "ServerError", "LeakError", "Response",
    "Client", "Server", "ServerTestCase", "deskboxd_path", "free_port",
    "cgroup_dirs", "cgroup_dir_for", "pids_in_cgroups_matching",
    "find_cgroup_dirs", "pid_alive", "pid_start_time", "pss_kb",
    "install_signal_cleanup", "wait_until", "percentile", "raw_exchange",
    "raw_status", "until", "children", "comm", "tree_pids", "descendant_named",
    "fd_count", "rss_kib", "cpu_ticks", "sanitized",
]


# ---------------------------------------------------------------- errors

class APIError(AssertionError):
    """A convenience call got a status other than the one it expects.

    An AssertionError, so unittest reports it as a test failure, with the
    method, path, status and error body in the message."""

    def __init__(self, method, path, status, body, expected):
        self.method, self.path, self.status, self.body = method, path, status, body
        self.code = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            self.code = body["error"].get("code")
        super().__init__("%s %s -> %s (expected %s): %r"
                         % (method, path, status, expected, body))


class ServerError(RuntimeError):
    """deskboxd did not start, or died when it should not have."""


class LeakError(AssertionError):
    """Something of a sandbox or a server outlived it (see the message)."""


Response = collections.namedtuple("Response", "status headers body")
Response.__doc__ = """(status, headers, body) of one HTTP exchange.

headers is a dict with lower-case names; body is the decoded JSON when the
answer is JSON (and raw was not asked for), else bytes."""

_DEFAULT = object()


# ---------------------------------------------------------------- host probes
# Small functions over /proc and /sys that tests use directly, too.

def deskboxd_path():
    """Path of the deskboxd binary under test (see the module comment)."""
    if os.environ.get("DESKBOXD"):
        return os.environ["DESKBOXD"]
    build = os.environ.get("DESKBOX_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(REPO, build)
    return os.path.join(build, "deskboxd")


def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cgroup_mounts():
    """{controller-key: (mount point, mount root)} from /proc/self/mountinfo.

    The key is the sorted, comma-joined controller list of a v1 hierarchy
    ("memory", "cpu,cpuacct", "name=systemd") or "" for the v2 hierarchy, the
    same strings /proc/PID/cgroup uses."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(rfields) < 3 or rfields[0] not in ("cgroup", "cgroup2"):
                continue
            root, point = fields[3], fields[4]
            if rfields[0] == "cgroup2":
                key = ""
            else:
                opts = rfields[2].split(",")
                ctl = [o for o in opts if o not in ("rw", "ro") and
                       (o.startswith("name=") or "=" not in o)]
                key = ",".join(sorted(ctl))
            mounts.setdefault(key, (point, root))
    return mounts


def cgroup_dirs(pid):
    """{controller-key: absolute directory} of every cgroup pid is in.

    Empty if the process is gone. Controller keys are as in _cgroup_mounts."""
    mounts = _cgroup_mounts()
    out = {}
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        _, ctl, path = line.split(":", 2)
        key = ",".join(sorted(ctl.split(","))) if ctl else ""
        if key not in mounts:
            continue
        point, root = mounts[key]
        if root != "/" and path.startswith(root):
            path = path[len(root):]
        out[key] = os.path.normpath(point + "/" + path.lstrip("/"))
    return out


def cgroup_dir_for(dirs, controller):
    """The directory in a cgroup_dirs() result that holds controller
    ("memory", "pids", "cpu", or "" for v2), or None."""
    for key, d in dirs.items():
        if controller == "" and key == "":
            return d
        if controller and controller in key.split(","):
            return d
    return None


def pids_in_cgroups_matching(text):
    """Host pids (not ours) whose /proc/PID/cgroup contains text."""
    found = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/cgroup" % name) as f:
                if text in f.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


def find_cgroup_dirs(name, root=CGROUP_ROOT, maxdepth=10):
    """Every directory called name under the cgroup mounts (bounded walk)."""
    found = []
    base = root.rstrip("/").count("/")
    for dirpath, dirnames, _ in os.walk(root):
        if dirpath.count("/") - base >= maxdepth:
            dirnames[:] = []
        if name in dirnames:
            found.append(os.path.join(dirpath, name))
    return found


def pid_start_time(pid):
    """Start time of pid in clock ticks (field 22 of /proc/PID/stat), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[0]


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def children(pid):
    """pid's direct children."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tree_pids(root):
    """root and every descendant, from the ppid field of /proc/*/stat."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def descendant_named(root, name):
    """The first descendant of root whose comm is name, or None."""
    for p in tree_pids(root)[1:]:
        if comm(p) == name:
            return p
    return None


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid, field="VmRSS"):
    """Resident KiB of pid: VmRSS, or another /proc/PID/status field
    (RssAnon: the anonymous part, without the pages of files mapped)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


def cpu_ticks(pids):
    """utime + stime of pids (an int or a list), in clock ticks."""
    total = 0
    for p in [pids] if isinstance(pids, int) else pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total


def sanitized(pid):
    """Is pid an ASan build (make SANITIZE=1)? Its quarantine keeps freed
    memory resident, so RSS bounds do not apply."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def pid_alive(pid, start_time=None):
    """True if pid exists (zombies count: they are a leak, too) and, when
    start_time is given, is still the same process (not a reused pid)."""
    st = pid_start_time(pid)
    if st is None:
        return False
    return start_time is None or st == start_time


def pss_kb(pid):
    """Proportional set size of pid in KiB (smaps_rollup), 0 if gone."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def until(pred, timeout=10.0, what="the condition", step=0.02):
    """Poll pred() until it returns a true value, and return that; fail the
    test (AssertionError naming what) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(step)


def wait_until(pred, timeout, interval=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass.
    Returns the last value of pred()."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def percentile(values, p):
    """The p-th percentile (0..100) of values, nearest-rank; None if empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def _kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


# ---------------------------------------------------------------- client

class Client:
    """HTTP client for one deskboxd.

    A new connection per request (Connection: close) unless keepalive=True,
    which reuses one http.client.HTTPConnection (not thread-safe: one
    keep-alive Client per thread). Thread-safe otherwise.
    """

    def __init__(self, host, port, token, keepalive=False, timeout=60.0,
                 tracker=None):
        self.host, self.port, self.token = host, port, token
        self.keepalive, self.timeout = keepalive, timeout
        self._tracker = tracker
        self._conn = None
        self.connections = 0  # TCP connections opened so far (keep-alive check)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self, timeout):
        if not self.keepalive:
            self.connections += 1
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        if self._conn is None or self._conn.sock is None:
            if self._conn is not None:
                self._conn.close()
            self.connections += 1
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self._conn.timeout = timeout
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        return self._conn

    def request(self, method, path, body=None, token=_DEFAULT, headers=None,
                raw=False, timeout=None):
        """One HTTP exchange. Returns Response(status, headers, body).

        body: dict/list (sent as JSON), str (UTF-8) or bytes (as is).
        token: defaults to the server's; None sends no Authorization header;
        a string is sent as "Bearer <string>". headers: extra headers, a None
        value removes one. raw: return the body as bytes even if JSON.
        Socket errors propagate (a test decides what a dropped connection means).
        """
        hdrs = {}
        if token is _DEFAULT:
            token = self.token
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        data = None
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if not self.keepalive:
            hdrs["Connection"] = "close"
        for k, v in (headers or {}).items():
            for old in [h for h in hdrs if h.lower() == k.lower()]:
                del hdrs[old]
            if v is not None:
                hdrs[k] = v
        for attempt in (1, 2):
            conn = self._connection(timeout or self.timeout)
            reused = self.keepalive and conn.sock is not None
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed while idle:
                # nothing was processed, so one retry on a new one is safe.
                conn.close()
                self._conn = None
                if not reused or attempt == 2:
                    raise
            except BaseException:
                conn.close()
                if conn is self._conn:
                    self._conn = None
                raise
            finally:
                if not self.keepalive:
                    conn.close()
        rhdrs = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close and conn is self._conn:
            self.close()
        out = payload
        if not raw and payload:
            ctype = rhdrs.get("content-type", "")
            if "json" in ctype or payload[:1] in (b"{", b"["):
                try:
                    out = json.loads(payload)
                except ValueError:
                    out = payload
        if (self._tracker and method == "POST" and resp.status == 201
                and path.split("?")[0].rstrip("/") == API and isinstance(out, dict)):
            self._tracker(out)
        return Response(resp.status, rhdrs, out)

    def expect(self, status, method, path, body=None, **kw):
        """request() that raises APIError unless the answer has status."""
        r = self.request(method, path, body, **kw)
        if r.status != status:
            raise APIError(method, path, r.status, r.body, status)
        return r

    # Conveniences: each returns the decoded answer and raises APIError on
    # any status but the documented success one.

    def healthz(self, timeout=10):
        return self.expect(200, "GET", "/healthz", token=None, timeout=timeout).body

    def create(self, **fields):
        """POST /v1/sandboxes with fields as the body; the sandbox object."""
        return self.expect(201, "POST", API, fields).body

    def list(self):
        return self.expect(200, "GET", API).body["sandboxes"]

    def get(self, sid):
        return self.expect(200, "GET", "%s/%s" % (API, sid)).body

    def delete(self, sid, timeout=None):
        self.expect(204, "DELETE", "%s/%s" % (API, sid), timeout=timeout)

    def set_timeout(self, sid, timeout_s):
        return self.expect(200, "POST", "%s/%s/timeout" % (API, sid),
                           {"timeout_s": timeout_s}).body

    def exec(self, sid, cmd=None, argv=None, client_timeout=None, **fields):
        """POST .../exec. cmd or argv, other fields (env, cwd, stdin,
        timeout_ms) as keywords. The client waits timeout_ms + 30 s."""
        body = dict(fields)
        if cmd is not None:
            body["cmd"] = cmd
        if argv is not None:
            body["argv"] = argv
        if client_timeout is None:
            tm = fields.get("timeout_ms")
            client_timeout = (tm if isinstance(tm, (int, float)) else 60000) / 1000.0 + 30
        return self.expect(200, "POST", "%s/%s/exec" % (API, sid), body,
                           timeout=client_timeout).body

    @staticmethod
    def files_path(sid, path):
        return "%s/%s/files?path=%s" % (API, sid, urllib.parse.quote(path, safe="/"))

    def put_file(self, sid, path, data):
        """PUT raw bytes (or str, UTF-8) at path; the {"path","size"} answer."""
        return self.expect(201, "PUT", self.files_path(sid, path), data,
                           headers={"Content-Type": "application/octet-stream"}).body

    def get_file(self, sid, path, timeout=None):
        """GET the file at path as bytes."""
        return self.expect(200, "GET", self.files_path(sid, path), raw=True,
                           timeout=timeout).body


# ---------------------------------------------------------------- server

class _Sandbox:
    """What the harness remembers of a sandbox to prove later it is gone."""

    def __init__(self, obj):
        self.id = obj["id"]
        self.pid = obj.get("pid") if isinstance(obj.get("pid"), int) else None
        self.start_time = pid_start_time(self.pid) if self.pid else None
        self.cgroups = cgroup_dirs(self.pid) if self.pid else {}


_live = []
_live_lock = threading.Lock()


def _atexit_sweep():
    with _live_lock:
        servers = list(_live)
    for s in servers:
        try:
            s._emergency_stop()
        except Exception as e:  # keep sweeping the others
            sys.stderr.write("deskbox: cleanup of %s failed: %s\n" % (s, e))


atexit.register(_atexit_sweep)


def install_signal_cleanup():
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt (main thread only), so a
    killed test run still runs the atexit sweep. Runners call this once."""
    def handler(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, handler)


def _preexec():
    """In the child before exec: own process group (a terminal's Ctrl-C
    reaches the runner only, which then stops the daemon properly), and
    SIGTERM when the thread that started it exits (start servers from the
    main thread, as setUpClass does)."""
    os.setpgid(0, 0)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    """One deskboxd under test.

    Server(**options) maps keyword options to flags: max_sandboxes=2 becomes
    `--max-sandboxes 2` (True adds a bare flag, None/False nothing). Other
    parameters: state_dir (default: a fresh temp dir, removed by stop()),
    token (default: random), binary, env (extra environment for deskboxd),
    args (extra raw arguments).

    start() returns self; stop() and kill() end it; start() again after
    kill() restarts on the same state dir and token (a new port), which is how
    crash recovery is tested. Also a context manager.

    Every sandbox created through any of its Clients is tracked: stop()
    proves each is gone (init pid, processes in its cgroups, cgroup dirs,
    host mounts) and raises LeakError listing what is left, after removing
    it (so one leak does not poison the next test).
    """

    def __init__(self, state_dir=None, token=None, binary=None, env=None,
                 args=(), start_timeout=20.0, **options):
        self.binary = binary or deskboxd_path()
        self.token = token or secrets.token_hex(16)
        self.options = options
        self.extra_args = list(args)
        self.env = env or {}
        self.start_timeout = start_timeout
        self._own_root = state_dir is None
        self.root = tempfile.mkdtemp(prefix="deskbox-test-") if state_dir is None else None
        self.state_dir = state_dir or os.path.join(self.root, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        logdir = self.root or tempfile.mkdtemp(prefix="deskbox-test-log-")
        self._log_dir_extra = None if self.root else logdir
        self.log_path = os.path.join(logdir, "deskboxd.log")
        self.host, self.port = "127.0.0.1", None
        self.proc = None
        self.own_cgroups = {}
        self.sandboxes = {}         # id -> _Sandbox, every one ever created
        self.instance_dirs = set()  # cgroup dirs the daemon made above sandboxes
        self._mounts_before = None
        self._lock = threading.Lock()
        self.api = None             # the default (non-keep-alive) Client
        with _live_lock:            # the atexit sweep removes the temp dir
            _live.append(self)      # even if this server never starts

    def __repr__(self):
        return "<deskboxd pid=%s port=%s state=%s>" % (
            self.proc.pid if self.proc else None, self.port, self.state_dir)

    # -- life cycle

    def command(self):
        cmd = [self.binary, "--listen", "%s:%d" % (self.host, self.port),
               "--state-dir", self.state_dir, "--token", self.token]
        # stop() is SIGTERM: unless a test asks for a drain, stop at once
        # rather than wait for the sandboxes (deskboxd's default is 30 s).
        if "drain_grace" not in self.options and "--drain-grace" not in self.extra_args:
            cmd += ["--drain-grace", "0"]
        # deskboxd's default desktop is the full session (panel, wallpaper,
        # default apps). The suites were written against a plain black
        # screen and check its pixels, and they create hundreds of
        # desktops: unless a test asks (desktop_session="full", or
        # "desktop": {"session": "full"} in a create), the harness's
        # servers default to bare. test_session.py covers the full one and
        # deskboxd's own default.
        if "desktop_session" not in self.options and "--desktop-session" not in self.extra_args:
            cmd += ["--desktop-session", "bare"]
        for k, v in self.options.items():
            if v is None or v is False:
                continue
            cmd.append("--" + k.replace("_", "-"))
            if v is not True:
                cmd.append(str(v))
        return cmd + self.extra_args

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise ServerError("no deskboxd at %s (run make, or set DESKBOX_BUILD)"
                              % self.binary)
        if self._mounts_before is None:
            self._mounts_before = _mounts()
        for attempt in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                log.write(("### harness: start %s\n" % " ".join(self.command())).encode())
                log.flush()
                env = dict(os.environ)
                env.update(self.env)
                self.proc = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, env=env, preexec_fn=_preexec)
            with _live_lock:
                if self not in _live:
                    _live.append(self)
            self.api = self.client()
            if self._wait_ready():
                self.own_cgroups = cgroup_dirs(self.proc.pid)
                return self
            rc = self.proc.poll()
            if rc is None:
                tail = self.log_tail()
                self._emergency_stop(report=False)
                raise ServerError("deskboxd did not answer /healthz within %.0f s\n%s"
                                  % (self.start_timeout, tail))
            if "in use" not in self.log_tail(5).lower():
                break
        raise ServerError("deskboxd exited with %s at start\n%s"
                          % (self.proc.returncode, self.log_tail()))

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                r = self.api.request("GET", "/healthz", token=None, timeout=1)
                if r.status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL deskboxd and reap it; no checks. start() may follow."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, check=True, timeout=30.0):
        """SIGTERM, wait, then (check=True) assert exit status 0 and that
        nothing is left; see the class comment. Idempotent."""
        problems = []
        if self.proc is not None:
            if self.proc.poll() is None:
                try:  # learn any sandbox made behind our back (raw sockets)
                    for obj in self.api.request("GET", API, timeout=5).body.get("sandboxes", []):
                        self._track(obj)
                except Exception:
                    pass
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except Exception:
                    problems.append("deskboxd did not exit within %.0f s of SIGTERM" % timeout)
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
            if rc != 0:
                problems.append("deskboxd exited with status %s, not 0" % rc)
        if check:
            problems += self.leftovers()
        self._sweep()
        with _live_lock:
            if self in _live:
                _live.remove(self)
        # A reported problem carries the log's tail, read before the temp
        # dir goes.
        tail = self.log_tail() if problems and check else ""
        self._remove_tmp(keep_log=os.environ.get("DESKBOX_KEEP_LOGS"))
        if problems and check:
            raise LeakError("%r:\n  %s\n--- log (tail) ---\n%s" % (
                self, "\n  ".join(problems), tail))

    def _emergency_stop(self, report=True):
        # Still running here (at exit: a test failed or was cut short): its
        # log's tail goes to stderr, and its temp dir goes like any other.
        tail = self.log_tail() if report and self.running() else None
        self.kill()
        self._sweep()
        with _live_lock:
            if self in _live:
                _live.remove(self)
        if tail is not None:
            sys.stderr.write("deskbox: %r was still running at exit; its log's tail:\n%s\n"
                             % (self, tail))
        self._remove_tmp(keep_log=os.environ.get("DESKBOX_KEEP_LOGS"))

    def _remove_tmp(self, keep_log):
        keep_log = keep_log and os.path.exists(self.log_path)
        if keep_log:
            sys.stderr.write("deskbox: log of %r kept at %s\n" % (self, self.log_path))
        if self._own_root and self.root and os.path.isdir(self.root):
            if keep_log:
                shutil.rmtree(self.state_dir, ignore_errors=True)
            else:
                shutil.rmtree(self.root, ignore_errors=True)
        if self._log_dir_extra and not keep_log:
            shutil.rmtree(self._log_dir_extra, ignore_errors=True)

    def __enter__(self):
        return self if self.running() else self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(check=exc_type is None)
        return False

    # -- tracking and leak checks

    def _track(self, obj):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            return
        with self._lock:
            if obj["id"] in self.sandboxes:
                return
            sb = _Sandbox(obj)
            self.sandboxes[sb.id] = sb
            own = set(self.own_cgroups.values())
            for d in sb.cgroups.values():
                parent = os.path.dirname(d)
                if os.path.basename(d) == sb.id and parent not in own:
                    self.instance_dirs.add(parent)

    def sandbox_record(self, sid):
        """What the harness recorded at creation: .pid, .start_time,
        .cgroups ({controller-key: dir})."""
        return self.sandboxes[sid]

    def sandbox_leftovers(self, sid):
        """Problems (strings) showing sandbox sid is not entirely gone."""
        sb = self.sandboxes.get(sid)
        problems = []
        if sb is None:
            return ["sandbox %s was never tracked" % sid]
        if sb.pid and pid_alive(sb.pid, sb.start_time):
            problems.append("sandbox %s: init pid %d (%s, state %s) still exists"
                            % (sid, sb.pid, comm(sb.pid), _proc_state(sb.pid)))
        for p in pids_in_cgroups_matching(sid):
            problems.append("sandbox %s: process %d (%s) still in its cgroup"
                            % (sid, p, comm(p)))
        dirs = set(sb.cgroups.values()) | set(find_cgroup_dirs(sid))
        for d in sorted(dirs):
            if sid in d and os.path.isdir(d):
                problems.append("sandbox %s: cgroup dir %s left" % (sid, d))
        return problems

    def assert_sandbox_gone(self, sid, grace=0.0):
        """Raise LeakError unless sandbox sid left nothing (after up to
        grace seconds of polling)."""
        left = wait_until(lambda: not self.sandbox_leftovers(sid), grace) \
            if grace else not self.sandbox_leftovers(sid)
        if not left:
            raise LeakError("\n".join(self.sandbox_leftovers(sid)))

    def leftovers(self):
        """Problems showing the server left something behind (call after it
        exited)."""
        problems = []
        for sid in list(self.sandboxes):
            problems += self.sandbox_leftovers(sid)
        for d in sorted(self.instance_dirs):
            if os.path.isdir(d):
                problems.append("cgroup dir %s (made by deskboxd) left" % d)
        for p in self._pids_in_instance_dirs():
            problems.append("process %d (%s) left in a deskboxd cgroup" % (p, comm(p)))
        new = _mounts() - (self._mounts_before or set())
        for m in sorted(new):
            if "deskbox" in m or (self.root and self.root in m) or self.state_dir in m:
                problems.append("host mount left: %s" % m)
        return problems

    def _pids_in_instance_dirs(self):
        found = set()
        for d in self.instance_dirs:
            for dirpath, _, files in os.walk(d):
                if "cgroup.procs" in files:
                    try:
                        with open(os.path.join(dirpath, "cgroup.procs")) as f:
                            found.update(int(x) for x in f.read().split())
                    except OSError:
                        pass
        return sorted(found)

    def _sweep(self):
        """Kill and remove whatever is left (after the checks have run)."""
        for sb in self.sandboxes.values():
            if sb.pid and pid_alive(sb.pid, sb.start_time):
                _kill(sb.pid)
            for p in pids_in_cgroups_matching(sb.id):
                _kill(p)
        for p in self._pids_in_instance_dirs():
            _kill(p)
        dirs = set(self.instance_dirs)
        for sb in self.sandboxes.values():
            dirs.update(d for d in sb.cgroups.values() if sb.id in d)
        for d in sorted(dirs, key=len, reverse=True):
            for dirpath, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                wait_until(lambda: _try_rmdir(dirpath), 2.0)

    # -- logs

    def log_text(self, offset=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- clients and conveniences (delegated to self.api)

    def client(self, token=_DEFAULT, keepalive=False, timeout=60.0):
        """A new Client for this server (sandboxes it creates are tracked)."""
        return Client(self.host, self.port, self.token if token is _DEFAULT else token,
                      keepalive=keepalive, timeout=timeout, tracker=self._track)

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def request(self, *a, **kw):
        return self.api.request(*a, **kw)

    def expect(self, *a, **kw):
        return self.api.expect(*a, **kw)

    def healthz(self, timeout=10):
        return self.api.healthz(timeout)

    def create(self, **fields):
        return self.api.create(**fields)

    def list(self):
        return self.api.list()

    def get(self, sid):
        return self.api.get(sid)

    def delete(self, sid, timeout=None):
        return self.api.delete(sid, timeout)

    def set_timeout(self, sid, timeout_s):
        return self.api.set_timeout(sid, timeout_s)

    def exec(self, sid, cmd=None, argv=None, **fields):
        return self.api.exec(sid, cmd, argv, **fields)

    def put_file(self, sid, path, data):
        return self.api.put_file(sid, path, data)

    def get_file(self, sid, path, timeout=None):
        return self.api.get_file(sid, path, timeout)


def _try_rmdir(d):
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError as e:
        return e.errno not in (errno.EBUSY, errno.ENOTEMPTY)


def _mounts():
    with open("/proc/self/mounts") as f:
        return set(f.read().splitlines())


# ---------------------------------------------------------------- unittest

class ServerTestCase(unittest.TestCase):
    """A TestCase with one deskboxd per class.

    server_options (class attribute) are the Server keyword options. The
    server starts in setUpClass and is stopped, with its leak checks, as a
    class cleanup, so a leak fails the class. A failing test prints the part
    of the daemon log written during it.
    """

    server_options = {}
    server = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = Server(**cls.server_options)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def setUp(self):
        super().setUp()
        self._log_offset = self.server.log_size()
        self.addCleanup(self._print_log_on_failure)

    def _failed(self):
        """Has this test recorded a failure or error so far? (Cleanups run
        in their own executor, so _outcome.success does not tell.)"""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        # Python < 3.11 keeps them in outcome.errors until the test ends.
        if any(exc is not None for _, exc in getattr(outcome, "errors", [])):
            return True
        result = getattr(outcome, "result", None)
        bad = list(getattr(result, "failures", [])) + list(getattr(result, "errors", []))
        return any(t is self or getattr(t, "test_case", None) is self for t, _ in bad)

    def _print_log_on_failure(self):
        if self._failed():
            text = self.server.log_text(self._log_offset)
            lines = text.splitlines()[-80:]
            sys.stderr.write("\n--- deskboxd log during %s ---\n%s\n---\n"
                             % (self.id(), "\n".join(lines)))

    def sandbox(self, **fields):
        """Create a sandbox; it is deleted after the test and proven gone."""
        sb = self.server.create(**fields)
        self.addCleanup(self.delete_checked, sb["id"])
        return sb

    def delete_checked(self, sid, server=None):
        """DELETE sid (a 404 is fine: it may have expired or been deleted)
        and assert nothing of it is left."""
        srv = server or self.server
        r = srv.request("DELETE", "%s/%s" % (API, sid), timeout=60)
        if r.status not in (204, 404):
            raise APIError("DELETE", sid, r.status, r.body, "204 or 404")
        srv.assert_sandbox_gone(sid, grace=0.0 if r.status == 204 else 5.0)

    def sh(self, sb, cmd, **fields):
        """Run cmd in sandbox sb (object or id); assert exit 0; return stdout."""
        sid = sb["id"] if isinstance(sb, dict) else sb
        res = self.server.exec(sid, cmd=cmd, **fields)
        self.assertEqual(res["exit_code"], 0, "%r failed: %r" % (cmd, res))
        return res["stdout"]

    def run_cmd(self, sb, cmd, **fields):
        """Run cmd in sandbox sb; return the whole exec answer."""
        sid = sb["id"] if isinstance(sb, dict) else sb
        return self.server.exec(sid, cmd=cmd, **fields)

    def assertError(self, resp, status, code=None):
        """Assert resp is an error answer with status and (if given) code."""
        self.assertEqual(resp.status, status, "body: %r" % (resp.body,))
        if code is not None:
            self.assertIsInstance(resp.body, dict, "error body is not JSON: %r" % (resp.body,))
            err = resp.body.get("error")
            self.assertIsInstance(err, dict, "no error object: %r" % (resp.body,))
            self.assertEqual(err.get("code"), code, "body: %r" % (resp.body,))
            self.assertIsInstance(err.get("message"), str)

    def assertHealthy(self, timeout=5):
        """/healthz answers 200 within timeout seconds."""
        self.assertEqual(self.server.healthz(timeout=timeout), {"status": "ok"})


# ---------------------------------------------------------------- raw HTTP

def raw_exchange(port, data, host="127.0.0.1", timeout=5.0, read=True,
                 half_close=False):
    """Send data (bytes) on a fresh TCP connection and return what the server
    answers: up to the end of the first complete response (by its
    Content-Length), its close, or timeout seconds, whichever is first (b""
    if it said nothing). read=False: send and close at once. half_close:
    shut our side for writing after sending. For requests http.client
    refuses to send; never raises on a reset or a timeout."""
    out = b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if not read:
                return b""
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not _complete(out):
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def _complete(answer):
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return False
    return False


def raw_status(answer):
    """The status code of a raw HTTP answer, or None if there is none."""
    try:
        line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        return int(line.split()[1]) if line.startswith("HTTP/") else None
    except (IndexError, ValueError):
        return None
