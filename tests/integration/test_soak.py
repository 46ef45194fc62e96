"""test_soak.py - a short soak (30 create -> screenshot -> type -> exec ->
destroy cycles of a desktop sandbox) in `make test`: nothing leaks, deskboxd
does not grow. The 500-cycle run is tests/long/test_soak_long.py
(`make check-long`); the cycle and the checks are in soak.py.
"""

import os
import unittest

import soak
from deskbox import Server

CYCLES = int(os.environ.get("DESKBOX_SOAK_CYCLES", "30"))


class TestSoakShort(unittest.TestCase):
    def test_cycles_leave_nothing(self):
        srv = Server()
        self.addCleanup(srv.stop)
        srv.start()
        fig, problems = soak.run(srv, CYCLES, label="soak (short)")
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
