#!/usr/bin/python3
"""run.py - the long suites (`make check-long`): tests/long/test_*.py.

    DESKBOX_BUILD=build /usr/bin/python3 tests/long/run.py [PATTERN...]

Same rules as tests/integration/run.py (PATTERN selects by substring of
module.Class.test, or glob with *; one summary line; exit 1 on any failure or
if nothing was selected), over the modules in this directory. They import the
integration harness (tests/integration/deskbox.py).
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(HERE, "..", "integration")
sys.path.insert(0, HERE)
sys.path.insert(0, INTEGRATION)

import deskbox  # noqa: E402  (after the path is set)


def _owner(t):
    """The test a failure belongs to (a subTest's parent), or None for
    unittest's set-up/clean-up placeholders (as tests/integration/run.py)."""
    t = getattr(t, "test_case", t)
    return t.id() if isinstance(t, unittest.TestCase) else None


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    deskbox.install_signal_cleanup()
    loader = unittest.TestLoader()
    if argv:
        loader.testNamePatterns = [a if "*" in a else "*%s*" % a for a in argv]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    bad = [t for t, _ in result.failures + result.errors] + result.unexpectedSuccesses
    failed_tests = {_owner(t) for t in bad} - {None}
    failed = len(failed_tests) + sum(1 for t in bad if _owner(t) is None)
    skipped = len(result.skipped)
    skipped_ran = sum(1 for t, _ in result.skipped if _owner(t))
    passed = max(0, result.testsRun - len(failed_tests) - skipped_ran)
    sys.stderr.flush()
    if result.testsRun == 0 and not bad:
        sys.stderr.write("run.py: no test matched %s\n" % (argv or "test_*.py"))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
