"""Check the Markdown pages under docs/ against the Helm chart and the repository.

For docs/*.md and docs/pt-BR/*.md:
- every `kubectl` command's objects in the release namespace (Services,
  Deployments, StatefulSets, pods, PVCs, ...), Service ports of
  port-forwards, and `-l` label selectors exist in `helm template` output;
- the first column of every expected-output table names a rendered object,
  and Service and PVC tables show the rendered ports and sizes;
- every values key (`--set key=...`, or `api.ingress.host` in backticks)
  exists in values.yaml;
- every repository path (`deploy/...`, `scripts/...`) exists;
- every relative link resolves, including its #anchor;
- every sh/bash block passes `bash -n`.

Helm comes from tools/helm/v3/helm (scripts/install-helm.sh) or
TXGUARD_HELM3. Run: python3 tests/docs/test_docs.py -v
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml

sys.dont_write_bytecode = True

REPO_DIR = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_DIR / "deploy" / "helm" / "txguard"
RELEASE = "txguard"
NAMESPACE = "txguard"
HELM = os.environ.get("TXGUARD_HELM3", str(REPO_DIR / "tools" / "helm" / "v3" / "helm"))

# Values files the docs deploy with, alone and combined as deploy.sh does.
LOCAL_VALUES = "scripts/cluster/txguard-local-values.yaml"
SCENARIOS = (
    (),
    ("deploy/helm/txguard/values-production.yaml",),
    ("deploy/helm/txguard/values-external.yaml",),
    (LOCAL_VALUES,),
    (LOCAL_VALUES, "deploy/helm/txguard/values-production.yaml"),
)

# kubectl resource names and short names, mapped to the rendered kind.
KIND_ALIASES = {
    "svc": "Service", "service": "Service", "services": "Service",
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
    "po": "Pod", "pod": "Pod", "pods": "Pod",
    "pvc": "PersistentVolumeClaim", "persistentvolumeclaim": "PersistentVolumeClaim",
    "cm": "ConfigMap", "configmap": "ConfigMap", "configmaps": "ConfigMap",
    "secret": "Secret", "secrets": "Secret",
    "ing": "Ingress", "ingress": "Ingress",
    "hpa": "HorizontalPodAutoscaler", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "so": "ScaledObject", "scaledobject": "ScaledObject", "scaledobjects": "ScaledObject",
    "triggerauthentication": "TriggerAuthentication",
    "pdb": "PodDisruptionBudget", "poddisruptionbudget": "PodDisruptionBudget",
    "netpol": "NetworkPolicy", "networkpolicy": "NetworkPolicy",
    "job": "Job", "jobs": "Job",
    "sa": "ServiceAccount", "serviceaccount": "ServiceAccount",
    "role": "Role", "rolebinding": "RoleBinding",
    "servicemonitor": "ServiceMonitor", "prometheusrule": "PrometheusRule",
    "certificate": "Certificate",
}
# Verbs whose positional arguments after the resource type are object names.
NAMING_VERBS = {"get", "describe", "delete", "patch", "edit", "label", "annotate", "wait"}
# Verbs whose first positional argument is a pod (or TYPE/NAME).
POD_VERBS = {"exec", "logs", "attach"}
REPO_PATH = re.compile(r"^(?:deploy|scripts|docs|src|tests|data|config|tools|bench|models)/[\w./-]*$")
FILE_SUFFIXES = {"yaml", "yml", "json", "conf", "md", "txt", "sh", "csv", "tpl", "alloy", "log"}


# Chart model -------------------------------------------------------------


def helm_template(values_files):
    if not os.access(HELM, os.X_OK):
        raise FileNotFoundError(
            f"helm not found at {HELM}: run scripts/install-helm.sh (or set TXGUARD_HELM3)")
    command = [HELM, "template", RELEASE, str(CHART_DIR), "-n", NAMESPACE]
    for values_file in values_files:
        command += ["-f", str(REPO_DIR / values_file)]
    env = dict(os.environ, HELM_CACHE_HOME="/tmp/txguard-helm-cache",
               HELM_CONFIG_HOME="/tmp/txguard-helm-config", HELM_DATA_HOME="/tmp/txguard-helm-data")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


class ChartModel:
    """Names, ports, sizes and labels of everything the chart renders."""

    def __init__(self):
        self.names = defaultdict(set)  # kind -> object names
        self.service_ports = defaultdict(set)  # Service name -> ports
        self.claim_sizes = defaultdict(set)  # PVC name -> sizes
        self.pod_patterns = []  # regexes of pod names
        self.labels = defaultdict(set)  # pod label key -> values

    def add(self, doc):
        kind = doc["kind"]
        name = doc["metadata"]["name"]
        spec = doc.get("spec") or {}
        self.names[kind].add(name)
        if kind == "Service":
            self.service_ports[name] |= {port["port"] for port in spec["ports"]}
        elif kind == "Deployment":
            self.pod_patterns.append(re.compile(re.escape(name) + r"-[a-z0-9]{5,10}-[a-z0-9]{5}$"))
        elif kind == "Job":
            self.pod_patterns.append(re.compile(re.escape(name) + r"-[a-z0-9]{5}$"))
        elif kind == "Pod":
            self.names["Pod"].add(name)
        elif kind == "StatefulSet":
            for index in range(spec.get("replicas", 1)):
                self.names["Pod"].add(f"{name}-{index}")
                for claim in spec.get("volumeClaimTemplates", []):
                    claim_name = f"{claim['metadata']['name']}-{name}-{index}"
                    self.names["PersistentVolumeClaim"].add(claim_name)
                    self.claim_sizes[claim_name].add(claim["spec"]["resources"]["requests"]["storage"])
        elif kind == "ScaledObject":
            # KEDA creates and names the HPA it owns.
            self.names["HorizontalPodAutoscaler"].add(f"keda-hpa-{name}")
        elif kind == "Ingress":
            for tls in spec.get("tls") or []:
                # cert-manager's Certificate and the Secret it fills.
                self.names["Secret"].add(tls["secretName"])
                self.names["Certificate"].add(tls["secretName"])
        template = (spec.get("template") or {}).get("metadata") or {}
        pod_labels = template.get("labels") or (doc["metadata"].get("labels") if kind == "Pod" else {})
        for key, value in (pod_labels or {}).items():
            self.labels[key].add(str(value))

    def has(self, kind, name):
        if name in self.names[kind]:
            return True
        return kind == "Pod" and any(pattern.match(name) for pattern in self.pod_patterns)

    def any_object(self, name):
        return any(self.has(kind, name) for kind in list(self.names) + ["Pod"])


@lru_cache(maxsize=None)
def chart_model():
    model = ChartModel()
    for scenario in SCENARIOS:
        for doc in helm_template(scenario):
            model.add(doc)
    with (CHART_DIR / "values-external.yaml").open() as handle:
        external = yaml.safe_load(handle)
    # values-external.yaml names a Secret that the operator creates first.
    model.names["Secret"].add(external["secrets"]["existingSecret"])
    return model


def flatten_keys(values, prefix=""):
    keys = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        keys.add(path)
        if isinstance(value, dict):
            keys |= flatten_keys(value, path + ".")
    return keys


@lru_cache(maxsize=None)
def values_keys():
    with (CHART_DIR / "values.yaml").open() as handle:
        return frozenset(flatten_keys(yaml.safe_load(handle)))


# Markdown parsing --------------------------------------------------------


def doc_files():
    return sorted((REPO_DIR / "docs").glob("*.md")) + sorted((REPO_DIR / "docs" / "pt-BR").glob("*.md"))


def split_markdown(text):
    """Return (prose with code blocks blanked, [(language, code, first line number)])."""
    prose_lines, blocks = [], []
    language, code, start = None, [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        fence = re.match(r"^\s*```(\S*)", line)
        if language is None and fence:
            language, code, start = fence.group(1) or "plain", [], number + 1
            prose_lines.append("")
        elif language is not None and re.match(r"^\s*```\s*$", line):
            blocks.append((language, "\n".join(code), start))
            language = None
            prose_lines.append("")
        elif language is not None:
            code.append(line)
            prose_lines.append("")
        else:
            prose_lines.append(line)
    return "\n".join(prose_lines), blocks


def github_anchor(heading):
    anchor = heading.strip().lower()
    anchor = re.sub(r"[^\w\- ]", "", anchor)
    return anchor.replace(" ", "-")


def anchors_of(text):
    prose, _ = split_markdown(text)
    anchors, seen = set(), defaultdict(int)
    for heading in re.findall(r"^#{1,6} +(.+?)\s*#*\s*$", prose, flags=re.MULTILINE):
        base = github_anchor(heading)
        anchors.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return anchors


def shell_commands(code):
    """Yield the commands of a shell block, continuation lines joined, heredoc bodies skipped."""
    lines = code.splitlines()
    index, current = 0, ""
    while index < len(lines):
        line = lines[index]
        index += 1
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", line)
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if heredoc:
            terminator = heredoc.group(1)
            while index < len(lines) and lines[index].strip() != terminator:
                index += 1
            index += 1
            current = current[: current.index("<<")]
        for part in re.split(r"\|\||&&|;|\|", current):
            part = re.sub(r"#.*$", "", part).strip()
            part = re.sub(r"^\$\(|^\(|\)$", "", part).strip()
            if part:
                yield part
        current = ""


def heredoc_manifests(code):
    """Return the YAML documents fed to `kubectl apply -f -` through heredocs."""
    manifests = []
    for body in re.findall(r"<<-?\s*'?(YAML)'?\n(.*?)\n\1\s*$", code, flags=re.DOTALL | re.MULTILINE):
        try:
            manifests += [doc for doc in yaml.safe_load_all(body[1]) if isinstance(doc, dict)]
        except yaml.YAMLError:
            pass
    return manifests


def words_of(command):
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


# Checks ------------------------------------------------------------------


def check_kubectl(words, model, created):
    """Return problems with one kubectl command's release objects."""
    problems = []
    namespace = None
    positionals = []
    label_selectors = []
    skip_next = False
    for position, word in enumerate(words[1:], start=1):
        if skip_next:
            skip_next = False
            continue
        if word in ("-n", "--namespace"):
            namespace = words[position + 1] if position + 1 < len(words) else None
            skip_next = True
        elif word.startswith("--namespace="):
            namespace = word.split("=", 1)[1]
        elif word in ("-l", "--selector"):
            if position + 1 < len(words):
                label_selectors.append(words[position + 1])
            skip_next = True
        elif word in ("-c", "--container", "--context", "-o", "--output", "-p", "--type",
                      "--for", "--timeout", "--replicas", "--address", "-f", "--filename",
                      "--since", "--from-literal", "--cascade"):
            skip_next = True
        elif word == "--":
            break
        elif not word.startswith("-"):
            positionals.append(word)
    if namespace != NAMESPACE or not positionals:
        return problems

    def known(kind, name):
        return model.has(kind, name) or (kind, name) in created

    def check(kind, name):
        # Placeholders, label or annotation arguments (key=value, key-).
        if re.search(r"[<>$*{}=/]", name) or name.endswith("-"):
            return
        if not known(kind, name):
            problems.append(f"{kind} '{name}' is not rendered by the chart")

    verb = positionals[0]
    arguments = positionals[1:]
    if verb in ("rollout", "create", "top", "config", "auth"):
        arguments = arguments[1:]
    if verb == "create":
        return problems
    typed = [argument for argument in arguments if "/" in argument
             and argument.split("/", 1)[0].lower() in KIND_ALIASES]
    for argument in typed:
        alias, name = argument.split("/", 1)
        check(KIND_ALIASES[alias.lower()], name)
    if verb in NAMING_VERBS and arguments and not typed:
        kinds = [KIND_ALIASES.get(alias.lower()) for alias in arguments[0].split(",")]
        if all(kinds) and len(kinds) == 1:
            for name in arguments[1:]:
                check(kinds[0], name)
    if verb in POD_VERBS and arguments and not typed:
        check("Pod", arguments[0])
    if verb == "cp":
        for argument in arguments:
            if ":" in argument:
                check("Pod", argument.split(":", 1)[0])
    if verb == "port-forward" and typed:
        alias, name = typed[0].split("/", 1)
        if KIND_ALIASES[alias.lower()] == "Service":
            for mapping in arguments[arguments.index(typed[0]) + 1:]:
                remote = mapping.split(":")[-1]
                if remote.isdigit() and int(remote) not in model.service_ports.get(name, set()):
                    problems.append(f"Service '{name}' has no port {remote}")
    for selector in label_selectors:
        for requirement in selector.split(","):
            match = re.match(r"^([\w./-]+)=([\w.-]+)$", requirement.strip())
            if match and match.group(2) not in model.labels.get(match.group(1), set()):
                problems.append(f"no rendered pod has label {requirement.strip()}")
    return problems


def check_helm(words):
    """Return problems with the values keys of one helm command's --set options."""
    problems = []
    for position, word in enumerate(words):
        argument = None
        if word in ("--set", "--set-string", "--set-file") and position + 1 < len(words):
            argument = words[position + 1]
        elif re.match(r"^--set(-string|-file)?=", word):
            argument = word.split("=", 1)[1]
        if argument:
            for assignment in re.split(r",(?![^{]*})", argument):
                key = re.sub(r"\[\d+\]", "", assignment.split("=", 1)[0])
                if key and key not in values_keys() and not key.startswith(("controller.", "args", "crds.", "alloy.")):
                    problems.append(f"values key '{key}' is not in values.yaml")
    return problems


def check_values_mentions(prose):
    """Return problems with values keys written in backticks in prose."""
    top_level = {key for key in values_keys() if "." not in key}
    problems = []
    for token in set(re.findall(r"`([^`\s]+)`", prose)):
        token = token.split("=", 1)[0]
        if not re.match(r"^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$", token):
            continue
        if token.split(".")[0] not in top_level or token.rsplit(".", 1)[1] in FILE_SUFFIXES:
            continue
        if token not in values_keys():
            problems.append(f"values key '{token}' is not in values.yaml")
    return problems


def check_paths(prose, code_words):
    problems = []
    candidates = set(re.findall(r"`([^`\s]+)`", prose)) | set(code_words)
    for candidate in candidates:
        candidate = candidate.rstrip(".,:;)")
        if not REPO_PATH.match(candidate) or re.search(r"[<>*{}$]", candidate):
            continue
        # kubectl's TYPE/NAME (deploy/txguard-api) is not a path.
        kind, _, rest = candidate.partition("/")
        if kind in KIND_ALIASES and "/" not in rest and "." not in rest:
            continue
        if not (REPO_DIR / candidate).exists():
            problems.append(f"path '{candidate}' does not exist in the repository")
    return problems


def check_links(path, prose, text):
    problems = []
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        if not file_part:
            if anchor not in anchors_of(text):
                problems.append(f"link '{target}': no heading with anchor #{anchor}")
            continue
        resolved = (path.parent / file_part).resolve()
        if not resolved.exists():
            problems.append(f"link '{target}' does not resolve")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors_of(resolved.read_text()):
            problems.append(f"link '{target}': no heading with anchor #{anchor}")
    return problems


def check_bash_syntax(code):
    with tempfile.NamedTemporaryFile("w", suffix=".sh") as handle:
        handle.write(code + "\n")
        handle.flush()
        result = subprocess.run(["bash", "-n", handle.name], capture_output=True, text=True)
    return [] if result.returncode == 0 else [result.stderr.strip().replace(handle.name, "block")]


def check_expected_output(code, model):
    """Return problems with the release objects an expected-output table lists."""
    problems = []
    lines = code.splitlines()
    header = ""
    for line in lines:
        if line.startswith("NAME "):
            header = line
            continue
        columns = line.split()
        if not header or not columns:
            continue
        name = columns[0]
        if not re.match(r"^(txguard|data-txguard|keda-hpa-txguard)", name):
            continue
        if not model.any_object(name):
            problems.append(f"expected output lists '{name}', which the chart does not render")
        if "PORT(S)" in header and name in model.service_ports:
            listed_ports = {int(port.split("/")[0]) for port in columns[4].split(",")}
            if listed_ports != model.service_ports[name]:
                problems.append(f"Service '{name}' shows ports {sorted(listed_ports)}, "
                                f"rendered {sorted(model.service_ports[name])}")
        if "CAPACITY" in header and name in model.claim_sizes and columns[3] not in model.claim_sizes[name]:
            problems.append(f"PVC '{name}' shows {columns[3]}, rendered {sorted(model.claim_sizes[name])}")
    return problems


def check_document(path, text, model):
    """Return every problem of one Markdown document, each prefixed with its location."""
    prose, blocks = split_markdown(text)
    problems = [f"{path.name}: {p}" for p in check_links(path, prose, text)]
    code_words = []
    created = set()
    for language, code, _ in blocks:
        for manifest in heredoc_manifests(code):
            created.add((manifest.get("kind"), (manifest.get("metadata") or {}).get("name")))
    for language, code, line in blocks:
        where = f"{path.name}:{line}"
        if language in ("sh", "bash", "shell"):
            problems += [f"{where}: {p}" for p in check_bash_syntax(code)]
            for command in shell_commands(code):
                words = words_of(command)
                code_words += words
                if words and words[0].endswith("kubectl"):
                    problems += [f"{where}: {p}" for p in check_kubectl(words, model, created)]
                elif words and words[0].endswith("helm"):
                    problems += [f"{where}: {p}" for p in check_helm(words)]
        elif language == "text":
            problems += [f"{where}: {p}" for p in check_expected_output(code, model)]
    problems += [f"{path.name}: {p}" for p in check_values_mentions(prose)]
    problems += [f"{path.name}: {p}" for p in check_paths(prose, code_words)]
    return problems


# Tests -------------------------------------------------------------------


class CheckersCatchMistakesTest(unittest.TestCase):
    """The checkers on a small page with one mistake of each kind."""

    BAD_PAGE = "\n".join([
        "# Page",
        "Set `api.ingress.hots` and read `deploy/helm/txguard/values-nope.yaml`.",
        "See [missing](no-such-file.md) and [anchor](#no-such-heading).",
        "```sh",
        "kubectl -n txguard get svc txguard-nope",
        "kubectl -n txguard port-forward svc/txguard-api 8080:9999",
        "kubectl -n txguard logs -l app.kubernetes.io/component=nope",
        "helm upgrade --install txguard deploy/helm/txguard --set api.replicaz=2",
        "if then fi",
        "```",
        "```text",
        "NAME                   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)    AGE",
        "txguard-api            ClusterIP   10.0.0.1     <none>        9090/TCP   1m",
        "txguard-ghost-0        ClusterIP   10.0.0.2     <none>        80/TCP     1m",
        "```",
    ])

    @classmethod
    def setUpClass(cls):
        cls.problems = "\n".join(check_document(REPO_DIR / "docs" / "page.md", cls.BAD_PAGE, chart_model()))

    def test_unknown_values_key(self):
        self.assertIn("'api.ingress.hots'", self.problems)

    def test_unknown_set_key(self):
        self.assertIn("'api.replicaz'", self.problems)

    def test_missing_path(self):
        self.assertIn("values-nope.yaml", self.problems)

    def test_broken_links(self):
        self.assertIn("no-such-file.md", self.problems)
        self.assertIn("#no-such-heading", self.problems)

    def test_unknown_service(self):
        self.assertIn("Service 'txguard-nope'", self.problems)

    def test_unknown_service_port(self):
        self.assertIn("no port 9999", self.problems)

    def test_unknown_label(self):
        self.assertIn("app.kubernetes.io/component=nope", self.problems)

    def test_bash_syntax(self):
        self.assertIn("syntax error", self.problems)

    def test_expected_output_names_and_ports(self):
        self.assertIn("'txguard-ghost-0'", self.problems)
        self.assertIn("shows ports [9090]", self.problems)

    def test_good_page_passes(self):
        good = "\n".join([
            "# Page",
            "Set `api.ingress.host`; see [below](#page) and `deploy/helm/txguard/values.yaml`.",
            "```sh",
            "kubectl -n txguard port-forward svc/txguard-minio 9001:9001",
            "kubectl -n txguard exec txguard-redis-0 -c redis -- redis-cli info memory",
            "kubectl -n txguard logs -l app.kubernetes.io/component=worker",
            "```",
        ])
        self.assertEqual(check_document(REPO_DIR / "docs" / "page.md", good, chart_model()), [])


class DocsMatchChartTest(unittest.TestCase):
    def test_docs_exist(self):
        names = {path.relative_to(REPO_DIR / "docs").as_posix() for path in doc_files()}
        for expected in ("kubernetes.md", "scaling.md", "security.md", "operations.md",
                         "pt-BR/README.md", "pt-BR/kubernetes.md"):
            with self.subTest(doc=expected):
                self.assertIn(expected, names)

    def test_every_document(self):
        model = chart_model()
        for path in doc_files():
            with self.subTest(doc=path.relative_to(REPO_DIR).as_posix()):
                problems = check_document(path, path.read_text(), model)
                self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_no_link_to_removed_runbook(self):
        for path in list(doc_files()) + [REPO_DIR / "deploy/helm/txguard/files/prometheus-rules.yaml"]:
            with self.subTest(doc=path.name):
                self.assertNotIn("runbook-alerts.md", path.read_text())


if __name__ == "__main__":
    unittest.main()
