"""test_deploy_k8s.py - the Kubernetes manifests (deploy/kubernetes/),
checked offline: `kubectl kustomize` builds each shape, every object passes
deploy/check.mjs (the Kubernetes schemas from npm's kubernetes-models, every
field one the API defines; agent-sandbox's CRDs from their v1beta1 shape),
every deskboxd flag the manifests pass is one deskboxd accepts, yamllint is
clean on the manifests and shellcheck on deploy/'s scripts.

No cluster and no network: kubectl kustomize only reads files.
"""

import os
import re
import shutil
import subprocess
import unittest

import yaml  # python3-yaml, which yamllint depends on
from deskbox import REPO, deskboxd_path

K8S = os.path.join(REPO, "deploy", "kubernetes")
SHAPES = ["density", "single"]


def _run(argv, stdin=None, timeout=120):
    return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def _kustomize(path):
    r = _run(["kubectl", "kustomize", path])
    if r.returncode:
        raise AssertionError("kubectl kustomize %s failed:\n%s" % (path, r.stderr))
    return r.stdout


def _objects(text):
    return [o for o in yaml.safe_load_all(text) if o]


def _check(text):
    return _run(["node", os.path.join(REPO, "deploy", "check.mjs")], stdin=text)


class TestManifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("kubectl", "node", "yamllint", "shellcheck"):
            if not shutil.which(tool):
                raise AssertionError("%s is missing: scripts/deps.sh deploy installs it" % tool)
        if not os.path.isdir(os.path.join(REPO, "deploy", "node_modules", "kubernetes-models")):
            raise AssertionError("deploy/node_modules is missing: run `sh deploy/npm.sh`")

    def test_shapes_build_and_validate(self):
        for shape in SHAPES + ["."]:
            with self.subTest(shape=shape):
                out = _kustomize(os.path.join(K8S, shape))
                r = _check(out)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNotIn("FAIL", r.stdout)

    def test_density_shape(self):
        objs = {(o["kind"], o["metadata"]["name"]): o
                for o in _objects(_kustomize(os.path.join(K8S, "density")))}
        sts = objs[("StatefulSet", "deskbox")]
        headless = objs[("Service", "deskbox-pods")]
        svc = objs[("Service", "deskbox")]
        pdb = objs[("PodDisruptionBudget", "deskbox")]
        self.assertEqual(sts["spec"]["serviceName"], "deskbox-pods")
        self.assertEqual(headless["spec"]["clusterIP"], "None")
        self.assertNotEqual(svc["spec"].get("clusterIP"), "None")
        labels = sts["spec"]["template"]["metadata"]["labels"]
        for sel in (sts["spec"]["selector"]["matchLabels"], headless["spec"]["selector"],
                    svc["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
            self.assertTrue(sel and all(labels.get(k) == v for k, v in sel.items()),
                            "selector %r does not select the pods %r" % (sel, labels))
        c = sts["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertIn("preStop", c["lifecycle"])
        self.assertIn("--advertise-url", c["args"])
        ann = sts["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(ann["prometheus.io/path"], "/metrics")
        sc = c["securityContext"]
        self.assertFalse(sc["privileged"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertTrue(c["resources"]["requests"]["memory"])
        # The grace kubelet gives must cover deskboxd's own drain grace.
        grace = int(c["args"][c["args"].index("--drain-grace") + 1])
        self.assertGreater(sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"], grace)

    def test_single_shape(self):
        objs = {o["kind"]: o for o in _objects(_kustomize(os.path.join(K8S, "single")))}
        tpl, pool, claim = objs["SandboxTemplate"], objs["SandboxWarmPool"], objs["SandboxClaim"]
        self.assertEqual(pool["spec"]["sandboxTemplateRef"]["name"], tpl["metadata"]["name"])
        self.assertEqual(claim["spec"]["warmPoolRef"]["name"], pool["metadata"]["name"])
        c = tpl["spec"]["podTemplate"]["spec"]["containers"][0]
        self.assertIn("--single", c["args"])
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")

    def test_flags_exist(self):
        """Every --flag the manifests give deskboxd is in its usage, and the
        ConfigMap's config file has only keys deskboxd knows."""
        usage = _run([deskboxd_path(), "--help"]).stdout
        known = set(re.findall(r"--([a-z][a-z0-9-]*)", usage))
        self.assertIn("listen", known)
        for shape in SHAPES:
            for o in _objects(_kustomize(os.path.join(K8S, shape))):
                spec = (o.get("spec", {}).get("template", {}).get("spec")
                        or o.get("spec", {}).get("podTemplate", {}).get("spec"))
                for c in (spec or {}).get("containers", []):
                    for a in c.get("args", []):
                        if a.startswith("--"):
                            self.assertIn(a[2:].split("=")[0], known,
                                          "%s passes %s, which deskboxd does not know" % (shape, a))
                if o["kind"] == "ConfigMap":
                    for line in o["data"]["deskboxd.conf"].splitlines():
                        key = line.split("=")[0].strip()
                        if key and not key.startswith("#"):
                            self.assertIn(key, known, "config key %r" % key)

    def test_checker_catches_mistakes(self):
        """The checks are not vacuous: a misspelt field, a wrong type and a
        bad CRD value each fail, naming where."""
        good = _kustomize(K8S)
        for old, new, where in [
                ("readOnlyRootFilesystem: true", "readOnlyRootFilesytem: true", "readOnlyRootFilesytem"),
                ("containerPort: 8080", "containerPort: http", "containerPort"),
                ("replicas: 4", "replicas: -1", "/spec/replicas"),
                ("warmPoolRef:", "warmPoolRefs:", "warmPoolRefs")]:
            with self.subTest(mistake=new):
                self.assertIn(old, good)
                r = _check(good.replace(old, new, 1))
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(where, r.stdout)

    def test_lint(self):
        r = _run(["yamllint", "-s", "-c", os.path.join(K8S, ".yamllint"), K8S])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        scripts = [os.path.join(REPO, "deploy", p) for p in ("image/build.sh", "npm.sh")]
        r = _run(["shellcheck"] + scripts)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
