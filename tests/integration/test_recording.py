"""Screen recordings: the MP4 the agent encodes and the action log beside it.

A real xterm in a real sandbox is recorded; the file is read back with
Debian's ffprobe and ffmpeg: its stream (codec, size, pixel format, frame
count), a decoded frame against a screenshot of the same moment, and the
frames where typed text appears against the log's offsets. An idle
desktop's recording must cost almost no bytes and no CPU. The error paths
(unknown ids, hostile ids, bad parameters, one recording at a time, a
recording still running) answer with the right status, and the same
operations work over the JSON-RPC channel.
"""

import json
import os
import subprocess
import tempfile
import time
import unittest

from deskbox import API, ServerTestCase, cpu_ticks, descendant_named, wait_until

TICK = os.sysconf("SC_CLK_TCK")


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json"] + list(args) + [path],
                         check=True, capture_output=True, timeout=60).stdout
    return json.loads(out)


def frame_times(path):
    """The presentation time (s) of every frame, in order."""
    frames = ffprobe(path, "-select_streams", "v", "-show_entries", "frame=pts_time",
                     "-show_frames")["frames"]
    return [float(f["pts_time"]) for f in frames]


def frames_gray(path, w, h):
    """Every frame, decoded and shrunk to w x h grey bytes, in order."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vsync", "passthrough",
                          "-vf", "scale=%d:%d" % (w, h), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         check=True, capture_output=True, timeout=120).stdout
    n = w * h
    return [raw[i:i + n] for i in range(0, len(raw), n)]


def rgb_of(path, at=None):
    """An image file (or the video frame shown at `at` s) as RGB bytes."""
    cmd = ["ffmpeg", "-v", "error"]
    if at is not None:
        cmd += ["-ss", "%.3f" % at]
    cmd += ["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=60).stdout


class RecordingTest(ServerTestCase):
    server_options = {"max_sandboxes": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        sb = cls.server.create(apps=["xterm -geometry 100x30+0+0 -e sh"])
        cls.sid = sb["id"]
        cls.agent = descendant_named(sb["pid"], "deskbox-desktop")
        cls.addClassCleanup(cls.server.delete, cls.sid)
        wait_until(lambda: any(w["title"] == "sh" or "xterm" in w["title"] for w in
                               cls.server.request("GET", "%s/%s/windows" % (API, cls.sid))
                               .body["windows"]), 30)
        # The new window has the focus; a click makes sure.
        cls.server.expect(200, "POST", "%s/%s/actions" % (API, cls.sid),
                          {"action": "left_click", "coordinate": [300, 200]})
        time.sleep(0.5)
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-rec-")
        cls.addClassCleanup(lambda: subprocess.run(["rm", "-rf", cls.tmp]))

    # --- helpers

    def path(self, rid=None, tail=""):
        p = "%s/%s/recordings" % (API, self.sid)
        return p + ("/" + rid if rid else "") + tail

    def start(self, **fields):
        return self.server.expect(201, "POST", self.path(), fields).body

    def stop(self, rid):
        return self.server.expect(200, "POST", self.path(rid, "/stop"), {}).body

    def quiet(self):
        """Wait until the screen has not changed for 500 ms."""
        r = self.server.expect(200, "POST", "%s/%s/desktop/wait" % (API, self.sid),
                               {"quiet_ms": 500, "timeout_ms": 15000}, timeout=60).body
        self.assertTrue(r["settled"], "the screen never went still")

    def act(self, body):
        return self.server.expect(200, "POST", "%s/%s/actions" % (API, self.sid), body,
                                  timeout=60).body

    def download(self, rid):
        r = self.server.expect(200, "GET", self.path(rid), raw=True)
        self.assertEqual(r.headers.get("content-type"), "video/mp4")
        path = os.path.join(self.tmp, rid + ".mp4")
        with open(path, "wb") as f:
            f.write(r.body)
        return path

    def delete_rec(self, rid):
        self.server.expect(204, "DELETE", self.path(rid))

    # --- the file

    def test_five_seconds_of_output(self):
        """5 s of a scrolling xterm at 10 fps: an H.264 yuv420p MP4 of the
        screen's size with about 50 frames, its index at the front."""
        self.server.exec(self.sid, cmd="rm -f /tmp/stop-output")
        rec = self.start(fps=10)
        self.assertEqual(rec["state"], "recording")
        self.assertTrue(rec["id"].startswith("rec_"))
        # A line every 40 ms (one fork each: sleep), so every 100 ms slot
        # sees new text; it ends when told (a file), not by a ^C that may
        # go astray.
        self.act({"action": "type", "text": "i=0; while [ ! -e /tmp/stop-output ]; do i=$((i+1)); "
                                            "echo line $i; sleep 0.04; done\n"})
        time.sleep(5)
        self.server.exec(self.sid, cmd="touch /tmp/stop-output")
        done = self.stop(rec["id"])
        self.assertEqual(done["state"], "stopped")
        self.assertGreater(done["bytes"], 1000)
        path = self.download(rec["id"])
        self.assertEqual(os.path.getsize(path), done["bytes"])
        info = ffprobe(path, "-show_streams", "-show_format", "-count_frames")
        st = info["streams"][0]
        self.assertEqual(st["codec_name"], "h264")
        self.assertEqual(st["pix_fmt"], "yuv420p")
        self.assertEqual((st["width"], st["height"]), (1280, 800))
        frames = int(st["nb_read_frames"])
        self.assertEqual(frames, done["frames"])
        # ~50 (50-52 seen at a load average of 16 on 2 cores); when a
        # machine loaded far past its cores starves the encoder (it runs
        # behind the agent's loop), changes are dropped, and counted.
        self.assertGreaterEqual(frames + done["dropped"], 30, "5 s of output at 10 fps: %r" % done)
        self.assertGreaterEqual(frames, 5, "5 s of output at 10 fps: %r" % done)
        self.assertLessEqual(frames, 62)
        self.assertAlmostEqual(float(info["format"]["duration"]), done["duration_ms"] / 1000, delta=0.3)
        self.assertIn(info["format"]["format_name"].split(",")[0], ("mov", "mp4"))
        # faststart: the index (moov) comes before the media (mdat).
        with open(path, "rb") as f:
            head = f.read(65536)
        self.assertLess(head.find(b"moov"), head.find(b"mdat") if b"mdat" in head else 1 << 30)
        self.assertGreater(head.find(b"moov"), 0)
        listed = self.server.expect(200, "GET", self.path()).body["recordings"]
        mine = [r for r in listed if r["id"] == rec["id"]][0]
        for key in ("id", "state", "started", "duration_ms", "bytes", "fps", "width", "height"):
            self.assertIn(key, mine)
        self.assertEqual(mine["bytes"], done["bytes"])
        self.delete_rec(rec["id"])

    def test_actions_and_frames_line_up(self):
        """Each typed line shows in the first frame at its logged offset
        (within 200 ms), and a frame matches a screenshot of its moment."""
        self.act({"action": "type", "text": "clear\n"})
        self.quiet()
        rec = self.start(fps=10)
        time.sleep(0.5)
        for i in range(5):
            self.act({"action": "type", "text": "echo mark%d\n" % i})
            time.sleep(0.7)
        shot = self.server.expect(200, "GET", "%s/%s/screenshot?cursor=true" % (API, self.sid),
                                  raw=True).body
        time.sleep(0.5)
        self.stop(rec["id"])
        path = self.download(rec["id"])
        log = self.server.expect(200, "GET", self.path(rec["id"], "/actions")).body
        self.assertEqual(log["recording"], rec["id"])
        typed = [a for a in log["actions"] if a["op"] == "desktop.actions"]
        self.assertEqual([a["params"]["actions"][0]["text"] for a in typed],
                         ["echo mark%d\n" % i for i in range(5)])
        for a in typed:
            self.assertEqual(a["status"], "ok")
            self.assertIsInstance(a["duration_ms"], int)
        shots = [a for a in log["actions"] if a["op"] == "desktop.screenshot"]
        self.assertEqual(len(shots), 1)

        times = frame_times(path)
        grey = frames_gray(path, 320, 200)
        self.assertEqual(len(times), len(grey))
        for a in typed:
            at = a["offset_ms"] / 1000
            # The first frame after the action that differs from the one
            # before it: the typed line appearing.
            changed = [times[i] for i in range(1, len(times))
                       if times[i] >= at - 0.2 and grey[i] != grey[i - 1]]
            self.assertTrue(changed, "no frame changed after %r" % a)
            self.assertLessEqual(abs(changed[0] - at), 0.2,
                                 "text typed at %.3f s shows at %.3f s" % (at, changed[0]))

        png = os.path.join(self.tmp, "shot.png")
        with open(png, "wb") as f:
            f.write(shot)
        want = rgb_of(png)
        got = rgb_of(path, shots[0]["offset_ms"] / 1000 + 0.05)
        self.assertEqual(len(want), len(got))
        diffs = [abs(x - y) for x, y in zip(want[::7], got[::7])]
        mean = sum(diffs) / len(diffs)
        far = sum(1 for d in diffs if d > 48) / len(diffs)
        self.assertLess(mean, 3.0, "mean pixel error %.2f" % mean)
        self.assertLess(far, 0.01, "%.2f%% of samples far off" % (far * 100))
        self.delete_rec(rec["id"])

    def test_idle_costs_nothing(self):
        """An idle screen: no frames but the first and the last, almost no
        bytes, and next to no CPU for the agent."""
        self.act({"action": "type", "text": "clear\n"})
        self.quiet()
        rec = self.start(fps=30)
        time.sleep(0.5)
        t0, c0 = time.monotonic(), cpu_ticks(self.agent)
        time.sleep(3)
        used = (cpu_ticks(self.agent) - c0) / TICK
        span = time.monotonic() - t0
        done = self.stop(rec["id"])
        self.assertLess(used / span, 0.02, "agent CPU %.1f%% while idle" % (100 * used / span))
        self.assertLessEqual(done["frames"], 3)
        self.assertLess(done["bytes"] / (done["duration_ms"] / 1000), 10000, done)
        path = self.download(rec["id"])
        dur = float(ffprobe(path, "-show_format")["format"]["duration"])
        self.assertAlmostEqual(dur, done["duration_ms"] / 1000, delta=0.2)
        self.delete_rec(rec["id"])

    def test_max_duration_stops_it(self):
        rec = self.start(fps=5, max_duration_s=1)
        wait_until(lambda: self.server.expect(200, "GET", self.path()).body["recordings"][-1]
                   ["state"] == "stopped", 10)
        r = [x for x in self.server.expect(200, "GET", self.path()).body["recordings"]
             if x["id"] == rec["id"]][0]
        self.assertAlmostEqual(r["duration_ms"], 1000, delta=150)
        path = self.download(rec["id"])
        self.assertAlmostEqual(float(ffprobe(path, "-show_format")["format"]["duration"]), 1.0, delta=0.25)
        self.delete_rec(rec["id"])

    def test_log_summaries(self):
        """The log holds every call on the sandbox, its status, and a
        summary of its params: no secrets, no payloads, cut strings."""
        rec = self.start()
        long_text = "x" * 500
        self.server.exec(self.sid, argv=["true"], env={"API_KEY": "hunter2-secret"})
        self.server.put_file(self.sid, "/tmp/rec-file", b"file-payload-bytes")
        self.act({"action": "type", "text": long_text})
        self.act({"action": "key", "text": "ctrl+u"})
        self.assertError(self.server.request("POST", "%s/%s/actions" % (API, self.sid),
                                             {"action": "left_click", "coordinate": [99999, 1]}), 400)
        self.stop(rec["id"])
        log = self.server.expect(200, "GET", self.path(rec["id"], "/actions")).body
        text = json.dumps(log)
        self.assertNotIn("hunter2", text)
        self.assertNotIn("file-payload", text)
        ops = [a["op"] for a in log["actions"]]
        self.assertEqual(ops, ["process.exec", "files.write", "desktop.actions", "desktop.actions",
                               "desktop.actions"])
        ex = log["actions"][0]
        self.assertEqual(ex["params"]["argv"], ["true"])
        self.assertRegex(ex["params"]["env"], r"^<\d+ bytes>$")
        self.assertEqual(log["actions"][1]["params"]["path"], "/tmp/rec-file")
        typed = log["actions"][2]["params"]["actions"][0]["text"]
        self.assertLess(len(typed), 200)
        self.assertIn("(500 bytes)", typed)
        self.assertEqual(log["actions"][4]["status"], "bad_request")
        offsets = [a["offset_ms"] for a in log["actions"]]
        self.assertEqual(offsets, sorted(offsets))
        self.assertGreaterEqual(offsets[0], 0)
        self.delete_rec(rec["id"])

    def test_log_has_launches_and_window_ops(self):
        """An app launched by name and the window calls on it are in the
        log (the issue names launches beside actions, execs and writes)."""
        srv = self.server
        sb = self.sandbox()
        base = "%s/%s/recordings" % (API, sb["id"])
        rid = srv.expect(201, "POST", base, {"fps": 5}).body["id"]
        app = srv.expect(200, "POST", "%s/%s/apps/launch" % (API, sb["id"]),
                         {"app": "debian-xterm", "args": ["-title", "logged"], "timeout_ms": 60000},
                         timeout=90).body
        srv.expect(200, "POST", "%s/%s/windows/%d/move" % (API, sb["id"], app["window"]),
                   {"x": 50, "y": 60}, timeout=60)
        srv.expect(200, "POST", "%s/%s/windows/%d/close" % (API, sb["id"], app["window"]),
                   {"force": True}, timeout=60)
        srv.expect(200, "POST", "%s/%s/stop" % (base, rid), {})
        log = srv.expect(200, "GET", "%s/%s/actions" % (base, rid)).body["actions"]
        self.assertEqual([a["op"] for a in log], ["apps.launch", "window.move", "window.close"])
        self.assertEqual(log[0]["params"]["app"], "debian-xterm")
        self.assertEqual(log[0]["params"]["args"], ["-title", "logged"])
        self.assertEqual(log[1]["params"], {"window": app["window"], "x": 50, "y": 60})
        self.assertEqual(log[2]["params"]["force"], True)
        for a in log:
            self.assertEqual(a["status"], "ok", a)
        srv.expect(204, "DELETE", "%s/%s" % (base, rid))

    # --- error paths

    def test_errors(self):
        srv = self.server
        for body, word in (({"fps": 0}, "fps"), ({"fps": 61}, "fps"), ({"fps": "x"}, "fps"),
                           ({"quality": "best"}, "quality"), ({"max_duration_s": 0}, "max_duration_s"),
                           ({"colour": 1}, "colour")):
            r = srv.request("POST", self.path(), body)
            self.assertError(r, 400)
            self.assertIn(word, r.body["error"]["message"])
        for rid in ("rec_0000000000000000", "nope", "rec_..%2f..%2fetc", "..rec", "rec_%25", "REC_0000000000000000"):
            self.assertError(srv.request("POST", self.path(rid, "/stop"), {}), 404)
            self.assertError(srv.request("GET", self.path(rid)), 404)
            self.assertError(srv.request("GET", self.path(rid, "/actions")), 404)
            self.assertError(srv.request("DELETE", self.path(rid)), 404)
        rec = self.start()
        try:
            r = srv.request("POST", self.path(), {})
            self.assertError(r, 409, "busy")
            self.assertIn(rec["id"], r.body["error"]["message"])
            self.assertError(srv.request("GET", self.path(rec["id"])), 409, "busy")
            self.assertError(srv.request("DELETE", self.path(rec["id"])), 409, "busy")
        finally:
            self.stop(rec["id"])
        # Stopping again says how it ended.
        self.assertEqual(self.stop(rec["id"])["state"], "stopped")
        self.delete_rec(rec["id"])
        self.assertError(srv.request("GET", self.path(rec["id"])), 404)
        self.assertError(srv.request("POST", self.path(rec["id"], "/stop"), {}), 404)
        # No token, a viewer token that may only watch.
        self.assertError(srv.request("POST", self.path(), {}, token=None), 401)
        view = srv.expect(201, "POST", "%s/%s/viewer-tokens" % (API, self.sid),
                          {"view_only": True}).body["token"]
        self.assertError(srv.request("POST", self.path(), {}, token=view), 403)
        self.assertEqual(srv.expect(200, "GET", self.path(), token=view).body["recordings"], [])

    def test_no_desktop_and_sandbox_end(self):
        srv = self.server
        bare = self.sandbox(desktop=False)
        self.assertError(srv.request("POST", "%s/%s/recordings" % (API, bare["id"]), {}), 409,
                         "no_desktop")
        # A sandbox deleted while recording takes the recording with it
        # (the harness checks nothing is left behind).
        sb = self.sandbox()
        rid = srv.expect(201, "POST", "%s/%s/recordings" % (API, sb["id"]), {}).body["id"]
        self.assertTrue(rid)
        self.delete_checked(sb["id"])

    def test_desktop_restart_fails_it(self):
        """A desktop restart ends a running recording (failed, saying
        why); the new desktop records again."""
        srv = self.server
        sb = self.sandbox()
        base = "%s/%s/recordings" % (API, sb["id"])
        rid = srv.expect(201, "POST", base, {}).body["id"]
        srv.expect(200, "POST", "%s/%s/desktop/restart" % (API, sb["id"]), timeout=60)
        rec = [r for r in srv.expect(200, "GET", base).body["recordings"] if r["id"] == rid][0]
        self.assertEqual(rec["state"], "failed")
        self.assertIn("desktop stopped", rec["error"])
        self.assertError(srv.request("GET", "%s/%s" % (base, rid)), 404, "not_found")
        rid2 = srv.expect(201, "POST", base, {}).body["id"]
        self.assertEqual(srv.expect(200, "POST", "%s/%s/stop" % (base, rid2), {}).body["state"], "stopped")
        srv.expect(204, "DELETE", "%s/%s" % (base, rid))
        self.delete_checked(sb["id"])

    def test_full_disk_fails_it(self):
        """A sandbox whose disk is full: the recording fails, saying why,
        and leaves no partial file; with room again, recording works."""
        srv = self.server
        sb = self.sandbox(apps=["xterm -geometry 100x30+0+0 -e sh"], limits={"disk_mb": 24})
        base = "%s/%s/recordings" % (API, sb["id"])
        srv.exec(sb["id"], cmd="cat /dev/zero > /tmp/fill 2>/dev/null; true")
        r = srv.request("POST", base, {"fps": 30, "quality": "high"})
        if r.status == 201:
            rid = r.body["id"]
            for i in range(20):
                srv.request("POST", "%s/%s/actions" % (API, sb["id"]),
                            {"action": "type", "text": "ls -l /usr/bin | head -%d\n" % (20 + i)})
                time.sleep(0.05)
            stopped = srv.expect(200, "POST", "%s/%s/stop" % (base, rid), {}).body
            self.assertEqual(stopped["state"], "failed", stopped)
            self.assertIn("error", stopped)
            self.assertError(srv.request("GET", "%s/%s" % (base, rid)), 404, "not_found")
        else:
            self.assertError(r, 500)
            self.assertIn("encoder", r.body["error"]["message"])
        # The agent's own place when it has its uid (as root), else the
        # user's runtime dir.
        left = srv.exec(sb["id"], cmd="ls /run/deskbox/deskbox-recordings/ 2>/dev/null || "
                                      "ls /run/user/1000/deskbox-recordings/")["stdout"]
        self.assertNotIn(".part", left)
        srv.exec(sb["id"], cmd="rm -f /tmp/fill")
        rid = srv.expect(201, "POST", base, {}).body["id"]
        self.assertEqual(srv.expect(200, "POST", "%s/%s/stop" % (base, rid), {}).body["state"], "stopped")
        self.delete_checked(sb["id"])

    def test_over_rpc(self):
        """The same operations on the control channel (and so MCP)."""
        import asyncio
        from rpcclient import RPC

        async def run():
            async with RPC(self.server) as rpc:
                rec = await rpc.call("recordings.start", {"sandbox": self.sid, "fps": 5})
                await rpc.call("desktop.actions", {"sandbox": self.sid, "actions":
                                                   [{"action": "type", "text": "echo rpc\n"}]})
                done = await rpc.call("recordings.stop", {"sandbox": self.sid, "recording": rec["id"]})
                self.assertEqual(done["state"], "stopped")
                log = await rpc.call("recordings.actions", {"sandbox": self.sid, "recording": rec["id"]})
                self.assertEqual([a["op"] for a in log["actions"]], ["desktop.actions"])
                listed = await rpc.call("recordings.list", {"sandbox": self.sid})
                self.assertIn(rec["id"], [r["id"] for r in listed["recordings"]])
                got = await rpc.call("recordings.get", {"sandbox": self.sid, "recording": rec["id"]})
                self.assertEqual(got["_bytes"][4:8], b"ftyp")
                await rpc.call("recordings.delete", {"sandbox": self.sid, "recording": rec["id"]})

        asyncio.run(asyncio.wait_for(run(), 120))

if __name__ == "__main__":
    unittest.main()
