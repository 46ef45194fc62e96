"""test_core_api.py - every REST endpoint of docs/api.md against a real deskboxd.

Health, auth, the sandbox life cycle (create/list/get/delete/timeout/expiry),
exec (cmd/argv, env, cwd, stdin, exit codes, signals, output encoding and
caps, timeouts that kill whole process trees, concurrency) and the files API.
Each test works on its own sandboxes; the class's server proves at the end
that none of them left anything on the host.
"""

import datetime
import hashlib
import os
import re
import secrets
import signal
import threading
import unittest

from deskbox import API, Server, ServerTestCase, cgroup_dir_for, wait_until

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def parse_time(s):
    """The API's ISO-8601 UTC timestamps ("…T01:02:03.456Z") as datetimes."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def limit_value(dirs, controller, v1_file, v2_file):
    """A limit the host's cgroup files show for a sandbox (dirs from its
    record): the v1 file in the controller's hierarchy, else the v2 file in
    the unified one; None if neither exists."""
    cands = []
    d = cgroup_dir_for(dirs, controller)
    if d and v1_file:
        cands.append(os.path.join(d, v1_file))
    if dirs.get("") and v2_file:
        cands.append(os.path.join(dirs[""], v2_file))
    return read_first(cands)


def random_id():
    return secrets.token_hex(16)


def read_first(path_candidates):
    for p in path_candidates:
        try:
            with open(p) as f:
                return f.read().strip()
        except OSError:
            pass
    return None


class TestHealthAndAuth(ServerTestCase):

    def test_healthz_needs_no_auth(self):
        r = self.server.request("GET", "/healthz", token=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, {"status": "ok"})
        self.assertIn("application/json", r.headers.get("content-type", ""))
        r = self.server.request("GET", "/healthz", token="wrong")
        self.assertEqual(r.status, 200, "healthz must ignore a bad token")

    def _authed_routes(self, sid):
        return [
            ("GET", API, None),
            ("POST", API, {}),
            ("GET", "%s/%s" % (API, sid), None),
            ("DELETE", "%s/%s" % (API, sid), None),
            ("POST", "%s/%s/exec" % (API, sid), {"cmd": "touch /tmp/pwned"}),
            ("POST", "%s/%s/timeout" % (API, sid), {"timeout_s": 5}),
            ("PUT", "%s/%s/files?path=/tmp/pwned2" % (API, sid), b"x"),
            ("GET", "%s/%s/files?path=/etc/hostname" % (API, sid), None),
        ]

    def test_bad_tokens_get_401_and_do_nothing(self):
        sb = self.sandbox()
        tok = self.server.token
        bad_headers = {
            "none": None,
            "wrong, same length": "Bearer " + ("0" if tok[0] != "0" else "1") + tok[1:],
            "wrong last char": "Bearer " + tok[:-1] + ("0" if tok[-1] != "0" else "1"),
            "prefix of the token": "Bearer " + tok[:-1],
            "token plus a char": "Bearer " + tok + "x",
            "empty bearer": "Bearer ",
            "empty header": "",
            "no Bearer word": tok,
            "Basic scheme": "Basic " + tok,
            "double token": "Bearer %s %s" % (tok, tok),
            "very long": "Bearer " + tok * 200,
        }
        n_before = len(self.server.list())
        for label, value in bad_headers.items():
            for method, path, body in self._authed_routes(sb["id"]):
                with self.subTest(auth=label, route="%s %s" % (method, path)):
                    r = self.server.request(method, path, body, token=None,
                                            headers={"Authorization": value})
                    self.assertError(r, 401, "unauthorized")
        # None of those requests may have had an effect.
        self.assertEqual(len(self.server.list()), n_before)
        self.assertEqual(self.server.get(sb["id"])["state"], "running")
        res = self.server.exec(sb["id"], cmd="ls /tmp")
        self.assertNotIn("pwned", res["stdout"])

    def test_good_token_works(self):
        r = self.server.request("GET", API)
        self.assertEqual(r.status, 200)
        self.assertIsInstance(r.body.get("sandboxes"), list)


class TestSandboxes(ServerTestCase):

    def check_object(self, sb):
        self.assertRegex(sb["id"], HEX32)
        self.assertEqual(sb["state"], "running")
        created = parse_time(sb["created_at"])
        self.assertIsInstance(sb["timeout_s"], int)
        if sb["timeout_s"]:
            expires = parse_time(sb["expires_at"])
            self.assertAlmostEqual((expires - created).total_seconds(), sb["timeout_s"], delta=1.0)
        else:
            self.assertIsNone(sb["expires_at"])
        for k in ("memory_mb", "pids", "cpu", "disk_mb", "nofile"):
            self.assertIn(k, sb["limits"])
            self.assertIsInstance(sb["limits"][k], (int, float))
            self.assertGreater(sb["limits"][k], 0)
        self.assertEqual(sb["rootfs"], "host")
        self.assertIn(sb["cgroup"]["version"], ("v1", "v2", "hybrid"))
        self.assertIsInstance(sb["cgroup"]["enforced"], list)
        self.assertIsInstance(sb["userns"]["host_uid"], int)
        self.assertIsInstance(sb["userns"]["ids"], int)
        self.assertIsInstance(sb["userns"]["own_range"], bool)
        self.assertIsInstance(sb["pid"], int)
        self.assertTrue(os.path.exists("/proc/%d" % sb["pid"]), "init pid is not a host pid")

    def test_create_defaults(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        r = self.server.request("POST", API, {})
        self.assertEqual(r.status, 201, r.body)
        self.addCleanup(self.delete_checked, r.body["id"])
        self.assertIn("application/json", r.headers.get("content-type", ""))
        sb = r.body
        self.check_object(sb)
        self.assertEqual(sb["timeout_s"], 3600)
        self.assertAlmostEqual((parse_time(sb["created_at"]) - now).total_seconds(), 0, delta=5)
        if os.geteuid() == 0:
            # Root on a machine with memory, pids and cpu controllers: all enforced.
            self.assertLessEqual({"memory", "pids", "cpu"}, set(sb["cgroup"]["enforced"]))
            # As root every sandbox has a host id range of its own.
            self.assertEqual(sb["userns"]["ids"], 65536)
            self.assertTrue(sb["userns"]["own_range"])
            self.assertGreaterEqual(sb["userns"]["host_uid"], 0x70000000)
        # The init is in a cgroup named after the sandbox.
        rec = self.server.sandbox_record(sb["id"])
        self.assertTrue(any(d.endswith("/" + sb["id"]) for d in rec.cgroups.values()),
                        rec.cgroups)
        # The object GET returns is the same sandbox.
        got = self.server.get(sb["id"])
        for k in ("id", "created_at", "expires_at", "timeout_s", "limits", "pid", "rootfs"):
            self.assertEqual(got[k], sb[k], k)

    def test_ids_are_unique(self):
        ids = {self.sandbox()["id"] for _ in range(6)}
        self.assertEqual(len(ids), 6)

    def test_create_with_overrides(self):
        limits = {"memory_mb": 256, "pids": 100, "cpu": 0.5, "disk_mb": 64, "nofile": 256}
        sb = self.sandbox(timeout_s=120, limits=limits, env={"FOO": "bar", "SPACED": "a b"})
        self.check_object(sb)
        self.assertEqual(sb["timeout_s"], 120)
        for k, v in limits.items():
            self.assertEqual(sb["limits"][k], v, k)
        # ... and each one has an effect.
        self.assertEqual(self.sh(sb, "ulimit -n").strip(), "256")
        self.assertEqual(self.sh(sb, 'echo "$FOO|$SPACED"'), "bar|a b\n")
        res = self.run_cmd(sb, "head -c 80M /dev/zero > /tmp/big")
        self.assertNotEqual(res["exit_code"], 0, "80 MB fit in a 64 MB disk: %r" % res)
        size_kb = int(self.sh(sb, "df -k /tmp | tail -1").split()[1])
        self.assertLessEqual(size_kb, 64 * 1024 + 1024)
        self.sh(sb, "rm -f /tmp/big")
        dirs = self.server.sandbox_record(sb["id"]).cgroups
        enforced = sb["cgroup"]["enforced"]
        if "memory" in enforced:
            v = limit_value(dirs, "memory", "memory.limit_in_bytes", "memory.max")
            self.assertEqual(int(v), 256 << 20)
        if "pids" in enforced:
            self.assertEqual(limit_value(dirs, "pids", "pids.max", "pids.max"), "100")
        if "cpu" in enforced:
            cpumax = limit_value(dirs, "cpu", None, "cpu.max")
            if cpumax is not None:
                quota, period = cpumax.split()
            else:
                quota = limit_value(dirs, "cpu", "cpu.cfs_quota_us", None)
                period = limit_value(dirs, "cpu", "cpu.cfs_period_us", None)
            self.assertAlmostEqual(int(quota) / int(period), 0.5, places=2)

    def test_timeout_zero_means_no_expiry(self):
        sb = self.sandbox(timeout_s=0)
        self.assertEqual(sb["timeout_s"], 0)
        self.assertIsNone(sb["expires_at"])

    def test_list(self):
        a, b = self.sandbox(), self.sandbox()
        listed = self.server.list()
        ids = [s["id"] for s in listed]
        self.assertIn(a["id"], ids)
        self.assertIn(b["id"], ids)
        for s in listed:
            self.assertIn("state", s)
            self.assertIn("pid", s)

    def test_get_and_delete(self):
        sb = self.server.create()
        sid = sb["id"]
        self.addCleanup(self.delete_checked, sid)  # in case an assert fails first
        self.assertEqual(self.server.get(sid)["id"], sid)
        r = self.server.request("DELETE", "%s/%s" % (API, sid))
        self.assertEqual(r.status, 204)
        self.assertFalse(r.body, "204 with a body")
        # DELETE answers once everything is gone: no grace period.
        self.server.assert_sandbox_gone(sid)
        self.assertError(self.server.request("GET", "%s/%s" % (API, sid)), 404, "not_found")
        self.assertError(self.server.request("DELETE", "%s/%s" % (API, sid)), 404, "not_found")
        self.assertError(self.server.request("POST", "%s/%s/exec" % (API, sid), {"cmd": "true"}),
                         404, "not_found")
        self.assertNotIn(sid, [s["id"] for s in self.server.list()])

    def test_unknown_sandbox_404(self):
        real = self.sandbox()["id"]
        for sid in (random_id(), "nope", real[:-1], real + "0", real.upper()):
            for method, path, body in (
                    ("GET", "%s/%s", None), ("DELETE", "%s/%s", None),
                    ("POST", "%s/%s/exec", {"cmd": "true"}),
                    ("POST", "%s/%s/timeout", {"timeout_s": 10}),
                    ("GET", "%s/%s/files?path=/etc/hostname", None),
                    ("PUT", "%s/%s/files?path=/tmp/x", b"x")):
                with self.subTest(id=sid, method=method, path=path):
                    r = self.server.request(method, path % (API, sid), body)
                    self.assertError(r, 404, "not_found")
        self.assertEqual(self.server.get(real)["state"], "running")

    def test_unknown_route_404(self):
        sid = self.sandbox()["id"]
        # (GET / is the browser UI, not an API route.)
        for method, path in (("GET", "/v1"), ("GET", "/v1/nope"),
                             ("GET", "/v2/sandboxes"), ("POST", "/v1/sandbox"),
                             ("GET", "/v1/sandboxes/%s/nope" % sid),
                             ("POST", "/v1/sandboxes/%s/exec/more" % sid),
                             ("GET", "/healthz/more")):
            with self.subTest(method=method, path=path):
                self.assertError(self.server.request(method, path, {} if method == "POST" else None),
                                 404, "not_found")

    def test_wrong_method_405(self):
        sid = self.sandbox()["id"]
        for method, path in (("PUT", API), ("DELETE", API), ("PATCH", API),
                             ("POST", "%s/%s" % (API, sid)), ("PUT", "%s/%s" % (API, sid)),
                             ("PATCH", "%s/%s" % (API, sid)),
                             ("GET", "%s/%s/exec" % (API, sid)),
                             ("DELETE", "%s/%s/exec" % (API, sid)),
                             ("GET", "%s/%s/timeout" % (API, sid)),
                             ("POST", "%s/%s/files?path=/tmp/x" % (API, sid)),
                             ("POST", "/healthz"), ("DELETE", "/healthz")):
            with self.subTest(method=method, path=path):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                self.assertError(self.server.request(method, path, body), 405, "method_not_allowed")
        self.assertEqual(self.server.get(sid)["state"], "running", "a 405 had an effect")

    def test_set_timeout(self):
        sb = self.sandbox(timeout_s=60)
        created = parse_time(sb["created_at"])
        new = self.server.set_timeout(sb["id"], 600)
        self.assertEqual(new["id"], sb["id"])
        exp = parse_time(new["expires_at"])
        self.assertGreater(exp, parse_time(sb["expires_at"]))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertAlmostEqual((exp - now).total_seconds(), 600, delta=5)
        self.assertGreaterEqual((exp - created).total_seconds(), 599)
        self.assertEqual(parse_time(self.server.get(sb["id"])["expires_at"]), exp)
        # 0: no expiry.
        self.assertIsNone(self.server.set_timeout(sb["id"], 0)["expires_at"])
        self.assertIsNone(self.server.get(sb["id"])["expires_at"])
        # Shortening works, too: 1 s from now it goes away.
        self.server.set_timeout(sb["id"], 1)
        gone = wait_until(lambda: self.server.request("GET", "%s/%s" % (API, sb["id"])).status == 404, 15)
        self.assertTrue(gone, "sandbox still there 15 s after a 1 s timeout")

    def test_expiry(self):
        sb = self.server.create(timeout_s=1)
        self.addCleanup(self.delete_checked, sb["id"])
        path = "%s/%s" % (API, sb["id"])
        gone = wait_until(lambda: self.server.request("GET", path).status == 404, 15, 0.2)
        self.assertTrue(gone, "a timeout_s=1 sandbox still exists after 15 s")
        self.assertNotIn(sb["id"], [s["id"] for s in self.server.list()])
        # Expiry cleans up as well as DELETE does.
        self.server.assert_sandbox_gone(sb["id"], grace=5)

    def test_env_from_create_reaches_every_exec(self):
        sb = self.sandbox(env={"DESKBOX_T": "from-create", "OTHER": "1"})
        self.assertEqual(self.sh(sb, "echo $DESKBOX_T"), "from-create\n")
        res = self.server.exec(sb["id"], argv=["sh", "-c", "echo $DESKBOX_T $OTHER"],
                               env={"DESKBOX_T": "from-exec"})
        self.assertEqual(res["stdout"], "from-exec 1\n", "exec env should override create env")


class TestExec(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox()
        self.sid = self.sb["id"]

    def x(self, **kw):
        return self.server.exec(self.sid, **kw)

    def test_cmd_result_shape(self):
        res = self.x(cmd="echo hi; echo oops >&2; exit 3")
        self.assertEqual(res["stdout"], "hi\n")
        self.assertEqual(res["stderr"], "oops\n")
        self.assertEqual(res["exit_code"], 3)
        self.assertIsNone(res["signal"])
        self.assertIs(res["timed_out"], False)
        self.assertIs(res["truncated"], False)
        self.assertIsInstance(res["duration_ms"], (int, float))
        self.assertGreaterEqual(res["duration_ms"], 0)

    def test_argv_is_not_a_shell(self):
        res = self.x(argv=["printf", "%s|", "a b", "$HOME", "*", "; echo no"])
        self.assertEqual(res["stdout"], "a b|$HOME|*|; echo no|")
        self.assertEqual(res["exit_code"], 0)

    def test_user_and_cwd(self):
        self.assertEqual(self.sh(self.sb, "id -u; id -g"), "1000\n1000\n")
        self.assertEqual(self.sh(self.sb, "id -un"), "user\n")
        self.assertEqual(self.sh(self.sb, "pwd"), "/home/user\n")
        self.assertEqual(self.x(cmd="pwd", cwd="/tmp")["stdout"], "/tmp\n")
        self.assertEqual(self.x(argv=["pwd"], cwd="/usr/bin")["stdout"], "/usr/bin\n")

    def test_own_session_and_process_group(self):
        # Each exec is in a session and process group of its own: not the
        # init's, not another exec's (running at the same time).
        self.server.exec(self.sid, cmd="sleep 1006 >/dev/null 2>&1 &")
        other = self.sh(self.sb, "ps -o pgid=,sid= -C sleep").split()
        mine = self.sh(self.sb, "ps -o pgid=,sid= -p $$").split()
        self.assertEqual(len(mine), 2)
        self.assertNotIn("1", mine)
        self.assertNotEqual(mine[0], other[0], "same process group as another exec")
        self.assertNotEqual(mine[1], other[1], "same session as another exec")
        ctty = self.sh(self.sb, "ps -o tty= -p $$").strip()
        self.assertEqual(ctty, "?", "exec has a controlling terminal")

    def test_env(self):
        res = self.x(cmd='echo "$A|$B|$C"', env={"A": "1", "B": "x y", "C": "ü€"})
        self.assertEqual(res["stdout"], "1|x y|ü€\n")

    def test_stdin(self):
        res = self.x(argv=["cat"], stdin="line1\nline2\n")
        self.assertEqual(res["stdout"], "line1\nline2\n")
        self.assertEqual(self.x(cmd="wc -l", stdin="a\nb\nc\n")["stdout"].strip(), "3")
        big = "x" * 300000 + "\n"
        self.assertEqual(self.x(cmd="wc -c", stdin=big)["stdout"].strip(), str(len(big)))

    def test_no_stdin_is_eof(self):
        res = self.x(argv=["cat"], timeout_ms=10000)
        self.assertIs(res["timed_out"], False, "cat waited on stdin: it is not at EOF")
        self.assertEqual(res["stdout"], "")
        self.assertEqual(res["exit_code"], 0)

    def test_exit_codes(self):
        for code in (0, 1, 2, 42, 127, 255):
            with self.subTest(code=code):
                res = self.x(cmd="exit %d" % code)
                self.assertEqual(res["exit_code"], code)
                self.assertIsNone(res["signal"])

    def test_signals(self):
        for cmd, sig in (("kill -9 $$", 9), ("kill -TERM $$", 15), ("kill -SEGV $$", 11),
                         ("kill -HUP $$", 1), ("kill -INT $$", 2), ("kill -USR1 $$", 10),
                         ("exec python3 -c 'import os; os.kill(os.getpid(), 15)'", 15)):
            with self.subTest(cmd=cmd):
                res = self.x(cmd=cmd)
                self.assertIsNone(res["exit_code"], res)
                self.assertEqual(res["signal"], sig, res)
                self.assertIs(res["timed_out"], False)

    def test_output_encoding(self):
        res = self.x(cmd=r"printf 'a\377b\n'; printf 'c\376\n' >&2")
        self.assertEqual(res["stdout"], "a\ufffdb\n")
        self.assertEqual(res["stderr"], "c\ufffd\n")
        res = self.x(argv=["printf", "héllo ✓ 😀\n"])
        self.assertEqual(res["stdout"], "héllo ✓ 😀\n")
        # Multi-byte characters stay whole whatever the pipe's chunking:
        # 210 KB of 3-byte characters.
        res = self.x(argv=["python3", "-c", "import sys; sys.stdout.write('€' * 70000)"])
        self.assertEqual(res["stdout"], "€" * 70000)

    def test_nul_bytes_in_output(self):
        # NUL is valid UTF-8: it must come through as \u0000, not be cut or replaced.
        res = self.x(cmd=r"printf 'a\000b'; printf 'c\000d' >&2")
        self.assertEqual(res["stdout"], "a\x00b")
        self.assertEqual(res["stderr"], "c\x00d")

    def test_large_output_both_streams(self):
        # Interleaved writes to both pipes: a daemon that drains one pipe at a
        # time deadlocks here (the command blocks on the other pipe).
        cmd = ("for i in $(seq 8); do head -c 65536 /dev/zero | tr '\\0' a; "
               "head -c 65536 /dev/zero | tr '\\0' b >&2; done")
        res = self.x(cmd=cmd, timeout_ms=30000)
        self.assertIs(res["timed_out"], False)
        self.assertEqual(res["stdout"], "a" * 8 * 65536)
        self.assertEqual(res["stderr"], "b" * 8 * 65536)
        self.assertIs(res["truncated"], False)

    def test_argv_is_found_on_the_commands_path(self):
        # /usr/sbin is on the sandbox's PATH; a PATH given in env is used.
        res = self.x(argv=["sysctl", "-n", "kernel.ostype"])
        self.assertEqual((res["exit_code"], res["stdout"]), (0, "Linux\n"), res)
        self.sh(self.sb, "mkdir -p /tmp/pbin && printf '#!/bin/sh\\necho mine\\n' > /tmp/pbin/mytool"
                         " && chmod +x /tmp/pbin/mytool")
        res = self.x(argv=["mytool"], env={"PATH": "/tmp/pbin:/usr/bin"})
        self.assertEqual((res["exit_code"], res["stdout"]), (0, "mine\n"), res)
        res = self.x(argv=["mytool"])
        self.assertEqual(res["exit_code"], 127, res)

    def test_missing_binary_is_127_unrunnable_126(self):
        # Like a shell: not found 127, found but not executable 126.
        for argv, code in ((["/nonexistent/bin"], 127), (["no-such-command-deskbox"], 127),
                           (["/etc/hostname"], 126), (["/tmp"], 126)):
            with self.subTest(argv=argv):
                res = self.x(argv=argv)
                self.assertEqual(res["exit_code"], code, res)
                self.assertNotEqual(res["stderr"].strip(), "", "no reason on stderr")
        res = self.x(cmd="no-such-command-deskbox")
        self.assertEqual(res["exit_code"], 127)
        # The sandbox is fine afterwards.
        self.assertEqual(self.sh(self.sb, "echo ok"), "ok\n")

    def no_sleepers(self):
        """The sandbox's live (non-zombie) 'sleep' processes as 'pid stat args' lines."""
        out = self.sh(self.sb, "ps -eo pid=,stat=,args=")
        return [l for l in out.splitlines()
                if "sleep 100" in l and not l.split()[1].startswith("Z")]

    def test_timeout_kills_the_whole_tree(self):
        # Children in the group, a setsid'd one (new session), a double-forked
        # one (reparented to init) and one that ignores SIGTERM/SIGHUP.
        cmd = ("sleep 1001 & setsid sleep 1002 & (sleep 1003 &) ; "
               "nohup sh -c 'trap \"\" TERM HUP; sleep 1004' >/dev/null 2>&1 & "
               "setsid sh -c 'setsid sleep 1005 & sleep 1006' & sleep 1000")
        res = self.x(cmd=cmd, timeout_ms=1000)
        self.assertIs(res["timed_out"], True, res)
        self.assertIsNone(res["exit_code"], res)
        self.assertGreaterEqual(res["duration_ms"], 900)
        left = wait_until(lambda: not self.no_sleepers(), 0.5)
        self.assertTrue(left, "processes outlived the timeout: %s" % self.no_sleepers())

    def test_answer_comes_when_command_exits(self):
        # The background child keeps stdout open: the answer must still come
        # when the command itself exits, and the child keeps running.
        res = self.server.exec(self.sid, cmd="sleep 1007 & echo $!", timeout_ms=60000,
                               client_timeout=30)
        self.assertEqual(res["exit_code"], 0)
        self.assertIs(res["timed_out"], False)
        pid = res["stdout"].strip()
        self.assertTrue(pid.isdigit(), res)
        self.assertEqual(self.x(cmd="kill -0 %s && echo alive" % pid)["stdout"], "alive\n")

    def test_concurrent_execs_one_sandbox(self):
        # A barrier: each exec waits until all N have started. If execs were
        # run one at a time, each would give up after 20 s and exit 1.
        n = 8
        cmd = ("touch /tmp/barrier.$I; i=0; "
               "while [ $(ls /tmp | grep -c '^barrier\\.') -lt %d ]; do "
               "i=$((i+1)); [ $i -gt 400 ] && exit 1; sleep 0.05; done; echo done-$I" % n)
        results = [None] * n

        def run(i):
            try:
                results[i] = self.server.exec(self.sid, cmd=cmd, env={"I": str(i)}, timeout_ms=40000)
            except Exception as e:
                results[i] = e
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for i, r in enumerate(results):
            self.assertIsInstance(r, dict, r)
            self.assertEqual(r["exit_code"], 0, "exec %d never saw the others run: %r" % (i, r))
            self.assertEqual(r["stdout"], "done-%d\n" % i)

    def test_many_concurrent_execs(self):
        n = 40
        results = [None] * n

        def run(i):
            try:
                results[i] = self.server.exec(self.sid, argv=["sh", "-c", "echo $0; echo e$0 >&2", str(i)])
            except Exception as e:
                results[i] = e
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for i, r in enumerate(results):
            self.assertIsInstance(r, dict, r)
            self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]), ("%d\n" % i, "e%d\n" % i, 0))


class TestExecAcrossSandboxes(ServerTestCase):

    def test_concurrent_execs_across_sandboxes(self):
        boxes = [self.sandbox() for _ in range(4)]
        for i, sb in enumerate(boxes):
            self.server.put_file(sb["id"], "/tmp/whoami", "box-%d" % i)
        results = {}

        def run(i, j):
            try:
                results[i, j] = self.server.exec(boxes[i]["id"], cmd="cat /tmp/whoami; sleep 0.1")
            except Exception as e:
                results[i, j] = e
        threads = [threading.Thread(target=run, args=(i, j)) for i in range(4) for j in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertEqual(len(results), 24)
        for (i, j), r in results.items():
            self.assertIsInstance(r, dict, r)
            self.assertEqual(r["stdout"], "box-%d" % i, "exec went to the wrong sandbox")


class TestFiles(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.sb = self.sandbox()
        self.sid = self.sb["id"]

    def test_binary_round_trip(self):
        data = bytes(range(256)) * 1000 + b"\x00\xff\xfe"
        r = self.server.request("PUT", self.server.api.files_path(self.sid, "/tmp/bin.dat"), data)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.body, {"path": "/tmp/bin.dat", "size": len(data)})
        r = self.server.request("GET", self.server.api.files_path(self.sid, "/tmp/bin.dat"), raw=True)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("content-type"), "application/octet-stream")
        self.assertEqual(r.body, data)
        out = self.sh(self.sb, "sha256sum /tmp/bin.dat").split()[0]
        self.assertEqual(out, hashlib.sha256(data).hexdigest())

    def test_empty_file_and_truncation(self):
        self.assertEqual(self.server.put_file(self.sid, "/tmp/e", b"")["size"], 0)
        self.assertEqual(self.server.get_file(self.sid, "/tmp/e"), b"")
        self.server.put_file(self.sid, "/tmp/t", b"x" * 10000)
        self.server.put_file(self.sid, "/tmp/t", b"short")
        self.assertEqual(self.server.get_file(self.sid, "/tmp/t"), b"short")

    def test_creates_parents(self):
        self.server.put_file(self.sid, "/tmp/a/b/c/d.txt", b"deep")
        self.assertEqual(self.sh(self.sb, "cat /tmp/a/b/c/d.txt"), "deep")
        self.assertEqual(self.sh(self.sb, "stat -c %u /tmp/a /tmp/a/b/c").split(), ["1000", "1000"])
        self.server.put_file(self.sid, "/home/user/x/y.txt", b"home")
        self.assertEqual(self.sh(self.sb, "cat ~/x/y.txt"), "home")

    def test_owner_and_mode(self):
        self.server.put_file(self.sid, "/tmp/owned", b"x")
        self.assertEqual(self.sh(self.sb, "stat -c '%u %g %a' /tmp/owned"), "1000 1000 644\n")

    def test_relative_path_is_under_home(self):
        r = self.server.put_file(self.sid, "rel/dir/x.txt", b"relative")
        self.assertEqual(r["path"], "/home/user/rel/dir/x.txt")
        self.assertEqual(self.sh(self.sb, "cat /home/user/rel/dir/x.txt"), "relative")
        self.assertEqual(self.server.get_file(self.sid, "rel/dir/x.txt"), b"relative")
        self.assertEqual(self.server.get_file(self.sid, "/home/user/rel/dir/x.txt"), b"relative")
        self.assertEqual(self.sh(self.sb, "stat -c %u /home/user/rel/dir/x.txt"), "1000\n")

    def test_exec_and_files_see_the_same_tree(self):
        self.sh(self.sb, "printf hello > /tmp/fromexec; mkdir -p ~/d; printf there > ~/d/f")
        self.assertEqual(self.server.get_file(self.sid, "/tmp/fromexec"), b"hello")
        self.assertEqual(self.server.get_file(self.sid, "d/f"), b"there")

    def test_odd_names(self):
        for path in ("/tmp/dir with space/ü €.txt", "/tmp/q?x=1&y=2#frag", "/tmp/%41%2F"):
            with self.subTest(path=path):
                self.server.put_file(self.sid, path, path.encode())
                self.assertEqual(self.server.get_file(self.sid, path), path.encode())
                self.assertEqual(self.run_cmd(self.sb, 'cat "$P"', env={"P": path})["stdout"], path)

    def test_absent_is_404(self):
        for path in ("/tmp/nope", "/tmp/no/such/dir/file", "nope-relative"):
            with self.subTest(path=path):
                r = self.server.request("GET", self.server.api.files_path(self.sid, path))
                self.assertError(r, 404, "not_found")

    def test_not_a_regular_file_is_400(self):
        self.sh(self.sb, "mkdir -p /tmp/adir")
        for path in ("/tmp/adir", "/tmp", "/home/user", "/dev/null", "/dev/zero"):
            with self.subTest(path=path):
                r = self.server.request("GET", self.server.api.files_path(self.sid, path),
                                        timeout=10)
                self.assertEqual(r.status, 400, r.body)
                self.assertIsInstance(r.body.get("error", {}).get("code"), str)

    def test_put_onto_a_directory_fails(self):
        self.sh(self.sb, "mkdir -p /tmp/adir2 && touch /tmp/adir2/keep")
        r = self.server.request("PUT", self.server.api.files_path(self.sid, "/tmp/adir2"), b"x")
        self.assertIn(r.status, (400, 403, 409), r.body)
        self.assertEqual(self.sh(self.sb, "ls /tmp/adir2"), "keep\n")

    def test_permissions_are_the_users(self):
        # What uid 1000 cannot write, the API cannot either.
        for host_path in ("/usr/bin/deskbox-test", "/etc/deskbox-test"):
            self.addCleanup(lambda p=host_path: os.path.exists(p) and os.unlink(p))
        for path in ("/usr/bin/deskbox-test", "/usr/x/y", "/etc/deskbox-test", "/proc/x"):
            with self.subTest(path=path):
                r = self.server.request("PUT", self.server.api.files_path(self.sid, path), b"x")
                self.assertIn(r.status, (403, 404, 400), r.body)
                self.assertNotEqual(r.status // 100, 2)
        self.assertFalse(os.path.exists("/usr/bin/deskbox-test"))
        self.assertFalse(os.path.exists("/etc/deskbox-test"))
        # A root-only file inside the sandbox: 403.
        r = self.server.request("GET", self.server.api.files_path(self.sid, "/etc/shadow"))
        self.assertIn(r.status, (403, 404), r.body)
        if r.status == 403:
            self.assertError(r, 403, "forbidden")

    def test_missing_path_parameter(self):
        for suffix in ("files", "files?path=", "files?other=1"):
            with self.subTest(suffix=suffix):
                r = self.server.request("GET", "%s/%s/%s" % (API, self.sid, suffix))
                self.assertError(r, 400, "bad_request")

    def test_failed_upload_keeps_the_old_file(self):
        small = self.sandbox(desktop=False, limits={"disk_mb": 2})
        sid = small["id"]
        self.server.put_file(sid, "/tmp/keep.txt", b"the old content")
        path = self.server.api.files_path(sid, "/tmp/keep.txt")
        r = self.server.request("PUT", path, os.urandom(3 << 20))
        self.assertError(r, 507, "no_space")
        self.assertEqual(self.server.get_file(sid, "/tmp/keep.txt"), b"the old content")
        # Neither a failed nor a good upload leaves its temporary file.
        self.server.put_file(sid, "/tmp/keep.txt", b"new")
        self.assertEqual(self.server.get_file(sid, "/tmp/keep.txt"), b"new")
        self.assertEqual(self.sh(small, "ls -A /tmp"), "keep.txt\n")

    def test_large_file(self):
        data = os.urandom(300 * 1024)
        self.assertEqual(self.server.put_file(self.sid, "/tmp/large", data)["size"], len(data))
        self.assertEqual(self.server.get_file(self.sid, "/tmp/large"), data)


class TestServerLimits(ServerTestCase):
    server_options = {"max_sandboxes": 2, "max_output": 1000, "timeout": 120,
                      "memory_mb": 300, "pids": 77, "cpu": 0.25, "disk_mb": 50}

    def test_server_defaults_are_used(self):
        sb = self.sandbox()
        self.assertEqual(sb["timeout_s"], 120)
        self.assertEqual(sb["limits"]["memory_mb"], 300)
        self.assertEqual(sb["limits"]["pids"], 77)
        self.assertAlmostEqual(sb["limits"]["cpu"], 0.25)
        self.assertEqual(sb["limits"]["disk_mb"], 50)

    def test_max_sandboxes(self):
        a = self.sandbox()
        self.sandbox()
        r = self.server.request("POST", API, {})
        self.assertError(r, 429, "too_many_sandboxes")
        self.assertEqual(len(self.server.list()), 2)
        self.server.delete(a["id"])
        self.server.assert_sandbox_gone(a["id"])
        self.sandbox()  # room again

    def test_output_truncated(self):
        sb = self.sandbox()
        res = self.run_cmd(sb, "head -c 5000 /dev/zero | tr '\\0' a; head -c 7000 /dev/zero | tr '\\0' b >&2")
        self.assertIs(res["truncated"], True)
        self.assertEqual(res["exit_code"], 0, "the command must not be killed by the cap")
        self.assertTrue(0 < len(res["stdout"].encode()) <= 1000, len(res["stdout"]))
        self.assertTrue(0 < len(res["stderr"].encode()) <= 1000, len(res["stderr"]))
        self.assertEqual(set(res["stdout"]), {"a"})
        self.assertEqual(set(res["stderr"]), {"b"})
        res = self.run_cmd(sb, "head -c 900 /dev/zero | tr '\\0' a")
        self.assertIs(res["truncated"], False)
        self.assertEqual(len(res["stdout"]), 900)
        # A chatty command that outlives the cap still gets its exit status.
        res = self.run_cmd(sb, "yes | head -c 5000000; exit 7")
        self.assertIs(res["truncated"], True)
        self.assertEqual(res["exit_code"], 7)


class TestShutdown(unittest.TestCase):
    """SIGTERM and SIGINT destroy every sandbox and exit 0 (each test runs
    its own deskboxd; Server.stop() proves nothing is left)."""

    def start_busy_server(self):
        srv = Server()
        self.addCleanup(srv.stop, check=False)  # only if the test fails first
        srv.start()
        boxes = [srv.create() for _ in range(3)]
        srv.exec(boxes[0]["id"], cmd="sleep 1040 >/dev/null 2>&1 & setsid sleep 1041 >/dev/null 2>&1 &")
        srv.put_file(boxes[1]["id"], "/tmp/f", b"x" * 100000)
        result = {}

        def long_exec():
            try:
                result["r"] = srv.request("POST", "%s/%s/exec" % (API, boxes[2]["id"]),
                                          {"cmd": "sleep 60"}, timeout=30)
            except Exception as e:  # a closed connection is a fine answer here
                result["r"] = e
        t = threading.Thread(target=long_exec)
        t.start()
        self.addCleanup(t.join, 40)
        wait_until(lambda: "sleep 60" in srv.exec(boxes[2]["id"], cmd="ps -eo args=")["stdout"], 10)
        return srv, t, result

    def check_in_flight(self, t, result):
        t.join(30)
        self.assertFalse(t.is_alive(), "an exec in flight hung across shutdown")
        r = result["r"]
        if not isinstance(r, Exception):
            self.assertIn(r.status, (409, 503), r.body)

    def test_sigterm(self):
        srv, t, result = self.start_busy_server()
        srv.stop()  # SIGTERM, exit 0, nothing left
        self.check_in_flight(t, result)

    def test_sigint(self):
        srv, t, result = self.start_busy_server()
        srv.proc.send_signal(signal.SIGINT)
        self.assertEqual(srv.proc.wait(30), 0)
        srv.stop()  # the leak checks
        self.check_in_flight(t, result)


class TestExpiryRaces(ServerTestCase):

    def test_expiry_during_exec(self):
        sb = self.server.create(timeout_s=2)
        self.addCleanup(self.delete_checked, sb["id"])
        r = self.server.request("POST", "%s/%s/exec" % (API, sb["id"]),
                                {"cmd": "sleep 60", "timeout_ms": 60000}, timeout=30)
        self.assertError(r, 409, "sandbox_not_running")
        self.server.assert_sandbox_gone(sb["id"], grace=5)
