#!/usr/bin/python3
"""bench_windows.py - window operations and one window's screenshot, beside
the full screenshot and the common stack (xdotool) in the same run.

Starts its own deskboxd (tests/integration/deskbox.py), one sandbox with
openbox and two xterms at 1280x800, and times through the REST API on one
keep-alive connection: windows.list, window.move / resize / activate /
maximize+restore / minimize+restore (each answered once the change shows,
which includes the agent's 40 ms still period and openbox's iconify
animation), a forced close, and GET .../screenshot of the whole screen and
of one window (PNG and JPEG). The common stack's floor, timed inside the
sandbox around subprocess.run: `xdotool windowmove --sync` and `xdotool
windowsize --sync` of the same window. Nothing is asserted about speed.

Environment: DESKBOX_BUILD (which deskboxd), BENCH_SCALE (default 1.0:
multiplies sample counts; the minimum is 10).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import percentile  # noqa: E402
from benchlib import ApiBench, scaled, serve, timed_loop  # noqa: E402

APPS = ["xterm -T one -geometry 100x40+0+0 -e sh -c 'ls -l /usr/bin | head -60; exec sleep 1d'",
        "xterm -T two -geometry 80x30+500+200 -e sh -c 'cat /usr/include/stdio.h; exec sleep 1d'"]

COMMON = r'''
import json, subprocess, sys, time
wid, n = sys.argv[1], int(sys.argv[2])
def run(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit("%r failed: %s" % (argv, r.stderr.decode(errors="replace")))
def times(fn):
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out
print(json.dumps({
    "move": times(lambda i: run(["xdotool", "windowmove", "--sync", wid, str(100 + 50 * (i % 2)), "100"])),
    "size": times(lambda i: run(["xdotool", "windowsize", "--sync", wid, str(400 + 100 * (i % 2)), "300"])),
}))
'''


def n(base, minimum=10):
    return scaled(base, minimum)


def timed(count, fn):
    """fn takes the call's index, -1 for the warm-up (the other target of
    an alternating operation)."""
    return timed_loop(count, fn, arg=True)


class Bench(ApiBench):

    def req(self, method, path, body=None, raw=False):
        r = self.api.request(method, path, body, raw=raw, timeout=60)
        if r.status != 200:
            raise SystemExit("%s %s: %s %r" % (method, path, r.status, r.body if not raw else r.body[:200]))
        return r

    def op(self, sid, wid, op, body=None):
        res = self.req("POST", self.path(sid, "windows/%d/%s" % (wid, op)), body or {}).body
        if op != "close" and not res.get("applied"):
            raise SystemExit("%s did not show: %r" % (op, res))
        return res

    def windows(self, sid, count=0, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            w = self.req("GET", self.path(sid, "windows")).body["windows"]
            if len(w) >= count or time.monotonic() > deadline:
                return w
            time.sleep(0.1)

    def there_and_back(self, sid, wid, op, count):
        """Seconds of count rounds of op then restore on window wid."""
        there, back = [], []
        for _ in range(count):
            for what, out in ((op, there), ("restore", back)):
                t0 = time.perf_counter()
                self.op(sid, wid, what)
                out.append(time.perf_counter() - t0)
        return there, back

    def run(self):
        t = self.table
        sb = self.api.create(apps=APPS, wm=True, desktop={"width": 1280, "height": 800})
        sid = sb["id"]
        try:
            wins = {w["title"]: w["id"] for w in self.windows(sid, 2)}
            if set(wins) < {"one", "two"}:
                raise SystemExit("the bench's xterms never showed up: %r" % wins)
            one, two = wins["one"], wins["two"]
            time.sleep(1)
            lst = timed(n(100), lambda i: self.req("GET", self.path(sid, "windows")))
            t.add("windows.list (2 windows)", len(lst), lst, "ms", "", 1000)
            mv = timed(n(50), lambda i: self.op(sid, one, "move", {"x": 100 + 50 * (i % 2), "y": 100}))
            t.add("window.move", len(mv), mv, "ms", "", 1000)
            sz = timed(n(50), lambda i: self.op(sid, one, "resize", {"width": 400 + 100 * (i % 2),
                                                                   "height": 300}))
            t.add("window.resize", len(sz), sz, "ms", "", 1000)
            act = timed(n(50), lambda i: self.op(sid, (one, two)[i % 2], "activate"))
            t.add("window.activate (alternating)", len(act), act, "ms", "", 1000)
            for op, name in (("maximize", "window.maximize"),
                             ("minimize", "window.minimize (openbox animates)")):
                there, back = self.there_and_back(sid, one, op, n(20))
                t.add(name, len(there), there, "ms", "", 1000)
                t.add("window.restore (from %simized)" % op[:3], len(back), back, "ms", "", 1000)

            # The common stack's floor on the same window and X server.
            self.api.put_file(sid, "/tmp/common_windows.py", COMMON)
            res = self.api.exec(sid, argv=["python3", "/tmp/common_windows.py", str(one), str(n(30))],
                                timeout_ms=300000)
            if res["exit_code"] != 0:
                raise SystemExit("common stack script failed: %r" % res)
            common = json.loads(res["stdout"])
            t.add("xdotool windowmove --sync (in sandbox)", len(common["move"]), common["move"], "ms", "", 1000)
            t.add("xdotool windowsize --sync (in sandbox)", len(common["size"]), common["size"], "ms", "", 1000)

            # Forced close of a fresh xterm each time (its start not counted).
            closes = []
            for i in range(n(10, 5)):
                self.api.exec(sid, cmd="setsid xterm -T doomed%d >/dev/null 2>&1 </dev/null &" % i)
                deadline, wid = time.monotonic() + 20, None
                while wid is None and time.monotonic() < deadline:
                    wid = next((w["id"] for w in self.windows(sid) if w["title"] == "doomed%d" % i), None)
                    time.sleep(0.05)
                if wid is None:
                    raise SystemExit("xterm doomed%d never mapped" % i)
                t0 = time.perf_counter()
                res = self.op(sid, wid, "close", {"force": True})
                closes.append(time.perf_counter() - t0)
                if not res.get("closed"):
                    raise SystemExit("force close left it: %r" % res)
            t.add("window.close force", len(closes), closes, "ms", "", 1000)

            # One window's image beside the whole screen's, same run.
            self.op(sid, two, "activate")
            time.sleep(0.5)
            shots = {}
            for name, q in (("full PNG", ""), ("window PNG (covered)", "window=%d" % one),
                            ("full JPEG", "format=jpeg"), ("window JPEG (covered)", "window=%d&format=jpeg" % one)):
                shots[name] = timed(n(50), lambda i: self.req("GET", self.path(sid, "screenshot" + ("?" + q if q else "")), raw=True))
                size = len(self.req("GET", self.path(sid, "screenshot" + ("?" + q if q else "")), raw=True).body)
                t.add("screenshot %s" % name, len(shots[name]), shots[name], "ms", "%.0f KB" % (size / 1000), 1000)
            t.note("window PNG / full PNG p50", "%.2f" % (percentile(shots["window PNG (covered)"], 50) /
                                                         percentile(shots["full PNG"], 50)))
        finally:
            self.api.delete(sid)
        self.api.close()


def main():
    return serve(Bench, lambda srv: "deskbox windows bench: %s, %d CPUs, 1280x800, openbox, through the API on loopback"
                 % (srv.binary, os.cpu_count()))


if __name__ == "__main__":
    sys.exit(main())
