"""The chart's Secret, or secrets.existingSecret, wired through every consumer.

`lookup` returns nothing without a cluster, so the upgrade path, which
reuses the stored values, cannot run here. These tests cover the other
branches of the Secret template and the names that every pod, Job and KEDA
object read.
"""

import base64
import unittest

import chart_support as chart

GENERATED_KEYS = {
    "redis-password", "rabbitmq-password", "rabbitmq-erlang-cookie", "rabbitmq-keda-url",
    "minio-root-user", "minio-root-password", "s3-access-key-id", "s3-secret-access-key",
    "pan-hash-key",
}


def secret_references(docs):
    """Yield (where, secret name, key or None) for every reference to a Secret."""
    for owner, _, spec in chart.pod_specs(docs):
        for volume in spec.get("volumes") or []:
            if "secret" in volume:
                for item in volume["secret"].get("items") or [{"key": None}]:
                    yield chart.describe(owner), volume["secret"]["secretName"], item["key"]
        for container, _ in chart.containers(spec):
            for entry in container.get("env") or []:
                reference = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if reference:
                    yield chart.describe(owner), reference["name"], reference["key"]
    for doc in docs:
        if doc["kind"] == "TriggerAuthentication":
            for target in doc["spec"]["secretTargetRef"]:
                yield chart.describe(doc), target["name"], target["key"]


def decoded(secret):
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


class SecretWiringTest(unittest.TestCase):
    def test_existing_secret_replaces_chart_secret(self):
        extra = ("secrets.existingSecret=bank-credentials",)
        for major in chart.HELM_BINARIES:
            docs = chart.render(major, ("values-production.yaml",), extra)
            with self.subTest(helm=major):
                self.assertEqual([d for d in docs if d["kind"] == "Secret"], [])
                references = list(secret_references(docs))
                self.assertGreater(len(references), 10)
                for where, name, _ in references:
                    self.assertEqual(name, "bank-credentials", where)

    def test_generated_secret_has_every_referenced_key(self):
        for major in chart.HELM_BINARIES:
            docs = chart.render_scenario(major, "production")
            secrets = [d for d in docs if d["kind"] == "Secret"]
            with self.subTest(helm=major):
                self.assertEqual(len(secrets), 1)
                secret = secrets[0]
                self.assertEqual(secret["metadata"]["name"], chart.RELEASE)
                self.assertEqual(secret["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
                self.assertEqual(set(secret["data"]), GENERATED_KEYS)
                for where, name, key in secret_references(docs):
                    self.assertEqual(name, secret["metadata"]["name"], where)
                    if key is not None:
                        self.assertIn(key, secret["data"], where)

    def test_generated_values_random_and_long(self):
        first = decoded(next(d for d in chart.render("helm3", ("values.yaml",), ("nameOverride=a",))
                             if d["kind"] == "Secret"))
        second = decoded(next(d for d in chart.render("helm3", ("values.yaml",), ("nameOverride=b",))
                              if d["kind"] == "Secret"))
        for key in GENERATED_KEYS - {"rabbitmq-keda-url"}:
            with self.subTest(key=key):
                self.assertGreaterEqual(len(first[key]), 16)
                self.assertNotEqual(first[key], second[key])

    def test_keda_url_carries_rabbitmq_password(self):
        for major in chart.HELM_BINARIES:
            docs = chart.render_scenario(major, "production")
            values = decoded(next(d for d in docs if d["kind"] == "Secret"))
            with self.subTest(helm=major):
                host = f"{chart.RELEASE}-rabbitmq.{chart.NAMESPACE}.svc.cluster.local"
                self.assertEqual(values["rabbitmq-keda-url"],
                                 f"amqp://txguard:{values['rabbitmq-password']}@{host}:5672/%2F")

    def test_external_credentials_never_generated(self):
        for major in chart.HELM_BINARIES:
            docs = chart.render_scenario(major, "external-inline-credentials")
            values = decoded(next(d for d in docs if d["kind"] == "Secret"))
            with self.subTest(helm=major):
                self.assertEqual(values["redis-password"], "redis-given-password")
                self.assertEqual(values["rabbitmq-password"], "rabbitmq-given-password")
                self.assertEqual(values["s3-access-key-id"], "AKIAGIVENKEYID000000")
                self.assertEqual(values["s3-secret-access-key"], "given-secret-access-key-0000000000000000")
                self.assertTrue(values["rabbitmq-keda-url"].startswith(
                    "amqps://txguard:rabbitmq-given-password@"))

    def test_external_redis_without_password_stays_empty(self):
        extra = ("secrets.existingSecret=", "externalRabbitmq.password=p4ssword-for-mq",
                 "externalS3.accessKeyId=AKIAEXAMPLE", "externalS3.secretAccessKey=example-secret-key")
        docs = chart.render("helm3", ("values-external.yaml",), extra)
        values = decoded(next(d for d in docs if d["kind"] == "Secret"))
        self.assertEqual(values["redis-password"], "")


if __name__ == "__main__":
    unittest.main()
