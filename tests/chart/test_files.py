"""Files the chart copies or generates stay in step with their sources."""

import json
import subprocess
import sys
import unittest

import yaml

import chart_support as chart


class ChartFilesTest(unittest.TestCase):
    def test_readme_table_up_to_date(self):
        result = subprocess.run(
            [sys.executable, str(chart.REPO_DIR / "scripts" / "gen-chart-readme.py"), "--check"],
            capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_rules_copy_matches_config(self):
        source = chart.REPO_DIR / "config" / "rules" / "default.yaml"
        if not source.exists():
            self.skipTest(f"{source} does not exist yet")
        copy = chart.CHART_DIR / "rules" / "default.yaml"
        self.assertEqual(copy.read_bytes(), source.read_bytes(),
                         f"copy {source} to {copy}")

    def test_rules_configmap_holds_default_rules(self):
        docs = chart.render_scenario("helm3", "minimal")
        rules = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-rules"))
        expected = (chart.CHART_DIR / "rules" / "default.yaml").read_text()
        self.assertEqual(rules["data"]["rules.yaml"], expected.rstrip("\n"))

    def test_monitoring_files_included_verbatim(self):
        docs = chart.render_scenario("helm3", "production")
        rule = next(d for d in docs if d["kind"] == "PrometheusRule")
        source = yaml.safe_load((chart.CHART_DIR / "files" / "prometheus-rules.yaml").read_text())
        self.assertEqual(rule["spec"]["groups"], source["groups"])

        dashboard = next(d for d in docs if d["kind"] == "ConfigMap"
                         and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1")
        expected = json.loads((chart.CHART_DIR / "files" / "grafana-dashboard.json").read_text())
        self.assertEqual(json.loads(dashboard["data"]["txguard.json"]), expected)


if __name__ == "__main__":
    unittest.main()
