"""values.schema.json rejects bad values with a message naming the key, and accepts the shipped files."""

import unittest

import chart_support as chart

# (case, --set assignments, key the error must name)
BAD_VALUES = [
    ("negative replicas", ["api.replicas=-1"], "api.replicas"),
    ("replicas as text", ["worker.replicas=two"], "worker.replicas"),
    ("latest txguard tag", ["image.tag=latest"], "image.tag"),
    ("latest redis tag", ["redis.image.tag=latest"], "redis.image.tag"),
    ("tag with space", ["minio.image.tag=a b"], "minio.image.tag"),
    ("unknown service type", ["api.service.type=ExternalName"], "api.service.type"),
    ("storage size unit", ["redis.persistence.size=10GB"], "redis.persistence.size"),
    ("memory limit unit", ["api.resources.limits.memory=lots"], "api.resources.limits.memory"),
    ("external redis without url", ["redis.enabled=false"], "externalRedis.url"),
    ("external redis http url", ["redis.enabled=false", "externalRedis.url=http://cache:6379"],
     "externalRedis.url"),
    ("external rabbitmq without url", ["rabbitmq.enabled=false", "secrets.existingSecret=creds"],
     "externalRabbitmq.url"),
    ("external rabbitmq without password",
     ["rabbitmq.enabled=false", "externalRabbitmq.url=amqps://txguard@mq:5671/%2F"],
     "externalRabbitmq.password"),
    ("external s3 without endpoint", ["minio.enabled=false", "secrets.existingSecret=creds"],
     "externalS3.endpoint"),
    ("distributed minio with 2 nodes", ["minio.mode=distributed", "minio.replicas=2"], "minio.replicas"),
    ("standalone minio with 4 nodes", ["minio.replicas=4"], "minio.replicas"),
    ("even rabbitmq cluster", ["rabbitmq.replicas=2"], "rabbitmq.replicas"),
    ("unknown log level", ["config.logLevel=verbose"], "config.logLevel"),
    ("keda flag as text", ["worker.keda.enabled=yes"], "worker.keda.enabled"),
    ("node port out of range", ["api.service.type=NodePort", "api.service.nodePort=80"],
     "api.service.nodePort"),
    ("zero shutdown grace", ["config.shutdownGraceSeconds=0"], "config.shutdownGraceSeconds"),
    ("misspelled key", ["api.replica=2"], "replica"),
    ("unknown anti-affinity", ["rabbitmq.antiAffinity=strict"], "rabbitmq.antiAffinity"),
]


def key_forms(key):
    """The key as Helm 3 (dotted) and Helm 4 (JSON pointer) print it."""
    return (key, "/" + key.replace(".", "/"))


class ValuesSchemaTest(unittest.TestCase):
    def test_bad_values_rejected(self):
        self.assertGreaterEqual(len(BAD_VALUES), 12)
        for major in chart.HELM_BINARIES:
            for case, assignments, key in BAD_VALUES:
                with self.subTest(helm=major, case=case):
                    args = chart.template_args()
                    for assignment in assignments:
                        flag = "--set-string" if assignment.startswith("minio.image.tag") else "--set"
                        args += [flag, assignment]
                    result = chart.run_helm(major, args)
                    self.assertNotEqual(result.returncode, 0, f"accepted: {assignments}")
                    self.assertIn("schema", result.stderr)
                    self.assertTrue(any(form in result.stderr for form in key_forms(key)),
                                    f"message does not name {key}:\n{result.stderr}")

    def test_shipped_values_accepted(self):
        for major in chart.HELM_BINARIES:
            for values_file in chart.VALUES_FILES:
                with self.subTest(helm=major, values=values_file):
                    result = chart.run_helm(major, chart.template_args((values_file,)))
                    self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
