# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are read by the scripts that source this file.)
# Shared settings and helpers of the scripts in scripts/cluster/. Sourced,
# never run. Every name a script uses is defined here once, so
# tests/monitoring/test_cluster_scripts.py can check them against the
# rendered chart.

# Local cluster and releases.
CLUSTER_NAME="${TXGUARD_CLUSTER_NAME:-txguard}"
TXGUARD_NAMESPACE="txguard"
TXGUARD_RELEASE="txguard"
MONITORING_NAMESPACE="monitoring"
LOKI_NAMESPACE="loki"
KEDA_NAMESPACE="keda"
INGRESS_NAMESPACE="ingress-nginx"

# Host ports the cluster's ingress controller is published on (127.0.0.1).
INGRESS_HTTP_PORT="${TXGUARD_INGRESS_HTTP_PORT:-8080}"
INGRESS_HTTPS_PORT="${TXGUARD_INGRESS_HTTPS_PORT:-8443}"
# Host name of the txguard Ingress; *.localtest.me resolves to 127.0.0.1.
INGRESS_HOST="txguard.localtest.me"

# Objects of the txguard chart (release txguard) that validate.sh reaches.
TXGUARD_API_SERVICE="txguard-api"
TXGUARD_API_PORT="8080"
TXGUARD_MINIO_SERVICE="txguard-minio"
TXGUARD_MINIO_PORT="9000"
# Prometheus job labels of the api and worker targets (the Service names).
TXGUARD_SCRAPE_JOBS=("txguard-api" "txguard-worker")
# Pods validate.sh waits for; Jobs are left out because they never turn Ready.
TXGUARD_COMPONENTS=("api" "worker" "redis" "rabbitmq" "minio")
# Chart values for a local cluster; deploy.sh passes them before the user's.
LOCAL_VALUES_FILE="scripts/cluster/txguard-local-values.yaml"

# Objects of the monitoring stack.
PROMETHEUS_RELEASE="kube-prometheus-stack"
PROMETHEUS_SERVICE="kube-prometheus-stack-prometheus"
PROMETHEUS_PORT="9090"

# Helm chart repositories and pinned chart versions. Bump a version only
# after reading that chart's upgrade notes; the values files in
# deploy/monitoring/ were written for these.
declare -A CHART_REPOSITORIES=(
  [ingress-nginx]="https://kubernetes.github.io/ingress-nginx"
  [metrics-server]="https://kubernetes-sigs.github.io/metrics-server/"
  [kedacore]="https://kedacore.github.io/charts"
  [prometheus-community]="https://prometheus-community.github.io/helm-charts"
  [grafana]="https://grafana.github.io/helm-charts"
)
INGRESS_NGINX_CHART="ingress-nginx/ingress-nginx"
INGRESS_NGINX_VERSION="4.13.0"
METRICS_SERVER_CHART="metrics-server/metrics-server"
METRICS_SERVER_VERSION="3.13.0"
KEDA_CHART="kedacore/keda"
KEDA_VERSION="2.17.2"
KUBE_PROMETHEUS_STACK_CHART="prometheus-community/kube-prometheus-stack"
KUBE_PROMETHEUS_STACK_VERSION="77.8.0"
LOKI_CHART="grafana/loki"
LOKI_VERSION="6.42.0"
ALLOY_CHART="grafana/alloy"
ALLOY_VERSION="1.10.0"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() {
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

die() {
  printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# Exits with an install hint when a command is missing.
require_command() {
  local command_name="$1" hint="$2"
  if ! command -v "${command_name}" >/dev/null 2>&1; then
    die "${command_name} not found in PATH. ${hint}"
  fi
}

# Sets HELM to `helm` from PATH, or to the repository's Helm 3 from
# scripts/install-helm.sh.
find_helm() {
  if [ -n "${HELM:-}" ]; then
    return
  fi
  if command -v helm >/dev/null 2>&1; then
    HELM="helm"
  elif [ -x "${REPO_DIR}/tools/helm/v3/helm" ]; then
    HELM="${REPO_DIR}/tools/helm/v3/helm"
  else
    die "helm not found. Install Helm 3 (https://helm.sh/docs/intro/install/) or run scripts/install-helm.sh."
  fi
}

# Sets KUBECTL the same way as find_helm.
find_kubectl() {
  if [ -n "${KUBECTL:-}" ]; then
    return
  fi
  if command -v kubectl >/dev/null 2>&1; then
    KUBECTL="kubectl"
  elif [ -x "${REPO_DIR}/tools/helm/v3/kubectl" ]; then
    KUBECTL="${REPO_DIR}/tools/helm/v3/kubectl"
  else
    die "kubectl not found. Install kubectl (https://kubernetes.io/docs/tasks/tools/) or run scripts/install-helm.sh."
  fi
}

# Prints the provider that runs cluster CLUSTER_NAME, or nothing.
existing_provider() {
  if command -v kind >/dev/null 2>&1 && kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
    echo kind
  elif command -v k3d >/dev/null 2>&1 && k3d cluster get "${CLUSTER_NAME}" >/dev/null 2>&1; then
    echo k3d
  elif command -v minikube >/dev/null 2>&1 && minikube -p "${CLUSTER_NAME}" status >/dev/null 2>&1; then
    echo minikube
  fi
}

# Sets PROVIDER: --provider or TXGUARD_CLUSTER_PROVIDER when given, else the
# provider already running the cluster, else the first installed of kind,
# k3d and minikube.
detect_provider() {
  local requested="${1:-${TXGUARD_CLUSTER_PROVIDER:-}}"
  if [ -n "${requested}" ]; then
    case "${requested}" in
      kind | k3d | minikube) ;;
      *) die "invalid provider '${requested}': use kind, k3d or minikube" ;;
    esac
    require_command "${requested}" "Install it or pick another provider with --provider."
    PROVIDER="${requested}"
    return
  fi
  PROVIDER="$(existing_provider)"
  if [ -n "${PROVIDER}" ]; then
    return
  fi
  local candidate
  for candidate in kind k3d minikube; do
    if command -v "${candidate}" >/dev/null 2>&1; then
      PROVIDER="${candidate}"
      return
    fi
  done
  die "none of kind, k3d or minikube is installed. Install one (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)."
}

# Prints the kubeconfig context each provider creates for CLUSTER_NAME.
kube_context() {
  case "${PROVIDER}" in
    kind) echo "kind-${CLUSTER_NAME}" ;;
    k3d) echo "k3d-${CLUSTER_NAME}" ;;
    minikube) echo "${CLUSTER_NAME}" ;;
  esac
}

# Runs kubectl and helm against the cluster's own context, never the current
# one, so a script cannot change another cluster by accident.
kubectl_cluster() {
  "${KUBECTL}" --context "$(kube_context)" "$@"
}

helm_cluster() {
  "${HELM}" --kube-context "$(kube_context)" "$@"
}

# Fails unless the cluster's context exists and its API server responds.
require_cluster() {
  local context
  context="$(kube_context)"
  if ! "${KUBECTL}" config get-contexts -o name | grep -qx "${context}"; then
    die "kubeconfig context ${context} not found. Create the cluster with scripts/cluster/create-cluster.sh."
  fi
  if ! kubectl_cluster get --raw /readyz >/dev/null 2>&1; then
    die "the API server of context ${context} does not respond. Start the cluster (${PROVIDER}) and retry."
  fi
}
