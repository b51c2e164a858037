"""Check the Grafana dashboard, the alert rules and the alert runbook against
each other and against txguard's metric contract.

Run: python3 tests/monitoring/test_monitoring.py (ctest -L monitoring runs it).
"""

import json
import pathlib
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "deploy/helm/txguard/files/prometheus-rules.yaml"
DASHBOARD_FILE = REPO / "deploy/helm/txguard/files/grafana-dashboard.json"
RUNBOOK_FILE = REPO / "docs/operations.md"

# The metrics txguard exports (the service's /metrics contract). Histograms
# are listed by base name, and their _bucket, _sum and _count series are
# allowed.
TXGUARD_COUNTERS_AND_GAUGES = {
    "txguard_transactions_ingested_total",
    "txguard_transactions_decided_total",
    "txguard_decisions_duplicate_total",
    "txguard_http_requests_total",
    "txguard_queue_lag_messages",
    "txguard_retries_total",
    "txguard_errors_total",
    "txguard_dead_lettered_total",
    "txguard_model_info",
    "txguard_archive_pending_bytes",
    "txguard_reports_written_total",
    "txguard_stage_seconds_total",
    "txguard_alerts_published_total",
    "txguard_alerts_pending",
    "txguard_commit_conflicts_total",
}
TXGUARD_HISTOGRAMS = {
    "txguard_http_request_duration_seconds",
    "txguard_score_duration_seconds",
    "txguard_ingest_to_decision_seconds",
    "txguard_worker_batch_size",
}
# Exporter and Kubernetes metrics the rules and the dashboard may read.
EXPORTER_METRICS = {
    # RabbitMQ Prometheus plugin, /metrics/detailed families
    # queue_coarse_metrics and queue_consumer_count.
    "rabbitmq_detailed_queue_messages_ready",
    "rabbitmq_detailed_queue_consumers",
    # redis_exporter
    "redis_memory_used_bytes",
    "redis_memory_max_bytes",
    "redis_up",
    # kubelet
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_capacity_bytes",
    # Prometheus itself
    "up",
}

PROMQL_WORDS = {
    # operators and modifiers
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan",
    # aggregations
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values", "group",
    # functions used in this repository, plus common ones
    "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear",
    "histogram_quantile", "avg_over_time", "max_over_time", "min_over_time",
    "sum_over_time", "count_over_time", "last_over_time", "quantile_over_time",
    "absent", "absent_over_time", "changes", "resets", "abs", "ceil", "floor",
    "round", "clamp", "clamp_min", "clamp_max", "vector", "scalar", "time",
    "timestamp", "label_replace", "label_join", "sort", "sort_desc",
}


def allowed_metric_names(recording_rules):
    names = set(TXGUARD_COUNTERS_AND_GAUGES) | EXPORTER_METRICS | set(recording_rules)
    for histogram in TXGUARD_HISTOGRAMS:
        names |= {histogram + suffix for suffix in ("_bucket", "_sum", "_count")}
    return names


def metric_names(expr):
    """Return the metric names a PromQL expression selects."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )
    identifiers = re.findall(r"(?<![\w:.$])([A-Za-z_:][\w:]*)", text)
    return {name for name in identifiers if name.lower() not in PROMQL_WORDS}


def load_rules():
    with RULES_FILE.open() as handle:
        return yaml.safe_load(handle)


def all_rules(rules_document):
    for group in rules_document["groups"]:
        yield from group["rules"]


def load_dashboard():
    with DASHBOARD_FILE.open() as handle:
        return json.load(handle)


def leaf_panels(dashboard):
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def prometheus_targets(dashboard):
    for panel in leaf_panels(dashboard):
        for target in panel.get("targets", []):
            datasource = target.get("datasource", panel.get("datasource", {}))
            if datasource.get("type") == "prometheus":
                yield panel["title"], target["expr"]


def github_anchor(heading):
    """Return the anchor GitHub generates for a Markdown heading."""
    anchor = heading.strip().lower()
    anchor = re.sub(r"[^\w\- ]", "", anchor)
    return anchor.replace(" ", "-")


class MetricNameExtractionTest(unittest.TestCase):
    def test_extracts_names_outside_matchers_and_groupings(self):
        expr = (
            'sum by (job) (rate(foo_total{code=~"5..", route="/v1/{id}"}[5m]))'
            " / on (job) group_left (pod) bar:ratio_rate5m > 0.02"
        )
        self.assertEqual(metric_names(expr), {"foo_total", "bar:ratio_rate5m"})

    def test_ignores_functions_and_keywords(self):
        expr = "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 1 and absent(up)"
        self.assertEqual(metric_names(expr), {"x_bucket", "up"})


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = load_dashboard()
        rules = load_rules()
        recording = {rule["record"] for rule in all_rules(rules) if "record" in rule}
        cls.allowed = allowed_metric_names(recording)

    def test_schema_version_and_uid(self):
        self.assertGreaterEqual(self.dashboard["schemaVersion"], 39)
        self.assertTrue(self.dashboard["uid"])
        self.assertLessEqual(len(self.dashboard["uid"]), 40)

    def test_datasource_variables(self):
        variables = {v["name"]: v for v in self.dashboard["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertEqual(variables["loki"]["type"], "datasource")
        self.assertEqual(variables["loki"]["query"], "loki")
        self.assertIn("namespace", variables)

    def test_panel_ids_unique(self):
        ids = [panel["id"] for panel in self.dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_panels_use_datasource_variables(self):
        for panel in leaf_panels(self.dashboard):
            with self.subTest(panel=panel["title"]):
                self.assertIn(panel["datasource"]["uid"], ("${datasource}", "${loki}"))
                for target in panel.get("targets", []):
                    self.assertEqual(target["datasource"]["uid"], panel["datasource"]["uid"])

    def test_panels_fit_the_grid(self):
        for panel in self.dashboard["panels"]:
            with self.subTest(panel=panel["title"]):
                grid = panel["gridPos"]
                self.assertLessEqual(grid["x"] + grid["w"], 24)

    def test_prometheus_queries_use_known_metrics(self):
        targets = list(prometheus_targets(self.dashboard))
        self.assertGreater(len(targets), 10)
        for title, expr in targets:
            with self.subTest(panel=title, expr=expr):
                names = metric_names(expr)
                self.assertTrue(names, "query selects no metric")
                self.assertEqual(names - self.allowed, set(), "metrics outside the contract")

    def test_prometheus_queries_filter_namespace(self):
        for title, expr in prometheus_targets(self.dashboard):
            with self.subTest(panel=title, expr=expr):
                selectors = re.findall(r"[A-Za-z_:][\w:]*\{([^}]*)\}", expr)
                self.assertTrue(selectors)
                for selector in selectors:
                    self.assertIn('namespace="$namespace"', selector)

    def test_required_panels_present(self):
        queries = " ".join(expr for _, expr in prometheus_targets(self.dashboard))
        for metric in (
            "txguard_transactions_ingested_total",
            "txguard_transactions_decided_total",
            "txguard_score_duration_seconds_bucket",
            "txguard_ingest_to_decision_seconds_bucket",
            'queue="txguard.transactions"',
            "rabbitmq_detailed_queue_consumers",
            'queue="txguard.transactions.dlq"',
            "txguard_errors_total",
            "txguard_retries_total",
            "redis_memory_used_bytes",
            "txguard_model_info",
        ):
            with self.subTest(metric=metric):
                self.assertIn(metric, queries)

    def test_logs_panel_reads_txguard_json_from_loki(self):
        logs = [p for p in leaf_panels(self.dashboard) if p["type"] == "logs"]
        self.assertEqual(len(logs), 1)
        expr = logs[0]["targets"][0]["expr"]
        self.assertEqual(logs[0]["datasource"]["uid"], "${loki}")
        self.assertTrue(
            expr.startswith('{namespace="$namespace", app_kubernetes_io_name="txguard"}'), expr
        )
        self.assertTrue(expr.endswith("| json"), expr)

    @unittest.skipIf(shutil.which("promtool") is None, "promtool not installed")
    def test_prometheus_queries_parse(self):
        # promtool checks PromQL syntax inside rule files, so every query
        # becomes a recording rule with Grafana's variables replaced.
        rules = []
        for index, (_, expr) in enumerate(prometheus_targets(self.dashboard)):
            concrete = expr.replace("$__rate_interval", "5m").replace("$namespace", "txguard")
            rules.append({"record": f"dashboard:query{index}", "expr": concrete})
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, handle)
            handle.flush()
            result = subprocess.run(
                ["promtool", "check", "rules", handle.name], capture_output=True, text=True
            )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class RulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rules = load_rules()
        cls.alerts = [rule for rule in all_rules(cls.rules) if "alert" in rule]
        recording = {rule["record"] for rule in all_rules(cls.rules) if "record" in rule}
        cls.allowed = allowed_metric_names(recording)
        cls.runbook = RUNBOOK_FILE.read_text()

    def test_expected_alerts_exist(self):
        names = {alert["alert"] for alert in self.alerts}
        for expected in (
            "TxguardQueueBacklog",
            "TxguardQueueNoConsumers",
            "TxguardDeadLetterQueueNotEmpty",
            "TxguardHighErrorRate",
            "TxguardScoreLatencyHigh",
            "TxguardIngestToDecisionLatencyHigh",
            "TxguardFraudRateSpike",
            "TxguardRedisMemoryHigh",
            "TxguardPersistentVolumeFillingUp",
            "TxguardTargetDown",
        ):
            with self.subTest(alert=expected):
                self.assertIn(expected, names)

    def test_alerts_have_severity_and_annotations(self):
        for alert in self.alerts:
            with self.subTest(alert=alert["alert"]):
                self.assertIn(alert["labels"]["severity"], ("critical", "warning", "info"))
                for key in ("summary", "description", "runbook_url"):
                    self.assertTrue(alert["annotations"].get(key), key)

    def test_rules_use_known_metrics(self):
        for rule in all_rules(self.rules):
            name = rule.get("alert", rule.get("record"))
            with self.subTest(rule=name):
                names = metric_names(rule["expr"])
                self.assertEqual(names - self.allowed, set(), "metrics outside the contract")

    def test_every_alert_has_a_runbook_section(self):
        headings = re.findall(r"^#{2,4} +(.+?)\s*$", self.runbook, flags=re.MULTILINE)
        anchors = {github_anchor(heading) for heading in headings}
        for alert in self.alerts:
            name = alert["alert"]
            with self.subTest(alert=name):
                self.assertIn(name, headings)
                url = alert["annotations"]["runbook_url"]
                self.assertTrue(url.endswith("/docs/operations.md#" + name.lower()), url)
                self.assertIn(url.rsplit("#", 1)[1], anchors)


if __name__ == "__main__":
    unittest.main()
