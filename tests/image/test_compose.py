"""Offline checks of compose.yaml and the files under deploy/compose/.

No container runs here (tests/image/image_test.sh runs the txguard image).
The tests parse compose.yaml with PyYAML. They check that every mounted file
exists, that image tags are pinned and that txguard's variables are those of
docs/configuration.md. They also check that the RabbitMQ topology equals the
one src/queue/topology.cpp declares, and that a health check backs every
depends_on condition. When docker-compose 1.29 (Debian package) is
installed, its schema validation runs too.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

REPO_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE_FILE = os.path.join(REPO_DIR, "compose.yaml")
SECRETS_SCRIPT = os.path.join(REPO_DIR, "scripts", "compose-secrets.sh")
TOPOLOGY_FILE = os.path.join(REPO_DIR, "deploy", "compose", "rabbitmq", "topology.json")
GENERATED_SECRETS_DIR = os.path.join("deploy", "compose", "secrets")
TXGUARD_SERVICES = ("api", "worker")


def load_compose():
    with open(COMPOSE_FILE) as f:
        return yaml.safe_load(f)


def project_version():
    with open(os.path.join(REPO_DIR, "CMakeLists.txt")) as f:
        match = re.search(r"^project\(txguard VERSION ([0-9.]+)", f.read(), re.MULTILINE)
    return match.group(1)


def documented_variables():
    """Returns {name: is_secret} from the table in docs/configuration.md."""
    variables = {}
    with open(os.path.join(REPO_DIR, "docs", "configuration.md")) as f:
        for line in f:
            match = re.match(r"\| `(TXGUARD_[A-Z0-9_]+)` \|", line)
            if match:
                variables[match.group(1)] = "*secret*" in line
    return variables


def bind_sources(service):
    """Yields the host paths of a service's bind mounts."""
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith("./") or source.startswith("/"):
            yield source


class ComposeSecrets:
    """Runs scripts/compose-secrets.sh once into a temporary folder."""

    directory = None

    @classmethod
    def get(cls):
        if cls.directory is None:
            cls.directory = tempfile.mkdtemp(prefix="txguard-compose-secrets-")
            subprocess.run(["bash", SECRETS_SCRIPT, os.path.join(cls.directory, "secrets")],
                           check=True, capture_output=True)
        return os.path.join(cls.directory, "secrets")

    @classmethod
    def cleanup(cls):
        if cls.directory is not None:
            shutil.rmtree(cls.directory, ignore_errors=True)


def tearDownModule():
    ComposeSecrets.cleanup()


class ComposeFileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.compose = load_compose()
        cls.services = cls.compose["services"]

    def test_bind_mounts_exist(self):
        for name, service in self.services.items():
            for source in bind_sources(service):
                with self.subTest(service=name, source=source):
                    self.assertTrue(os.path.exists(os.path.join(REPO_DIR, source)),
                                    f"{name} mounts {source}, which does not exist")

    def test_build_context_has_dockerfile(self):
        for name in TXGUARD_SERVICES:
            context = self.services[name]["build"]["context"]
            self.assertTrue(os.path.isfile(os.path.join(REPO_DIR, context, "Dockerfile")))

    def test_secret_files_are_generated(self):
        generated = ComposeSecrets.get()
        for name, secret in self.compose["secrets"].items():
            with self.subTest(secret=name):
                path = os.path.normpath(secret["file"])
                self.assertEqual(os.path.dirname(path), GENERATED_SECRETS_DIR,
                                 f"secret {name} is not a file that compose-secrets.sh writes")
                generated_file = os.path.join(generated, os.path.basename(path))
                self.assertTrue(os.path.isfile(generated_file),
                                f"scripts/compose-secrets.sh does not write {path}")
                self.assertGreater(os.path.getsize(generated_file), 0)

    def test_secrets_are_not_committed(self):
        with open(os.path.join(REPO_DIR, "deploy", "compose", ".gitignore")) as f:
            self.assertIn("/secrets/", f.read().split())

    def test_services_use_declared_secrets(self):
        declared = set(self.compose["secrets"])
        for name, service in self.services.items():
            for secret in service.get("secrets", []):
                secret_name = secret if isinstance(secret, str) else secret["source"]
                with self.subTest(service=name, secret=secret_name):
                    self.assertIn(secret_name, declared)

    def test_image_tags_pinned(self):
        for name, service in self.services.items():
            with self.subTest(service=name):
                image = service["image"]
                if name in TXGUARD_SERVICES:
                    match = re.fullmatch(r"txguard:\$\{TXGUARD_IMAGE_TAG:-([0-9.]+)\}", image)
                    self.assertIsNotNone(match, f"{name}: image {image}, expected "
                                         "txguard:${TXGUARD_IMAGE_TAG:-<project version>}")
                    self.assertEqual(match.group(1), project_version())
                else:
                    repository, _, tag = image.rpartition(":")
                    self.assertTrue(repository and tag, f"{name}: image {image} has no tag")
                    # A full release: x.y.z (with a suffix) or MinIO's RELEASE.<date>.
                    self.assertRegex(tag, r"^(v?\d+\.\d+\.\d+([-.][\w.-]+)?|RELEASE\.[\dTZ-]+)$",
                                     f"{name}: tag {tag} is not a pinned release")

    def test_txguard_variables_documented(self):
        documented = documented_variables()
        self.assertIn("TXGUARD_HTTP_PORT", documented, "docs/configuration.md table not parsed")
        for name in TXGUARD_SERVICES:
            environment = self.services[name]["environment"]
            mounted = {s if isinstance(s, str) else s["source"]
                       for s in self.services[name].get("secrets", [])}
            for variable, value in environment.items():
                if not variable.startswith("TXGUARD_"):
                    continue
                with self.subTest(service=name, variable=variable):
                    if variable in documented:
                        self.assertFalse(documented[variable],
                                         f"{variable} is a secret: pass it as {variable}_FILE")
                    else:
                        self.assertTrue(variable.endswith("_FILE"),
                                        f"{variable} is not in docs/configuration.md")
                        base = variable[: -len("_FILE")]
                        self.assertTrue(documented.get(base),
                                        f"{variable}: {base} is not a documented secret")
                        self.assertTrue(value.startswith("/run/secrets/"), value)
                        self.assertIn(value[len("/run/secrets/"):], mounted,
                                      f"{variable} points at a secret {name} does not mount")

    def test_required_secrets_given(self):
        for name in TXGUARD_SERVICES:
            environment = self.services[name]["environment"]
            for variable in ("TXGUARD_S3_ACCESS_KEY_ID", "TXGUARD_S3_SECRET_ACCESS_KEY",
                             "TXGUARD_PAN_HASH_KEY"):
                with self.subTest(service=name, variable=variable):
                    self.assertTrue(variable in environment or variable + "_FILE" in environment)

    def test_txguard_ports(self):
        self.assertEqual(self.services["api"]["environment"]["TXGUARD_HTTP_PORT"], "8080")
        self.assertEqual(self.services["worker"]["environment"]["TXGUARD_HTTP_PORT"], "9100")
        self.assertEqual(self.services["worker"]["deploy"]["replicas"], 2)
        self.assertNotIn("ports", self.services["worker"],
                         "a host port cannot be shared by two worker replicas")

    def test_txguard_hardening(self):
        for name in TXGUARD_SERVICES:
            service = self.services[name]
            with self.subTest(service=name):
                self.assertIs(service["read_only"], True)
                self.assertEqual(service["user"], "10001:10001")
                self.assertEqual(service["cap_drop"], ["ALL"])
                self.assertIn("no-new-privileges:true", service["security_opt"])
                self.assertTrue(any(t.split(":")[0] == "/tmp" for t in service["tmpfs"]))

    def test_published_ports_loopback_only(self):
        for name, service in self.services.items():
            for port in service.get("ports", []):
                with self.subTest(service=name, port=port):
                    self.assertTrue(str(port).startswith("127.0.0.1:"))

    def test_healthchecks_back_depends_on(self):
        for name, service in self.services.items():
            for target, condition in service.get("depends_on", {}).items():
                with self.subTest(service=name, depends_on=target):
                    self.assertIn(target, self.services)
                    if condition["condition"] == "service_healthy":
                        self.assertIn("healthcheck", self.services[target])
                    elif condition["condition"] == "service_completed_successfully":
                        self.assertEqual(self.services[target].get("restart"), "no")

    def test_long_running_services_have_healthchecks(self):
        for name, service in self.services.items():
            if service.get("restart") == "no":
                continue
            with self.subTest(service=name):
                self.assertIn("healthcheck", service)

    def test_minio_setup_mounts_script_and_policy(self):
        service = self.services["minio-setup"]
        self.assertEqual(service["entrypoint"][-1], "/etc/minio-setup/create-buckets.sh")
        with open(os.path.join(REPO_DIR, "deploy", "compose", "minio", "txguard-policy.json")) as f:
            policy = json.load(f)
        resources = {r for s in policy["Statement"] for r in s["Resource"]}
        for variable in ("TXGUARD_S3_BUCKET_REPORTS", "TXGUARD_S3_BUCKET_ARCHIVE",
                         "TXGUARD_S3_BUCKET_MODELS"):
            bucket = self.services["worker"]["environment"][variable]
            with self.subTest(bucket=bucket):
                self.assertIn(f"arn:aws:s3:::{bucket}", resources)
                self.assertIn(f"arn:aws:s3:::{bucket}/*", resources)

    def test_docker_compose_schema(self):
        docker_compose = shutil.which("docker-compose")
        if docker_compose is None:
            self.skipTest("docker-compose (Debian package) is not installed")
        secrets_dir = ComposeSecrets.get()
        with tempfile.TemporaryDirectory() as directory:
            # docker-compose 1.29 predates the top-level `name`. The secrets
            # point at the generated files in the temporary folder.
            compose = load_compose()
            del compose["name"]
            for secret in compose["secrets"].values():
                secret["file"] = os.path.join(secrets_dir, os.path.basename(secret["file"]))
            path = os.path.join(directory, "compose.yaml")
            with open(path, "w") as f:
                yaml.safe_dump(compose, f)
            result = subprocess.run(
                [docker_compose, "--project-directory", REPO_DIR, "-f", path, "config", "-q"],
                capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)


class RabbitMqDefinitionsTest(unittest.TestCase):
    """The compose broker's definitions against src/queue/topology.{h,cpp}."""

    @classmethod
    def setUpClass(cls):
        with open(TOPOLOGY_FILE) as f:
            cls.topology = json.load(f)
        with open(os.path.join(REPO_DIR, "src", "queue", "topology.h")) as f:
            cls.header = f.read()
        with open(os.path.join(REPO_DIR, "src", "queue", "topology.cpp")) as f:
            cls.source = f.read()

    def name(self, member):
        match = re.search(rf"std::string {member} = \"([^\"]+)\";", self.header)
        self.assertIsNotNone(match, f"{member} not found in src/queue/topology.h")
        return match.group(1)

    def queue(self, name):
        queues = {q["name"]: q for q in self.topology["queues"]}
        self.assertIn(name, queues)
        return queues[name]

    def test_exchanges(self):
        exchanges = {e["name"]: e for e in self.topology["exchanges"]}
        for member, kind in (("ingest_exchange", "direct"), ("dead_letter_exchange", "fanout"),
                             ("alerts_exchange", "topic")):
            with self.subTest(exchange=member):
                exchange = exchanges[self.name(member)]
                self.assertEqual(exchange["type"], kind)
                self.assertIn(f'declareExchange(topology.{member}, "{kind}")', self.source)
                self.assertIs(exchange["durable"], True)
                self.assertIs(exchange["auto_delete"], False)

    def test_transactions_queue_arguments(self):
        queue = self.queue(self.name("transactions_queue"))
        expected = {
            key: value
            for key, value in re.findall(r'\{"(x-[a-z-]+)", std::string\("([^"]+)"\)\}', self.source)
        }
        expected["x-dead-letter-exchange"] = self.name("dead_letter_exchange")
        limit = re.search(r"std::int64_t delivery_limit = (\d+);", self.header)
        self.assertIsNotNone(limit)
        expected["x-delivery-limit"] = int(limit.group(1))
        self.assertEqual(queue["arguments"], expected)
        # RabbitMQ compares types: a JSON integer, not a string or a float.
        self.assertIs(type(queue["arguments"]["x-delivery-limit"]), int)

    def test_dead_letter_queue_arguments(self):
        queue = self.queue(self.name("dead_letter_queue"))
        self.assertEqual(queue["arguments"], {"x-queue-type": "quorum"})

    def test_bindings(self):
        bindings = {(b["source"], b["destination"], b["routing_key"])
                    for b in self.topology["bindings"]}
        self.assertIn((self.name("ingest_exchange"), self.name("transactions_queue"),
                       self.name("transactions_routing_key")), bindings)
        self.assertIn((self.name("dead_letter_exchange"), self.name("dead_letter_queue"), ""),
                      bindings)

    def test_generated_definitions_users(self):
        secrets_dir = ComposeSecrets.get()
        with open(os.path.join(secrets_dir, "rabbitmq-definitions.json")) as f:
            definitions = json.load(f)
        for key in ("exchanges", "queues", "bindings", "policies"):
            self.assertEqual(definitions[key], self.topology[key])

        users = {u["name"]: u for u in definitions["users"]}
        for user, password_file in (("txguard", "rabbitmq-password"),
                                    ("admin", "rabbitmq-admin-password")):
            with self.subTest(user=user):
                with open(os.path.join(secrets_dir, password_file)) as f:
                    password = f.read()
                raw = base64.b64decode(users[user]["password_hash"])
                salt, digest = raw[:4], raw[4:]
                self.assertEqual(digest, hashlib.sha256(salt + password.encode()).digest())
                self.assertEqual(users[user]["hashing_algorithm"],
                                 "rabbit_password_hashing_sha256")

        compose = load_compose()
        amqp_url = compose["services"]["worker"]["environment"]["TXGUARD_AMQP_URL"]
        self.assertTrue(amqp_url.startswith("amqp://txguard@"), amqp_url)
        permissions = {p["user"]: p for p in definitions["permissions"]}
        self.assertEqual(permissions["txguard"]["vhost"], "/")


class PrometheusConfigTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(REPO_DIR, "deploy", "compose", "prometheus", "prometheus.yml")) as f:
            self.config = yaml.safe_load(f)
        with open(os.path.join(REPO_DIR, "deploy", "helm", "txguard", "files",
                               "prometheus-rules.yaml")) as f:
            self.rules_text = f.read()

    def test_jobs_match_rules(self):
        jobs = {c["job_name"] for c in self.config["scrape_configs"]}
        for job in set(re.findall(r'job="(txguard-(?:api|worker))"', self.rules_text)):
            with self.subTest(job=job):
                self.assertIn(job, jobs)

    def test_rules_mounted_where_loaded(self):
        volumes = load_compose()["services"]["prometheus"]["volumes"]
        targets = [v.split(":")[1] for v in volumes
                   if v.startswith("./deploy/helm/txguard/files/prometheus-rules.yaml:")]
        self.assertEqual(len(targets), 1)
        pattern = self.config["rule_files"][0]
        self.assertEqual(os.path.dirname(targets[0]), os.path.dirname(pattern))
        self.assertTrue(targets[0].endswith(os.path.splitext(pattern)[1]))

    def test_promtool_check_config(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool (Debian package prometheus) is not installed")
        result = subprocess.run(
            [promtool, "check", "config",
             os.path.join(REPO_DIR, "deploy", "compose", "prometheus", "prometheus.yml")],
            capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class GrafanaProvisioningTest(unittest.TestCase):
    def test_dashboard_mounted_where_provider_reads(self):
        with open(os.path.join(REPO_DIR, "deploy", "compose", "grafana", "provisioning",
                               "dashboards", "txguard.yaml")) as f:
            provider = yaml.safe_load(f)["providers"][0]
        volumes = load_compose()["services"]["grafana"]["volumes"]
        dashboard = [v for v in volumes if "grafana-dashboard.json" in v]
        self.assertEqual(len(dashboard), 1)
        self.assertEqual(os.path.dirname(dashboard[0].split(":")[1]), provider["options"]["path"])

    def test_datasource_points_at_prometheus(self):
        with open(os.path.join(REPO_DIR, "deploy", "compose", "grafana", "provisioning",
                               "datasources", "prometheus.yaml")) as f:
            datasource = yaml.safe_load(f)["datasources"][0]
        self.assertEqual(datasource["type"], "prometheus")
        self.assertEqual(datasource["url"], "http://prometheus:9090")
        self.assertIn("prometheus", load_compose()["services"])


if __name__ == "__main__":
    unittest.main()
