"""test_soak_long.py - the 500-cycle soak (`make check-long`).

500 create -> screenshot -> type -> exec -> destroy cycles of a desktop
sandbox ({"apps": ["xterm"]}) on one deskboxd; the cycle and the checks
(processes, mounts, cgroups v1 and v2, uid ranges, deskboxd's fds and
children, temp files, RSS growth < 5 MiB) are tests/integration/soak.py.
About 2 minutes on the 2-core development machine.
DESKBOX_SOAK_LONG_CYCLES overrides the count.
"""

import os
import unittest

import soak
from deskbox import Server

CYCLES = int(os.environ.get("DESKBOX_SOAK_LONG_CYCLES", "500"))


class TestSoakLong(unittest.TestCase):
    def test_500_cycles_leave_nothing(self):
        srv = Server()
        self.addCleanup(srv.stop)
        srv.start()
        fig, problems = soak.run(srv, CYCLES, label="soak (long)")
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
