"""test_adapt.py - the agent adapters replayed: recorded vendor tool calls
(tests/fixtures/*.json, each citing where its shapes come from) go in as the
vendors' APIs emit them, against a sandbox with an xterm; the answers must be
what the next API request needs, and the calls' effects must show inside the
sandbox. Also: scaling both ways, the tools arrays, and the errors.
"""

import base64
import json
import os
import time
import unittest

from deskbox import REPO, ServerTestCase, until

FIX = os.path.join(REPO, "tests", "fixtures")
XTERM = "xterm -T adapt -geometry 80x20+0+0"


def fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def png_size(data):
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", raw[:8]
    return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")


class AdaptCase(ServerTestCase):
    def xterm_sandbox(self):
        sb = self.sandbox(apps=[XTERM])
        until(lambda: any(w["title"] == "adapt" for w in self.server.request(
            "GET", "/v1/sandboxes/%s/windows" % sb["id"]).body.get("windows", [])),
            timeout=30, what="the xterm's window")
        # The xterm's shell is up once it runs as the sandbox's user.
        until(lambda: self.server.exec(sb["id"], cmd="pgrep -x -P $(pgrep -x xterm) bash || "
                                                     "pgrep -x -P $(pgrep -x xterm) sh")["exit_code"] == 0,
              timeout=30, what="the xterm's shell")
        return sb

    def read(self, sb, path):
        r = self.server.request("GET", "/v1/sandboxes/%s/files?path=%s" % (sb["id"], path), raw=True)
        return r.body.decode() if r.status == 200 else None

    def assert_effects(self, sb, effects):
        for path, want in effects.items():
            until(lambda: self.read(sb, path) == want, timeout=20,
                  what="%s to hold %r (it holds %r)" % (path, want, self.read(sb, path)))


class TestAnthropicReplay(AdaptCase):
    def post(self, sb, block, query="", **kw):
        return self.server.request("POST", "/v1/sandboxes/%s/tools/anthropic%s" % (sb["id"], query),
                                   block, timeout=120, **kw)

    def test_computer_transcripts(self):
        fx = fixture("anthropic_computer.json")
        sb = self.xterm_sandbox()
        q = "?display_width_px=%d&display_height_px=%d" % (fx["display"]["width"], fx["display"]["height"])
        for version, blocks in fx["transcripts"].items():
            for block in blocks:
                with self.subTest(version=version, id=block["id"]):
                    r = self.post(sb, block, q)
                    self.assertEqual(r.status, 200, r.body)
                    res = r.body
                    self.assertEqual(set(res), {"type", "tool_use_id", "content", "is_error"})
                    self.assertEqual((res["type"], res["tool_use_id"], res["is_error"]),
                                     ("tool_result", block["id"], False), res)
                    action = block["input"].get("action", block["name"])
                    images = [c for c in res["content"] if c["type"] == "image"]
                    if action == "cursor_position":
                        # In the model's coordinates: where it clicked.
                        self.assertEqual(res["content"], [{"type": "text", "text": "X=150,Y=100"}])
                        continue
                    self.assertEqual(len(images), 1, res["content"])
                    src = images[0]["source"]
                    self.assertEqual((src["type"], src["media_type"]), ("base64", "image/png"))
                    if action != "zoom":
                        self.assertEqual(png_size(src["data"]), (1024, 640))
        self.assert_effects(sb, fx["effects"])
        # The click landed where the model meant, scaled to the screen.
        disp = self.server.request("GET", "/v1/sandboxes/%s/display" % sb["id"]).body
        self.assertEqual((disp["cursor"]["x"], disp["cursor"]["y"]), (round(150 * 1.25), round(100 * 1.25)))

    def test_bash_and_editor_transcript(self):
        fx = fixture("anthropic_bash_editor.json")
        sb = self.sandbox(desktop=False)
        for step in fx["steps"]:
            with self.subTest(id=step["call"]["id"]):
                r = self.post(sb, step["call"])
                self.assertEqual(r.status, 200, r.body)
                res = r.body
                self.assertEqual(res["tool_use_id"], step["call"]["id"])
                self.assertEqual(res["is_error"], step["is_error"], res)
                texts = [c["text"] for c in res["content"] if c["type"] == "text"]
                if "text" in step:
                    self.assertEqual(texts, step["text"])
                else:
                    self.assertTrue(texts[0].startswith(step["startswith"]), texts)
        self.assert_effects(sb, fx["effects"])

    def test_bash_timeout_and_output_cap(self):
        sb = self.sandbox(desktop=False)
        bash = lambda inp, **q: self.post(sb, {"type": "tool_use", "id": "t", "name": "bash", "input": inp},
                                          "?timeout_s=2" if q.get("short") else "").body
        res = bash({"command": "head -c 100000 /dev/zero | tr '\\0' x"})
        self.assertIn("<response clipped>", res["content"][0]["text"])
        self.assertLess(len(res["content"][0]["text"]), 16500)
        res = bash({"command": "sleep 30"}, short=True)
        self.assertTrue(res["is_error"])
        self.assertIn("timed out", res["content"][0]["text"])
        res = bash({"command": "echo again"})
        self.assertTrue(res["is_error"])
        self.assertIn("restarted", res["content"][0]["text"])
        bash({"restart": True})
        self.assertEqual(bash({"command": "echo back"})["content"], [{"type": "text", "text": "back"}])
        res = bash({})
        self.assertTrue(res["is_error"])
        self.assertEqual(res["content"][0]["text"], "no command provided.")
        res = bash({"command": "exit 7"})
        self.assertTrue(res["is_error"])
        self.assertIn("returncode 7", res["content"][0]["text"])
        self.assertEqual(bash({"command": "echo fresh"})["content"][0]["text"], "fresh")

    def test_editor_errors(self):
        sb = self.sandbox(desktop=False)
        ed = lambda **inp: self.post(sb, {"type": "tool_use", "id": "e", "name": "str_replace_based_edit_tool",
                                          "input": inp}).body
        ed(command="create", path="/tmp/d.txt", file_text="a\nb\na\n")
        cases = [
            (dict(command="str_replace", path="/tmp/d.txt", old_str="a", new_str="c"),
             "No replacement was performed. Multiple occurrences of old_str `a` in lines [1, 3]. "
             "Please ensure it is unique"),
            (dict(command="view", path="/tmp/nope"),
             "The path /tmp/nope does not exist. Please provide a valid path."),
            (dict(command="view", path="rel/x"),
             "The path rel/x is not an absolute path, it should start with `/`. Maybe you meant /rel/x?"),
            (dict(command="view", path="/tmp/d.txt", view_range=[3, 9]),
             "Invalid `view_range`: [3, 9]. Its second element `9` should be smaller than the number "
             "of lines in the file: `4`"),
            (dict(command="insert", path="/tmp/d.txt", insert_line=9, insert_text="z"),
             "Invalid `insert_line` parameter: 9. It should be within the range of lines of the file: [0, 4]"),
            (dict(command="create", path="/tmp/d.txt", file_text="x"),
             "File already exists at: /tmp/d.txt. Cannot overwrite files using command `create`."),
            (dict(command="str_replace", path="/tmp", old_str="x"),
             "The path /tmp is a directory and only the `view` command can be used on directories"),
            (dict(command="undo_edit", path="/tmp/d.txt"),
             "Unrecognized command undo_edit. The allowed commands for the str_replace_based_edit_tool "
             "tool are: view, create, str_replace, insert"),
            (dict(command="create", path="/tmp/e.txt"), "Parameter `file_text` is required for command: create"),
        ]
        for inp, msg in cases:
            with self.subTest(inp=inp):
                res = ed(**inp)
                self.assertTrue(res["is_error"], res)
                self.assertEqual(res["content"], [{"type": "text", "text": msg}])
        self.assertEqual(self.read(sb, "/tmp/d.txt"), "a\nb\na\n")

    def test_tools_and_caller_errors(self):
        sb = self.xterm_sandbox()
        r = self.server.request("GET", "/v1/sandboxes/%s/tools/anthropic" % sb["id"])
        self.assertEqual(r.body["tools"][0], {"type": "computer_20251124", "name": "computer",
                                              "display_width_px": 1280, "display_height_px": 800,
                                              "enable_zoom": True})
        self.assertEqual([t["type"] for t in r.body["tools"][1:]], ["bash_20250124", "text_editor_20250728"])
        r = self.server.request("GET", "/v1/sandboxes/%s/tools/anthropic?version=computer_20250124"
                                "&display_width_px=1024&display_height_px=640" % sb["id"])
        self.assertEqual(r.body["tools"][0]["display_width_px"], 1024)
        self.assertNotIn("enable_zoom", r.body["tools"][0])
        r = self.server.request("GET", "/v1/sandboxes/%s/tools/anthropic?version=computer_toolset_20260801"
                                % sb["id"])
        self.assertEqual(r.body["tools"][0], {"type": "computer_toolset_20260801"})
        for bad, code in (({"type": "tool_use", "id": "x", "name": "browser", "input": {}}, 400),
                          ({"type": "text", "id": "x", "name": "computer", "input": {}}, 400),
                          ({"type": "tool_use", "id": "x", "name": "computer", "input": {}, "extra": 1}, 400),
                          ({"type": "tool_use", "id": "x", "name": "computer"}, 400)):
            with self.subTest(bad=bad):
                self.assertEqual(self.post(sb, bad).status, code)
        self.assertEqual(self.post(sb, {"type": "tool_use", "id": "x", "name": "computer",
                                        "input": {"action": "screenshot"}}, token=None).status, 401)
        r = self.server.request("POST", "/v1/sandboxes/%s/tools/anthropic" % ("0" * 32),
                                {"type": "tool_use", "id": "x", "name": "computer", "input": {}})
        self.assertEqual(r.status, 404)
        res = self.post(sb, {"type": "tool_use", "id": "x", "name": "computer",
                             "input": {"action": "fly", "coordinate": [1, 1]}}).body
        self.assertTrue(res["is_error"])
        nodesk = self.sandbox(desktop=False)
        r = self.post(nodesk, {"type": "tool_use", "id": "x", "name": "computer", "input": {"action": "screenshot"}})
        self.assertEqual(r.status, 409)


    def test_model_display_set_per_sandbox(self):
        # A size set at create is what the tools say and what the adapters
        # scale to, both ways, for Anthropic and OpenAI alike.
        sb = self.sandbox(model_display={"width": 640, "height": 400})
        self.assertEqual(sb["model_display"], {"width": 640, "height": 400})
        tools = self.server.request("GET", "/v1/sandboxes/%s/tools/anthropic" % sb["id"]).body["tools"]
        self.assertEqual((tools[0]["display_width_px"], tools[0]["display_height_px"]), (640, 400))
        oa = self.server.request("GET", "/v1/sandboxes/%s/tools/openai?version=computer_use_preview"
                                 % sb["id"]).body["tools"][0]
        self.assertEqual((oa["display_width"], oa["display_height"]), (640, 400))
        res = self.post(sb, {"type": "tool_use", "id": "m1", "name": "computer",
                             "input": {"action": "mouse_move", "coordinate": [100, 50]}}).body
        self.assertFalse(res.get("is_error"), res)
        shots = [b for b in res["content"] if b["type"] == "image"]
        self.assertEqual(png_size(shots[0]["source"]["data"]), (640, 400))
        cur = self.server.request("GET", "/v1/sandboxes/%s/display" % sb["id"]).body["cursor"]
        self.assertEqual((cur["x"], cur["y"]), (200, 100))
        # A size given with the call still wins; a bad one is named.
        tools = self.server.request("GET", "/v1/sandboxes/%s/tools/anthropic?display_width_px=1024"
                                    "&display_height_px=640" % sb["id"]).body["tools"]
        self.assertEqual(tools[0]["display_width_px"], 1024)
        r = self.server.request("POST", "/v1/sandboxes", {"model_display": {"width": 640}})
        self.assertEqual(r.status, 400)
        self.assertIn("model_display", r.body["error"]["message"])


class TestOpenAIReplay(AdaptCase):
    def post(self, sb, item, query=""):
        return self.server.request("POST", "/v1/sandboxes/%s/tools/openai%s" % (sb["id"], query), item,
                                   timeout=120)

    def test_transcripts(self):
        fx = fixture("openai_computer.json")
        sb = self.xterm_sandbox()
        for shape in ("ga", "preview"):
            q = "" if shape == "ga" else "?display_width=%d&display_height=%d" % (
                fx["display"]["width"], fx["display"]["height"])
            for item in fx["transcripts"][shape]:
                with self.subTest(shape=shape, call_id=item["call_id"]):
                    r = self.post(sb, item, q)
                    self.assertEqual(r.status, 200, r.body)
                    out = r.body
                    self.assertEqual(set(out), {"type", "call_id", "output"})
                    self.assertEqual((out["type"], out["call_id"]), ("computer_call_output", item["call_id"]))
                    self.assertEqual(out["output"]["type"], "computer_screenshot")
                    prefix = "data:image/png;base64,"
                    self.assertTrue(out["output"]["image_url"].startswith(prefix))
                    want = (1280, 800) if shape == "ga" else (1024, 640)
                    self.assertEqual(png_size(out["output"]["image_url"][len(prefix):]), want)
        self.assert_effects(sb, fx["effects"])
        disp = self.server.request("GET", "/v1/sandboxes/%s/display" % sb["id"]).body
        self.assertEqual((disp["cursor"]["x"], disp["cursor"]["y"]), (round(150 * 1.25), round(100 * 1.25)))

    def test_safety_checks_are_the_callers(self):
        fx = fixture("openai_computer.json")
        sb = self.xterm_sandbox()
        item = fx["transcripts"]["safety"]
        r = self.post(sb, item)
        self.assertEqual(r.status, 400)
        self.assertIn("malicious_instructions", r.body["error"]["message"])
        self.assertIn(item["pending_safety_checks"][0]["id"], r.body["error"]["message"])
        acked = dict(item, acknowledged_safety_checks=item["pending_safety_checks"])
        r = self.post(sb, acked)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.body["acknowledged_safety_checks"], item["pending_safety_checks"])

    def test_tools_and_errors(self):
        sb = self.xterm_sandbox()
        base = "/v1/sandboxes/%s/tools/openai" % sb["id"]
        self.assertEqual(self.server.request("GET", base).body, {"tools": [{"type": "computer"}]})
        r = self.server.request("GET", base + "?version=computer_use_preview&display_width=1024&display_height=640")
        self.assertEqual(r.body["tools"], [{"type": "computer_use_preview", "display_width": 1024,
                                            "display_height": 640, "environment": "linux"}])
        ok = {"type": "computer_call", "call_id": "c", "action": {"type": "screenshot"}}
        for bad in (dict(ok, type="function_call"), {"type": "computer_call", "call_id": "c"},
                    dict(ok, actions=[]), dict(ok, surprise=1)):
            with self.subTest(bad=bad):
                self.assertEqual(self.post(sb, bad).status, 400)
        r = self.post(sb, dict(ok, action={"type": "click", "button": "left", "x": "a", "y": 1}))
        self.assertEqual(r.status, 400)
        self.assertEqual(r.body["error"]["index"], 0)


if __name__ == "__main__":
    unittest.main()
