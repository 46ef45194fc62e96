"""test_session.py - desktop sessions and applications by name, against a
real deskboxd with real Xvfb, openbox, tint2, Firefox ESR, mousepad, xterm,
pcmanfm and MuPDF in the jail.

- A full session (deskboxd's default) has its panel and wallpaper in the
  first screenshot, where a bare one is black; its window manager answers
  EWMH (_NET_SUPPORTED on the root window, read with xprop in the sandbox);
  the screen never blanks (xset q: saver timeout 0, DPMS disabled).
- GET /apps lists the terminal, editor and browser; apps/launch answers once
  the app's window is mapped (it is in windows.list at that moment).
- open: a local HTML page (a solid red body) opens in Firefox and is red in
  the screenshot; a PDF opens in MuPDF; an http:// URL served by this test
  on 127.0.0.1 opens in the browser through the sandbox's egress proxy (the
  browser's proxy comes from the sandbox's environment), and the egress log
  shows the request.
- The session's packages (rootfs/session-packages) are installed on the
  host (make) and read by scripts/deps.sh, rootfs/build.sh (the image
  rootfs) and deploy/image/build.sh (the container image).
- Bad input: an unknown app is a 404 naming it, a bad target a 400, a
  missing file a 404, unknown fields a 400; the server keeps serving.
"""

import http.server
import os
import re
import shlex
import shutil
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

from deskbox import API, ServerTestCase, wait_until
from test_desktop_api import png_decode, pixel

PANEL = (0x1f, 0x24, 0x30)       # desktop/session.h SESSION_PANEL_RGB
HOST = "web.session.test"


def close_to(rgb, want, tol=12):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


def minimal_pdf(text="deskbox"):
    """A valid one-page PDF (xref offsets computed) showing text."""
    stream = b"BT /F1 48 Tf 72 700 Td (" + text.encode() + b") Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offs = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (b"<html><head><title>GREEN-ORIGIN</title></head>"
                b"<body style='margin:0;background:#00c000'></body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class _Origin(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class SessionTest(ServerTestCase):
    """One deskboxd at its own defaults for sessions (full), with a test
    name for this test's web server."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-session-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.origin = _Origin(("127.0.0.1", 0), _Page)
        threading.Thread(target=cls.origin.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.origin.server_close)
        cls.addClassCleanup(cls.origin.shutdown)
        hosts = os.path.join(cls.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 %s\n" % HOST)
        cls.server_options = {"desktop_session": "full", "egress_hosts": hosts}
        super().setUpClass()

    # -- helpers

    def path(self, sb, tail):
        return "%s/%s/%s" % (API, sb["id"], tail)

    def shot(self, sb):
        r = self.server.expect(200, "GET", self.path(sb, "screenshot"), raw=True)
        return png_decode(r.body)

    def windows(self, sb):
        return self.server.expect(200, "GET", self.path(sb, "windows")).body["windows"]

    def launch(self, sb, status=200, **body):
        r = self.server.request("POST", self.path(sb, "apps/launch"), body, timeout=150)
        self.assertEqual(r.status, status, r.body)
        return r.body

    def open(self, sb, target, status=200, **extra):
        body = dict(extra, target=target)
        # A browser's cold start takes tens of seconds on a loaded machine.
        body.setdefault("timeout_ms", 120000)
        r = self.server.request("POST", self.path(sb, "open"), body, timeout=150)
        self.assertEqual(r.status, status, r.body)
        return r.body

    def wait_shot(self, sb, pred, what, timeout=90):
        last = [None]

        def ok():
            last[0] = self.shot(sb)
            return pred(last[0])
        self.assertTrue(wait_until(ok, timeout, 0.3), "the screenshot never showed " + what)
        return last[0]

    # -- sessions

    def test_full_is_the_default_and_its_first_screenshot_has_panel_and_wallpaper(self):
        full = self.sandbox()
        self.assertEqual(full["desktop"]["session"], "full")
        self.assertEqual(full["desktop"]["dpi"], 96)
        bare = self.sandbox(desktop={"session": "bare"})
        self.assertEqual(bare["desktop"]["session"], "bare")
        w, h = full["display"]["width"], full["display"]["height"]
        img = self.shot(full)      # the very first one: no waiting
        self.assertTrue(close_to(pixel(img, w - 2, h - 2), PANEL), pixel(img, w - 2, h - 2))
        self.assertTrue(close_to(pixel(img, w // 2, h - 3), PANEL), pixel(img, w // 2, h - 3))
        top = pixel(img, 5, 5)
        self.assertNotEqual(top, (0, 0, 0), "no wallpaper")
        self.assertFalse(close_to(top, PANEL), top)
        # Bare: the black screen of before, everywhere.
        img = self.shot(bare)
        for x, y in ((5, 5), (w // 2, h - 3), (w - 2, h - 2)):
            self.assertEqual(pixel(img, x, y), (0, 0, 0), (x, y))
        # The panel is no client of the agent: it is gone in bare.
        r = self.server.exec(bare["id"], cmd="pgrep -x tint2; pgrep -x hsetroot; true")
        self.assertEqual(r["stdout"], "", r)

    def test_full_window_manager_answers_ewmh(self):
        sb = self.sandbox(desktop={"session": "full", "dpi": 120})
        self.assertEqual(sb["desktop"]["dpi"], 120)
        r = self.server.exec(sb["id"], cmd="xprop -root _NET_SUPPORTED _NET_SUPPORTING_WM_CHECK "
                             "RESOURCE_MANAGER")
        self.assertEqual(r["exit_code"], 0, r)
        for atom in ("_NET_ACTIVE_WINDOW", "_NET_CLIENT_LIST", "_NET_WM_STATE",
                     "_NET_CLOSE_WINDOW", "_NET_WM_STATE_MAXIMIZED_VERT"):
            self.assertIn(atom, r["stdout"])
        self.assertIn("_NET_SUPPORTING_WM_CHECK(WINDOW): window id #", r["stdout"])
        self.assertIn("Xft.dpi:\\t120", r["stdout"])   # xprop escapes the tab
        # Screen blanking off: no saver timeout, no DPMS (xset, x11-xserver-utils).
        q = self.server.exec(sb["id"], cmd="xset q")
        self.assertEqual(q["exit_code"], 0, q)
        self.assertRegex(q["stdout"], r"timeout:\s+0\b")
        # Xvfb -dpms: no DPMS extension at all (or, elsewhere, DPMS off).
        self.assertRegex(q["stdout"], r"DPMS is Disabled|does not have the DPMS Extension")
        # The browser's profile and the default applications are the user's
        # files, written as the user even where the agent has a uid of its own.
        r = self.server.exec(sb["id"], cmd="stat -c '%u:%g %n' ~/.mozilla/firefox/profiles.ini "
                             "~/.mozilla/firefox/deskbox.default/user.js ~/.config/mimeapps.list; "
                             "grep -c network.proxy.type ~/.mozilla/firefox/deskbox.default/user.js")
        self.assertEqual(r["exit_code"], 0, r)
        lines = r["stdout"].splitlines()
        self.assertEqual(len(lines), 4, r)
        for line in lines[:3]:
            self.assertTrue(line.startswith("1000:1000 "), line)
        self.assertEqual(lines[3], "1")

    def test_wm_false_is_bare_and_full_needs_a_window_manager(self):
        sb = self.sandbox(wm=False)
        self.assertEqual(sb["desktop"]["session"], "bare")
        r = self.server.request("POST", API, {"wm": False, "desktop": {"session": "full"}})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("window manager", r.body["error"]["message"])

    # -- applications

    def test_apps_lists_terminal_editor_browser(self):
        sb = self.sandbox()
        apps = {a["id"]: a for a in self.server.expect(200, "GET", self.path(sb, "apps")).body["apps"]}
        self.assertIn("TerminalEmulator", apps["debian-xterm"]["categories"])
        self.assertIn("TextEditor", apps["org.xfce.mousepad"]["categories"])
        self.assertIn("WebBrowser", apps["firefox-esr"]["categories"])
        self.assertEqual(apps["firefox-esr"]["name"], "Firefox ESR")
        self.assertIn("%u", apps["firefox-esr"]["exec"])
        self.assertEqual(set(apps["mupdf"]), {"id", "name", "categories", "exec", "terminal",
                                               "no_display"})

    def test_launch_answers_once_the_window_is_mapped(self):
        sb = self.sandbox()
        r = self.launch(sb, app="org.xfce.mousepad", timeout_ms=120000)
        self.assertEqual(r["app"], "org.xfce.mousepad")
        self.assertGreater(r["pid"], 1)
        # No waiting: the window it names is managed and listed already.
        wins = {w["id"]: w for w in self.windows(sb)}
        self.assertIn(r["window"], wins)
        self.assertEqual(wins[r["window"]]["pid"], r["pid"])
        self.assertIn("Mousepad", wins[r["window"]]["title"])
        # args reach the program: xterm's title.
        r = self.launch(sb, app="debian-xterm", args=["-title", "launched-with-args"], timeout_ms=120000)
        self.assertEqual(r["title"], "launched-with-args")

    def test_open_local_html_in_the_browser_and_a_pdf_in_the_viewer(self):
        sb = self.sandbox()
        self.server.put_file(sb["id"], "/home/user/red page.html",
                             b"<html><head><title>RED-PAGE</title></head>"
                             b"<body style='margin:0;background:#ff0000'></body></html>")
        r = self.open(sb, "/home/user/red page.html")
        self.assertEqual((r["app"], r["mime_type"]), ("firefox-esr", "text/html"))
        w, h = sb["display"]["width"], sb["display"]["height"]
        self.wait_shot(sb, lambda img: pixel(img, w // 2, h // 2) == (255, 0, 0) and
                       pixel(img, w // 3, h * 2 // 3) == (255, 0, 0), "the red page")
        self.assertTrue(wait_until(lambda: any("RED-PAGE" in x["title"] for x in self.windows(sb)), 60),
                        self.windows(sb))
        # No first-run page, no default-browser bar: one tab, the page.
        self.assertFalse(any("Welcome" in x["title"] or "Privacy" in x["title"]
                             for x in self.windows(sb)), self.windows(sb))

        self.server.put_file(sb["id"], "/home/user/report.pdf", minimal_pdf())
        r = self.open(sb, "file:///home/user/report.pdf")
        self.assertEqual((r["app"], r["mime_type"]), ("mupdf", "application/pdf"))
        self.assertIn("report.pdf", r["title"])
        self.assertFalse(r["handed_off"])

    def test_open_http_url_in_the_browser_through_the_egress_proxy(self):
        sb = self.sandbox(network={"allow": [HOST]})
        url = "http://%s:%d/page" % (HOST, self.origin.server_address[1])
        r = self.open(sb, url)
        self.assertEqual((r["app"], r["mime_type"], r["target"]),
                         ("firefox-esr", "x-scheme-handler/http", url))
        w, h = sb["display"]["width"], sb["display"]["height"]
        self.wait_shot(sb, lambda img: close_to(pixel(img, w // 2, h // 2), (0, 0xc0, 0)),
                       "the green page from the test's server")
        log = self.server.expect(200, "GET", self.path(sb, "network/log")).body["records"]
        self.assertTrue(any(x["host"] == HOST and x["allowed"] for x in log), log)
        # A second URL goes to the running browser (no "already running").
        r = self.open(sb, url + "?again")
        self.assertEqual(r["app"], "firefox-esr")
        self.assertFalse(any("Close Firefox" in x["title"] for x in self.windows(sb)))
        # No update checks, telemetry or other background fetches: every
        # connection the browser made through the proxy was to the page's
        # host (anything else would be logged here, refused).
        time.sleep(3)
        log = self.server.expect(200, "GET", self.path(sb, "network/log")).body["records"]
        self.assertEqual(sorted({x["host"] for x in log}), [HOST], sorted({(x["host"], x.get("path", x.get("url"))) for x in log}))

    def test_bad_input(self):
        sb = self.sandbox()
        r = self.launch(sb, 404, app="no-such-app")
        self.assertIn("no-such-app", r["error"]["message"])
        self.assertEqual(r["error"]["code"], "not_found")
        for body in ({"app": "../../etc/passwd"}, {"app": ""}, {"app": 7},
                     {"app": "debian-xterm", "args": "x"}, {"app": "debian-xterm", "args": [1]},
                     {"app": "debian-xterm", "timeout_ms": 0},
                     {"app": "debian-xterm", "timeout_ms": 120001}, {"app": "debian-xterm", "bogus": 1},
                     {}):
            r = self.server.request("POST", self.path(sb, "apps/launch"), body)
            self.assertEqual(r.status, 400, (body, r.body))
        for target in ("relative/path.pdf", "ftp://example.com/x", "", "javascript:alert(1)",
                       "file://otherhost/etc/passwd"):
            r = self.open(sb, target, 400)
            self.assertIn("target", r["error"]["message"])
        r = self.open(sb, "/home/user/nothing-here.pdf", 404)
        self.assertIn("nothing-here.pdf", r["error"]["message"])
        r = self.open(sb, "/etc/hostname.unknown-type-here", 404)
        self.server.put_file(sb["id"], "/home/user/blob.bin-x", b"\0\1")
        r = self.open(sb, "/home/user/blob.bin-x", 400)
        self.assertIn("no installed application", r["error"]["message"])
        r = self.server.request("POST", self.path(sb, "open"), {"target": "/home/user", "x": 1})
        self.assertEqual(r.status, 400, r.body)
        # The desktop and the server still serve.
        self.assertEqual(self.launch(sb, app="debian-xterm", timeout_ms=120000)["app"], "debian-xterm")
        self.server.healthz()

    def test_launch_timeout_says_so(self):
        sb = self.sandbox()
        # An application whose program never shows a window.
        self.server.put_file(sb["id"], "/home/user/.local/share/applications/sleeper.desktop",
                             b"[Desktop Entry]\nType=Application\nName=Sleeper\nExec=sleep 30\n")
        t0 = time.monotonic()
        r = self.launch(sb, 504, app="sleeper", timeout_ms=500)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertIn("no window within 500 ms", r["error"]["message"])
        self.assertIn("still running", r["error"]["message"])
        # One that fails at once says so, with its status.
        self.server.put_file(sb["id"], "/home/user/.local/share/applications/failer.desktop",
                             b"[Desktop Entry]\nType=Application\nName=Failer\nExec=false\n")
        r = self.launch(sb, 500, app="failer")
        self.assertIn("exited with status 1", r["error"]["message"])
        # The user's entries are listed beside the system's.
        ids = [a["id"] for a in self.server.expect(200, "GET", self.path(sb, "apps")).body["apps"]]
        self.assertIn("sleeper", ids)


class SessionPackagesTest(unittest.TestCase):
    """The full session's packages are one list, rootfs/session-packages,
    that the three places installing a desktop read: scripts/deps.sh (the
    last line of its runtime set, which `make` installs on the host for the
    `host` rootfs), rootfs/build.sh (the `image` rootfs) and
    deploy/image/build.sh (the container image); they are installed here,
    so the three cannot drift apart."""

    def test_make_rootfs_and_image_install_the_session(self):
        repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

        def read(*path):
            with open(os.path.join(repo, *path)) as f:
                return f.read()
        session = " ".join(l for l in read("rootfs", "session-packages").splitlines()
                           if not l.startswith("#")).split()
        for pkg in ("tint2", "hsetroot", "dbus-daemon", "firefox-esr", "mousepad", "pcmanfm",
                    "mupdf", "xdg-utils"):
            self.assertIn(pkg, session)
        # Each script's list, as the shell expands it.
        env = dict(os.environ, LC_ALL="C")
        for script, var in (("scripts/deps.sh", "runtime"), ("rootfs/build.sh", "pkgs"),
                            ("deploy/image/build.sh", "pkgs")):
            text = read(script)
            m = re.search(r"^%s=(\"?)((?:.*\\\n)*(?:.*\n)*?.*)\1$" % var, text, re.M)
            self.assertTrue(m, script)
            self.assertIn("session-packages", m.group(0), script + " does not read the shared list")
            # Run the assignment where the script lives, as the script would.
            here = os.path.join(repo, os.path.dirname(script))
            r = subprocess.run(["sh", "-c", 'repo=%s; set -- %s; %s\nprintf "%%s" "$%s"'
                                % (shlex.quote(repo), shlex.quote(os.path.join(repo, script)),
                                   m.group(0), var)],
                               cwd=here, env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            listed = set(r.stdout.replace(",", " ").split())
            self.assertEqual([p for p in session if p not in listed], [], "missing from " + script)
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n"] + session,
                           capture_output=True, text=True)
        self.assertEqual(sorted(l.split()[0] for l in r.stdout.splitlines() if l.endswith(" installed")),
                         sorted(session), r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
