#!/usr/bin/python3
"""run.py - the long suites (`make check-long`): tests/long/test_*.py.

    DESKBOX_BUILD=build /usr/bin/python3 tests/long/run.py [PATTERN...]

tests/integration/run.py's main() over this directory: the same selection
(PATTERN is a substring of module.Class.test, or a glob with *), one summary
line, exit 1 on any failure or if nothing was selected. The modules import
the integration harness (tests/integration/deskbox.py).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Ahead of this directory, so `import run` is the integration runner.
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import run  # noqa: E402  (tests/integration/run.py)

if __name__ == "__main__":
    sys.exit(run.main(sys.argv[1:], HERE, __doc__))
