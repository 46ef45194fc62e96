"""test_cloner.py - sandboxes born in their cgroup v1 cgroups (server/cloner.c).

On a host with cgroup v1 hierarchies (this machine is hybrid) one thread of
deskboxd waits in a spare set of v1 directories, <instance>/spare; a create
renames them to the sandbox's id and that thread clones the sandbox's init
there, so no cgroup move (and its RCU grace period) is on the create's path.
These tests check what a user or operator can see of it: where the thread
and the init are, that a create and a delete right after it (while the
thread is still in the new sandbox's cgroups) leave deskboxd alive and
nothing behind, that back-to-back creates (no spare ready yet) still put
every init in its own cgroups, and that the limits hold in a sandbox born
from the spare. Skipped where there is no cgroup v1 hierarchy.
"""

import concurrent.futures
import os
import unittest

from deskbox import ServerTestCase, cgroup_dir_for, cgroup_dirs, until

V1_CONTROLLERS = ("memory", "pids", "cpu")


def v1_keys(dirs):
    """The v1 hierarchies among a cgroup_dirs() result that hold a
    controller deskbox uses."""
    return [k for k in dirs if k and any(c in k.split(",") for c in V1_CONTROLLERS)]


def thread_dirs(pid):
    """{tid: cgroup_dirs-like {key: dir}} for each thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        out[int(tid)] = cgroup_dirs(int(tid)) if os.path.exists("/proc/%s" % tid) else {}
    return out


@unittest.skipUnless(v1_keys(cgroup_dirs(os.getpid())), "no cgroup v1 hierarchy here")
class TestCloner(ServerTestCase):
    server_options = {"log_level": "debug"}

    def daemon_pid(self):
        return self.server.proc.pid

    def spare_thread(self):
        """The deskboxd thread that sits in <instance>/spare in every v1
        hierarchy, or None."""
        own = cgroup_dirs(self.daemon_pid())
        for tid, dirs in thread_dirs(self.daemon_pid()).items():
            keys = v1_keys(dirs)
            if keys and all(dirs[k].endswith("/spare") and
                            os.path.dirname(os.path.dirname(dirs[k])) == own[k]
                            for k in keys):
                return tid
        return None

    def test_a_thread_waits_in_the_spare_and_moves_to_a_new_one(self):
        tid = until(self.spare_thread, what="a deskboxd thread in <instance>/spare")
        self.assertNotEqual(tid, self.daemon_pid(), "the loop thread must stay in deskboxd's cgroups")
        sb = self.server.create(desktop=False)
        self.addCleanup(self.server.delete, sb["id"])
        init = cgroup_dirs(sb["pid"])
        for k in v1_keys(init):
            self.assertEqual(os.path.basename(init[k]), sb["id"], (k, init[k]))
        # The thread moved on to a new spare: the old one is the sandbox's.
        self.assertEqual(until(self.spare_thread, what="a new spare"), tid)
        for k in v1_keys(init):
            self.assertTrue(os.path.isdir(os.path.join(os.path.dirname(init[k]), "spare")))
        # Only the sandbox's own processes are in its cgroups.
        with open(os.path.join(init[v1_keys(init)[0]], "cgroup.procs")) as f:
            procs = {int(p) for p in f.read().split()}
        self.assertNotIn(self.daemon_pid(), procs)
        self.assertIn(sb["pid"], procs)

    def test_delete_right_after_create(self):
        """The thread is still in the new sandbox's v1 cgroups for a few ms
        after the clone: a delete then must not kill deskboxd (a v1
        cgroup.procs lists the process of any thread in it), and must still
        remove the cgroups once the thread has left."""
        for _ in range(5):
            sb = self.server.create(desktop=False)
            self.server.delete(sb["id"])
            self.assertIsNone(self.server.proc.poll(), "deskboxd died")
        self.assertEqual(self.server.healthz()["status"], "ok")
        self.assertEqual(self.server.list(), [])

    def test_back_to_back_creates_each_in_their_own_cgroups(self):
        """Creates at once: the first takes the spare; a next one that
        finds none ready (the thread still moving into a new one) makes its
        directories and moves its init. Which of them does depends on the
        kernel's timing (here often 1 in 4), so only the first is asserted;
        deskboxd's debug log names the way each went, and every init is in
        its own cgroups either way."""
        until(self.spare_thread, what="a spare")
        offset = self.server.log_size()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            sbs = list(pool.map(lambda _: self.server.create(desktop=False), range(4)))
        try:
            for sb in sbs:
                dirs = cgroup_dirs(sb["pid"])
                for k in v1_keys(dirs) + [""]:
                    if k in dirs:
                        self.assertEqual(os.path.basename(dirs[k]), sb["id"], (k, dirs[k]))
            log = self.server.log_text(offset)
            ways = {sb["id"]: ("spare" if "%s cgroup v1: born in the cloner's spare" % sb["id"] in log
                               else "moved" if "%s cgroup v1: no spare ready" % sb["id"] in log
                               else None) for sb in sbs}
            self.assertNotIn(None, ways.values(), log)
            self.assertIn("spare", ways.values(), ways)
        finally:
            for sb in sbs:
                self.server.delete(sb["id"])

    def test_limits_hold_in_a_sandbox_born_from_the_spare(self):
        until(self.spare_thread, what="a spare")
        sb = self.server.create(desktop=False, limits={"pids": 40})
        self.addCleanup(self.server.delete, sb["id"])
        pids = cgroup_dir_for(cgroup_dirs(sb["pid"]), "pids")
        if pids is None:
            self.skipTest("no pids controller here")
        with open(os.path.join(pids, "pids.max")) as f:
            self.assertEqual(f.read().strip(), "40")
        self.server.exec(sb["id"], "for i in $(seq 80); do sleep 5 & done 2>/dev/null; true")
        with open(os.path.join(pids, "pids.current")) as f:
            self.assertLessEqual(int(f.read()), 40)
        with open(os.path.join(pids, "pids.events")) as f:
            self.assertGreater(int(f.read().split()[1]), 0, "no fork was refused")

if __name__ == "__main__":
    unittest.main()
