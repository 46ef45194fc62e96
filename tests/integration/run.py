#!/usr/bin/python3
"""run.py - run deskbox's black-box tests against a real deskboxd.

    DESKBOX_BUILD=build /usr/bin/python3 tests/integration/run.py [PATTERN...]

Discovers tests/integration/test_*.py. The other suites' runners
(tests/long/run.py, tests/security/run.py) call main() with their own
directory, so every suite selects and counts the same way. Each PATTERN selects tests whose full
name (module.Class.test_method) contains it, or matches it as a glob when it
has a * (unittest's -k rule). Runs them with verbosity 2 and ends with one
line, `N passed, N failed, N skipped` (errors count as failed); exits 1 if
anything failed or nothing was selected.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import deskbox  # noqa: E402  (after the path is set)


def _owner(t):
    """The test a failure belongs to (a subTest's parent), or None for the
    placeholders unittest reports class/module set-up and clean-up errors
    under: those count as failures, not as tests that ran."""
    t = getattr(t, "test_case", t)  # unittest.case._SubTest
    return t.id() if isinstance(t, unittest.TestCase) else None


def main(argv, here=HERE, doc=__doc__):
    """Runs the test_*.py modules of the directory here (selected by argv's
    patterns); prints the summary line and returns the exit status."""
    if any(a in ("-h", "--help") for a in argv):
        print(doc.strip())
        return 0
    deskbox.install_signal_cleanup()
    loader = unittest.TestLoader()
    if argv:
        loader.testNamePatterns = [a if "*" in a else "*%s*" % a for a in argv]
    suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)

    bad = [t for t, _ in result.failures + result.errors]
    bad += result.unexpectedSuccesses
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
