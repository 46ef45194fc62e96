#!/usr/bin/python3
"""bench_desktop.py - how fast and how small a sandbox's desktop is, beside
the common agent stack (scrot, xdotool) on the same Xvfb.

Starts its own deskboxd (tests/integration/deskbox.py) and prints one table,
measured through the REST API on loopback with one keep-alive connection at
1280x800: screenshot JPEG and PNG, the 304 path, a left_click round trip,
typing 100 and 1000 ASCII characters and 200 CJK characters in one action,
a double_click and a key chord round trip, create -> first
screenshot (cold: no pool) beside its floor, Xvfb alone started as the
agent starts it (same flags, its 1920x1080 maximum screen, no jail, run
after each create so both see the same load; Xvfb's own start includes
its sh + xkbcomp keymap compile, which sandboxes skip: server/keymap.c),
and per idle desktop sandbox its memory (PSS summed over the
sandbox's init and every descendant, found through /proc/*/stat) and CPU
over 5 s.

The common stack runs inside the same sandbox against the same Xvfb: a small
python3 script there times `scrot` + base64, `xdotool mousemove X Y click 1`
and `xdotool type --delay 12` of 100 characters with time.perf_counter
around subprocess.run, so exec's own overhead is not counted. Ratios are
common stack / deskbox. Nothing is asserted about speed; the targets are
printed beside.

Environment: DESKBOX_BUILD (which deskboxd), BENCH_SCALE (default 1.0:
multiplies every sample count; the minimums stay at 50, or 20 for creates).
"""

import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import cpu_ticks, percentile, pss_kb, tree_pids  # noqa: E402
from benchlib import ApiBench, scaled, serve, timed_loop  # noqa: E402

SCREEN = (1280, 800)
EMPTY = (1270, 790)          # a spot no window covers: input goes nowhere
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Real content to encode: two xterms full of text, no cursor blink.
APPS = ["xterm -geometry 110x50+0+0 -e sh -c 'ls -l /usr/bin | head -60; exec sleep 1d'",
        "xterm -geometry 90x40+680+60 -e sh -c 'cat /usr/include/stdio.h; exec sleep 1d'"]

# Timed inside the sandbox: the common stack, each run with subprocess.run.
COMMON_STACK = r'''
import base64, json, subprocess, sys, time
n_shot, n_click, n_type, text = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def run(argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode:
        sys.exit("%r failed: %s" % (argv, r.stderr.decode(errors="replace")))
    return r.stdout
def times(n, fn):
    fn()                                  # warm up
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out
def shot():
    run(["scrot", "-o", "/tmp/s.png"])
    if not run(["base64", "/tmp/s.png"]):
        sys.exit("base64 gave nothing")
out = {
    "shot": times(n_shot, shot),
    "click": times(n_click, lambda: run(["xdotool", "mousemove", "%X%", "%Y%", "click", "1"])),
    "type": times(n_type, lambda: run(["xdotool", "type", "--delay", "12", text])),
}
print(json.dumps(out))
'''


def n(base, minimum=50):
    return scaled(base, minimum)


def ascii_text(count, seed):
    rnd = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " .,;:-_!?()[]{}'\"/\\@#$%&*+=<>~"
    return "".join(rnd.choice(alphabet) for _ in range(count))


def cjk_text(count, seed):
    """count characters from the common CJK block: more distinct ones than a
    keymap has spare keycodes, as real Chinese or Japanese text has."""
    rnd = random.Random(seed)
    return "".join(chr(rnd.randrange(0x4E00, 0x9FA0)) for _ in range(count))


def xvfb_ready():
    """Xvfb alone, as desktop/xserver.c starts it (its flags, the agent's
    default 1920x1080 maximum, -dpi 96, no GLX): exec to the display
    number on -displayfd, in seconds."""
    r, w = os.pipe()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p = subprocess.Popen(["Xvfb", ":%d" % (300 + os.getpid() % 500), "-displayfd", str(w),
                              "-nolisten", "tcp", "-nolisten", "local", "-s", "0", "-dpms",
                              "-noreset", "-dpi", "96", "-screen", "0", "1920x1080x24",
                              "-extension", "GLX"],
                             pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=tmp)
        os.close(w)
        try:
            if not os.read(r, 16):
                raise SystemExit("Xvfb alone did not start")
            return time.perf_counter() - t0
        finally:
            os.close(r)
            p.kill()
            p.wait()


class Bench(ApiBench):
    def shot(self, sid, query="", headers=None, status=200):
        r = self.api.request("GET", self.path(sid, "screenshot") + query, headers=headers, raw=True)
        if r.status != status:
            raise SystemExit("screenshot%s: %s %r" % (query, r.status, r.body[:200]))
        return r

    def act(self, sid, body):
        r = self.api.request("POST", self.path(sid, "actions"), body, timeout=120)
        if r.status != 200:
            raise SystemExit("actions %r: %s %r" % (str(body)[:80], r.status, r.body))
        return r.body

    def wait_windows(self, sid, count, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.api.request("GET", self.path(sid, "windows"))
            if r.status == 200 and len(r.body["windows"]) >= count:
                return
            time.sleep(0.1)
        raise SystemExit("the bench's xterms never showed up")

    def settle(self, sid, timeout=10):
        """Wait until two screenshots in a row have the same etag."""
        last = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            tag = self.shot(sid).headers["etag"]
            if tag == last:
                return tag
            last = tag
            time.sleep(0.2)
        return last

    # -- deskbox through the API

    def api_figures(self, sid):
        t, out = self.table, {}
        out["jpeg"] = timed_loop(n(200), lambda: self.shot(sid, "?format=jpeg"))
        size = len(self.shot(sid, "?format=jpeg").body)
        t.add("screenshot JPEG q75", len(out["jpeg"]), out["jpeg"], "ms", "<= 10 ms", 1000)
        t.note("  JPEG size", "%.0f KB" % (size / 1000.0))

        out["png"] = timed_loop(n(100), lambda: self.shot(sid, "?format=png"))
        size = len(self.shot(sid, "?format=png").body)
        t.add("screenshot PNG", len(out["png"]), out["png"], "ms", "<= 25 ms", 1000)
        t.note("  PNG size", "%.0f KB" % (size / 1000.0))

        tag = self.settle(sid)
        hdr = {"If-None-Match": tag}
        out["304"] = timed_loop(n(500), lambda: self.shot(sid, "", hdr, 304))
        t.add("screenshot 304 (If-None-Match)", len(out["304"]), out["304"], "ms", "<= 1 ms", 1000)

        click = {"action": "left_click", "coordinate": list(EMPTY)}
        out["click"] = timed_loop(n(300), lambda: self.act(sid, click))
        t.add("left_click round trip", len(out["click"]), out["click"], "ms", "<= 2 ms", 1000)

        self.act(sid, {"action": "mouse_move", "coordinate": list(EMPTY)})
        t100 = {"action": "type", "text": ascii_text(100, 1)}
        out["type100"] = timed_loop(n(100), lambda: self.act(sid, t100))
        t.add("type 100 ASCII chars", len(out["type100"]), out["type100"], "ms", "", 1000)
        t1000 = {"action": "type", "text": ascii_text(1000, 2)}
        out["type1000"] = timed_loop(n(50), lambda: self.act(sid, t1000))
        t.add("type 1000 ASCII chars", len(out["type1000"]), out["type1000"], "ms",
              "<= 50 ms", 1000)
        # Characters no keymap has: every run binds spare keycodes first.
        cjk = {"action": "type", "text": cjk_text(200, 4)}
        out["type_cjk"] = timed_loop(n(30, 20), lambda: self.act(sid, cjk))
        t.add("type 200 CJK chars", len(out["type_cjk"]), out["type_cjk"], "ms", "", 1000)
        dbl = {"action": "double_click", "coordinate": list(EMPTY)}
        out["dblclick"] = timed_loop(n(100), lambda: self.act(sid, dbl))
        t.add("double_click round trip", len(out["dblclick"]), out["dblclick"], "ms", "", 1000)
        chord = {"action": "key", "text": "ctrl+shift+F7"}
        out["chord"] = timed_loop(n(200), lambda: self.act(sid, chord))
        t.add("key chord round trip (ctrl+shift+F7)", len(out["chord"]), out["chord"], "ms",
              "", 1000)
        return out

    # -- the common stack, inside the sandbox

    def common_figures(self, sid, ours):
        t = self.table
        n_shot, n_click, n_type = n(30, 20), n(50), scaled(5, 5)
        script = COMMON_STACK.replace("%X%", str(EMPTY[0])).replace("%Y%", str(EMPTY[1]))
        self.api.put_file(sid, "/tmp/common_stack.py", script)
        text = ascii_text(100, 3)
        res = self.api.exec(sid, argv=["python3", "/tmp/common_stack.py", str(n_shot),
                                       str(n_click), str(n_type), text],
                            timeout_ms=600000)
        if res["exit_code"] != 0:
            raise SystemExit("common stack script failed: %r" % res)
        common = json.loads(res["stdout"])
        t.add("scrot + base64 (in sandbox)", n_shot, common["shot"], "ms", "", 1000)
        t.add("xdotool mousemove+click 1", n_click, common["click"], "ms", "", 1000)
        t.add("xdotool type --delay 12, 100 ch", n_type, common["type"], "ms", "", 1000)

        def ratio(name, theirs, mine):
            a, b = percentile(theirs, 50), percentile(mine, 50)
            t.note(name, "%.0fx (p50 %.1f ms / %.2f ms)" % (a / b, a * 1000, b * 1000))
        t.note("ratios, common stack / deskbox", "")
        ratio("  screenshot: scrot+base64 / PNG", common["shot"], ours["png"])
        ratio("  screenshot: scrot+base64 / JPEG", common["shot"], ours["jpeg"])
        ratio("  click: xdotool / left_click", common["click"], ours["click"])
        ratio("  type 100: xdotool / type", common["type"], ours["type100"])

    # -- creating desktops, and what idle ones cost

    def create_figures(self):
        t = self.table
        for _ in range(2):  # warm up
            self.api.delete(self.api.create()["id"])
        firsts, deletes, floor = [], [], []
        for _ in range(n(20, 20)):
            t0 = time.perf_counter()
            sb = self.api.create()
            shot = self.shot(sb["id"])
            firsts.append(time.perf_counter() - t0)
            if not shot.body.startswith(b"\x89PNG"):
                raise SystemExit("the first screenshot is not a PNG")
            t0 = time.perf_counter()
            self.api.delete(sb["id"])
            deletes.append(time.perf_counter() - t0)
            floor.append(xvfb_ready())
        t.add("create -> first screenshot", len(firsts), firsts, "ms", "<= 1.3x floor", 1000)
        t.add("  floor: Xvfb alone, exec to ready", len(floor), floor, "ms", "", 1000)
        t.note("  cold / floor (p50)", "%.2fx" % (percentile(firsts, 50) / percentile(floor, 50)))
        t.add("delete a desktop sandbox", len(deletes), deletes, "ms", "", 1000)

    def idle_figures(self):
        t = self.table
        count = scaled(5, 5)
        ids = [self.api.create() for _ in range(count)]
        try:
            time.sleep(2.0)   # let them settle
            trees = [tree_pids(sb["pid"]) for sb in ids]
            mem = [sum(pss_kb(p) for p in tree) for tree in trees]
            t.add("memory per idle desktop sandbox", count, mem, "MiB PSS", "<= 30 MiB",
                  1 / 1024.0)
            t.add("  processes per sandbox", count, [len(x) for x in trees], "")
            before = [cpu_ticks(tree) for tree in trees]
            t0 = time.monotonic()
            time.sleep(5.0)
            wall = time.monotonic() - t0
            used = [cpu_ticks(tree) - b for tree, b in zip(trees, before)]
            t.add("CPU of an idle desktop over 5 s", count,
                  [u / float(CLK_TCK) / wall for u in used], "% core", "~ 0", 100)
        finally:
            for sb in ids:
                self.api.delete(sb["id"])

    def run(self):
        # No window manager here: typing and clicks go to the empty spot
        # under the pointer, not into a focused xterm that would redraw,
        # so the figures are the agent's cost, comparable run to run.
        sb = self.api.create(apps=APPS, desktop={"width": SCREEN[0], "height": SCREEN[1]},
                             wm=False)
        sid = sb["id"]
        try:
            self.wait_windows(sid, len(APPS))
            self.settle(sid)
            ours = self.api_figures(sid)
            self.common_figures(sid, ours)
        finally:
            self.api.delete(sid)
        self.create_figures()
        self.idle_figures()
        self.api.close()


def main():
    return serve(Bench, lambda srv: "deskbox desktop bench: %s, %d CPUs, %dx%d, through the API on loopback"
                 % (srv.binary, os.cpu_count(), SCREEN[0], SCREEN[1]), max_sandboxes=32)


if __name__ == "__main__":
    sys.exit(main())
