#!/usr/bin/python3
"""run.py - run every tests/bench/bench_*.py in turn (what `make bench` does).

    DESKBOX_BUILD=build /usr/bin/python3 tests/bench/run.py [NAME...]

Each bench is a script that starts its own deskboxd (through the test
harness, tests/integration/deskbox.py), prints its own table and exits 0 if
it could measure. NAMEs pick benches by substring ("core", "agent").
DESKBOX_BUILD is passed on (default: build). Benches assert nothing about
time; this exits non-zero only if a bench could not run.
"""

import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    benches = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if argv:
        benches = [b for b in benches if any(a in os.path.basename(b) for a in argv)]
    if not benches:
        sys.stderr.write("bench/run.py: no bench matched %s\n" % (argv or "bench_*.py"))
        return 1
    env = dict(os.environ)
    env.setdefault("DESKBOX_BUILD", "build")
    failed = []
    for path in benches:
        name = os.path.basename(path)
        print("=== %s" % name, flush=True)
        t0 = time.monotonic()
        try:
            rc = subprocess.run([sys.executable, path], env=env, cwd=os.path.join(HERE, "..", "..")).returncode
        except KeyboardInterrupt:
            return 130
        print("=== %s: %s in %.1f s\n" % (name, "ok" if rc == 0 else "FAILED (exit %d)" % rc,
                                          time.monotonic() - t0), flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print("benches that failed to run: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
