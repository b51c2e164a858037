"""helm lint --strict and helm template on the shipped values files, with Helm 3 and Helm 4."""

import unittest

import chart_support as chart


class ChartRenderTest(unittest.TestCase):
    def test_lint_strict_passes(self):
        for major in chart.HELM_BINARIES:
            for values_file in chart.VALUES_FILES:
                with self.subTest(helm=major, values=values_file):
                    result = chart.run_helm(
                        major, ["lint", "--strict", str(chart.CHART_DIR),
                                "-f", str(chart.CHART_DIR / values_file)])
                    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_template_renders_every_version(self):
        for major in chart.HELM_BINARIES:
            for values_file in chart.VALUES_FILES:
                for kube_version in chart.KUBE_VERSIONS:
                    with self.subTest(helm=major, values=values_file, kubernetes=kube_version):
                        docs = chart.render(major, (values_file,), (), kube_version)
                        kinds = {doc["kind"] for doc in docs}
                        self.assertIn("Deployment", kinds)
                        self.assertIn("ConfigMap", kinds)

    def test_helm_majors_render_same_objects(self):
        for scenario in chart.SCENARIOS:
            with self.subTest(scenario=scenario):
                objects = {
                    major: sorted(chart.describe(doc) for doc in chart.render_scenario(major, scenario))
                    for major in chart.HELM_BINARIES
                }
                self.assertEqual(objects["helm3"], objects["helm4"])

    def test_kube_version_below_minimum_rejected(self):
        for major in chart.HELM_BINARIES:
            with self.subTest(helm=major):
                result = chart.run_helm(major, chart.template_args(kube_version="1.29.0"))
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("kubeVersion", result.stderr)


if __name__ == "__main__":
    unittest.main()
