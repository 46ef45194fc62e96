"""Requests that refuse what they do not understand, apps whose fate is
visible, and the window manager that makes focus behave: end to end through
a real deskboxd, real jails and real X clients.

- Strictness: a table of typo'd and unknown-field bodies for sandbox
  creation, exec, the timeout and actions; each must be a 400 whose message
  names the field by its path (and the closest known name when there is one).
- Apps: {"apps": ["false", "xterm"]} reports the first as exited with code 1
  and the second running; a command that does not exist is exited with its
  shell's complaint in stderr_tail.
- Focus: with the default window manager a click into an xterm keeps the
  focus there when the pointer moves away; with {"wm": false} there is no
  window manager process at all.
Every wait is a bounded poll; every sandbox is deleted and proven gone.
"""

import time
import unittest

from deskbox import API, ServerTestCase, wait_until


class StrictRequestsTest(ServerTestCase):
    """Each body is refused with 400 and a message naming the field."""

    CREATE = [
        ({"desktop": {"w": 800, "h": 600}}, "desktop.w", "desktop.width"),
        ({"appz": ["xterm"]}, "appz", "apps"),
        ({"timeout": 60}, "timeout", "timeout_s"),
        ({"limits": {"memory": 512}}, "limits.memory", "limits.memory_mb"),
        ({"vnc": {"prot": "auto"}}, "vnc.prot", "vnc.port"),
        ({"WM": False}, "WM", "wm"),
        ({"wn": False}, "wn", None),        # too short to guess
        ({"desktop": {"width": 800, "gl": True, "extra": 1}}, "desktop.extra", None),
        ({"env": {"A": "1"}, "evn": {}}, "evn", "env"),
        ({"nonsense": True}, "nonsense", None),
    ]
    EXEC = [
        ({"cmd": "true", "timeout": 5}, "timeout", "timeout_ms"),
        ({"command": "true"}, "command", None),
        ({"argv": ["true"], "cwdir": "/tmp"}, "cwdir", "cwd"),
        ({"cmd": "true", "stdin": "", "envs": {}}, "envs", "env"),
    ]
    # REST hands a lone action or a bare array to the operation as
    # {"actions": [...]}, so every action's path starts with actions[i].
    ACTIONS = [
        ({"action": "left_click", "coordinate": [1, 1], "foo": 1}, "actions[0].foo", None),
        ({"action": "left_click", "cordinate": [1, 1]}, "actions[0].cordinate",
         "actions[0].coordinate"),
        ([{"action": "type", "txt": "a"}], "actions[0].txt", "actions[0].text"),
        ({"actions": [{"type": "click", "x": 1, "y": 1, "buton": "left"}]},
         "actions[0].buton", "actions[0].button"),
        ({"actions": [{"type": "screenshot"}], "scale": {"width": 10, "height": 10}},
         "scale", "scale_to"),
        ({"actions": [{"type": "screenshot"}], "scale_to": {"width": 10, "height": 10, "w": 1}},
         "scale_to.w", "scale_to.width"),
        ({"type": "drag", "path": [{"x": 1, "y": 1}, {"x": 2, "y": 2, "z": 0}]}, "path[1].z", None),
        ({"type": "keypress", "keys": ["a"], "key": "b"}, "actions[0].key", "actions[0].keys"),
    ]

    def check_400(self, r, body, field, hint):
        self.assertEqual(r.status, 400, "%r -> %s %r" % (body, r.status, r.body))
        msg = r.body["error"]["message"]
        self.assertIn("unknown field %s" % field, msg)
        if hint:
            self.assertIn("did you mean %s?" % hint, msg)
        else:
            self.assertNotIn("did you mean", msg)

    def test_create_refuses_unknown_fields(self):
        before = len(self.server.list())
        for body, field, hint in self.CREATE:
            with self.subTest(body=body):
                r = self.server.request("POST", API, body)
                self.check_400(r, body, field, hint)
        self.assertEqual(len(self.server.list()), before)

    def test_exec_and_timeout_refuse_unknown_fields(self):
        sb = self.sandbox(desktop=False)
        for body, field, hint in self.EXEC:
            with self.subTest(body=body):
                r = self.server.request("POST", "%s/%s/exec" % (API, sb["id"]), body)
                self.check_400(r, body, field, hint)
        for body, field, hint in [({"timeout": 60}, "timeout", "timeout_s"),
                                  ({"timeout_s": 60, "x": 1}, "x", None)]:
            with self.subTest(body=body):
                r = self.server.request("POST", "%s/%s/timeout" % (API, sb["id"]), body)
                self.check_400(r, body, field, hint)

    def test_actions_refuse_unknown_fields_and_mixed_vocabularies(self):
        sb = self.sandbox(wm=False)
        path = "%s/%s/actions" % (API, sb["id"])
        for body, field, hint in self.ACTIONS:
            with self.subTest(body=body):
                self.check_400(self.server.request("POST", path, body), body, field, hint)
        # Anthropic's "action" and OpenAI's "type" in one object: ambiguous.
        for body in ({"action": "left_click", "type": "click", "x": 1, "y": 1},
                     [{"type": "screenshot"}, {"action": "type", "type": "type", "text": "a"}]):
            with self.subTest(body=body):
                r = self.server.request("POST", path, body)
                self.assertEqual(r.status, 400, r.body)
                self.assertIn("both", r.body["error"]["message"])
        # scale_to larger than the screen would stretch images and clicks.
        r = self.server.request("POST", path, {"actions": [{"action": "screenshot"}],
                                               "scale_to": {"width": 1281, "height": 800}})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("larger than the 1280x800 screen", r.body["error"]["message"])
        r = self.server.request("POST", path, {"actions": [{"action": "screenshot"}],
                                               "scale_to": {"width": 1280, "height": 800}})
        self.assertEqual(r.status, 200, r.body)


class AppsAndFocusTest(ServerTestCase):
    server_options = {"max_sandboxes": 8}

    def apps(self, sb, pred, what, timeout=20):
        got = wait_until(lambda: pred(self.server.get(sb["id"])["desktop"]["apps"]), timeout, 0.1)
        apps = self.server.get(sb["id"])["desktop"]["apps"]
        self.assertTrue(got, "%s: apps are %r" % (what, apps))
        return apps

    def test_failed_app_is_reported(self):
        sb = self.sandbox(apps=["false", "xterm", "no-such-command-xyz"])
        apps = self.apps(sb, lambda a: len(a) == 3 and a[0]["state"] == "exited"
                         and a[2]["state"] == "exited", "false and the missing command end")
        self.assertEqual([a["command"] for a in apps], ["false", "xterm", "no-such-command-xyz"])
        self.assertEqual((apps[0]["exit_code"], apps[0]["signal"]), (1, None))
        self.assertEqual(apps[1]["state"], "running")
        self.assertIsNone(apps[1]["exit_code"])
        self.assertGreater(apps[1]["pid"], 1)
        self.assertEqual(apps[2]["exit_code"], 127)
        self.assertIn("not found", apps[2]["stderr_tail"])
        # Killing a running app shows its signal.
        self.sh(sb, "kill -TERM %d" % apps[1]["pid"])
        apps = self.apps(sb, lambda a: a[1]["state"] == "exited", "xterm killed")
        self.assertEqual((apps[1]["exit_code"], apps[1]["signal"]), (None, 15))

    def test_no_apps_is_an_empty_list(self):
        sb = self.sandbox()
        self.apps(sb, lambda a: a == [], "no apps")

    def test_chromium_runs_from_its_wrapper(self):
        """Debian's /usr/bin/chromium sources /etc/chromium.d; the jail's
        /etc provides it, with the flags Chromium needs in the jail."""
        sb = self.sandbox(apps=["chromium --user-data-dir=/tmp/c --disable-gpu about:blank"])
        ok = wait_until(lambda: any("Chromium" in w["title"] or "about:blank" in w["title"]
                                    for w in self.windows(sb)), 60, 0.25)
        apps = self.server.get(sb["id"])["desktop"]["apps"]
        self.assertTrue(ok, "no Chromium window; apps %r, windows %r" % (apps, self.windows(sb)))
        self.assertEqual(apps[0]["state"], "running", apps)

    def windows(self, sb):
        r = self.server.request("GET", "%s/%s/windows" % (API, sb["id"]))
        self.assertEqual(r.status, 200, r.body)
        return r.body["windows"]

    def window(self, sb, title):
        found = wait_until(lambda: [w for w in self.windows(sb) if title in w["title"]], 20, 0.1)
        self.assertTrue(found, "no window %r in %r" % (title, self.windows(sb)))
        return found[0]

    def act(self, sb, body):
        r = self.server.request("POST", "%s/%s/actions" % (API, sb["id"]), body, timeout=60)
        self.assertEqual(r.status, 200, r.body)
        return r.body

    def test_focus_stays_where_clicked(self):
        """Click into one xterm, move the pointer over another, type: the
        text goes where the click was (with a window manager, click to
        focus), not under the pointer."""
        sb = self.sandbox(apps=["xterm -T left -geometry 40x10+0+0 -e sh -c 'cat > /tmp/left'",
                                "xterm -T right -geometry 40x10+600+300 -e sh -c 'cat > /tmp/right'"])
        left, right = self.window(sb, "left"), self.window(sb, "right")
        self.assertTrue(wait_until(lambda: self.run_cmd(sb, "pgrep -x cat | wc -l")["stdout"]
                                   .strip() == "2", 20, 0.1), "the cats never started")
        self.act(sb, [{"action": "left_click",
                       "coordinate": [left["x"] + left["width"] // 2, left["y"] + left["height"] // 2]},
                      {"action": "mouse_move",
                       "coordinate": [right["x"] + right["width"] // 2,
                                      right["y"] + right["height"] // 2]},
                      {"action": "type", "text": "focused\n"}])
        got = wait_until(lambda: self.run_cmd(sb, "cat /tmp/left")["stdout"], 10, 0.1)
        self.assertEqual(got, "focused\n")
        self.assertEqual(self.run_cmd(sb, "cat /tmp/right")["stdout"], "")
        self.assertEqual(self.run_cmd(sb, "pgrep -x openbox")["exit_code"], 0)

    def test_wm_false_runs_none(self):
        sb = self.sandbox(apps=["xterm"], wm=False)
        self.window(sb, "xterm")
        self.assertEqual(self.run_cmd(sb, "pgrep -x openbox")["exit_code"], 1)
        sb2 = self.sandbox()
        self.assertTrue(wait_until(lambda: self.run_cmd(sb2, "pgrep -x openbox")["exit_code"] == 0,
                                   10, 0.1), "no window manager by default")


if __name__ == "__main__":
    unittest.main()
