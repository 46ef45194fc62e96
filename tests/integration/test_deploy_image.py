"""test_deploy_image.py - deskbox's OCI image (deploy/image/build.sh) run
with podman: a desktop sandbox is created inside the container, shot,
exec'd in, and the container stops cleanly on SIGTERM. A default create
there is deskboxd's default full session: its first screenshot has the
panel and wallpaper (test_session's pixel checks), /apps lists the browser,
terminal and editor, and a local page opens in Firefox ESR (its window
title and red body).

The image is built (or found up to date: build.sh compares a digest of the
binaries) from the unsanitized build/ tree, since the sanitizer runtimes are
not in the image; the first build debootstraps a root (minutes, cached under
build/image/). The container gets only the capabilities the jail needs
(deploy/kubernetes/density/statefulset.yaml says why each):
SYS_ADMIN NET_ADMIN SETUID SETGID SETPCAP CHOWN KILL SYS_RESOURCE.

Skipped, saying why, only where this machine cannot run a container.
"""

import hashlib
import os
import resource
import secrets
import shutil
import struct
import subprocess
import time
import unittest
import zlib

from deskbox import REPO, Client, free_port, until, wait_until
from test_desktop_api import pixel, png_decode
import test_session as session_checks

# One tag per tree: two checkouts testing at once on one machine must not
# build, replace or remove each other's image.
IMAGE = "localhost/deskbox:test-%s" % hashlib.sha256(REPO.encode()).hexdigest()[:12]
CAPS = ["SYS_ADMIN", "NET_ADMIN", "SETUID", "SETGID", "SETPCAP", "CHOWN",
        "KILL", "SYS_RESOURCE"]


def _podman(*args, timeout=120, check=True):
    return subprocess.run(["podman", "--runtime", "runc"] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, check=check)


def _rlimit_args():
    """podman sets the container's rlimits itself; it may not raise them
    above what it has (without CAP_SYS_RESOURCE, as on this kind of VM), so
    ask for no more than ours."""
    out = []
    for name, res in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        hard = resource.getrlimit(res)[1]
        n = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
        out += ["--ulimit", "%s=%d:%d" % (name, n, n)]
    return out


def _cannot_run_containers():
    """None if podman (with runc) can run a container here, else why not."""
    for tool in ("podman", "runc", "buildah", "debootstrap"):
        if not shutil.which(tool):
            return "%s is not installed (scripts/deps.sh image)" % tool
    if os.geteuid() != 0:
        return "the image test runs rootful podman: run it as root"
    return None


def _png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError("not a PNG: %r" % data[:16])
    w, h = struct.unpack(">II", data[16:24])
    zlib.crc32(data)  # the whole body arrived
    return w, h


class TestImage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = _cannot_run_containers()
        if why:
            raise unittest.SkipTest("cannot run containers here: " + why)
        build = os.path.join(REPO, "build")
        r = subprocess.run(["sh", os.path.join(REPO, "deploy/image/build.sh"), build, IMAGE],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=1800)
        if r.returncode:
            raise AssertionError("image build failed:\n" + r.stdout + r.stderr)
        # A container that runs nothing of ours tells a machine that cannot
        # run containers from a broken image.
        probe = _podman("run", "--rm", *_rlimit_args(), "--entrypoint", "/bin/true",
                        IMAGE, check=False)
        if probe.returncode:
            raise unittest.SkipTest("podman cannot run a container on this machine: "
                                    + (probe.stderr.strip() or "exit %d" % probe.returncode))

    def setUp(self):
        self.name = "deskbox-test-" + secrets.token_hex(4)
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.addCleanup(_podman, "rm", "--force", "--time", "0", self.name, check=False)

    def start(self):
        # The image's own arguments, with a short drain: podman stop's
        # SIGTERM then waits 3 s for the sandboxes before destroying them.
        _podman("run", "--detach", "--name", self.name, *_rlimit_args(),
                "--cap-drop", "ALL", "--cap-add", ",".join(CAPS),
                "--publish", "127.0.0.1:%d:8080" % self.port,
                "--env", "DESKBOX_TOKEN=" + self.token, IMAGE,
                "--listen", "0.0.0.0:8080", "--state-dir", "/var/lib/deskbox",
                "--web", "/opt/deskbox/web", "--drain-grace", "3")
        c = Client("127.0.0.1", self.port, self.token, timeout=30)

        def up():
            try:
                return c.request("GET", "/healthz", token=None).status == 200
            except OSError:
                return False
        until(up, timeout=60, what="deskboxd in the container answers /healthz")
        return c

    def logs(self):
        return _podman("logs", self.name, check=False).stderr

    def test_desktop_in_container(self):
        c = self.start()
        sb = c.expect(201, "POST", "/v1/sandboxes", {"apps": ["xterm"]}).body
        self.assertEqual(sb["state"], "running", self.logs())
        sid = sb["id"]

        shot = c.expect(200, "GET", "/v1/sandboxes/%s/screenshot" % sid, raw=True)
        self.assertEqual(shot.headers.get("content-type"), "image/png")
        self.assertEqual(_png_size(shot.body), (sb["display"]["width"], sb["display"]["height"]))

        r = c.expect(200, "POST", "/v1/sandboxes/%s/exec" % sid,
                     {"cmd": "id -u; hostname; grep CapEff /proc/self/status; pgrep -x xterm"}).body
        self.assertEqual(r["exit_code"], 0, r)
        lines = r["stdout"].split("\n")
        self.assertEqual(lines[0], "1000")
        self.assertEqual(lines[1], sid)
        self.assertEqual(lines[2].split()[1], "0000000000000000")
        self.assertTrue(lines[3].strip().isdigit(), "xterm is not running: %r" % r)

        # SIGTERM (podman stop): a drain, then every sandbox destroyed at
        # the grace, exit 0, well before podman's deadline would SIGKILL.
        t0 = time.monotonic()
        _podman("stop", "--time", "30", self.name, timeout=60)
        took = time.monotonic() - t0
        state = _podman("inspect", "--format", "{{.State.ExitCode}}", self.name).stdout.strip()
        logs = self.logs()
        self.assertEqual(state, "0", logs)
        self.assertLess(took, 30, "podman had to SIGKILL deskboxd:\n" + logs)
        self.assertIn("drain: SIGTERM", logs)
        self.assertIn("%s destroyed" % sid, logs)
        self.assertIn("stopped", logs.strip().split("\n")[-1])

    def test_default_create_is_the_full_session(self):
        c = self.start()
        sb = c.expect(201, "POST", "/v1/sandboxes", {}).body
        self.assertEqual(sb["state"], "running", self.logs())
        self.assertEqual(sb["desktop"]["session"], "full")
        base = "/v1/sandboxes/%s/" % sb["id"]
        w, h = sb["display"]["width"], sb["display"]["height"]
        # The very first screenshot: panel along the bottom, wallpaper above.
        img = png_decode(c.expect(200, "GET", base + "screenshot", raw=True).body)
        close_to, panel = session_checks.close_to, session_checks.PANEL
        self.assertTrue(close_to(pixel(img, w - 2, h - 2), panel), pixel(img, w - 2, h - 2))
        self.assertTrue(close_to(pixel(img, w // 2, h - 3), panel), pixel(img, w // 2, h - 3))
        top = pixel(img, 5, 5)
        self.assertNotEqual(top, (0, 0, 0), "no wallpaper")
        self.assertFalse(close_to(top, panel), top)

        apps = {a["id"]: a for a in c.expect(200, "GET", base + "apps").body["apps"]}
        self.assertIn("WebBrowser", apps["firefox-esr"]["categories"])
        self.assertIn("TerminalEmulator", apps["debian-xterm"]["categories"])
        self.assertIn("TextEditor", apps["org.xfce.mousepad"]["categories"])

        # The browser on a local page: its window's title and the page's red.
        c.put_file(sb["id"], "/home/user/red.html",
                   b"<html><head><title>IMAGE-RED</title></head>"
                   b"<body style='margin:0;background:#ff0000'></body></html>")
        r = c.request("POST", base + "open", {"target": "/home/user/red.html", "timeout_ms": 120000},
                      timeout=150)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["app"], "firefox-esr")

        def red():
            img = png_decode(c.expect(200, "GET", base + "screenshot", raw=True).body)
            return pixel(img, w // 2, h // 2) == (255, 0, 0)
        self.assertTrue(wait_until(red, 90, 0.5), "the red page never showed\n" + self.logs())
        titles = lambda: [x["title"] for x in c.expect(200, "GET", base + "windows").body["windows"]]
        self.assertTrue(wait_until(lambda: any("IMAGE-RED" in t for t in titles()), 60), titles())

    def test_without_sys_admin(self):
        """Without SYS_ADMIN no sandbox starts, the error says why, and the
        server keeps serving."""
        _podman("run", "--detach", "--name", self.name, *_rlimit_args(),
                "--cap-drop", "ALL", "--cap-add", ",".join(c for c in CAPS if c != "SYS_ADMIN"),
                "--publish", "127.0.0.1:%d:8080" % self.port,
                "--env", "DESKBOX_TOKEN=" + self.token, IMAGE)
        c = Client("127.0.0.1", self.port, self.token, timeout=30)
        until(lambda: _ok(c), timeout=60, what="deskboxd answers /healthz")
        r = c.request("POST", "/v1/sandboxes", {"apps": ["xterm"]})
        self.assertGreaterEqual(r.status, 500, r)
        self.assertIn("Operation not permitted", r.body["error"]["message"])
        self.assertEqual(c.expect(200, "GET", "/v1/sandboxes").body["sandboxes"], [])


def _ok(c):
    try:
        return c.request("GET", "/healthz", token=None).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
