"""Every rendered object validates strictly against the Kubernetes 1.30 and 1.32 schemas."""

import copy
import json
import unittest
from functools import lru_cache

import jsonschema

import chart_support as chart


def schema_path(doc, kube_version):
    group, _, version = doc["apiVersion"].rpartition("/")
    kind = doc["kind"].lower()
    if group and "." in group and not group.endswith(".k8s.io"):
        return chart.SCHEMA_DIR / "crds" / group / f"{kind}_{version}.json"
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return chart.SCHEMA_DIR / f"v{kube_version}-standalone-strict" / f"{kind}{suffix}.json"


@lru_cache(maxsize=None)
def load_schema(path, kube_version):
    schema = json.loads(path.read_text())
    if "crds" in path.parts:
        # CRD schemas leave the root open and metadata untyped; close the
        # root and use the built-in kinds' ObjectMeta so typos there fail too.
        schema = copy.deepcopy(schema)
        schema["additionalProperties"] = False
        configmap = json.loads(
            (chart.SCHEMA_DIR / f"v{kube_version}-standalone-strict" / "configmap-v1.json").read_text())
        schema["properties"]["metadata"] = configmap["properties"]["metadata"]
    return jsonschema.Draft7Validator(schema)


def validation_errors(doc, kube_version):
    path = schema_path(doc, kube_version)
    if not path.exists():
        return [f"no schema for {doc['apiVersion']} {doc['kind']} at {path}"]
    validator = load_schema(path, kube_version)
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(doc)]


class KubernetesSchemaTest(unittest.TestCase):
    def test_rendered_objects_match_schemas(self):
        for major in chart.HELM_BINARIES:
            for scenario in chart.SCENARIOS:
                for kube_version in chart.KUBE_VERSIONS:
                    docs = chart.render_scenario(major, scenario, kube_version)
                    for doc in docs:
                        with self.subTest(helm=major, scenario=scenario, kubernetes=kube_version,
                                          object=chart.describe(doc)):
                            self.assertEqual(validation_errors(doc, kube_version), [])

    def test_unknown_field_rejected(self):
        docs = chart.render_scenario("helm3", "production")
        samples = {doc["kind"]: doc for doc in docs}
        for kind in ("Deployment", "ServiceMonitor", "ScaledObject"):
            with self.subTest(kind=kind):
                broken = copy.deepcopy(samples[kind])
                broken["spec"]["replicaz"] = 3
                self.assertNotEqual(validation_errors(broken, chart.KUBE_VERSIONS[-1]), [])
        with self.subTest(kind="PrometheusRule metadata"):
            broken = copy.deepcopy(samples["PrometheusRule"])
            broken["metadata"]["lables"] = {}
            self.assertNotEqual(validation_errors(broken, chart.KUBE_VERSIONS[-1]), [])

    def test_kind_without_schema_fails(self):
        doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
        errors = validation_errors(doc, chart.KUBE_VERSIONS[-1])
        self.assertEqual(len(errors), 1)
        self.assertIn("no schema", errors[0])


if __name__ == "__main__":
    unittest.main()
