"""Ways to run deskboxd: rootless (user namespaces), image root filesystems,
the config file, where the token comes from, and a low open-file limit.

Every test starts its own deskboxd; all of them clean up through the harness.
"""

import os
import resource
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from deskbox import (API, Client, Server, ServerTestCase, deskboxd_path, free_port,
                     wait_until)


def _answers(client):
    try:
        return client.request("GET", "/healthz", timeout=1).status == 200
    except OSError:
        return False

NOBODY = 65534


def _nobody_can_run_deskboxd(binary):
    """Rootless needs the binary reachable by an unprivileged uid and
    unprivileged user namespaces; some hosts forbid either."""
    probe = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
    try:
        r = subprocess.run(probe + ["test", "-x", binary], timeout=10)
        if r.returncode != 0:
            return "deskboxd at %s is not executable by uid %d" % (binary, NOBODY)
        r = subprocess.run(probe + ["unshare", "-U", "true"], timeout=10,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return "unprivileged user namespaces are disabled on this host"
    except (OSError, subprocess.SubprocessError) as e:
        return "cannot probe: %s" % e
    return None


class RootlessServer(Server):
    """deskboxd as uid 65534 with a state dir it owns."""

    def __init__(self, **kw):
        super().__init__(**kw)
        os.chmod(self.root, 0o755)
        os.chown(self.state_dir, NOBODY, NOBODY)

    def command(self):
        return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                "--clear-groups", "--"] + super().command()


class TestRootless(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to drop to an unprivileged uid")
        srv = Server()
        why = _nobody_can_run_deskboxd(srv.binary)
        srv._remove_tmp(keep_log=False)
        if why:
            raise unittest.SkipTest(why)
        cls.server = RootlessServer()
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def test_sandbox_in_user_namespace(self):
        sb = self.server.create(desktop=False)
        try:
            # No subordinate ids: deskboxd's own uid is the only one, shared.
            self.assertEqual(sb["userns"], {"host_uid": NOBODY, "ids": 1, "own_range": False})
            # Nothing was delegated to uid 65534 here: the object says so.
            self.assertIsInstance(sb["cgroup"]["enforced"], list)
            res = self.server.exec(sb["id"], cmd="id -u; hostname; cat /proc/self/uid_map; ps -e | wc -l")
            self.assertEqual(res["exit_code"], 0, res)
            lines = res["stdout"].split("\n")
            self.assertEqual(lines[0], "1000")
            self.assertEqual(lines[1], sb["id"])
            self.assertEqual(lines[2].split(), ["1000", str(NOBODY), "1"])
            self.assertLessEqual(int(lines[3]), 6, "the sandbox sees foreign processes")
            # Still no way back to more privilege.
            res = self.server.exec(sb["id"], cmd="mkdir -p /tmp/m && mount -t tmpfs x /tmp/m")
            self.assertNotEqual(res["exit_code"], 0)
            res = self.server.exec(sb["id"], cmd="unshare -U true")
            self.assertNotEqual(res["exit_code"], 0)
            self.server.put_file(sb["id"], "/tmp/f", b"rootless\x00bytes")
            self.assertEqual(self.server.get_file(sb["id"], "/tmp/f"), b"rootless\x00bytes")
            pid = sb["pid"]
        finally:
            self.server.delete(sb["id"])
        self.server.assert_sandbox_gone(sb["id"])
        self.assertFalse(os.path.exists("/proc/%d" % pid))

    def test_log_says_limits_are_not_enforced(self):
        sb = self.server.create(desktop=False)
        self.server.delete(sb["id"])
        if sb["cgroup"]["enforced"]:
            self.skipTest("this host delegated a cgroup to uid 65534")
        self.assertIn("not enforced", self.server.log_text())


def _copy_with_libs(binaries, root):
    """Copy binaries and the shared libraries they load into root."""
    files = set()
    for b in binaries:
        files.add(os.path.realpath(b))
        out = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
        for line in out.splitlines():
            for part in line.split():
                if part.startswith("/"):
                    files.add(part)
    for f in files:
        dst = os.path.join(root, f.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.realpath(f), dst)
    return files


class TestImageRootfs(ServerTestCase):
    """The `image` mode: an overlay whose lower layer is a directory tree."""

    @classmethod
    def setUpClass(cls):
        cls.images = tempfile.mkdtemp(prefix="deskbox-images-")
        cls.addClassCleanup(shutil.rmtree, cls.images, True)
        img = os.path.join(cls.images, "mini")
        for d in ("usr/bin", "etc", "home/user", "tmp"):
            os.makedirs(os.path.join(img, d))
        for top in ("bin", "lib", "lib64", "sbin"):
            os.symlink("usr/" + top, os.path.join(img, top))
        os.makedirs(os.path.join(img, "usr/lib"), exist_ok=True)
        os.makedirs(os.path.join(img, "usr/lib64"), exist_ok=True)
        os.makedirs(os.path.join(img, "usr/sbin"), exist_ok=True)
        _copy_with_libs(["/usr/bin/dash", "/usr/bin/cat", "/usr/bin/id",
                         "/usr/bin/touch", "/usr/bin/ls"], img)
        # merged /usr on the host: the copies landed under usr/ already
        shutil.copy2("/usr/bin/dash", os.path.join(img, "usr/bin/sh"))
        with open(os.path.join(img, "etc/passwd"), "w") as f:
            f.write("root:x:0:0::/root:/bin/sh\nimguser:x:1000:1000:from the image:/home/user:/bin/sh\n")
        with open(os.path.join(img, "etc/marker"), "w") as f:
            f.write("mini-image\n")
        cls.server_options = {"images": cls.images}
        super().setUpClass()

    def test_runs_on_the_image(self):
        sb = self.sandbox(rootfs="mini", desktop=False)
        self.assertEqual(sb["rootfs"], "mini")
        self.assertEqual(self.sh(sb, "cat /etc/marker"), "mini-image\n")
        self.assertIn("imguser", self.sh(sb, "cat /etc/passwd"))
        self.assertEqual(self.sh(sb, "id -u"), "1000\n")

    def test_image_is_never_changed(self):
        sb = self.sandbox(rootfs="mini", desktop=False)
        self.sh(sb, "echo hi > /tmp/x; cat /tmp/x; echo home > /home/user/h")
        res = self.run_cmd(sb, "touch /etc/new")
        self.assertNotEqual(res["exit_code"], 0, "the root must be read-only")
        img = os.path.join(self.images, "mini")
        self.assertFalse(os.path.exists(os.path.join(img, "tmp/x")))
        self.assertFalse(os.path.exists(os.path.join(img, "home/user/h")))
        self.assertFalse(os.path.exists(os.path.join(img, "etc/new")))
        # A second sandbox on the same image starts clean.
        other = self.sandbox(rootfs="mini", desktop=False)
        self.assertNotEqual(self.run_cmd(other, "cat /tmp/x")["exit_code"], 0)

    def test_full_session_on_an_image_without_its_packages(self):
        """A full desktop on a root without the session's panel, wallpaper
        and bus is refused naming the packages, never a desktop that
        silently lacks them; the server keeps serving."""
        r = self.server.request("POST", API, {"rootfs": "mini", "desktop": {"session": "full"}})
        self.assertError(r, 500, "desktop_failed")
        msg = r.body["error"]["message"]
        for pkg in ("tint2", "hsetroot", "dbus-daemon"):
            self.assertIn(pkg, msg)
        self.assertIn("'mini'", msg)
        self.assertIn('"session":"bare"', msg)
        self.assertEqual(self.server.expect(200, "GET", API).body["sandboxes"], [])
        sb = self.sandbox(rootfs="mini", desktop=False)
        self.assertEqual(self.sh(sb, "cat /etc/marker"), "mini-image\n")

    def test_unknown_or_unsafe_image_names(self):
        for name, code in (("nope", "bad_request"), ("../mini", "bad_request"),
                           (".hidden", "bad_request"), ("a/b", "bad_request"),
                           (7, "bad_request")):
            r = self.server.request("POST", API, {"rootfs": name, "desktop": False})
            self.assertError(r, 400, code)


class TestConfigAndToken(unittest.TestCase):
    def _server(self, **kw):
        srv = Server(**kw)
        self.addCleanup(srv.stop)
        return srv

    def test_config_file_sets_defaults_and_flags_win(self):
        d = tempfile.mkdtemp(prefix="deskbox-conf-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "deskbox.conf")
        with open(conf, "w") as f:
            f.write("# defaults for this test\nmemory-mb = 300\npids 99\ncpu = 0.5\n")
        srv = self._server(config=conf, pids=77).start()
        sb = srv.create(desktop=False)
        self.assertEqual(sb["limits"]["memory_mb"], 300)
        self.assertEqual(sb["limits"]["pids"], 77)
        self.assertEqual(sb["limits"]["cpu"], 0.5)
        srv.delete(sb["id"])

    def test_bad_config_refuses_to_start(self):
        d = tempfile.mkdtemp(prefix="deskbox-conf-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "bad.conf")
        with open(conf, "w") as f:
            f.write("memory-mb = lots\n")
        r = subprocess.run([Server().binary, "--config", conf, "--state-dir", d],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("memory-mb", r.stderr)
        r = subprocess.run([Server().binary, "--no-such-flag", "1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option", r.stderr)

    def test_generated_token_is_saved_private_and_reused(self):
        d = tempfile.mkdtemp(prefix="deskbox-token-")
        self.addCleanup(shutil.rmtree, d, True)
        state = os.path.join(d, "state")
        env = dict(os.environ)
        env.pop("DESKBOX_TOKEN", None)
        binary = deskboxd_path()
        tokens = []
        for run in range(2):
            port = free_port()
            with open(os.path.join(d, "log%d" % run), "wb") as log:
                p = subprocess.Popen([binary, "--listen", "127.0.0.1:%d" % port,
                                      "--state-dir", state], env=env, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
            self.addCleanup(lambda p=p: p.poll() is None and p.kill())
            path = os.path.join(state, "token")
            c = Client("127.0.0.1", port, None)
            self.assertTrue(wait_until(lambda: os.path.exists(path) and
                                       _answers(c), 20), "deskboxd did not come up")
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            with open(path) as f:
                token = f.read().strip()
            self.assertGreaterEqual(len(token), 32)
            tokens.append(token)
            c = Client("127.0.0.1", port, token)
            self.assertEqual(c.request("GET", API).status, 200)
            self.assertEqual(c.request("GET", API, token="wrong").status, 401)
            p.terminate()
            self.assertEqual(p.wait(30), 0)
        self.assertEqual(tokens[0], tokens[1], "the saved token is reused")
        with open(os.path.join(d, "log0")) as f:
            log0 = f.read()
        self.assertIn(tokens[0], log0, "a generated token is printed when made")

    def test_token_from_environment(self):
        srv = self._server(env={"DESKBOX_TOKEN": "from-the-env-123"})
        srv.token = "from-the-env-123"
        srv.command = lambda: [srv.binary, "--listen", "%s:%d" % (srv.host, srv.port),
                               "--state-dir", srv.state_dir]
        srv.start()
        self.assertEqual(srv.request("GET", API).status, 200)
        self.assertNotIn("from-the-env-123", srv.log_text(), "an operator's token is not logged")

    def test_one_server_per_state_dir(self):
        srv = self._server().start()
        r = subprocess.run([srv.binary, "--listen", "127.0.0.1:0", "--state-dir", srv.state_dir,
                            "--token", "x"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("another deskboxd", r.stderr)
        self.assertEqual(srv.healthz(), {"status": "ok"})


class TestOpenFileLimit(unittest.TestCase):
    def test_a_low_soft_limit_is_raised(self):
        """A soft limit of 256 would cap deskboxd near 40 desktops: it raises
        its own towards the hard limit (at most 65536)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        try:
            srv = Server()
            self.addCleanup(srv.stop)
            srv.start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        with open("/proc/%d/limits" % srv.proc.pid) as f:
            line = next(ln for ln in f if ln.startswith("Max open files"))
        want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
        self.assertEqual(int(line.split()[3]), want, line)
        sb = srv.create(desktop=False)
        self.assertEqual(srv.exec(sb["id"], cmd="ulimit -n")["stdout"], "1024\n",
                         "a sandbox keeps its own limit (--nofile)")


if __name__ == "__main__":
    unittest.main()
