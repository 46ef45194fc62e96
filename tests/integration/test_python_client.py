"""test_python_client.py - the Python client (clients/python) installed the
way its README says (pip --no-index --no-build-isolation, into a venv that
sees Debian's setuptools and websockets) and driven against a live server;
examples/agent_replay.py run with it. The client runs in the venv's
interpreter; this file checks the JSON report it prints."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from deskbox import REPO, ServerTestCase

DRIVE = textwrap.dedent(r'''
    import base64, json, sys, time
    import deskbox
    from deskbox import Deskbox
    rep = {"file": deskbox.__file__}
    dbx = Deskbox()
    sb = dbx.create(apps=["xterm -T pyclient -geometry 80x20+0+0"], size=(1024, 768))
    rep["id"] = sb.id
    rep["listed"] = sb.id in [s.id for s in dbx.list()]
    rep["size"] = sb.get_screen_size()
    r = sb.exec("echo out; echo err >&2; exit 4")
    rep["exec"] = [r.exit_code, r.stdout, r.stderr]
    rep["exec_argv"] = sb.exec(["printf", "%s", "a b"]).stdout
    rep["exec_stdin"] = sb.exec("wc -c", stdin="12345").stdout
    rep["spawn"] = [[type(p).__name__, getattr(p, "stream", None),
                     p.data.decode() if hasattr(p, "data") else p.exit_code]
                    for p in sb.spawn(["sh", "-c", "echo one; sleep 0.2; echo two >&2; cat; exit 2"], stdin="in\n")]
    sb.files.write("/tmp/p.bin", bytes(range(256)))
    rep["files"] = sb.files.read("/tmp/p.bin", format="bytes") == bytes(range(256))
    sb.files.write("/tmp/p.txt", "héllo")
    rep["files_text"] = sb.files.read("/tmp/p.txt")
    png = sb.screenshot()
    rep["png"] = [png[:8].hex(), int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")]
    rep["jpeg"] = sb.screenshot(format="jpeg")[:2].hex()
    rep["settled"] = sb.wait_settled(quiet_ms=300, timeout=20)
    for _ in range(300):   # the xterm's window, and its shell (keys typed earlier are lost)
        if any(w["title"] == "pyclient" for w in sb.windows()) and \
                sb.exec("pgrep -x -P $(pgrep -x xterm) bash || pgrep -x -P $(pgrep -x xterm) sh").exit_code == 0:
            break
        time.sleep(0.1)
    sb.left_click(100, 60)
    sb.move_mouse(10, 20)
    rep["cursor"] = sb.get_cursor_position()
    sb.double_click(100, 60)
    sb.right_click(120, 60)
    sb.press(["ctrl", "e"])   # readline: end of line (harmless; Escape would prefix the next key)
    sb.drag((100, 60), (140, 60))
    sb.scroll("down", 2, 100, 60)
    sb.left_click(100, 60)
    sb.write("echo typed-by-python > /tmp/py.txt\n")
    for _ in range(100):
        if sb.exec("cat /tmp/py.txt 2>/dev/null").stdout == "typed-by-python\n":
            break
        time.sleep(0.1)
    rep["typed"] = sb.exec("cat /tmp/py.txt").stdout
    sb.clipboard = "clip ✓"
    rep["clipboard"] = sb.clipboard
    rep["viewer"] = sb.viewer_url()
    rep["rpc"] = dbx.rpc("display.get", {"sandbox": sb.id})["width"]
    acts = dbx.rpc("desktop.actions", {"sandbox": sb.id, "actions": [{"action": "screenshot"}],
                                       "settle_ms": 50, "format": "jpeg"})
    rep["rpc_images"] = [acts["binary_frames"]] + [
        [i["media_type"], i["bytes"] == len(i["bytes_data"]), i["bytes_data"][:2].hex()]
        for i in (acts["results"][0]["image"], acts["settled"]["image"])]
    shot = dbx.rpc("desktop.screenshot", {"sandbox": sb.id})
    rep["rpc_shot"] = [shot["bytes"] == len(shot["bytes_data"]), shot["bytes_data"][:8].hex()]
    res = sb.anthropic_tool({"type": "tool_use", "id": "toolu_py", "name": "computer",
                             "input": {"action": "screenshot"}}, 512, 384)
    img = base64.b64decode(res["content"][0]["source"]["data"])
    rep["anthropic"] = [res["tool_use_id"], int.from_bytes(img[16:20], "big")]
    rep["anthropic_tools"] = [t["type"] for t in sb.anthropic_tools()]
    out = sb.openai_tool({"type": "computer_call", "call_id": "call_py", "actions": [{"type": "wait"}]})
    rep["openai"] = [out["type"], out["call_id"], out["output"]["image_url"][:22]]
    rep["openai_tools"] = sb.openai_tools()
    errs = {}
    for name, fn in [("not_found", lambda: dbx.get("0" * 32)),
                     ("bad_request", lambda: sb.exec(["true"], timeout=0)),
                     ("file", lambda: sb.files.read("/nope")),
                     ("auth", lambda: Deskbox(token="wrong").list()),
                     ("conn", lambda: Deskbox("http://127.0.0.1:1").list()),
                     ("rpc", lambda: dbx.rpc("no.such")),
                     ("conflict", lambda: dbx.create(desktop=False).screenshot())]:
        try:
            fn()
            errs[name] = None
        except deskbox.DeskboxError as e:
            errs[name] = [type(e).__name__, e.code, e.status]
    rep["errors"] = errs
    for s in dbx.list():
        s.kill()
    rep["left"] = [s.id for s in dbx.list()]
    print(json.dumps(rep))
''')


class TestPythonClient(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="deskbox-pyclient-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        venv = os.path.join(cls.tmp, "venv")
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv], check=True,
                       capture_output=True, timeout=120)
        cls.python = os.path.join(venv, "bin", "python")
        # From a copy: setuptools builds in the source tree (build/,
        # *.egg-info), which must stay out of the repository.
        src = os.path.join(cls.tmp, "src")
        shutil.copytree(os.path.join(REPO, "clients", "python"), src,
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        p = subprocess.run([cls.python, "-m", "pip", "install", "--no-index", "--no-build-isolation",
                            "--no-cache-dir", src],
                           capture_output=True, text=True, timeout=300, cwd=cls.tmp)
        if p.returncode:
            raise AssertionError("pip install failed: %s %s" % (p.stdout, p.stderr))

    def run_py(self, *args, timeout=300):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DESKBOX_URL": self.server.url,
               "DESKBOX_TOKEN": self.server.token}
        return subprocess.run([self.python, *args], capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=self.tmp, stdin=subprocess.DEVNULL)

    def test_client_against_a_live_server(self):
        path = os.path.join(self.tmp, "drive.py")
        with open(path, "w") as f:
            f.write(DRIVE)
        p = self.run_py(path)
        self.assertEqual(p.returncode, 0, p.stderr)
        rep = json.loads(p.stdout.strip().splitlines()[-1])
        for sid in [rep["id"]]:
            self.server._track({"id": sid})
        self.assertIn(os.path.join(self.tmp, "venv"), rep["file"])   # the installed copy
        self.assertTrue(rep["listed"])
        self.assertEqual(rep["size"], [1024, 768])
        self.assertEqual(rep["exec"], [4, "out\n", "err\n"])
        self.assertEqual(rep["exec_argv"], "a b")
        self.assertEqual(rep["exec_stdin"], "5\n")
        chunks = rep["spawn"]
        self.assertEqual(chunks[-1], ["ProcessExit", None, 2])
        out = "".join(c[2] for c in chunks if c[1] == "stdout")
        self.assertEqual(out, "one\nin\n")
        self.assertEqual("".join(c[2] for c in chunks if c[1] == "stderr"), "two\n")
        self.assertTrue(rep["files"])
        self.assertEqual(rep["files_text"], "héllo")
        self.assertEqual(rep["png"], ["89504e470d0a1a0a", 1024, 768])
        self.assertEqual(rep["jpeg"], "ffd8")
        self.assertTrue(rep["settled"])
        self.assertEqual(rep["cursor"], [10, 20])
        self.assertEqual(rep["typed"], "typed-by-python\n")
        self.assertEqual(rep["clipboard"], "clip ✓")
        self.assertIn("viewer.html?id=", rep["viewer"])
        self.assertEqual(rep["rpc"], 1024)
        self.assertEqual(rep["rpc_images"], [2, ["image/jpeg", True, "ffd8"], ["image/jpeg", True, "ffd8"]])
        self.assertEqual(rep["rpc_shot"], [True, "89504e470d0a1a0a"])
        self.assertEqual(rep["anthropic"], ["toolu_py", 512])
        self.assertEqual(rep["anthropic_tools"], ["computer_20251124", "bash_20250124", "text_editor_20250728"])
        self.assertEqual(rep["openai"], ["computer_call_output", "call_py", "data:image/png;base64,"])
        self.assertEqual(rep["openai_tools"], [{"type": "computer"}])
        e = rep["errors"]
        self.assertEqual(e["not_found"], ["NotFound", "not_found", 404])
        self.assertEqual(e["bad_request"], ["BadRequest", "bad_request", 400])
        self.assertEqual(e["file"], ["NotFound", "not_found", 404])
        self.assertEqual(e["auth"], ["AuthenticationError", "unauthorized", 401])
        self.assertEqual(e["conn"], ["ConnectionFailed", "connection", None])
        self.assertEqual(e["rpc"][:2], ["NotFound", "not_found"])
        self.assertEqual(e["conflict"], ["Conflict", "no_desktop", 409])
        self.assertEqual(rep["left"], [])

    def test_agent_replay_example(self):
        p = self.run_py(os.path.join(REPO, "examples", "agent_replay.py"))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(lines[0].startswith("sandbox "), lines)
        self.server._track({"id": lines[0].split()[1]})
        self.assertTrue(any("left_click" in l and "image image/png" in l for l in lines), lines)
        effects = [l for l in lines if l.startswith("effect ")]
        self.assertEqual(len(effects), 3, lines)
        self.assertTrue(all(l.endswith(" ok") for l in effects), effects)
        p = self.run_py(os.path.join(REPO, "examples", "agent_replay.py"),
                        os.path.join(REPO, "tests", "fixtures", "openai_computer.json"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.server._track({"id": p.stdout.splitlines()[0].split()[1]})
        self.assertIn("skipped: pending safety checks", p.stdout)
        self.assertEqual(p.stdout.count(" ok\n"), 2, p.stdout)


if __name__ == "__main__":
    unittest.main()
