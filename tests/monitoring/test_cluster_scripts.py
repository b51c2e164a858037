"""Check that the names scripts/cluster/ uses exist where the scripts expect.

The scripts need a cluster, so they cannot run in the test suite. This test
reads their settings from scripts/cluster/common.sh and compares them with the
monitoring files. When Helm is available at tools/helm/v3/helm (or HELM), it
also compares them with the txguard chart rendered by `helm template` the way
deploy.sh installs it.

Run: python3 tests/monitoring/test_cluster_scripts.py
"""

import os
import pathlib
import re
import shutil
import subprocess
import unittest

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMON = REPO / "scripts/cluster/common.sh"
CHART = REPO / "deploy/helm/txguard"
RULES_FILE = CHART / "files/prometheus-rules.yaml"

SCALARS = [
    "CLUSTER_NAME", "TXGUARD_NAMESPACE", "TXGUARD_RELEASE", "MONITORING_NAMESPACE",
    "LOKI_NAMESPACE", "KEDA_NAMESPACE", "INGRESS_NAMESPACE", "INGRESS_HTTP_PORT",
    "INGRESS_HOST", "TXGUARD_API_SERVICE", "TXGUARD_API_PORT", "TXGUARD_MINIO_SERVICE",
    "TXGUARD_MINIO_PORT", "LOCAL_VALUES_FILE", "PROMETHEUS_RELEASE", "PROMETHEUS_SERVICE",
    "PROMETHEUS_PORT",
]
ARRAYS = ["TXGUARD_SCRAPE_JOBS", "TXGUARD_COMPONENTS"]
CHARTS = ["INGRESS_NGINX", "METRICS_SERVER", "KEDA", "KUBE_PROMETHEUS_STACK", "LOKI", "ALLOY"]


def read_settings():
    """Source common.sh in bash and return its variables as Python values."""
    lines = [f'printf "%s=%s\\n" {name} "${{{name}}}"' for name in SCALARS]
    lines += [f'printf "%s=%s\\n" {name} "${{{name}[*]}}"' for name in ARRAYS]
    for chart in CHARTS:
        lines.append(f'printf "%s=%s\\n" {chart}_CHART "${{{chart}_CHART}}"')
        lines.append(f'printf "%s=%s\\n" {chart}_VERSION "${{{chart}_VERSION}}"')
    lines.append(
        'for r in "${!CHART_REPOSITORIES[@]}"; do printf "REPO_%s=%s\\n" "$r" "${CHART_REPOSITORIES[$r]}"; done'
    )
    script = f'set -euo pipefail; source "{COMMON}"; ' + "; ".join(lines)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("TXGUARD_")}
    output = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, env=environment
    ).stdout
    settings = {}
    for line in output.splitlines():
        key, _, value = line.partition("=")
        settings[key] = value.split() if key in ARRAYS else value
    return settings


def find_helm():
    if os.environ.get("HELM"):
        return os.environ["HELM"]
    bundled = REPO / "tools/helm/v3/helm"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    return shutil.which("helm")


class ScriptSettingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.settings = read_settings()

    def test_chart_versions_pinned(self):
        for chart in CHARTS:
            with self.subTest(chart=chart):
                version = self.settings[f"{chart}_VERSION"]
                self.assertRegex(version, r"^\d+\.\d+\.\d+$")

    def test_chart_repositories_defined(self):
        for chart in CHARTS:
            with self.subTest(chart=chart):
                repository = self.settings[f"{chart}_CHART"].split("/")[0]
                url = self.settings.get(f"REPO_{repository}", "")
                self.assertTrue(url.startswith("https://"), f"no https URL for {repository}")

    def test_prometheus_service_follows_release(self):
        # kube-prometheus-stack names the Service <release>-prometheus when
        # the release name contains the chart name.
        self.assertEqual(
            self.settings["PROMETHEUS_SERVICE"], self.settings["PROMETHEUS_RELEASE"] + "-prometheus"
        )

    def test_monitoring_files_exist(self):
        script = (REPO / "scripts/cluster/create-cluster.sh").read_text()
        paths = re.findall(r"\$\{REPO_DIR\}/(deploy/monitoring/[\w.-]+)", script)
        self.assertGreaterEqual(len(paths), 4)
        for path in paths:
            with self.subTest(path=path):
                self.assertTrue((REPO / path).is_file())

    def test_loki_url_matches_namespace(self):
        url = f"http://loki.{self.settings['LOKI_NAMESPACE']}.svc.cluster.local:3100"
        alloy = (REPO / "deploy/monitoring/config.alloy").read_text()
        grafana = (REPO / "deploy/monitoring/kube-prometheus-stack-values.yaml").read_text()
        self.assertIn(url + "/loki/api/v1/push", alloy)
        self.assertIn(url, grafana)

    def test_scrape_jobs_match_alert_rules(self):
        rules = RULES_FILE.read_text()
        for job in self.settings["TXGUARD_SCRAPE_JOBS"]:
            with self.subTest(job=job):
                self.assertIn(f'job="{job}"', rules)

    def test_local_values_file_exists(self):
        self.assertTrue((REPO / self.settings["LOCAL_VALUES_FILE"]).is_file())


@unittest.skipUnless(find_helm(), "helm not found at tools/helm/v3/helm, HELM or PATH; run scripts/install-helm.sh")
@unittest.skipUnless((CHART / "Chart.yaml").is_file(), "chart deploy/helm/txguard not present")
class RenderedChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.settings = read_settings()
        command = [
            find_helm(), "template", cls.settings["TXGUARD_RELEASE"], str(CHART),
            "--namespace", cls.settings["TXGUARD_NAMESPACE"],
            "--values", str(REPO / cls.settings["LOCAL_VALUES_FILE"]),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(f"helm template failed: {result.stderr}")
        cls.objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    def objects_of(self, kind):
        return {obj["metadata"]["name"]: obj for obj in self.objects if obj["kind"] == kind}

    def assert_service_port(self, name, port):
        services = self.objects_of("Service")
        self.assertIn(name, services)
        ports = [entry["port"] for entry in services[name]["spec"]["ports"]]
        self.assertIn(int(port), ports)

    def test_api_service_and_port(self):
        self.assert_service_port(self.settings["TXGUARD_API_SERVICE"], self.settings["TXGUARD_API_PORT"])

    def test_minio_service_and_port(self):
        self.assert_service_port(self.settings["TXGUARD_MINIO_SERVICE"], self.settings["TXGUARD_MINIO_PORT"])

    def test_ingress_host_and_backend(self):
        ingresses = list(self.objects_of("Ingress").values())
        self.assertEqual(len(ingresses), 1)
        rule = ingresses[0]["spec"]["rules"][0]
        self.assertEqual(rule["host"], self.settings["INGRESS_HOST"])
        backend = rule["http"]["paths"][0]["backend"]["service"]["name"]
        self.assertEqual(backend, self.settings["TXGUARD_API_SERVICE"])
        self.assertNotIn("tls", ingresses[0]["spec"])

    def test_public_s3_endpoint_is_port_forward(self):
        configmaps = self.objects_of("ConfigMap")
        endpoints = [
            cm["data"]["TXGUARD_S3_PUBLIC_ENDPOINT"]
            for cm in configmaps.values()
            if "TXGUARD_S3_PUBLIC_ENDPOINT" in cm.get("data", {})
        ]
        self.assertEqual(endpoints, [f"http://127.0.0.1:{self.settings['TXGUARD_MINIO_PORT']}"])

    def test_scraped_jobs_have_service_monitors(self):
        services = self.objects_of("Service")
        monitors = self.objects_of("ServiceMonitor")
        jobs = set(self.settings["TXGUARD_SCRAPE_JOBS"])
        # The alert rules also select job="txguard-redis".
        jobs |= set(re.findall(r'job="(txguard-[a-z]+)"', RULES_FILE.read_text()))
        for job in sorted(jobs):
            with self.subTest(job=job):
                self.assertIn(job, services)
                labels = services[job]["metadata"]["labels"]
                selecting = [
                    name for name, monitor in monitors.items()
                    if monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
                ]
                self.assertTrue(selecting, f"no ServiceMonitor selects Service {job}")

    def test_rabbitmq_detailed_metrics_scraped(self):
        monitors = self.objects_of("ServiceMonitor")
        endpoints = [e for m in monitors.values() for e in m["spec"]["endpoints"]]
        detailed = [e for e in endpoints if e.get("path") == "/metrics/detailed"]
        self.assertEqual(len(detailed), 1)
        families = detailed[0]["params"]["family"]
        self.assertIn("queue_coarse_metrics", families)
        self.assertIn("queue_consumer_count", families)

    def test_waited_components_have_pods(self):
        workloads = [o for o in self.objects if o["kind"] in ("Deployment", "StatefulSet")]
        components = {w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") for w in workloads}
        for component in self.settings["TXGUARD_COMPONENTS"]:
            with self.subTest(component=component):
                self.assertIn(component, components)

    def test_volume_claims_match_alert_and_teardown(self):
        for name, statefulset in self.objects_of("StatefulSet").items():
            for claim in statefulset["spec"].get("volumeClaimTemplates", []):
                with self.subTest(statefulset=name, claim=claim["metadata"]["name"]):
                    # Kubernetes names the claim <template>-<statefulset>-<ordinal>.
                    self.assertIn("txguard", f"{claim['metadata']['name']}-{name}-0")
                    labels = claim["metadata"].get("labels", {})
                    self.assertEqual(labels.get("app.kubernetes.io/instance"), self.settings["TXGUARD_RELEASE"])

    def test_network_policies_admit_platform_namespaces(self):
        policies = yaml.safe_dump([o["spec"] for o in self.objects if o["kind"] == "NetworkPolicy"])
        for key in ("MONITORING_NAMESPACE", "INGRESS_NAMESPACE"):
            with self.subTest(namespace=self.settings[key]):
                self.assertIn(f"kubernetes.io/metadata.name: {self.settings[key]}", policies)


if __name__ == "__main__":
    unittest.main(verbosity=2)
