"""test_pool.py - warm pools (--pool, --pool-shapes): booted desktops handed
to matching creates as the caller's own, refilled in the background,
counted toward --max-sandboxes but hidden from the list and the API, shown
in /metrics; a create of another shape boots cold (evicting a member when
the server is full of them); a drain destroys the members.
"""

import json
import re
import time
import unittest

from deskbox import API, Server, until


def metric(srv, name):
    text = srv.request("GET", "/metrics", token=None, raw=True).body.decode()
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


class TestPool(unittest.TestCase):
    def start(self, **opts):
        srv = Server(**opts)
        self.addCleanup(srv.stop)
        return srv.start()

    def test_take_refill_evict(self):
        srv = self.start(pool=2, max_sandboxes=3)
        until(lambda: metric(srv, "deskbox_pool_size") == 2, timeout=30, what="the pool filled")
        self.assertEqual(srv.list(), [], "members are nobody's: not listed")
        members = re.findall(r"(\w{32}) pool: ready", srv.log_text())
        self.assertEqual(len(members), 2)
        for m in members:
            self.assertEqual(srv.request("GET", "%s/%s" % (API, m)).status, 404)
        self.assertEqual(metric(srv, 'deskbox_sandboxes{state="running"}'), 0)

        t0 = time.monotonic()
        sb = srv.create(env={"WHO": "alice"}, timeout_s=120)
        took = time.monotonic() - t0
        self.assertIn(sb["id"], members, "a member was taken")
        self.assertEqual(metric(srv, "deskbox_pool_hits_total"), 1)
        self.assertEqual(sb["timeout_s"], 120)
        self.assertEqual(sb["desktop"]["state"], "running")
        r = srv.exec(sb["id"], cmd="echo $WHO; hostname")
        self.assertEqual(r["stdout"], "alice\n%s\n" % sb["id"])
        srv.expect(200, "GET", "%s/%s/screenshot" % (API, sb["id"]), raw=True)
        self.assertEqual([s["id"] for s in srv.list()], [sb["id"]])
        print("(pool create took %.1f ms) " % (took * 1000), end="", flush=True)

        # Refilled in the background, within --max-sandboxes (1 + 2 = 3).
        until(lambda: metric(srv, "deskbox_pool_size") == 2, timeout=30, what="the pool refilled")

        # Another shape: cold, and a member makes way for it.
        cold = srv.create(apps=["xterm"])
        self.assertNotIn(cold["id"], members)
        self.assertEqual(metric(srv, "deskbox_pool_misses_total"), 1)
        self.assertIn("pool: destroyed: a create needs its room", srv.log_text())
        self.assertEqual(len(srv.list()), 2)
        until(lambda: metric(srv, "deskbox_pool_size") == 1, timeout=30,
              what="the pool holds what room is left")
        r = srv.request("GET", "/readyz", token=None)
        self.assertEqual(r.status, 200, "a member makes way, so the server can still take one")

        # Draining destroys the members; SIGTERM then waits only for users'.
        srv.expect(200, "POST", "/v1/admin/drain", {})
        until(lambda: metric(srv, "deskbox_pool_size") == 0, what="members destroyed on drain")
        self.assertEqual(len(srv.list()), 2)

    def test_shapes_from_the_config_file(self):
        shapes = [{"size": 1, "spec": {"apps": ["xterm"], "desktop": {"width": 800, "height": 600}}}]
        srv = self.start(pool_shapes=json.dumps(shapes))
        until(lambda: metric(srv, "deskbox_pool_size") == 1, timeout=30, what="the pool filled")
        sb = srv.create(apps=["xterm"], desktop={"width": 800, "height": 600})
        self.assertEqual(metric(srv, "deskbox_pool_hits_total"), 1)
        self.assertEqual(sb["display"], {"width": 800, "height": 600})
        srv.create(desktop=False)   # no such shape: cold
        self.assertEqual(metric(srv, "deskbox_pool_misses_total"), 1)

    def test_first_screenshot_is_prepared_and_exact(self):
        """A member keeps its screen encoded while it waits: the taker's
        first screenshot is those bytes, the same a fresh encode gives, and
        any drawing makes the next one new."""
        srv = self.start(pool=1)
        shot = "%s/%%s/screenshot" % API

        def png(sid, query=""):
            r = srv.expect(200, "GET", shot % sid + query, raw=True)
            return r.body, r.headers["etag"]

        # A member is prepared once its screen has been still 50 ms; a take
        # right after it came up may beat that, so take until one was (the
        # bytes are checked on every take either way).
        for attempt in range(10):
            until(lambda: metric(srv, "deskbox_pool_size") == 1, timeout=30, what="the pool filled")
            time.sleep(0.3)
            before = metric(srv, "deskbox_screenshots_cached_total")
            sid = srv.create()["id"]
            first, etag = png(sid)
            prepared = metric(srv, "deskbox_screenshots_cached_total") == before + 1
            srv.expect(200, "GET", shot % sid + "?format=jpeg", raw=True)  # evicts it
            again, etag2 = png(sid)
            self.assertEqual(first, again, "the prepared bytes are a fresh encode's")
            self.assertEqual(etag, etag2)
            if prepared:
                break
            srv.delete(sid)
        self.assertTrue(prepared, "no take found its first screenshot prepared")
        self.assertEqual(png(sid), (again, etag2))
        self.assertEqual(metric(srv, "deskbox_screenshots_cached_total"), before + 2,
                         "an unchanged screen is answered from the last encode")

        # Something draws: a new image, encoded, not the kept one.
        srv.exec(sid, cmd="setsid xterm -geometry 40x10+0+0 </dev/null >/dev/null 2>&1 &")
        until(lambda: png(sid)[1] != etag, timeout=30, what="the xterm drew")
        drawn, etag3 = png(sid)
        self.assertNotEqual(drawn, first)
        srv.expect(200, "GET", shot % sid + "?format=jpeg", raw=True)
        self.assertEqual(png(sid), (drawn, etag3), "exact: the kept bytes equal a fresh encode")

    def test_bad_shapes_fail_at_start(self):
        from deskbox import ServerError
        for shapes, says in [("{", "JSON array"), ('[{"size": 0, "spec": {}}]', "size"),
                             ('[{"size": 1, "spec": {"apps": 3}}]', "apps"),
                             ('[{"size": 1, "spec": {}, "x": 1}]', "pool-shapes[0]")]:
            with self.subTest(shapes=shapes):
                srv = Server(pool_shapes=shapes)
                self.addCleanup(srv.stop, check=False)
                with self.assertRaises(ServerError) as e:
                    srv.start()
                self.assertIn(says, str(e.exception))


if __name__ == "__main__":
    unittest.main()
