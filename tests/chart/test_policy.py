"""Security, resilience and secret-handling rules over every rendered object."""

import base64
import re
import unittest

import chart_support as chart

# Env names that carry a credential: a word such as PASSWORD or KEY, or a
# trailing AUTH (REDISCLI_AUTH). MINIO_PROMETHEUS_AUTH_TYPE is a mode, not a secret.
SECRET_NAME = re.compile(r"(^|_)(PASSWORD|PASS|SECRET|KEY|TOKEN|COOKIE)(_|$)|_AUTH$", re.IGNORECASE)
# Pods that run to completion have no liveness or readiness to report.
RUN_TO_COMPLETION_KINDS = ("Job", "CronJob", "Pod")


def rendered_scenarios():
    for major in chart.HELM_BINARIES:
        for scenario in chart.SCENARIOS:
            yield major, scenario, chart.render_scenario(major, scenario)


def effective(container, spec, field):
    """Container securityContext field, falling back to the pod's."""
    value = (container.get("securityContext") or {}).get(field)
    if value is None:
        value = (spec.get("securityContext") or {}).get(field)
    return value


def image_tag(image):
    name = image.split("@", 1)[0]
    last_part = name.rsplit("/", 1)[-1]
    return last_part.split(":", 1)[1] if ":" in last_part else None


class ContainerPolicyTest(unittest.TestCase):
    def test_containers_restricted_and_sized(self):
        for major, scenario, docs in rendered_scenarios():
            for owner, _, spec in chart.pod_specs(docs):
                for container, is_init in chart.containers(spec):
                    with self.subTest(helm=major, scenario=scenario, object=chart.describe(owner),
                                      container=container["name"]):
                        resources = container.get("resources") or {}
                        for section in ("requests", "limits"):
                            self.assertIn("cpu", resources.get(section) or {}, section)
                            self.assertIn("memory", resources.get(section) or {}, section)

                        context = container.get("securityContext") or {}
                        self.assertIs(context.get("allowPrivilegeEscalation"), False)
                        self.assertIs(context.get("readOnlyRootFilesystem"), True)
                        self.assertIn("ALL", (context.get("capabilities") or {}).get("drop") or [])
                        self.assertIs(effective(container, spec, "runAsNonRoot"), True)
                        user = effective(container, spec, "runAsUser")
                        self.assertIsInstance(user, int)
                        self.assertGreater(user, 0)
                        seccomp = effective(container, spec, "seccompProfile") or {}
                        self.assertEqual(seccomp.get("type"), "RuntimeDefault")

                        tag = image_tag(container["image"])
                        self.assertIsNotNone(tag, f"{container['image']} has no tag")
                        self.assertNotEqual(tag, "latest")

                        if not is_init and owner["kind"] not in RUN_TO_COMPLETION_KINDS:
                            self.assertIn("livenessProbe", container)
                            self.assertIn("readinessProbe", container)

    def test_only_rabbitmq_mounts_token(self):
        for major, scenario, docs in rendered_scenarios():
            for owner, metadata, spec in chart.pod_specs(docs):
                component = metadata.get("labels", {}).get("app.kubernetes.io/component")
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(owner)):
                    self.assertEqual(spec.get("automountServiceAccountToken"), component == "rabbitmq")

    def test_memory_limits_of_txguard(self):
        limits_mib = {"128Mi": 128, "192Mi": 192, "256Mi": 256}
        for major, scenario, docs in rendered_scenarios():
            for doc in docs:
                if doc["kind"] != "Deployment":
                    continue
                container = doc["spec"]["template"]["spec"]["containers"][0]
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(doc)):
                    memory = container["resources"]["limits"]["memory"]
                    self.assertIn(memory, limits_mib, "api and worker limits stay within 128-256 MiB")


class ResiliencePolicyTest(unittest.TestCase):
    def test_replicated_workloads_have_pdb(self):
        for major, scenario, docs in rendered_scenarios():
            scaled = {doc["spec"]["scaleTargetRef"]["name"]
                      for doc in docs if doc["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
            budgets = [doc for doc in docs if doc["kind"] == "PodDisruptionBudget"]
            for doc in docs:
                if doc["kind"] not in ("Deployment", "StatefulSet"):
                    continue
                name = doc["metadata"]["name"]
                replicas = doc["spec"].get("replicas", 1)
                if replicas <= 1 and name not in scaled:
                    continue
                labels = doc["spec"]["template"]["metadata"]["labels"]
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(doc)):
                    matching = [b for b in budgets if chart.selector_matches(b["spec"]["selector"], labels)]
                    self.assertEqual(len(matching), 1, f"{name} needs exactly one PodDisruptionBudget")

    def test_keda_and_hpa_never_share_target(self):
        extra = ("worker.keda.enabled=true", "worker.autoscaling.enabled=true")
        cases = list(rendered_scenarios())
        for major in chart.HELM_BINARIES:
            cases.append((major, "keda-and-hpa-values", chart.render(major, ("values-production.yaml",), extra)))
        for major, scenario, docs in cases:
            with self.subTest(helm=major, scenario=scenario):
                hpa_targets = [d["spec"]["scaleTargetRef"]["name"] for d in docs
                               if d["kind"] == "HorizontalPodAutoscaler"]
                keda_targets = [d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "ScaledObject"]
                self.assertEqual(set(hpa_targets) & set(keda_targets), set())
                self.assertEqual(len(hpa_targets), len(set(hpa_targets)))

    def test_autoscaled_deployments_leave_replicas_unset(self):
        for major, scenario, docs in rendered_scenarios():
            scaled = {d["spec"]["scaleTargetRef"]["name"]
                      for d in docs if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
            for doc in docs:
                if doc["kind"] == "Deployment" and doc["metadata"]["name"] in scaled:
                    with self.subTest(helm=major, scenario=scenario, object=chart.describe(doc)):
                        self.assertNotIn("replicas", doc["spec"])

    def test_grace_period_covers_prestop_and_shutdown(self):
        for major, scenario, docs in rendered_scenarios():
            env = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-env"))
            shutdown_grace = int(env["data"]["TXGUARD_SHUTDOWN_GRACE_SECONDS"])
            for doc in docs:
                if doc["kind"] != "Deployment":
                    continue
                spec = doc["spec"]["template"]["spec"]
                pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(doc)):
                    self.assertGreater(spec["terminationGracePeriodSeconds"], pre_stop + shutdown_grace)


class NetworkPolicyTest(unittest.TestCase):
    def test_every_pod_denied_then_allowed(self):
        for major, scenario, docs in rendered_scenarios():
            policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
            for owner, metadata, _ in chart.pod_specs(docs):
                labels = metadata.get("labels") or {}
                selecting = [p for p in policies if chart.selector_matches(p["spec"]["podSelector"], labels)]
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(owner)):
                    deny_all = [p for p in selecting
                                if set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                                and not p["spec"].get("ingress") and not p["spec"].get("egress")]
                    self.assertEqual(len(deny_all), 1, "one default-deny policy selects the pod")
                    with_peers = [p for p in selecting
                                  if any(rule.get("from") for rule in p["spec"].get("ingress") or [])
                                  or any(rule.get("to") for rule in p["spec"].get("egress") or [])]
                    self.assertTrue(with_peers, "a policy opens at least one flow to or from a peer")


class SecretHandlingTest(unittest.TestCase):
    def test_secret_values_stay_in_secrets(self):
        for major, scenario, docs in rendered_scenarios():
            secret_values = set()
            for doc in docs:
                if doc["kind"] == "Secret":
                    for encoded in (doc.get("data") or {}).values():
                        value = base64.b64decode(encoded).decode()
                        if len(value) >= 8:
                            secret_values.add(value)
            if any(d["kind"] == "Secret" for d in docs):
                self.assertTrue(secret_values, f"{major} {scenario}: no Secret value to look for")
            config_text = [str(value) for d in docs if d["kind"] == "ConfigMap"
                           for value in (d.get("data") or {}).values()]
            env_literals = [str(entry["value"]) for _, _, spec in chart.pod_specs(docs)
                            for container, _ in chart.containers(spec)
                            for entry in container.get("env") or [] if "value" in entry]
            for value in secret_values:
                with self.subTest(helm=major, scenario=scenario, secret_prefix=value[:3]):
                    self.assertFalse(any(value in text for text in config_text), "found in a ConfigMap")
                    self.assertFalse(any(value in text for text in env_literals), "found in an env value")

    def test_secret_env_names_use_references(self):
        for major, scenario, docs in rendered_scenarios():
            for owner, _, spec in chart.pod_specs(docs):
                for container, _ in chart.containers(spec):
                    for entry in container.get("env") or []:
                        name = entry["name"]
                        if not SECRET_NAME.search(name) or name.endswith("_FILE"):
                            continue
                        with self.subTest(helm=major, scenario=scenario, object=chart.describe(owner),
                                          env=name):
                            self.assertIn("secretKeyRef", entry.get("valueFrom") or {})

    def test_txguard_reads_secrets_from_files(self):
        expected = {"TXGUARD_REDIS_PASSWORD_FILE", "TXGUARD_AMQP_PASSWORD_FILE",
                    "TXGUARD_S3_ACCESS_KEY_ID_FILE", "TXGUARD_S3_SECRET_ACCESS_KEY_FILE",
                    "TXGUARD_PAN_HASH_KEY_FILE"}
        for major, scenario, docs in rendered_scenarios():
            for doc in docs:
                if doc["kind"] != "Deployment":
                    continue
                container = doc["spec"]["template"]["spec"]["containers"][0]
                mounts = {m["mountPath"] for m in container["volumeMounts"]}
                with self.subTest(helm=major, scenario=scenario, object=chart.describe(doc)):
                    files = {e["name"]: e["value"] for e in container["env"] if e["name"] in expected}
                    self.assertEqual(set(files), expected)
                    for path in files.values():
                        self.assertIn(path.rsplit("/", 1)[0], mounts)


if __name__ == "__main__":
    unittest.main()
