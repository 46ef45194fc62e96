"""test_escape.py - the escape suite: attacks run inside a sandbox as its user.

Every case is a program or script run in a sandbox through exec, as the
sandbox's user, and asserts one exact outcome: the errno the kernel or the
seccomp filter answers, the limit that stopped it, or that the host, deskboxd
and a neighbour sandbox saw no effect. The C attacks (attack.c, xhog.c) are
compiled here and uploaded through the files API; attack.c prints one
"NAME OUTCOME" line per attack and judges nothing: the tables below do.

Covered elsewhere and not repeated here (tests/integration/test_isolation.py):
the files API's traversal and symlink-swap races, the fork bomb, the memory
hog, disk and /dev/shm filling, per-uid inotify and mqueue exhaustion
against a neighbour, host files and ports; the precompiled keymap's
read-only, per-sandbox copies (test_keymap.py).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from deskbox import API, REPO, ServerTestCase, wait_until  # noqa: E402

ATTACK = "/tmp/attack"
XHOG = "/tmp/xhog"

# -- what the seccomp filter must answer (every name in seccomp.c's list)
DENIED = {name: "EPERM" for name in (
    "mount", "umount2", "pivot_root", "chroot", "setns", "unshare",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev",
    "process_madvise", "pidfd_getfd", "kcmp", "bpf", "kexec_load",
    "kexec_file_load", "keyctl", "add_key", "request_key", "perf_event_open",
    "userfaultfd", "open_by_handle_at", "name_to_handle_at", "init_module",
    "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "quotactl_fd", "syslog", "iopl", "ioperm", "lookup_dcookie",
    "vhangup", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "nfsservctl", "fanotify_init", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "uselib")}
DENIED.update({"clone_CLONE_" + ns: "EPERM" for ns in (
    "NEWUSER", "NEWNS", "NEWNET", "NEWPID", "NEWIPC", "NEWUTS", "NEWCGROUP")})
# clone3 hides its flags in memory: refused whole, and libc falls back.
DENIED["clone3"] = "ENOSYS"
# TIOCSTI with bits above 32 set is the same request to the kernel.
DENIED.update({"ioctl_TIOCSTI": "EPERM", "ioctl_TIOCSTI_highbits": "EPERM",
               "ioctl_TIOCLINUX": "EPERM"})

# -- a process of the sandbox's own uid that is not the user's (init, the
# desktop agent): non-dumpable, so /proc refuses its memory, fds,
# environment and magic links; ptrace and process_vm_* are filtered.
NOT_YOURS = {
    "read_mem": "EACCES", "read_environ": "EACCES", "read_maps": "EACCES",
    "read_auxv": "EACCES", "read_stack": "EACCES", "read_syscall": "EACCES",
    "read_pagemap": "EACCES", "read_exe": "EACCES", "read_root": "EACCES",
    "read_cwd": "EACCES", "write_mem": "EACCES", "list_fd": "EACCES",
    "open_fd3": "EACCES", "ptrace_attach": "EPERM", "process_vm_readv": "EPERM",
    "write_oom_score_adj": "EACCES",
}

# -- writes to the kernel's knobs and devices: (path, data, errno)
WRITE_PROBE = r"""
import errno, json, os, sys
out = {}
for name, path, data in json.loads(sys.argv[1]):
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, data.encode())
        finally:
            os.close(fd)
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps(out))
"""
WRITES = [
    ("proc_sys_hostname", "/proc/sys/kernel/hostname", "pwned", "EACCES"),
    ("proc_sys_core_pattern", "/proc/sys/kernel/core_pattern", "|/tmp/x", "EACCES"),
    ("proc_sys_drop_caches", "/proc/sys/vm/drop_caches", "3", "EACCES"),
    ("proc_sys_ip_forward", "/proc/sys/net/ipv4/ip_forward", "1", "EACCES"),
    ("proc_sys_unpriv_userns", "/proc/sys/user/max_user_namespaces", "100", "EACCES"),
    ("proc_sys_aslr", "/proc/sys/kernel/randomize_va_space", "0", "EACCES"),
    ("proc_self_uid_map", "/proc/self/uid_map", "0 0 1", "EPERM"),
    ("proc_self_gid_map", "/proc/self/gid_map", "0 0 1", "EPERM"),
    ("proc_1_oom_score_adj", "/proc/1/oom_score_adj", "1000", "EACCES"),
    ("proc_self_oom_lower", "/proc/self/oom_score_adj", "-1000", "EACCES"),
    ("sys_net_lo_mtu", "/sys/class/net/lo/mtu", "1000", "EROFS"),
    ("sys_net_lo_tx_queue_len", "/sys/class/net/lo/tx_queue_len", "1", "EROFS"),
    ("etc_passwd", "/etc/passwd", "root::0:0::/:/bin/sh", "EACCES"),
    ("usr_bin", "/usr/bin/env", "#!", "EACCES"),
    ("dev_null_node_dir", "/dev/new", "x", "ENOENT"),
]

# -- network: (name, python expression returning an errno name)
NET_PROBE = r"""
import errno, json, socket, sys
def tcp(host, port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, "timeout" if isinstance(e, socket.timeout) else str(e))
    finally:
        s.close()
def unix(addr):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(addr)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
def sock(*a):
    try:
        socket.socket(*a).close()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def bind80():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 80))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
port, host_ip = int(sys.argv[1]), sys.argv[2]
print(json.dumps({
    "deskboxd_on_loopback": tcp("127.0.0.1", port),
    "host_address": tcp(host_ip, port) if host_ip else "ENETUNREACH",
    "neighbour_x_abstract": unix("\0/tmp/.X11-unix/X0"),
    "neighbour_x_path": unix("/tmp/.X11-unix/X0"),
    "packet_socket": sock(socket.AF_PACKET, socket.SOCK_RAW),
    "raw_socket": sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    "bind_port_80": bind80(),
}))
"""
NET = {
    "deskboxd_on_loopback": "ECONNREFUSED",   # its own loopback, nobody there
    "host_address": "ENETUNREACH",            # only lo exists
    "neighbour_x_abstract": "ECONNREFUSED",   # abstract sockets are per netns
    "neighbour_x_path": "ENOENT",             # and /tmp is its own
    "packet_socket": "EPERM",
    "raw_socket": "EPERM",
    "bind_port_80": "EACCES",                 # no capability in its netns
}


def host_address():
    import socket
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.254", 9))
            a = s.getsockname()[0]
            return "" if a.startswith("127.") else a
    except OSError:
        return ""


class _Build:
    """The attack programs, compiled once for the module."""
    tmp = None

    @classmethod
    def get(cls):
        if cls.tmp is None:
            cls.tmp = tempfile.mkdtemp(prefix="deskbox-attacks-")
            for src, out, libs in (("attack.c", "attack", []), ("xhog.c", "xhog", ["-lX11"])):
                r = subprocess.run(["cc", "-O1", "-Wall", "-o", os.path.join(cls.tmp, out),
                                    os.path.join(HERE, src)] + libs,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
                if r.returncode != 0:
                    raise AssertionError("cannot build %s:\n%s" % (src, r.stdout.decode()))
        return cls.tmp

    @classmethod
    def remove(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, True)
            cls.tmp = None


def tearDownModule():
    _Build.remove()
    print("escape suite: %d attack cases checked" % EscapeCase.cases_run, file=sys.stderr)


class EscapeCase(ServerTestCase):
    """Helpers: install a program, run attacks, compare with a table."""

    cases_run = 0

    def install(self, sb, name, dest):
        with open(os.path.join(_Build.get(), name), "rb") as f:
            self.server.put_file(sb["id"], dest, f.read())
        self.sh(sb, "chmod 755 %s" % dest)

    def outcomes(self, sb, cmd):
        """{NAME: OUTCOME} from an attack program's lines."""
        out = self.sh(sb, cmd, timeout_ms=60000)
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)

    def check_table(self, got, expected, what):
        for name, want in sorted(expected.items()):
            with self.subTest(case="%s: %s" % (what, name)):
                EscapeCase.cases_run += 1
                self.assertEqual(got.get(name), want, "%s %s" % (what, name))

    def agent_pid(self, sb):
        """The desktop agent's pid inside sb."""
        pid = self.sh(sb, "pgrep -x deskbox-desktop").split()
        self.assertEqual(len(pid), 1, pid)
        return pid[0]


class TestSyscalls(EscapeCase):
    def test_every_denied_syscall_fails(self):
        sb = self.sandbox(desktop=False)
        self.install(sb, "attack", ATTACK)
        got = self.outcomes(sb, ATTACK + " sys")
        self.check_table(got, DENIED, "syscall")

    def test_the_table_covers_the_filter(self):
        # A syscall added to the filter needs its attack case here.
        with open(os.path.join(REPO, "server", "seccomp.c")) as f:
            src = f.read()
        body = re.search(r"denied\[\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
        names = set(re.findall(r'"(\w+)"', body))
        self.assertTrue(names)
        self.assertEqual(names - set(DENIED), set(), "denied syscalls without an attack case")


class TestNotTheUsersProcesses(EscapeCase):
    """init and the desktop agent run as the sandbox's uid but belong to
    deskboxd: user code cannot read, write or trace them."""

    def test_init(self):
        sb = self.sandbox(desktop=False)
        self.install(sb, "attack", ATTACK)
        self.check_table(self.outcomes(sb, ATTACK + " proc 1"), NOT_YOURS, "init")

    def test_agent(self):
        sb = self.sandbox()
        self.install(sb, "attack", ATTACK)
        pid = self.agent_pid(sb)
        # Started from the execute-only memfd, so non-dumpable from exec on.
        self.assertNotIn("exec-only copy", self.server.log_text())
        self.check_table(self.outcomes(sb, "%s proc %s" % (ATTACK, pid)), NOT_YOURS, "agent")
        # Its memory is out of reach; its X server is the user's own, as
        # before: the desktop still answers.
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True, timeout=60)
        self.assertEqual(r.status, 200)


# -- the desktop agent on a uid of its own (root: the sandbox has an id
# range; include/caps.h): what the user's code gets when it goes for it,
# and what the agent's neighbours in the sandbox run as.
AGENT_PROBE = r"""
import ctypes, errno, json, os, signal, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def call(f, *a):
    try:
        f(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def ptrace(req):
    if libc.ptrace(req, pid, None, None) == 0:
        return "ok"
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def write_mem():
    with open("/proc/%d/mem" % pid, "r+b", buffering=0) as f:
        f.seek(0x400000)
        f.write(b"\xcc")
def status(p):
    with open("/proc/%d/status" % p) as f:
        return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
me = status(os.getpid())
print(json.dumps({
    "kill_0": call(os.kill, pid, 0),
    "kill_SIGKILL": call(os.kill, pid, signal.SIGKILL),
    "kill_SIGSTOP": call(os.kill, pid, signal.SIGSTOP),
    "ptrace_attach": ptrace(16),
    "ptrace_seize": ptrace(0x4206),
    "open_mem_rw": call(write_mem),
    "setuid_to_agent": call(os.setuid, int(status(pid)["Uid"].split()[0])),
    "agent_uid": status(pid)["Uid"].split()[0],
    "agent_gid": status(pid)["Gid"].split()[0],
    "user_caps": " ".join(me[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")),
    "agent_caps": " ".join(status(pid)[k].strip() for k in ("CapPrm", "CapEff", "CapAmb")),
}))
"""
AGENT_OWN_UID = {
    "kill_0": "EPERM", "kill_SIGKILL": "EPERM", "kill_SIGSTOP": "EPERM",
    "ptrace_attach": "EPERM", "ptrace_seize": "EPERM", "open_mem_rw": "EACCES",
    "setuid_to_agent": "EPERM", "agent_uid": "999", "agent_gid": "1000",
    "user_caps": " ".join(["0000000000000000"] * 4),
    # CAP_KILL, CAP_SETGID, CAP_SETUID of its user namespace; none for exec.
    "agent_caps": "00000000000000e0 00000000000000e0 0000000000000000",
}


class TestAgentOwnUid(EscapeCase):
    """As root, the desktop agent runs as uid 999 (the user's group), apart
    from the user's 1000; Xvfb, the window manager and the apps stay the
    user's, with no capability left over from the agent."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("rootless: the agent shares the user's uid (one id mapped)")

    def test_user_code_cannot_reach_the_agent(self):
        sb = self.sandbox(apps=["xterm"])
        pid = self.agent_pid(sb)
        got = json.loads(self.sh(sb, "python3 -c '%s' %s" % (AGENT_PROBE.replace("'", "'\\''"),
                                                              pid)))
        self.check_table(got, AGENT_OWN_UID, "agent on its own uid")
        # Still alive and serving, XShm included (its segment is the
        # agent's, attached by the user's Xvfb).
        self.assertEqual(self.agent_pid(sb), pid)
        r = self.server.request("GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True, timeout=60)
        self.assertEqual(r.status, 200)
        shm = self.sh(sb, "cat /proc/sysvipc/shm").splitlines()[1:]
        self.assertTrue(any(line.split()[7:9] == ["999", "1000"] for line in shm), shm)

    def test_the_agents_children_are_the_users(self):
        sb = self.sandbox(apps=["xterm"])
        wait_until(lambda: self.sh(sb, "pgrep -x xterm || true").strip(), 20)
        out = self.sh(sb, "for n in Xvfb openbox xterm; do p=$(pgrep -x $n | head -1); "
                          "echo $n $(awk '/^(Uid|Gid|CapInh|CapPrm|CapEff|CapAmb):/ {print $2}' "
                          "/proc/$p/status | tr '\\n' ' '); done")
        for line in out.splitlines():
            name, *vals = line.split()
            with self.subTest(process=name):
                EscapeCase.cases_run += 1
                self.assertEqual(vals, ["1000", "1000"] + ["0000000000000000"] * 4, line)
        # The cookie file is the user's, readable by the user's apps.
        self.assertEqual(self.sh(sb, "stat -c '%u %g %a' /home/user/.Xauthority").split(),
                         ["1000", "1000", "600"])
        # The agent's own place (its recordings): the user may read, not write.
        self.assertEqual(self.sh(sb, "stat -c '%u %g %a' /run/deskbox").split(),
                         ["999", "1000", "750"])
        self.assertIn("Permission denied", self.run_cmd(sb, "touch /run/deskbox/x")["stderr"])


class TestKernelKnobs(EscapeCase):
    def test_proc_sys_and_device_writes_fail(self):
        sb = self.sandbox(desktop=False)
        args = json.dumps([[n, p, d] for n, p, d, _ in WRITES])
        res = self.server.exec(sb["id"], argv=["python3", "-c", WRITE_PROBE, args])
        self.assertEqual(res["exit_code"], 0, res)
        got = json.loads(res["stdout"])
        self.check_table(got, {n: e for n, _, _, e in WRITES}, "write")
        # mknod needs a capability the user has in no namespace.
        res = self.run_cmd(sb, "mknod /tmp/mem c 1 1 2>&1; echo rc=$?")
        self.assertIn("Operation not permitted", res["stdout"])
        EscapeCase.cases_run += 1
        # The host is unchanged.
        with open("/proc/sys/kernel/core_pattern") as f:
            self.assertNotIn("/tmp/x", f.read())


class TestNetworkReach(EscapeCase):
    def test_nothing_beyond_its_own_loopback(self):
        neighbour = self.sandbox()            # a desktop: its X socket exists
        self.assertTrue(neighbour["display"])
        sb = self.sandbox(desktop=False)
        res = self.server.exec(sb["id"], argv=["python3", "-c", NET_PROBE,
                                               str(self.server.port), host_address()])
        self.assertEqual(res["exit_code"], 0, res)
        self.check_table(json.loads(res["stdout"]), NET, "net")


class TestBombs(EscapeCase):
    def test_fd_bomb_stops_at_nofile(self):
        sb = self.sandbox(desktop=False, limits={"nofile": 256})
        self.install(sb, "attack", ATTACK)
        got = self.outcomes(sb, ATTACK + " fdbomb")
        err, n = got["fdbomb"].split(":")
        EscapeCase.cases_run += 1
        self.assertEqual(err, "EMFILE")
        self.assertEqual(int(n), 256 - 3, "stdio aside, the limit is the sandbox's nofile")
        self.assertEqual(self.sh(sb, "echo alive"), "alive\n")

    def test_kill_minus_one(self):
        # kill -9 -1 as the user: every process it may signal dies (its
        # desktop included), never init, deskboxd or a neighbour.
        neighbour = self.sandbox()
        sb = self.sandbox()
        self.sh(sb, "sleep 1031 >/dev/null 2>&1 &")
        self.run_cmd(sb, "kill -9 -1")
        EscapeCase.cases_run += 1
        # (killed, then reaped by init: poll, zombies still show)
        self.assertTrue(wait_until(lambda: self.sh(sb, "echo alive; pgrep -x sleep || true")
                                   == "alive\n", 10))
        self.assertEqual(self.server.get(sb["id"])["state"], "running")
        r = self.server.request("GET", "%s/%s/screenshot" % (API, neighbour["id"]), raw=True,
                                timeout=60)
        self.assertEqual(r.status, 200)
        self.assertHealthy()


TOKEN_PROBE = r"""
import json, os, sys
token = (os.environ.pop("H1") + os.environ.pop("H2")).encode()
found = []
def check(path):
    try:
        with open(path, "rb") as f:
            if token in f.read(64 << 20):
                found.append(path)
    except OSError:
        pass
for top in ("/etc", "/tmp", "/home", "/run", "/var", "/dev/shm", "/root", "/opt"):
    for d, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                check(p)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for f in ("environ", "cmdline"):
            check("/proc/%s/%s" % (pid, f))
print(json.dumps(found))
"""


class TestToken(EscapeCase):
    def test_api_token_is_nowhere_inside(self):
        # Every file of the sandbox's own (the host's /usr aside), every
        # process's environment and command line, the agent's included.
        # The probe gets the token in two halves, so it never finds itself.
        sb = self.sandbox()
        t = self.server.token
        res = self.server.exec(sb["id"], argv=["python3", "-c", TOKEN_PROBE],
                               env={"H1": t[:len(t) // 2], "H2": t[len(t) // 2:]})
        self.assertEqual(res["exit_code"], 0, res)
        EscapeCase.cases_run += 1
        self.assertEqual(json.loads(res["stdout"]), [])


class TestStuckClipboardOwner(EscapeCase):
    def test_screenshots_do_not_wait_for_a_clipboard_read(self):
        # An app that owns CLIPBOARD and never answers costs a clipboard
        # read its timeout; screenshots taken meanwhile do not wait for it.
        sb = self.sandbox()
        self.install(sb, "xhog", XHOG)
        self.sh(sb, "%s > /tmp/hog.out 2>&1 &" % XHOG)
        self.assertTrue(wait_until(lambda: self.run_cmd(sb, "grep -q owner /tmp/hog.out")
                                   ["exit_code"] == 0, 20), "xhog never took the selection")
        got = {}

        def read_clipboard():
            got["r"] = self.server.request("GET", "%s/%s/clipboard" % (API, sb["id"]), timeout=60)

        t = threading.Thread(target=read_clipboard)
        t.start()
        try:
            for _ in range(3):
                r = self.server.request("GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True,
                                        timeout=60)
                self.assertEqual(r.status, 200)
            EscapeCase.cases_run += 1
            self.assertTrue(t.is_alive(), "the screenshots waited for the clipboard read")
        finally:
            t.join(60)
        r = got["r"]
        self.assertNotEqual(r.status, 200, r.body)
        self.assertIn("did not answer", r.body["error"]["message"])
        # The next read is not stuck behind the first.
        self.server.expect(200, "PUT", "%s/%s/clipboard" % (API, sb["id"]), {"text": "mine"})
        self.assertEqual(self.server.expect(200, "GET", "%s/%s/clipboard" % (API, sb["id"])).body,
                         {"text": "mine"})


if __name__ == "__main__":
    unittest.main()
