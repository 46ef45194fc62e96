"""test_keymap.py - the precompiled keymap of host-mode desktops.

deskboxd compiles Xvfb's default keymap once at start-up (server/keymap.c);
each desktop sandbox gets its own read-only copy under /var/lib/deskbox/xkb
beside the real xkbcomp, and deskbox-xkbcomp (desktop/xkbstub.c) over
/usr/bin/xkbcomp, which serves the copy for Xvfb's exact request and hands
everything else to the real compiler. Checked here: what the stand-in
serves and passes on, that the X server loaded the default keymap, and
that nothing of it is writable or shared. That typing still produces every
character exactly is test_input_xterm's and test_input_api's job, which run
on these desktops.
"""

import unittest

from deskbox import ServerTestCase

DIR = "/var/lib/deskbox/xkb"
# Xvfb's own argument shape (xkb/ddxLoad.c), as sh -c runs it.
XVFB_ARGS = ("-w 1 -R/usr/share/X11/xkb -xkm - -em1 'The XKEYBOARD keymap compiler (xkbcomp)"
             " reports:' -emp '> ' -eml 'Errors from xkbcomp are not fatal to the X server'")


class KeymapTest(ServerTestCase):
    server_options = {"max_sandboxes": 4}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sb = cls.server.create(wm=False)
        cls.addClassCleanup(cls.server.delete, cls.sb["id"])

    def test_xvfbs_request_gets_the_precompiled_keymap(self):
        self.sh(self.sb, "xkbcomp %s /tmp/fast.xkm < %s/keymap.xkb && cmp /tmp/fast.xkm %s/keymap.xkm"
                % (XVFB_ARGS, DIR, DIR))

    def test_another_keymap_goes_to_the_real_compiler(self):
        # One more symbols include: a real compile, a different keymap.
        out = self.sh(self.sb, "sed 's/inet(evdev)/inet(evdev)+group(shifts_toggle)/' %s/keymap.xkb"
                      " | xkbcomp %s /tmp/other.xkm && head -c 4 /tmp/other.xkm | od -An -tx1"
                      " && head -c 4 %s/keymap.xkm | od -An -tx1"
                      " && if cmp -s /tmp/other.xkm %s/keymap.xkm; then echo same; fi"
                      % (DIR, XVFB_ARGS, DIR, DIR))
        lines = out.split("\n")
        self.assertEqual(lines[0], lines[1], "not an .xkm: %r" % out)
        self.assertNotIn("same", out)
        # A text it cannot compile fails as xkbcomp does.
        res = self.run_cmd(self.sb, "echo 'xkb_keymap {' | xkbcomp %s /tmp/bad.xkm" % XVFB_ARGS)
        self.assertNotEqual(res["exit_code"], 0, res)

    def test_users_own_xkbcomp_runs_reach_the_real_one(self):
        # Not Xvfb's shape (and stdin not read): the running server's
        # keymap, dumped, is the default one the copy holds.
        out = self.sh(self.sb, "xkbcomp -xkb $DISPLAY - </dev/null")
        self.assertIn('xkb_keycodes "evdev+aliases(qwerty)"', out)
        self.assertIn('xkb_symbols "pc+us+inet(evdev)"', out)

    def test_nothing_of_it_is_writable(self):
        for path in ("%s/keymap.xkm" % DIR, "%s/keymap.xkb" % DIR, "%s/xkbcomp" % DIR,
                     "/usr/bin/xkbcomp"):
            with self.subTest(path=path):
                res = self.run_cmd(self.sb, "echo x > %s" % path)
                self.assertNotEqual(res["exit_code"], 0)
                self.assertIn("Read-only file system", res["stderr"])
        for cmd in ("rm -f %s/keymap.xkm" % DIR, "mv %s/keymap.xkm /tmp/k" % DIR,
                    "touch %s/new" % DIR, "chmod 666 %s/keymap.xkm" % DIR):
            with self.subTest(cmd=cmd):
                self.assertNotEqual(self.run_cmd(self.sb, cmd)["exit_code"], 0)

    def test_each_sandbox_has_its_own_copy(self):
        # Not a bind of one host file: the copy lives on the sandbox's own
        # root, so what one sandbox could ever do to it stays there.
        other = self.sandbox(wm=False)
        for sb in (self.sb, other):
            src = self.sh(sb, "awk '$5 == \"%s\" {print $4, $9}' /proc/self/mountinfo" % DIR)
            self.assertEqual(src, "", "%s is a mount of its own: %r" % (DIR, src))
            self.assertIn("tmpfs", self.sh(sb, "stat -f -c %%T %s/keymap.xkm" % DIR))
        self.assertEqual(self.sh(self.sb, "sha256sum < %s/keymap.xkm" % DIR),
                         self.sh(other, "sha256sum < %s/keymap.xkm" % DIR))

    def test_a_shell_only_sandbox_keeps_the_real_xkbcomp(self):
        mounts = "awk '$5 == \"/usr/bin/xkbcomp\"' /proc/self/mountinfo"
        self.assertNotEqual(self.sh(self.sb, mounts), "")
        sb = self.sandbox(desktop=False)
        self.assertNotEqual(self.run_cmd(sb, "test -e %s" % DIR)["exit_code"], 0)
        self.assertEqual(self.sh(sb, mounts), "")

if __name__ == "__main__":
    unittest.main()
