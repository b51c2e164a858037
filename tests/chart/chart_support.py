"""Render the txguard chart with Helm 3 and Helm 4 and walk the rendered objects.

Helm comes from tools/helm/v3/helm and tools/helm/v4/helm, which
scripts/install-helm.sh installs; TXGUARD_HELM3 and TXGUARD_HELM4 override
the paths. A missing binary fails the test with that hint.
"""

import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import yaml

sys.dont_write_bytecode = True

REPO_DIR = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_DIR / "deploy" / "helm" / "txguard"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
RELEASE = "txguard"
NAMESPACE = "txguard"

# The Kubernetes versions of the schema folders in tests/chart/schemas.
KUBE_VERSIONS = ("1.30.10", "1.32.2")

HELM_BINARIES = {
    "helm3": os.environ.get("TXGUARD_HELM3", str(REPO_DIR / "tools" / "helm" / "v3" / "helm")),
    "helm4": os.environ.get("TXGUARD_HELM4", str(REPO_DIR / "tools" / "helm" / "v4" / "helm")),
}

VALUES_FILES = ("values.yaml", "values-production.yaml", "values-external.yaml")

# Value sets every object-level test runs on: the three shipped files, and
# variants that switch on the templates those files leave off.
SCENARIOS = {
    "minimal": (("values.yaml",), ()),
    "production": (("values-production.yaml",), ()),
    "external": (("values-external.yaml",), ()),
    "variants": (
        ("values-production.yaml",),
        (
            "api.service.type=LoadBalancer",
            "api.service.nodePort=31080",
            "api.autoscaling.requestsPerSecond=150",
            "worker.keda.enabled=false",
            "worker.autoscaling.enabled=true",
            "redis.image.repository=valkey/valkey",
            "redis.image.tag=8.0.2",
            "config.shutdownGraceSeconds=60",
            "lifecycle.preStopSleepSeconds=10",
        ),
    ),
    "external-inline-credentials": (
        ("values-external.yaml",),
        (
            "secrets.existingSecret=",
            "externalRedis.password=redis-given-password",
            "externalRabbitmq.password=rabbitmq-given-password",
            "externalS3.accessKeyId=AKIAGIVENKEYID000000",
            "externalS3.secretAccessKey=given-secret-access-key-0000000000000000",
            "worker.keda.enabled=true",
        ),
    ),
}


def helm_binary(major):
    path = HELM_BINARIES[major]
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"{major} not found at {path}: run scripts/install-helm.sh "
            f"(or set TXGUARD_{major.upper()} to a Helm binary)")
    return path


def run_helm(major, args):
    """Run helm with `args`; return the CompletedProcess (never raises on exit status)."""
    command = [helm_binary(major), *args]
    env = dict(os.environ, HELM_CACHE_HOME="/tmp/txguard-helm-cache",
               HELM_CONFIG_HOME="/tmp/txguard-helm-config", HELM_DATA_HOME="/tmp/txguard-helm-data")
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def template_args(values_files=(), set_values=(), kube_version=KUBE_VERSIONS[-1]):
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE,
            "--kube-version", kube_version]
    for name in values_files:
        args += ["-f", str(CHART_DIR / name)]
    for assignment in set_values:
        args += ["--set", assignment]
    return args


@lru_cache(maxsize=None)
def render(major, values_files=(), set_values=(), kube_version=KUBE_VERSIONS[-1]):
    """Return the rendered objects (list of dicts); raise AssertionError when helm fails."""
    result = run_helm(major, template_args(values_files, set_values, kube_version))
    if result.returncode != 0:
        raise AssertionError(
            f"{major} template {' '.join(values_files)} {' '.join(set_values)} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_scenario(major, scenario, kube_version=KUBE_VERSIONS[-1]):
    values_files, set_values = SCENARIOS[scenario]
    return render(major, values_files, set_values, kube_version)


def describe(doc):
    return f"{doc['kind']}/{doc['metadata']['name']}"


def pod_specs(docs):
    """Yield (object, pod metadata, pod spec) for every object that runs pods."""
    for doc in docs:
        kind = doc["kind"]
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            template = doc["spec"]["template"]
            yield doc, template.get("metadata", {}), template["spec"]
        elif kind == "CronJob":
            template = doc["spec"]["jobTemplate"]["spec"]["template"]
            yield doc, template.get("metadata", {}), template["spec"]
        elif kind == "Pod":
            yield doc, doc["metadata"], doc["spec"]


def containers(spec):
    """Yield (container, is_init) for every container of a pod spec."""
    for container in spec.get("initContainers", []) or []:
        yield container, True
    for container in spec.get("containers", []) or []:
        yield container, False


def selector_matches(selector, labels):
    """Apply a Kubernetes LabelSelector to a label map; an empty selector matches everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
