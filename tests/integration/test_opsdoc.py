"""The operation table is documented once: docs/operations.md is generated
from `deskboxd --list-ops`, and this test fails when the committed page
differs from what the server's table says (regenerate with `make docs`).
Also checks the table itself: every row has a summary, a params schema that
is an object schema, and every REST route names a row."""

import json
import os
import subprocess
import unittest

from deskbox import REPO, deskboxd_path


class TestOperationsDoc(unittest.TestCase):
    def ops(self):
        out = subprocess.run([deskboxd_path(), "--list-ops"], check=True, capture_output=True, timeout=30)
        return out.stdout

    def test_table_is_well_formed(self):
        ops = json.loads(self.ops())
        names = [o["name"] for o in ops]
        self.assertEqual(len(names), len(set(names)), "an operation name appears twice")
        for o in ops:
            with self.subTest(op=o["name"]):
                self.assertRegex(o["name"], r"^[a-z]+\.[a-z_]+$")
                self.assertTrue(o["summary"].endswith("."), o["summary"])
                self.assertEqual(o["params"].get("type"), "object", "params schema did not parse")
                self.assertIs(o["params"].get("additionalProperties"), False)
                if "sandbox" in o["flags"]:
                    self.assertIn("sandbox", o["params"]["properties"])
                    self.assertIn("sandbox", o["params"].get("required", []))

    def test_docs_match_the_table(self):
        gen = subprocess.run(["python3", os.path.join(REPO, "scripts", "opsdoc.py")], input=self.ops(),
                             check=True, capture_output=True, timeout=30).stdout.decode()
        with open(os.path.join(REPO, "docs", "operations.md")) as f:
            self.assertEqual(f.read(), gen, "docs/operations.md is stale: run `make docs`")


if __name__ == "__main__":
    unittest.main()
