#!/usr/bin/python3
"""run.py - the escape suite (tests/security/test_*.py) against a real
deskboxd, with tests/integration/run.py's rules:

    DESKBOX_BUILD=build /usr/bin/python3 tests/security/run.py [PATTERN...]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Ahead of this directory, so `import run` is the integration runner.
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import run  # noqa: E402  (tests/integration/run.py)

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:], HERE, __doc__))
