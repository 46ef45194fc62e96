"""test_isolation.py - attacks from inside a sandbox; each must fail or be contained.

Processes, files (other sandboxes', the host's), network, mounts, user
namespaces, the files API's path resolution (.., /proc/*/root, symlinks,
FIFOs, symlink swaps), resource exhaustion (fork bomb, memory), tty
injection, dangerous syscalls, and what is left on the host after DELETE, a
kill -9 of deskboxd and its restart.

Where a probe could pass for the wrong reason (a missing tool, an error that
would occur anyway), the test checks the probe works first or asserts the
specific errno.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import sys
import threading
import time
import unittest

from deskbox import (API, REPO, Server, ServerTestCase, cgroup_dir_for,
                     find_cgroup_dirs, pid_alive, pids_in_cgroups_matching,
                     wait_until)

PY = "python3"


def host_ipv4_addresses():
    """The host's non-loopback IPv4 addresses."""
    addrs = set()
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                             text=True, timeout=10).stdout
        addrs.update(re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.254", 9))  # no packet is sent
            addrs.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in addrs if not a.startswith("127."))


class Listener:
    """TCP listener on the host that counts connections it accepts."""

    def __init__(self, host):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.accepted += 1
                c.close()
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_snapshot(root):
    """{relative path: sha256 or 'dir'} of everything under root."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            snap[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            snap[os.path.relpath(p, root)] = file_digest(p) if not os.path.islink(p) else "link"
    return snap


class HostMarkers:
    """Secret files on the host that no sandbox may read or change: one in
    the host's /tmp, one in the server's state dir, one in /root."""

    def __init__(self, state_dir):
        self.secret = "deskbox-secret-" + secrets.token_hex(12)
        self.dir = tempfile.mkdtemp(prefix="deskbox-host-marker-")
        os.chmod(self.dir, 0o755)
        self.file = os.path.join(self.dir, "secret.txt")
        self.victim = os.path.join(self.dir, "victim.txt")
        self.paths = [self.file, os.path.join(state_dir, "marker-secret.txt")]
        if os.geteuid() == 0 and os.path.isdir("/root"):
            self.paths.append("/root/.deskbox-marker-%s" % secrets.token_hex(6))
        for p in self.paths:
            with open(p, "w") as f:
                f.write(self.secret)
            os.chmod(p, 0o644)  # readable by any uid on the host: only isolation stops it
        with open(self.victim, "w") as f:
            f.write("original victim\n")
        os.chmod(self.victim, 0o666)
        self.snapshot = tree_snapshot(self.dir)
        self.passwd = file_digest("/etc/passwd")

    def unchanged(self):
        return tree_snapshot(self.dir) == self.snapshot and file_digest("/etc/passwd") == self.passwd

    def remove(self):
        for p in self.paths[1:]:
            try:
                os.unlink(p)
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class TestIsolation(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.markers = HostMarkers(cls.server.state_dir)
        cls.addClassCleanup(cls.markers.remove)

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox()
        self.sid = self.sb["id"]

    def py(self, sb, code, **kw):
        """Run python3 code in sandbox sb; return the exec answer."""
        return self.server.exec(sb["id"], argv=[PY, "-c", code], **kw)

    def py_json(self, sb, code, **kw):
        res = self.py(sb, code, **kw)
        self.assertEqual(res["exit_code"], 0, res)
        return json.loads(res["stdout"])

    # -- processes and identity

    def test_sees_only_its_own_pids(self):
        pids = [int(p) for p in self.sh(self.sb, "ls /proc").split() if p.isdigit()]
        self.assertLess(len(pids), 20, "sandbox sees %d pids: %s" % (len(pids), pids))
        self.assertIn(1, pids)
        ps = self.sh(self.sb, "ps -eo args=")
        for word in ("deskboxd", "run.py", "systemd", "unittest"):
            self.assertNotIn(word, ps)
        for hostpid in (os.getpid(), self.server.proc.pid):
            if hostpid > 100:
                self.assertNotIn(hostpid, pids)
        # PID 1 inside is the sandbox's init: the host pid in the object.
        with open("/proc/%d/comm" % self.sb["pid"]) as f:
            self.assertEqual(self.sh(self.sb, "cat /proc/1/comm"), f.read())
        with open("/proc/%d/status" % self.sb["pid"]) as f:
            nspid = [l for l in f if l.startswith("NSpid:")][0].split()
        self.assertEqual(nspid[-1], "1", "the object's pid is not PID 1 of its namespace")

    def test_identity(self):
        status = self.sh(self.sb, "cat /proc/self/status")
        fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
        self.assertEqual(fields["Uid"].split(), ["1000"] * 4)
        self.assertEqual(fields["Gid"].split(), ["1000"] * 4)
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            self.assertEqual(int(fields[cap], 16), 0, "%s = %s" % (cap, fields[cap]))
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")
        self.assertEqual(fields["Seccomp"].strip(), "2")
        self.assertEqual(self.sh(self.sb, "cat /proc/sys/kernel/hostname").strip(), self.sid)
        self.assertEqual(self.sh(self.sb, "uname -n").strip(), self.sid)

    def test_init_cannot_be_disturbed(self):
        # The init holds the channel to deskboxd: its fds, memory and
        # environment are closed to the user, and signals do not reach it.
        for path in ("/proc/1/fd", "/proc/1/environ", "/proc/1/mem", "/proc/1/root/"):
            with self.subTest(path=path):
                res = self.run_cmd(self.sb, ("ls %s" if path.endswith(("fd", "/")) else
                                             "head -c 64 %s") % path)
                self.assertNotEqual(res["exit_code"], 0, res)
        res = self.run_cmd(self.sb, "for s in KILL TERM INT HUP STOP SEGV QUIT USR1; do kill -$s 1; done; "
                                    "sleep 0.2; grep State /proc/1/status")
        self.assertNotIn("stopped", res["stdout"].lower())
        self.assertEqual(self.sh(self.sb, "echo alive"), "alive\n")
        self.assertTrue(pid_alive(self.sb["pid"], self.server.sandbox_record(self.sid).start_time))
        self.assertEqual(self.server.get(self.sid)["state"], "running")

    def test_cgroups_nest_under_the_daemons(self):
        # A supervisor's limits on deskboxd (a systemd unit's MemoryMax, a
        # container's memory cgroup) must hold its sandboxes too: each
        # sandbox cgroup lies under deskboxd's own. Checked on v1 hierarchies,
        # where no "no internal processes" rule forces another layout.
        own = self.server.own_cgroups
        for key, d in self.server.sandbox_record(self.sid).cgroups.items():
            if key == "" or self.sid not in d or key not in own:
                continue
            with self.subTest(hierarchy=key):
                self.assertTrue(d.startswith(own[key].rstrip("/") + "/"),
                                "%s is not under deskboxd's cgroup %s" % (d, own[key]))

    # -- files

    def test_cannot_see_another_sandboxes_files_processes_or_ipc(self):
        other = self.sandbox()
        secret = "sbsecret-" + secrets.token_hex(8)
        name = "secret-" + secrets.token_hex(4)
        self.sh(self.sb, "echo %s > /tmp/%s; echo %s > ~/%s; echo %s > /dev/shm/%s"
                % (secret, name, secret, name, secret, name))
        # A SysV segment of an odd size (the desktop has its own XShm segment).
        self.sh(self.sb, "ipcmk -M 12345 >/dev/null")
        self.assertIn(" 12345 ", self.sh(self.sb, "ipcs -m"))
        self.server.exec(self.sid, cmd="sleep 1011 >/dev/null 2>&1 &")
        # An abstract Unix socket: what X11 uses. Per network namespace.
        abstract = "\\0deskbox-" + secrets.token_hex(4)
        self.server.exec(self.sid, cmd="%s -c \"import socket,time; s=socket.socket(socket.AF_UNIX); "
                         "s.bind('%s'); s.listen(1); time.sleep(60)\" >/dev/null 2>&1 &" % (PY, abstract))
        self.assertEqual(self.sh(self.sb, "cat /tmp/%s" % name), secret + "\n")
        self.assertTrue(wait_until(lambda: "1011" in self.sh(self.sb, "ps -eo args="), 5))
        # From the other sandbox: nothing of it.
        found = self.run_cmd(other, "find / -path /proc -prune -o -path /sys -prune -o -path /usr -prune "
                                    "-o -name '%s*' -print 2>/dev/null" % name)
        self.assertEqual(found["stdout"], "")
        grep = self.run_cmd(other, "grep -rl %s /tmp /home /dev/shm /run /var /etc 2>/dev/null" % secret)
        self.assertEqual(grep["stdout"], "")
        self.assertNotIn("sleep 1011", self.sh(other, "ps -eo args="))
        self.assertNotIn(" 12345 ", self.sh(other, "ipcs -m"), "other sandbox sees a SysV shm segment")
        r = self.py(other, "import socket; s=socket.socket(socket.AF_UNIX)\n"
                           "try:\n s.connect('%s'); print('connected')\n"
                           "except OSError as e: print(e.errno)" % abstract)
        self.assertNotIn("connected", r["stdout"])
        for path in ("/tmp/" + name, "/home/user/" + name, "/dev/shm/" + name):
            r = self.server.request("GET", self.server.api.files_path(other["id"], path))
            self.assertEqual(r.status, 404, path)

    def test_cannot_read_host_files(self):
        for path in self.markers.paths:
            with self.subTest(path=path):
                res = self.run_cmd(self.sb, "cat %s" % path)
                self.assertNotEqual(res["exit_code"], 0)
                self.assertNotIn(self.markers.secret, res["stdout"])
        name = os.path.basename(self.markers.file)
        out = self.run_cmd(self.sb, "grep -rl %s / --exclude-dir=proc --exclude-dir=sys "
                                    "--exclude-dir=usr 2>/dev/null" % self.markers.secret,
                           timeout_ms=60000)["stdout"]
        self.assertEqual(out, "", "host secret found at %s" % out)
        self.assertNotEqual(self.run_cmd(self.sb, "ls %s" % self.server.state_dir)["exit_code"], 0)
        self.assertNotEqual(self.run_cmd(self.sb, "ls %s/Makefile" % REPO)["exit_code"], 0,
                            "the repository is visible in the sandbox")
        self.assertNotIn(name, self.run_cmd(self.sb, "ls /tmp /root 2>&1")["stdout"])
        # /etc/shadow: unreadable, or at least not the host's.
        res = self.run_cmd(self.sb, "cat /etc/shadow")
        with open("/etc/shadow") as f:
            host_shadow = f.read()
        if res["exit_code"] == 0:
            self.assertNotEqual(res["stdout"], host_shadow)

    def test_cannot_write_usr_or_root(self):
        for cmd in ("touch /usr/deskbox-x", "touch /usr/bin/deskbox-x", "touch /deskbox-x",
                    "mkdir /etc/deskbox-x", "cp /bin/sh /usr/bin/sh2"):
            with self.subTest(cmd=cmd):
                self.assertNotEqual(self.run_cmd(self.sb, cmd)["exit_code"], 0)
        self.assertFalse(os.path.exists("/usr/deskbox-x"))
        self.assertFalse(os.path.exists("/usr/bin/deskbox-x"))
        mounts = self.sh(self.sb, "cat /proc/mounts")
        usr = [l.split() for l in mounts.splitlines() if l.split()[1] == "/usr"]
        self.assertTrue(usr, "no /usr mount:\n" + mounts)
        self.assertIn("ro", usr[-1][3].split(","), usr)
        # ... while /tmp and /home/user are writable.
        self.sh(self.sb, "touch /tmp/ok ~/ok")

    # -- network

    def test_only_loopback(self):
        self.assertEqual(self.sh(self.sb, "ls /sys/class/net").split(), ["lo"])
        devs = [l.split(":")[0].strip() for l in self.sh(self.sb, "cat /proc/net/dev").splitlines()[2:]]
        self.assertEqual(devs, ["lo"])
        res = self.run_cmd(self.sb, "ip -o link 2>/dev/null || /usr/sbin/ip -o link")
        if res["exit_code"] == 0:
            names = [l.split(":")[1].strip() for l in res["stdout"].splitlines()]
            self.assertEqual(names, ["lo"])

    def test_cannot_reach_host_ports(self):
        local = Listener("127.0.0.1")
        wide = Listener("0.0.0.0")
        self.addCleanup(local.close)
        self.addCleanup(wide.close)
        targets = [("127.0.0.1", local.port), ("127.0.0.1", self.server.port),
                   ("127.0.0.1", wide.port)]
        targets += [(ip, wide.port) for ip in host_ipv4_addresses()]
        # Check the probe works where it should: the host can reach them.
        for host, port in targets:
            socket.create_connection((host, port), timeout=2).close()
        n_local = sum(1 for _, p in targets if p == local.port)
        n_wide = sum(1 for _, p in targets if p == wide.port)
        self.assertTrue(wait_until(lambda: (local.accepted, wide.accepted) == (n_local, n_wide), 5))
        probe = ("import socket, json\nout = {}\n"
                 "for h, p in %r:\n"
                 "    try:\n"
                 "        socket.create_connection((h, p), timeout=2).close(); out['%%s:%%d' %% (h, p)] = 'connected'\n"
                 "    except OSError as e: out['%%s:%%d' %% (h, p)] = str(e)\n"
                 "print(json.dumps(out))" % (targets,))
        before = (local.accepted, wide.accepted)
        out = self.py_json(self.sb, probe)
        for target, result in out.items():
            self.assertNotEqual(result, "connected", "sandbox reached the host at " + target)
        time.sleep(0.3)
        self.assertEqual((local.accepted, wide.accepted), before)

    # -- privilege

    def test_mount_fails(self):
        res = self.run_cmd(self.sb, "mkdir -p /tmp/x && mount -t tmpfs x /tmp/x")
        self.assertNotEqual(res["exit_code"], 0)
        self.assertNotIn("/tmp/x", self.sh(self.sb, "cat /proc/mounts"))
        res = self.run_cmd(self.sb, "mount --bind /tmp /home/user")
        self.assertNotEqual(res["exit_code"], 0)

    def test_no_new_namespaces(self):
        for cmd in ("unshare -U true", "unshare -r true", "unshare -rm true",
                    "unshare -n true", "unshare -p -f true"):
            with self.subTest(cmd=cmd):
                self.assertNotEqual(self.run_cmd(self.sb, cmd)["exit_code"], 0)

    PROBE_SYSCALLS = r"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(n, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(n), *[ctypes.c_long(a) for a in args])
    if r == 0 and n in (56, 435):
        os._exit(0)             # we are the child of a clone that worked
    if r > 0 and n in (56, 435):
        os.waitpid(r, 0)
    e = ctypes.get_errno()
    return [r, errno.errorcode.get(e, e) if r == -1 else None]
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
args = (ctypes.c_uint64 * 11)(CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0)
print(json.dumps({
    "ptrace": sc(101, 0, 0, 0, 0),                 # PTRACE_TRACEME
    "bpf": sc(321, 0, 0, 0),                       # BPF_MAP_CREATE, NULL
    "keyctl": sc(250, 0, -3, 0),                   # GET_KEYRING_ID session
    "perf_event_open": sc(298, 0, 0, -1, -1, 0),
    "userfaultfd": sc(323, 1),                     # UFFD_USER_MODE_ONLY
    "unshare_user": sc(272, CLONE_NEWUSER),
    "mount": sc(165, 0, 0, 0, 0, 0),
    "clone_newuser": sc(56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
    "clone3_newuser": sc(435, ctypes.addressof(args), 88),
    "kexec_load": sc(246, 0, 0, 0, 0),
}))
"""

    def test_dangerous_syscalls_fail(self):
        # Without seccomp, for uid 1000 on a default kernel, ptrace, keyctl,
        # userfaultfd, unshare and both clones succeed and bpf, perf and mount
        # fail with EINVAL/EFAULT: EPERM here is the filter's answer.
        out = self.py_json(self.sb, self.PROBE_SYSCALLS)
        for name in ("ptrace", "bpf", "keyctl", "perf_event_open", "userfaultfd",
                     "unshare_user", "mount", "clone_newuser", "kexec_load"):
            with self.subTest(syscall=name):
                self.assertEqual(out[name], [-1, "EPERM"], out[name])
        with self.subTest(syscall="clone3_newuser"):
            # seccomp cannot look into clone3's struct: it must be refused whole.
            self.assertEqual(out["clone3_newuser"][0], -1, out["clone3_newuser"])
            self.assertIn(out["clone3_newuser"][1], ("ENOSYS", "EPERM"))

    PROBE_TIOCSTI = r"""
import errno, fcntl, json, os, termios
m, s = os.openpty()
name = os.ttyname(s)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    out = {}
    try:
        os.setsid()
        fd = os.open(name, os.O_RDWR)   # our controlling tty now
        for label, req in (("plain", termios.TIOCSTI), ("highbits", termios.TIOCSTI | (1 << 32))):
            try:
                fcntl.ioctl(fd, req, b"x")
                out[label] = "ok"
            except OSError as e:
                out[label] = errno.errorcode.get(e.errno, str(e.errno))
    except OSError as e:
        out["setup"] = repr(e)
    os.write(w, json.dumps(out).encode())
    os._exit(0)
os.close(w)
os.waitpid(pid, 0)
print(os.read(r, 4096).decode())
"""

    def test_tiocsti_injection_fails(self):
        # On the host, uid 1000 can push characters into its controlling tty
        # with TIOCSTI (dev.tty.legacy_tiocsti=1), with or without the high bits.
        out = self.py_json(self.sb, self.PROBE_TIOCSTI)
        self.assertNotIn("setup", out, "no usable pty in the sandbox: %r" % out)
        for label in ("plain", "highbits"):
            with self.subTest(request=label):
                self.assertNotEqual(out[label], "ok", "TIOCSTI (%s) worked" % label)
                self.assertIn(out[label], ("EPERM", "EACCES", "ENOTTY", "EINVAL"))

    # -- the files API

    def files(self, method, path, body=None, sid=None, timeout=10):
        return self.server.request(method, self.server.api.files_path(sid or self.sid, path),
                                   body, raw=True, timeout=timeout)

    def assert_no_host_leak(self, r, what):
        if r.status == 200:
            self.assertNotIn(self.markers.secret.encode(), r.body, what)
        self.assertNotEqual(r.status // 100, 5, "%s: %s %r" % (what, r.status, r.body))

    def test_files_api_path_escapes(self):
        m = self.markers
        sandbox_pid_host = self.sb["pid"]
        reads = ["../../../../etc/shadow", "../../../../../../.." + m.file]
        for p in m.paths:
            for prefix in ("", "/proc/1/root", "/proc/self/root", "/proc/thread-self/root",
                           "/proc/%d/root" % self.server.proc.pid,
                           "/proc/%d/root" % sandbox_pid_host,
                           "/proc/%d/root" % os.getpid(), "/../../..", "/tmp/../../.."):
                reads.append(prefix + p)
        # Symlinks made inside the sandbox, pointing at host paths.
        self.sh(self.sb, "ln -s / ~/rootlink; ln -s %s ~/markerlink; ln -s /etc/passwd ~/pwlink; "
                         "ln -s %s /tmp/dirlink; ln -s /proc/1/root ~/proclink"
                         % (m.file, m.dir))
        reads += ["/home/user/rootlink" + m.file, "markerlink", "/tmp/dirlink/secret.txt",
                  "proclink" + m.file, "rootlink/../../.." + m.file]
        for path in reads:
            with self.subTest(read=path):
                r = self.files("GET", path)
                self.assert_no_host_leak(r, path)
                self.assertIn(r.status, (400, 403, 404), (path, r.status, r.body[:200]))
        # Through a symlink to a file that exists in the sandbox, the API
        # gives the sandbox's file (whatever /etc/passwd is in there).
        r = self.files("GET", "pwlink")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body.decode(), self.sh(self.sb, "cat /etc/passwd"))

        writes = ["../../../../" + m.victim, m.victim, "/proc/1/root" + m.victim,
                  "/proc/self/root" + m.victim, "/proc/%d/root%s" % (self.server.proc.pid, m.victim),
                  "/proc/%d/root%s" % (sandbox_pid_host, m.victim),
                  "/home/user/rootlink" + m.victim, "/tmp/dirlink/victim.txt",
                  "/tmp/dirlink/new.txt", "proclink" + m.victim]
        self.sh(self.sb, "ln -s %s ~/victimlink" % m.victim)
        writes.append("victimlink")
        for path in writes:
            with self.subTest(write=path):
                r = self.files("PUT", path, b"pwned\n")
                self.assertNotEqual(r.status // 100, 5, (path, r.status, r.body))
        self.assertTrue(m.unchanged(), "a host file was written through the files API")

    def test_files_api_refuses_magic_links(self):
        # /proc/1/exe is the host's deskbox-init, outside the jail's root;
        # fd/N, cwd and root are magic links too. init opens user paths with
        # RESOLVE_NO_MAGICLINKS: ELOOP, whatever they point at.
        with open(os.path.join(os.path.dirname(self.server.binary), "deskbox-init"), "rb") as f:
            init_head = f.read(4096)
        self.sh(self.sb, "echo inside > /tmp/plain; ln -s /tmp/plain ~/plainlink; "
                         "ln -s /proc/1/exe ~/exelink")
        for path in ("/proc/1/exe", "/proc/self/exe", "/proc/thread-self/exe", "exelink",
                     "/proc/1/root/tmp/plain", "/proc/1/cwd/tmp/plain", "/proc/self/fd/0",
                     "/dev/stdin", "/proc/1/fd/3"):
            with self.subTest(read=path):
                r = self.files("GET", path)
                self.assertNotEqual(r.status, 200, path)
                self.assertNotIn(init_head[:64], r.body)
                self.assertError(r, 400)
        for path in ("/proc/1/root/tmp/new", "/proc/1/cwd/tmp/new", "/proc/self/root/tmp/new"):
            with self.subTest(write=path):
                self.assertEqual(self.files("PUT", path, b"x").status, 400, path)
        self.assertNotEqual(self.run_cmd(self.sb, "test -e /tmp/new")["exit_code"], 0)
        # Ordinary symlinks still resolve, inside the root.
        r = self.files("GET", "plainlink")
        self.assertEqual((r.status, r.body), (200, b"inside\n"))

    def test_files_api_symlink_swap_race(self):
        # A loop flips a symlink between a file of the sandbox and a host
        # path while the API reads and writes through it: a daemon that
        # checks the path, then opens it in the host's view, loses the race.
        m = self.markers
        self.sh(self.sb, "echo inside > /tmp/real; mkdir -p %s; echo decoy > %s" % ("/tmp/x", "/tmp/x/y"))
        flipper = ("end=$(($(date +%%s)+20)); while [ $(date +%%s) -lt $end ]; do "
                   "ln -sfn /tmp/real /tmp/flip; ln -sfn %s /tmp/flip; "
                   "ln -sfn /tmp/x /tmp/flipdir; ln -sfn %s /tmp/flipdir; done"
                   % (m.file, m.dir))
        self.server.exec(self.sid, cmd="(%s) >/dev/null 2>&1 &" % flipper)
        seen = set()
        for i in range(150):
            r = self.files("GET", "/tmp/flip")
            self.assert_no_host_leak(r, "/tmp/flip")
            seen.add(r.status)
            r = self.files("PUT", "/tmp/flipdir/victim.txt", b"pwned\n")
            self.assertNotEqual(r.status // 100, 5)
        self.assertTrue(m.unchanged(), "a host file was written through a symlink swap")
        self.assertLessEqual(seen, {200, 400, 403, 404})

    def test_fifo_and_devices_do_not_hang_the_server(self):
        self.sh(self.sb, "mkfifo /tmp/fifo && ln -s /dev/zero /tmp/zero && ln -s /tmp/fifo ~/fifolink")
        for method, path in (("GET", "/tmp/fifo"), ("GET", "fifolink"), ("GET", "/tmp/zero"),
                             ("GET", "/dev/urandom"),
                             ("PUT", "/tmp/fifo"), ("PUT", "/dev/null")):
            with self.subTest(method=method, path=path):
                try:
                    r = self.files(method, path, b"x" if method == "PUT" else None, timeout=10)
                except socket.timeout:
                    self.fail("%s %s hung the request for 10 s" % (method, path))
                if method == "GET":
                    self.assertEqual(r.status, 400, (r.status, r.body[:100]))
                else:
                    self.assertNotEqual(r.status // 100, 5, (r.status, r.body[:100]))
                self.assertHealthy()

    # -- resources

    def test_fork_bomb_is_contained(self):
        bomb = self.sandbox(limits={"pids": 64})
        bystander = self.sandbox()
        host_before = len([p for p in os.listdir("/proc") if p.isdigit()])
        result = {}

        def run_bomb():
            try:
                result["r"] = self.server.exec(bomb["id"], argv=["bash", "-c", ":(){ :|:& };:"],
                                               timeout_ms=5000)
            except Exception as e:
                result["r"] = e
        t = threading.Thread(target=run_bomb)
        t.start()
        self.addCleanup(t.join, 60)
        peak = 0
        pids_dir = cgroup_dir_for(self.server.sandbox_record(bomb["id"]).cgroups, "pids")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and t.is_alive():
            host_now = len([p for p in os.listdir("/proc") if p.isdigit()])
            peak = max(peak, host_now - host_before)
            self.assertHealthy(timeout=5)
            self.assertEqual(self.server.exec(bystander["id"], cmd="echo ok")["stdout"], "ok\n")
            if pids_dir and "pids" in bomb["cgroup"]["enforced"]:
                with open(pids_dir + "/pids.current") as f:
                    self.assertLessEqual(int(f.read()), 64)
        t.join(60)
        self.assertFalse(t.is_alive(), "the bomb's exec never answered")
        self.assertIsInstance(result["r"], dict, result["r"])
        self.assertLessEqual(peak, 64 + 30, "host process count grew by %d" % peak)
        # The tree was killed with the timeout: the sandbox works again.
        ok = wait_until(lambda: self.server.exec(bomb["id"], cmd="echo alive", timeout_ms=5000)
                        .get("stdout") == "alive\n", 10, 0.5)
        self.assertTrue(ok, "the bombed sandbox does not run commands any more")

    def test_memory_hog_is_killed_not_the_sandbox(self):
        sb = self.sandbox(limits={"memory_mb": 64})
        res = self.py(sb, "b = b'x' * (200 << 20); print('survived', len(b))", timeout_ms=30000)
        self.assertNotIn("survived", res["stdout"])
        self.assertIsNone(res["exit_code"], res)
        self.assertEqual(res["signal"], 9, res)
        res = self.server.exec(sb["id"], cmd="head -c 300M /dev/zero | tail > /dev/null",
                               timeout_ms=30000)
        self.assertNotEqual(res["exit_code"], 0, res)
        self.assertEqual(self.sh(sb, "echo alive"), "alive\n")
        self.assertEqual(self.server.get(sb["id"])["state"], "running")
        # And nothing outside grew: the host view of the sandbox's cgroup.
        mem = cgroup_dir_for(self.server.sandbox_record(sb["id"]).cgroups, "memory")
        if mem and os.path.exists(mem + "/memory.max_usage_in_bytes"):
            with open(mem + "/memory.max_usage_in_bytes") as f:
                self.assertLessEqual(int(f.read()), 64 << 20)

    def test_disk_limit(self):
        sb = self.sandbox(limits={"disk_mb": 16})
        res = self.server.exec(sb["id"], cmd="head -c 40M /dev/zero > ~/fill; echo rc=$?")
        self.assertNotIn("rc=0", res["stdout"])
        r = self.server.request("PUT", self.server.api.files_path(sb["id"], "/tmp/more"),
                                b"y" * (1 << 20))
        self.assertError(r, 507, "no_space")
        self.sh(sb, "rm ~/fill")
        self.server.put_file(sb["id"], "/tmp/more", b"y" * (1 << 20))

    # -- what is left on the host

    def test_delete_leaves_nothing(self):
        with open("/proc/self/mounts") as f:
            mounts_before = f.read()
        sb = self.server.create()
        self.addCleanup(self.delete_checked, sb["id"])
        self.server.exec(sb["id"], cmd="sleep 1012 >/dev/null 2>&1 & setsid sleep 1013 >/dev/null 2>&1 &"
                                       " nohup sh -c 'trap \"\" TERM HUP; sleep 1014' >/dev/null 2>&1 &")
        with open("/proc/self/mounts") as f:
            self.assertEqual(f.read(), mounts_before, "the sandbox's mounts show on the host")
        self.assertTrue(pids_in_cgroups_matching(sb["id"]))
        self.server.delete(sb["id"])
        self.server.assert_sandbox_gone(sb["id"])
        with open("/proc/self/mounts") as f:
            self.assertEqual(f.read(), mounts_before)
        out = subprocess.run(["pgrep", "-f", "sleep 101[234]"], capture_output=True, text=True).stdout
        self.assertEqual(out, "", "sleepers survived DELETE")

    def test_dev_shm_counts_in_disk_limit(self):
        # /dev/shm is a directory of the root's tmpfs: disk_mb bounds it, and
        # what it holds leaves that much less for /tmp and the home.
        sb = self.sandbox(limits={"disk_mb": 16}, desktop=False)
        res = self.server.exec(sb["id"], cmd="head -c 40M /dev/zero > /dev/shm/fill; echo rc=$?")
        self.assertNotIn("rc=0", res["stdout"])
        self.assertIn("No space", res["stderr"])
        res = self.server.exec(sb["id"], cmd="head -c 1M /dev/zero > /tmp/more; echo rc=$?")
        self.assertNotIn("rc=0", res["stdout"], "/tmp still had room: /dev/shm is not charged")
        self.sh(sb, "rm /dev/shm/fill; head -c 1M /dev/zero > /tmp/more")
        # Still shared memory: POSIX shm_open works, mode and owner as usual.
        out = self.py_json(sb, "import json, os, _posixshmem as s\n"
                               "fd = s.shm_open('/probe', os.O_CREAT | os.O_RDWR, 0o600)\n"
                               "st = os.fstat(fd)\n"
                               "print(json.dumps([st.st_uid, os.path.exists('/dev/shm/probe')]))")
        self.assertEqual(out, [1000, True])


def ofd_lock_holder(path, slot):
    """True if some process holds an OFD lock on byte slot of path."""
    import fcntl
    import struct
    fd = os.open(path, os.O_RDONLY)
    try:
        # struct flock: short type, short whence, off_t start, off_t len, pid_t pid
        fl = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, slot, 1, 0)
        F_OFD_GETLK = 36
        fl = fcntl.fcntl(fd, F_OFD_GETLK, fl + b"\0" * 4)
        return struct.unpack("hhqqi", fl[:struct.calcsize("hhqqi")])[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


UID_BASE, UID_RANGE, UID_LOCK = 0x70000000, 65536, "/run/deskbox/uidrange.lock"


def uid_slot_holders(slot):
    """Live pids holding the OFD lock on byte slot of UID_LOCK (the lock
    lines of their fdinfo: "lock: 1: OFDLCK ADVISORY WRITE -1 MAJ:MIN:INO START END")."""
    holders = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fddir = "/proc/%s/fd" % name
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fddir, fd)) != UID_LOCK:
                    continue
                with open("/proc/%s/fdinfo/%s" % (name, fd)) as f:
                    for line in f:
                        parts = line.split()
                        if parts[:1] == ["lock:"] and "OFDLCK" in parts and \
                                int(parts[-2]) <= slot <= int(parts[-1]):
                            holders.append(int(name))
            except (OSError, ValueError):
                continue
    return holders


def uid_slot(sb):
    """The lock byte of sb's range: its absolute number on the host."""
    return sb["userns"]["host_uid"] // UID_RANGE


class TestHostIds(ServerTestCase):
    """As root, each sandbox runs on host ids of its own (a user namespace
    mapping 0..65535 to its range), so per-user kernel limits stop at it."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("host id ranges are a root-mode feature")
        super().setUpClass()

    py, py_json = TestIsolation.py, TestIsolation.py_json

    def host_uid(self, sb):
        with open("/proc/%d/status" % sb["pid"]) as f:
            return int([l for l in f if l.startswith("Uid:")][0].split()[1])

    def test_each_sandbox_has_a_range_of_its_own(self):
        a, b = self.sandbox(desktop=False), self.sandbox(desktop=False)
        for sb in (a, b):
            u = sb["userns"]
            self.assertEqual(u["ids"], UID_RANGE)
            self.assertTrue(u["own_range"])
            self.assertGreaterEqual(u["host_uid"], UID_BASE)
            self.assertEqual((u["host_uid"] - UID_BASE) % UID_RANGE, 0)
            with open("/proc/%d/uid_map" % sb["pid"]) as f:
                self.assertEqual(f.read().split(), ["0", str(u["host_uid"]), str(UID_RANGE)])
            with open("/proc/%d/gid_map" % sb["pid"]) as f:
                self.assertEqual(f.read().split(), ["0", str(u["host_uid"]), str(UID_RANGE)])
            # The sandbox's user 1000 is host uid base + 1000, never a real user.
            self.assertEqual(self.host_uid(sb), u["host_uid"] + 1000)
            self.assertTrue(ofd_lock_holder(UID_LOCK, uid_slot(sb)))
            # Inside, nothing changed: uid 1000, files of the host's root
            # show as nobody (unmapped), the user owns its home.
            self.assertEqual(self.sh(sb, "id -u; id -g; stat -c %u /usr/bin /home/user"),
                             "1000\n1000\n65534\n1000\n")
        self.assertNotEqual(a["userns"]["host_uid"], b["userns"]["host_uid"])

    HOLD_INOTIFY = r"""
import ctypes, errno, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while True:
    if libc.inotify_init1(0) < 0:
        break
    n += 1
with open("/tmp/held.tmp", "w") as f:
    f.write("%d %s" % (n, errno.errorcode[ctypes.get_errno()]))
os.rename("/tmp/held.tmp", "/tmp/held")
time.sleep(600)
"""

    def test_inotify_exhaustion_stays_in_the_sandbox(self):
        with open("/proc/sys/fs/inotify/max_user_instances") as f:
            limit = int(f.read())
        if limit >= 1000:
            self.skipTest("max_user_instances %d is above the sandbox's nofile" % limit)
        a, b = self.sandbox(desktop=False), self.sandbox(desktop=False)
        self.server.put_file(a["id"], "/tmp/hold.py", self.HOLD_INOTIFY.encode())
        self.sh(a, "python3 /tmp/hold.py >/dev/null 2>&1 &")
        self.assertTrue(wait_until(lambda: self.run_cmd(a, "test -e /tmp/held")["exit_code"] == 0, 20))
        n, err = self.sh(a, "cat /tmp/held").split()
        # It stopped at the per-user limit, not at its open-files limit.
        self.assertEqual(err, "EMFILE")
        self.assertGreaterEqual(int(n), limit - 8)
        self.assertLessEqual(int(n), limit)
        # The neighbour's user has all of its own.
        out = self.py_json(b, "import ctypes, json; libc = ctypes.CDLL(None, use_errno=True)\n"
                              "print(json.dumps([libc.inotify_init1(0) >= 0 for _ in range(100)]))")
        self.assertTrue(all(out), out)

    HOLD_MQUEUES = r"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
n, err = 0, None
while n < 1000:
    if libc.mq_open(b"/q%d" % n, os.O_CREAT | os.O_RDWR, 0o600, None) < 0:
        err = errno.errorcode[ctypes.get_errno()]
        break
    n += 1
print(json.dumps([n, err]))
"""

    def test_mqueue_bytes_stay_in_the_sandbox(self):
        a, b = self.sandbox(desktop=False), self.sandbox(desktop=False)
        # RLIMIT_MSGQUEUE (bytes of queues per user) runs out after a few
        # default-sized queues; the queues outlive the process in a's IPC ns.
        n, err = self.py_json(a, self.HOLD_MQUEUES)
        self.assertEqual(err, "EMFILE", (n, err))
        self.assertLess(n, 100)
        n2, err2 = self.py_json(b, self.HOLD_MQUEUES)
        self.assertEqual((n2, err2), (n, err), "the neighbour had less room: shared per-user count")

    HOLD_PROCS = "for i in $(seq 100); do sleep 1041 >/dev/null 2>&1 & done; echo held"

    def test_process_count_stays_in_the_sandbox(self):
        # RLIMIT_NPROC counts the processes of a user: a's 100 sleepers are
        # not b's, so b under a limit of 50 can still start 20.
        a, b = self.sandbox(desktop=False), self.sandbox(desktop=False)
        self.assertEqual(self.sh(a, self.HOLD_PROCS), "held\n")
        self.assertTrue(wait_until(lambda: int(self.sh(a, "pgrep -c -x sleep")) >= 100, 10))
        res = self.server.exec(b["id"], argv=["bash", "-c", (
            "ulimit -u 50; for i in $(seq 20); do sleep 30 >/dev/null 2>&1 & done; "
            "jobs -p | wc -l; kill $(jobs -p)")])
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(res["stdout"].split()[0], "20")

    def test_uid_base_option(self):
        srv = Server(uid_base=0x60000000)
        self.addCleanup(srv.stop)
        srv.start()
        sb = srv.create(desktop=False)
        self.assertGreaterEqual(sb["userns"]["host_uid"], 0x60000000)
        self.assertLess(sb["userns"]["host_uid"], UID_BASE)
        self.assertEqual(sb["userns"]["host_uid"] % UID_RANGE, 0)
        self.assertTrue(ofd_lock_holder(UID_LOCK, uid_slot(sb)))
        srv.delete(sb["id"])
        d = tempfile.mkdtemp(prefix="deskbox-uidbase-")
        self.addCleanup(shutil.rmtree, d, True)
        r = subprocess.run([srv.binary, "--uid-base", "1879048193", "--state-dir", d,
                            "--listen", "127.0.0.1:0", "--token", "x"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("multiple of 65536", r.stderr)

    def test_range_returned_on_delete(self):
        sb = self.server.create(desktop=False)
        slot = uid_slot(sb)
        self.assertTrue(ofd_lock_holder(UID_LOCK, slot))
        self.server.delete(sb["id"])
        self.server.assert_sandbox_gone(sb["id"])
        self.assertFalse(ofd_lock_holder(UID_LOCK, slot), "the range was not given back")

class TestManyDescriptors(ServerTestCase):
    def test_many_descriptors_in_deskboxd(self):
        # With ~1100 fds open in deskboxd, the jail's child must move its fds
        # below the sandbox's nofile before it lowers the limit.
        srv = ManyFdsServer(nofile=256)
        self.addCleanup(srv.stop)
        srv.start()
        self.assertGreater(len(os.listdir("/proc/%d/fd" % srv.proc.pid)), 1100)
        sb = srv.create(desktop=False)
        self.assertEqual(srv.exec(sb["id"], cmd="ulimit -n")["stdout"],
                         "256\n")
        srv.delete(sb["id"])


class ManyFdsServer(Server):
    """deskboxd started holding 1100 extra descriptors."""

    WRAP = ("import os, resource, sys\n"
            "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (max(4096, soft), max(4096, hard)))\n"
            "for _ in range(1100):\n"
            "    os.set_inheritable(os.open('/dev/null', os.O_RDONLY), True)\n"
            "os.execv(sys.argv[1], sys.argv[1:])\n")

    def command(self):
        return [sys.executable, "-c", self.WRAP] + super().command()


class TestCrashRecovery(ServerTestCase):
    """kill -9 of deskboxd, then a restart on the same state dir."""

    def test_kill9_then_restart(self):
        other = self.server  # another instance: must not be touched
        keep = other.create()
        self.addCleanup(self.delete_checked, keep["id"])
        other.exec(keep["id"], cmd="sleep 1020 >/dev/null 2>&1 &")
        keep_rec = other.sandbox_record(keep["id"])

        srv = Server()
        self.addCleanup(srv.stop)
        srv.start()
        boxes = [srv.create() for _ in range(2)]
        for sb in boxes:
            srv.exec(sb["id"], cmd="sleep 1021 >/dev/null 2>&1 & setsid sleep 1022 >/dev/null 2>&1 &")
        recs = [srv.sandbox_record(sb["id"]) for sb in boxes]
        srv.kill()

        # At most the cgroups may be left: every process of its sandboxes dies.
        def procs_gone():
            return all(not pid_alive(r.pid, r.start_time) and not pids_in_cgroups_matching(r.id)
                       for r in recs)
        self.assertTrue(wait_until(procs_gone, 10),
                        "sandbox processes outlived kill -9 of deskboxd: %s"
                        % [(r.id, pids_in_cgroups_matching(r.id)) for r in recs])

        # The kernel dropped the dead deskboxd's hold on its uid ranges. On
        # a shared host another deskboxd may take a freed range at once, so
        # a range may be held again, only by a live process.
        if os.geteuid() == 0:
            for sb in boxes:
                slot = uid_slot(sb)
                if ofd_lock_holder(UID_LOCK, slot):
                    self.assertTrue(uid_slot_holders(slot), "slot %d held, by no live process" % slot)
        srv.start()  # same state dir and token, a new port
        self.assertTrue(wait_until(lambda: not any(find_cgroup_dirs(r.id) for r in recs), 10),
                        "restart left the old cgroups: %s" % [find_cgroup_dirs(r.id) for r in recs])
        listed = [s["id"] for s in srv.list()]
        for r in recs:
            self.assertNotIn(r.id, listed)
            self.assertEqual(srv.request("GET", "%s/%s" % (API, r.id)).status, 404)
        sb = srv.create()
        self.assertEqual(srv.exec(sb["id"], cmd="echo fresh")["stdout"], "fresh\n")

        # The other instance lost nothing.
        self.assertTrue(pid_alive(keep_rec.pid, keep_rec.start_time))
        self.assertIn("sleep 1020", self.sh(keep, "ps -eo args="))
        for d in keep_rec.cgroups.values():
            if keep["id"] in d:
                self.assertTrue(os.path.isdir(d), d)
        self.assertEqual(other.get(keep["id"])["state"], "running")

class TestInheritedDescriptors(ServerTestCase):
    def test_commands_get_only_their_stdio(self):
        # Nothing of init (its channel, signalfd) or of other commands (their
        # pipes, pty masters) reaches a command: only 0, 1 and 2.
        sb = self.sandbox(desktop=False)
        busy = self.server.exec(sb["id"], cmd="sleep 30 & echo started", timeout_ms=60000)
        self.assertEqual(busy["stdout"], "started\n")
        out = self.sh(sb, "ls /proc/$$/fd")
        self.assertEqual(sorted(out.split()), ["0", "1", "2"], out)
        out = self.sh(sb, "ls /proc/$$/fd", stdin="some input")
        self.assertEqual(sorted(out.split()), ["0", "1", "2"], out)
