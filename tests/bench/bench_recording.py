#!/usr/bin/python3
"""bench_recording.py - what a screen recording costs, in one run.

Starts its own deskboxd and, at 1280x800 without a window manager, an
xterm that scrolls text without end (a shell loop printing a few lines
every 20 ms: every frame slot sees new pixels). Measured through the REST
API on loopback:

- the desktop agent's CPU (all its threads: the loop and the encoder;
  /proc/PID/stat) over SPAN seconds with no recording, recording at
  10 fps and at 30 fps; the bytes per minute, frames and dropped frames
  of each recording;
- an idle desktop (no apps) recorded for IDLE_SPAN seconds: agent CPU and
  bytes per minute (a 10-minute idle recording costs the same per minute);
- screenshot (JPEG, each encoded: no answer from the agent's last
  encoding) and left_click round trips with no recording and with one at
  30 fps running, same sandbox, same run.

Nothing is asserted; the floor (DESIGN.md: ~5 ms for a JPEG screenshot,
< 0.1 ms for a click in the agent, plus the HTTP round trip) and the
targets are printed beside.

Environment: DESKBOX_BUILD, BENCH_SCALE (multiplies spans and sample counts).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from deskbox import cpu_ticks, descendant_named  # noqa: E402
from benchlib import SCALE, ApiBench, scaled, serve, timed_loop  # noqa: E402

SPAN = max(3.0, 8.0 * SCALE)
IDLE_SPAN = max(5.0, 20.0 * SCALE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
EMPTY = (1270, 790)
SCROLLER = ("xterm -geometry 150x52+0+0 -e sh -c "
            "'while :; do date +%s.%N; head -4 /usr/include/stdio.h; sleep 0.02; done'")


def n(base, minimum=50):
    return scaled(base, minimum)


class Bench(ApiBench):

    def expect(self, status, method, path, body=None):
        r = self.api.request(method, path, body, raw=method == "GET" and "screenshot" in path,
                             timeout=120)
        if r.status != status:
            raise SystemExit("%s %s: %s %r" % (method, path, r.status, r.body[:200]))
        return r.body

    def start(self, sid, fps):
        return self.expect(201, "POST", self.path(sid, "recordings"), {"fps": fps})["id"]

    def stop(self, sid, rid):
        done = self.expect(200, "POST", self.path(sid, "recordings/%s/stop" % rid), {})
        self.expect(204, "DELETE", self.path(sid, "recordings/" + rid))
        return done

    def agent_cpu(self, agent, span):
        """The agent's CPU over span seconds, in cores."""
        t0, c0 = time.monotonic(), cpu_ticks(agent)
        time.sleep(span)
        return (cpu_ticks(agent) - c0) / float(CLK_TCK) / (time.monotonic() - t0)

    def cpu_row(self, name, cpu, target):
        self.table.add(name, 1, [cpu], "% core", target, 100)

    def recording_rows(self, label, done):
        minutes = done["duration_ms"] / 60000.0
        self.table.note("  %s: bytes per minute" % label, "%.0f KB" % (done["bytes"] / minutes / 1000))
        self.table.note("  %s: file, duration" % label, "%.1f KB, %.1f s" % (done["bytes"] / 1000.0,
                                                                       done["duration_ms"] / 1000.0))
        self.table.note("  %s: frames, dropped" % label, "%d, %d" % (done["frames"], done.get("dropped", 0)))

    def latency(self, sid, suffix):
        # A quality of its own per call: each is captured and encoded, none
        # is answered from the agent's copy of the last encoding.
        q = iter(range(10 ** 6))
        shots = timed_loop(n(100), lambda: self.expect(
            200, "GET", self.path(sid, "screenshot?format=jpeg&quality=%d" % (60 + next(q) % 30))))
        self.table.add("screenshot JPEG " + suffix, len(shots), shots, "ms", "floor ~5 ms + HTTP", 1000)
        click = {"action": "left_click", "coordinate": list(EMPTY)}
        clicks = timed_loop(n(200), lambda: self.expect(200, "POST", self.path(sid, "actions"), click))
        self.table.add("left_click round trip " + suffix, len(clicks), clicks, "ms", "floor < 0.1 ms + HTTP", 1000)

    def scrolling(self):
        sb = self.api.create(apps=[SCROLLER], desktop={"width": 1280, "height": 800}, wm=False)
        sid = sb["id"]
        try:
            agent = descendant_named(sb["pid"], "deskbox-desktop")
            deadline = time.monotonic() + 30
            while not self.expect(200, "GET", self.path(sid, "windows"))["windows"]:
                if time.monotonic() > deadline:
                    raise SystemExit("the scrolling xterm never showed up")
                time.sleep(0.1)
            time.sleep(1.0)
            self.cpu_row("agent CPU, scrolling xterm, no recording", self.agent_cpu(agent, SPAN), "")
            for fps, target in ((10, ""), (30, "")):
                rid = self.start(sid, fps)
                cpu = self.agent_cpu(agent, SPAN)
                done = self.stop(sid, rid)
                self.cpu_row("agent CPU, scrolling xterm, recording %d fps" % fps, cpu, target)
                self.recording_rows("%d fps" % fps, done)
            self.latency(sid, "(no recording)")
            rid = self.start(sid, 30)
            self.latency(sid, "(recording 30 fps)")
            done = self.stop(sid, rid)
            self.table.note("  recording during the latency runs: frames, dropped",
                        "%d, %d" % (done["frames"], done.get("dropped", 0)))
        finally:
            self.api.delete(sid)

    def idle(self):
        sb = self.api.create(desktop={"width": 1280, "height": 800}, wm=False)
        sid = sb["id"]
        try:
            agent = descendant_named(sb["pid"], "deskbox-desktop")
            time.sleep(1.0)
            self.cpu_row("agent CPU, idle desktop, no recording", self.agent_cpu(agent, IDLE_SPAN), "~ 0")
            rid = self.start(sid, 10)
            time.sleep(0.5)
            cpu = self.agent_cpu(agent, IDLE_SPAN)
            done = self.stop(sid, rid)
            self.cpu_row("agent CPU, idle desktop, recording 10 fps (%.0f s)" % IDLE_SPAN, cpu, "~ 0")
            self.recording_rows("idle, 10 fps", done)
        finally:
            self.api.delete(sid)

    def run(self):
        self.scrolling()
        self.idle()
        self.api.close()


def main():
    return serve(Bench, lambda srv: "deskbox recording bench: %s, %d CPUs, 1280x800, spans %.0f s (idle %.0f s)"
                 % (srv.binary, os.cpu_count(), SPAN, IDLE_SPAN))


if __name__ == "__main__":
    sys.exit(main())
