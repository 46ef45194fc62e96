"""test_openapi.py - docs/openapi.json is generated from the operation table
(docs/openapi.py over `deskboxd --list-ops`; regenerate with `make docs`)
and is a valid OpenAPI 3.1 document by a real validator
(@seriousme/openapi-schema-validator from npm, installed by make)."""

import json
import os
import subprocess
import tempfile
import unittest

from deskbox import REPO, deskboxd_path

DOC = os.path.join(REPO, "docs", "openapi.json")
VALIDATE = os.path.join(REPO, "tests", "mcp", "node_modules", ".bin", "validate-api")


def generated():
    ops = subprocess.run([deskboxd_path(), "--list-ops"], check=True, capture_output=True, timeout=30).stdout
    return subprocess.run(["python3", os.path.join(REPO, "docs", "openapi.py")], input=ops, check=True,
                          capture_output=True, timeout=30).stdout


def validate(path):
    p = subprocess.run([VALIDATE, path], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, json.loads(p.stdout)


class TestOpenApi(unittest.TestCase):
    def test_committed_matches_the_table(self):
        with open(DOC, "rb") as f:
            self.assertEqual(f.read().decode(), generated().decode(),
                             "docs/openapi.json is stale: run make docs")

    def test_every_rest_operation_is_described(self):
        ops = json.loads(subprocess.run([deskboxd_path(), "--list-ops"], check=True, capture_output=True).stdout)
        with open(DOC) as f:
            doc = json.load(f)
        seen = {o["operationId"]: (m.upper(), p) for p, item in doc["paths"].items() for m, o in item.items()}
        for op in ops:
            if op["rest"]:
                method, path = op["rest"].split(" ", 1)
                self.assertEqual(seen.get(op["name"]), (method, path), op["name"])
        self.assertEqual(doc["paths"]["/healthz"]["get"]["security"], [])
        shot = doc["paths"]["/v1/sandboxes/{id}/screenshot"]["get"]
        self.assertIn("image/png", shot["responses"]["200"]["content"])
        self.assertIn("format", [p["name"] for p in shot["parameters"]])

    def test_valid_openapi_3_1(self):
        rc, out = validate(DOC)
        self.assertEqual((rc, out.get("valid")), (0, True), out)
        # The validator does refuse what is wrong (so a pass means something).
        with open(DOC) as f:
            doc = json.load(f)
        del doc["info"]["version"]
        doc["paths"]["/healthz"]["get"]["responses"] = "none"
        with tempfile.NamedTemporaryFile("w", suffix=".json") as bad:
            json.dump(doc, bad)
            bad.flush()
            rc, out = validate(bad.name)
        self.assertEqual(rc, 1)
        self.assertFalse(out["valid"])


if __name__ == "__main__":
    unittest.main()
