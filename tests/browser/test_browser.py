#!/usr/bin/python3
"""The browser UI end to end: a real deskboxd, a real sandbox with Xvfb and
an xterm, and a real headless Chromium driven by playwright-core
(tests/browser/e2e.mjs) through the dashboard and the viewer.

What the browser does is checked where it lands, from here, through the API:
text typed on the VNC canvas must write a file in the sandbox (exec), a
view-only link must not (its typing is dropped by the server), clipboard text
must cross both ways (UTF-8 beyond Latin-1 too), the terminal panel's shell
must run commands, and the sandbox destroyed from the dashboard must be gone.
What the API does must show on the page: the agent's pointer moves drawn at
their spot, a resize in the size label.

Needs: node (>= 18), Debian's chromium (/usr/bin/chromium, or $CHROMIUM),
and web/build.sh run (web/node_modules with playwright-core, web/vendor/).
Screenshots of every step, the downloaded screenshots and the browser side's
log (e2e.log) go to tests/artifacts/browser/ ($DESKBOX_ARTIFACTS).

    DESKBOX_BUILD=build python3 tests/browser/test_browser.py

Cleans up on any failure: the browser (by its own profile directory), every
sandbox of the server, the server (leak-checked by the harness), temp dirs.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from deskbox import API, REPO, APIError, ServerTestCase, wait_until  # noqa: E402

WEB = os.path.join(REPO, "web")
E2E = os.path.join(HERE, "e2e.mjs")
ARTIFACTS = os.environ.get("DESKBOX_ARTIFACTS") or os.path.join(REPO, "tests", "artifacts", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = os.environ.get("NODE") or shutil.which("node") or "/usr/bin/node"
TOTAL_S = float(os.environ.get("DESKBOX_E2E_TIMEOUT", "300"))


def _missing():
    """What the browser test needs and this machine lacks (strings)."""
    out = []
    if not os.access(NODE, os.X_OK):
        out.append("node (apt-get install nodejs)")
    if not os.access(CHROMIUM, os.X_OK):
        out.append("%s (apt-get install chromium)" % CHROMIUM)
    if not os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")):
        out.append("web/node_modules/playwright-core (sh web/build.sh)")
    if not os.path.isfile(os.path.join(WEB, "vendor", "novnc", "core", "rfb.js")):
        out.append("web/vendor/ (sh web/build.sh)")
    return out


def _pids_with_arg(text):
    """Pids (not ours) whose command line contains text: how the browser is
    found (by its unique profile directory), whichever process group it
    ended up in."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(name))
        except OSError:
            pass
    return found


class BrowserUITest(ServerTestCase):
    server_options = {"max_sandboxes": 4, "web": WEB}

    @classmethod
    def setUpClass(cls):
        missing = _missing()
        if missing:
            if os.environ.get("DESKBOX_BROWSER_OPTIONAL"):
                raise unittest.SkipTest("missing: " + ", ".join(missing))
            raise AssertionError("the browser test needs: " + "; ".join(missing))
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.proc = None
        self.profile = tempfile.mkdtemp(prefix="deskbox-browser-")
        self.node_log = os.path.join(ARTIFACTS, "e2e.log")
        self.addCleanup(self._cleanup)

    # ------------------------------------------------------------ cleanup

    def _cleanup(self):
        """Browser first (it holds WebSockets to the sandboxes), then every
        sandbox of the server, proven gone, then the temp dirs."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = _pids_with_arg(self.profile)
            for p in pids:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
            if not wait_until(lambda: not _pids_with_arg(self.profile), 5):
                continue
            break
        left = _pids_with_arg(self.profile)
        try:
            r = self.server.request("GET", API, timeout=10)
            ids = [s["id"] for s in r.body.get("sandboxes", [])] if r.status == 200 else []
        except Exception:
            ids = []
        for sid in ids:
            self.delete_checked(sid)
        shutil.rmtree(self.profile, ignore_errors=True)
        self.assertEqual(left, [], "browser processes left: %r" % left)

    # ------------------------------------------------------------ the checks e2e.mjs asks for

    def _exec(self, sid, cmd):
        return self.server.exec(sid, cmd=cmd, timeout_ms=10000)

    def answer(self, req):
        """One question from e2e.mjs: returns (ok, why or extra fields)."""
        what, sid = req.get("ask"), req.get("sandbox")
        if what == "created":
            sb = self.server.get(sid)
            self.server._track(sb)
            problems = []
            if sb.get("state") != "running":
                problems.append("state %r" % sb.get("state"))
            if sb.get("display") != {"width": req["width"], "height": req["height"]}:
                problems.append("display %r" % sb.get("display"))
            if sb.get("limits", {}).get("memory_mb") != req["memory_mb"]:
                problems.append("limits %r" % sb.get("limits"))
            if sb.get("timeout_s") != req["timeout_s"]:
                problems.append("timeout_s %r" % sb.get("timeout_s"))
            return (not problems), "; ".join(problems)
        if what == "file_has":
            last = {}

            def has():
                last["r"] = self._exec(sid, "cat %s" % req["path"])
                return last["r"]["exit_code"] == 0 and last["r"]["stdout"] == req["text"]
            if wait_until(has, req.get("timeout", 15), 0.25):
                return True, ""
            return False, "%s is not %r: %r" % (req["path"], req["text"], last.get("r"))
        if what == "file_absent":
            time.sleep(req.get("wait", 3))
            r = self._exec(sid, "test -e %s && cat %s" % (req["path"], req["path"]))
            if r["exit_code"] == 0:
                return False, "%s exists (view-only input got through): %r" % (req["path"], r["stdout"])
            return True, ""
        if what == "clipboard_is":
            last = {}

            def same():
                last["r"] = self.server.request("GET", "%s/%s/clipboard" % (API, sid), timeout=10)
                return last["r"].status == 200 and isinstance(last["r"].body, dict) \
                    and last["r"].body.get("text") == req["text"]
            if wait_until(same, req.get("timeout", 15), 0.25):
                return True, ""
            r = last.get("r")
            return False, "the desktop's clipboard is %r" % ((r.status, r.body) if r else None,)
        if what == "set_clipboard":
            r = self.server.request("PUT", "%s/%s/clipboard" % (API, sid), body={"text": req["text"]})
            return r.status == 200, "PUT clipboard: %r %r" % (r.status, r.body)
        if what == "mouse_move":
            r = self.server.request("POST", "%s/%s/actions" % (API, sid),
                                    body={"action": "mouse_move", "coordinate": [req["x"], req["y"]]})
            return r.status == 200, "mouse_move: %r %r" % (r.status, r.body)
        if what == "resize_display":
            r = self.server.request("PUT", "%s/%s/display" % (API, sid),
                                    body={"width": req["width"], "height": req["height"]})
            return r.status == 200, "PUT display: %r %r" % (r.status, r.body)
        if what == "restart_desktop":
            r = self.server.request("POST", "%s/%s/desktop/restart" % (API, sid), body={}, timeout=60)
            return r.status == 200, "desktop/restart: %r %r" % (r.status, r.body)
        if what == "gone":
            r = self.server.request("GET", "%s/%s" % (API, sid))
            if r.status != 404:
                return False, "GET after destroy: %r %r" % (r.status, r.body)
            self.server.assert_sandbox_gone(sid, grace=5.0)
            return True, ""
        return False, "unknown question %r" % what

    # ------------------------------------------------------------ the test

    def test_dashboard_viewer_terminal_viewonly(self):
        os.makedirs(ARTIFACTS, exist_ok=True)
        for f in os.listdir(ARTIFACTS):  # this test's own directory: last run's files
            if f.endswith((".png", ".log")):
                os.unlink(os.path.join(ARTIFACTS, f))
        env = dict(os.environ)
        env.update(DESKBOX_URL=self.server.url, DESKBOX_TOKEN=self.server.token,
                   CHROMIUM=CHROMIUM, DESKBOX_ARTIFACTS=ARTIFACTS,
                   DESKBOX_PROFILE=self.profile,
                   DESKBOX_E2E_TIMEOUT_MS=str(int((TOTAL_S - 20) * 1000)))
        log = open(self.node_log, "wb")
        self.addCleanup(log.close)
        self.proc = subprocess.Popen([NODE, E2E], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                     start_new_session=True)
        lines = queue.Queue()

        def reader():
            for raw in self.proc.stdout:
                lines.put(raw)
            lines.put(None)
        threading.Thread(target=reader, daemon=True).start()

        deadline = time.monotonic() + TOTAL_S
        failures = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("e2e.mjs did not finish within %.0f s; log %s:\n%s"
                          % (TOTAL_S, self.node_log, self._tail()))
            try:
                raw = lines.get(timeout=left)
            except queue.Empty:
                continue
            if raw is None:
                break
            log.write(raw)
            log.flush()
            text = raw.decode(errors="replace").rstrip("\n")
            if not text.startswith("@@ "):
                sys.stderr.write("  " + text + "\n")
                continue
            req = json.loads(text[3:])
            try:
                ok, why = self.answer(req)
            except (APIError, OSError, KeyError) as e:
                ok, why = False, "%s: %s" % (type(e).__name__, e)
            if not ok:
                failures.append("%s: %s" % (req.get("ask"), why))
            sys.stderr.write("  [python] %s -> %s%s\n" % (req.get("ask"), "ok" if ok else "FAILED: ",
                                                         "" if ok else why))
            try:
                self.proc.stdin.write((json.dumps({"ok": ok, "why": why}) + "\n").encode())
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        rc = self.proc.wait(30)
        self.assertEqual(failures, [], "checks failed; screenshots in %s" % ARTIFACTS)
        self.assertEqual(rc, 0, "e2e.mjs exited with %s; screenshots in %s; log %s:\n%s"
                         % (rc, ARTIFACTS, self.node_log, self._tail()))

    def _tail(self, n=40):
        try:
            with open(self.node_log, "rb") as f:
                return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def main():
    import deskbox
    deskbox.install_signal_cleanup()
    suite = unittest.TestLoader().loadTestsFromTestCase(BrowserUITest)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    bad = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = max(0, result.testsRun - bad - skipped)
    print("%d passed, %d failed, %d skipped" % (passed, bad, skipped), flush=True)
    return 1 if bad or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
