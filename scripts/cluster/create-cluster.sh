#!/usr/bin/env bash
# Create a local Kubernetes cluster for txguard and install the platform
# pieces the chart relies on: ingress-nginx, metrics-server, KEDA,
# kube-prometheus-stack, Loki and Grafana Alloy.
set -euo pipefail

# shellcheck source=scripts/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<USAGE
Usage: $(basename "$0") [--provider kind|k3d|minikube] [--skip-addons]

Creates the local cluster '${CLUSTER_NAME}' with the first installed of kind,
k3d and minikube (or the one given), then installs with
'helm upgrade --install' and pinned chart versions:
  ingress-nginx ${INGRESS_NGINX_VERSION}        namespace ${INGRESS_NAMESPACE}
  metrics-server ${METRICS_SERVER_VERSION}       namespace kube-system
  keda ${KEDA_VERSION}                 namespace ${KEDA_NAMESPACE}
  kube-prometheus-stack ${KUBE_PROMETHEUS_STACK_VERSION} namespace ${MONITORING_NAMESPACE}
  loki ${LOKI_VERSION}                 namespace ${LOKI_NAMESPACE}
  alloy ${ALLOY_VERSION}                namespace ${MONITORING_NAMESPACE}
Safe to run again: an existing cluster is reused and releases are upgraded.

The ingress controller is published on 127.0.0.1:${INGRESS_HTTP_PORT} (HTTP) and
127.0.0.1:${INGRESS_HTTPS_PORT} (HTTPS) for kind and k3d; minikube serves it on
'minikube -p ${CLUSTER_NAME} ip' through a NodePort.

Options:
  --provider NAME  kind, k3d or minikube (default: TXGUARD_CLUSTER_PROVIDER,
                   then whichever is installed)
  --skip-addons    create the cluster only
  -h, --help       show this help

Environment: TXGUARD_CLUSTER_NAME (default txguard),
TXGUARD_INGRESS_HTTP_PORT (8080), TXGUARD_INGRESS_HTTPS_PORT (8443),
HELM and KUBECTL (paths of the binaries).
USAGE
}

provider_option=""
skip_addons=false
while [ $# -gt 0 ]; do
  case "$1" in
    --provider)
      [ $# -ge 2 ] || die "--provider needs a value: kind, k3d or minikube"
      provider_option="$2"
      shift 2
      ;;
    --skip-addons)
      skip_addons=true
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
done

detect_provider "${provider_option}"
find_helm
find_kubectl
if [ "${PROVIDER}" != minikube ]; then
  require_command docker "kind and k3d run the cluster's nodes as Docker containers; install Docker."
fi

create_kind_cluster() {
  # The control-plane node carries ingress-ready=true, where the ingress
  # controller runs with hostPorts 80 and 443; extraPortMappings publish them
  # on the host's loopback only.
  kind create cluster --name "${CLUSTER_NAME}" --wait 120s --config - <<KIND
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
    extraPortMappings:
      - containerPort: 80
        hostPort: ${INGRESS_HTTP_PORT}
        listenAddress: "127.0.0.1"
        protocol: TCP
      - containerPort: 443
        hostPort: ${INGRESS_HTTPS_PORT}
        listenAddress: "127.0.0.1"
        protocol: TCP
  - role: worker
KIND
}

create_k3d_cluster() {
  # k3s ships Traefik and its own metrics-server; both are disabled so every
  # provider runs the same ingress-nginx and metrics-server charts. k3d's
  # load balancer publishes ports 80 and 443 of the LoadBalancer Services.
  k3d cluster create "${CLUSTER_NAME}" \
    --agents 1 \
    --port "127.0.0.1:${INGRESS_HTTP_PORT}:80@loadbalancer" \
    --port "127.0.0.1:${INGRESS_HTTPS_PORT}:443@loadbalancer" \
    --k3s-arg "--disable=traefik@server:0" \
    --k3s-arg "--disable=metrics-server@server:0" \
    --wait
}

create_minikube_cluster() {
  minikube start -p "${CLUSTER_NAME}" --cpus 4 --memory 8g --wait all
}

existing="$(existing_provider)"
if [ -n "${existing}" ] && [ "${existing}" != "${PROVIDER}" ]; then
  die "cluster ${CLUSTER_NAME} already runs on ${existing}; delete it with teardown.sh or use --provider ${existing}"
fi
if [ "${existing}" = "${PROVIDER}" ]; then
  log "cluster ${CLUSTER_NAME} already exists on ${PROVIDER}, reusing it"
else
  log "creating cluster ${CLUSTER_NAME} with ${PROVIDER}"
  "create_${PROVIDER}_cluster"
fi
require_cluster

if [ "${skip_addons}" = true ]; then
  log "cluster ready (context $(kube_context)); add-ons skipped"
  exit 0
fi

log "adding Helm chart repositories"
for repository in "${!CHART_REPOSITORIES[@]}"; do
  "${HELM}" repo add --force-update "${repository}" "${CHART_REPOSITORIES[${repository}]}" >/dev/null
done
"${HELM}" repo update >/dev/null

# Installs or upgrades one release and waits for its pods.
install_release() {
  local release="$1" chart="$2" version="$3" namespace="$4"
  shift 4
  log "installing ${release} (${chart} ${version}) in namespace ${namespace}"
  helm_cluster upgrade --install "${release}" "${chart}" \
    --version "${version}" \
    --namespace "${namespace}" --create-namespace \
    --wait --timeout 15m \
    "$@"
}

ingress_arguments=(--set controller.ingressClassResource.default=true)
case "${PROVIDER}" in
  kind)
    ingress_arguments+=(
      --set controller.hostPort.enabled=true
      --set controller.service.type=NodePort
      --set-string controller.nodeSelector.ingress-ready=true
      --set "controller.tolerations[0].key=node-role.kubernetes.io/control-plane"
      --set "controller.tolerations[0].operator=Exists"
      --set "controller.tolerations[0].effect=NoSchedule"
    )
    ;;
  k3d)
    ingress_arguments+=(--set controller.service.type=LoadBalancer)
    ;;
  minikube)
    ingress_arguments+=(--set controller.service.type=NodePort)
    ;;
esac
install_release ingress-nginx "${INGRESS_NGINX_CHART}" "${INGRESS_NGINX_VERSION}" \
  "${INGRESS_NAMESPACE}" "${ingress_arguments[@]}"

# Local kubelets serve self-signed certificates.
install_release metrics-server "${METRICS_SERVER_CHART}" "${METRICS_SERVER_VERSION}" \
  kube-system --set "args={--kubelet-insecure-tls}"

install_release keda "${KEDA_CHART}" "${KEDA_VERSION}" "${KEDA_NAMESPACE}"

install_release "${PROMETHEUS_RELEASE}" "${KUBE_PROMETHEUS_STACK_CHART}" \
  "${KUBE_PROMETHEUS_STACK_VERSION}" "${MONITORING_NAMESPACE}" \
  --values "${REPO_DIR}/deploy/monitoring/kube-prometheus-stack-values.yaml"

install_release loki "${LOKI_CHART}" "${LOKI_VERSION}" "${LOKI_NAMESPACE}" \
  --values "${REPO_DIR}/deploy/monitoring/loki-values.yaml"

install_release alloy "${ALLOY_CHART}" "${ALLOY_VERSION}" "${MONITORING_NAMESPACE}" \
  --values "${REPO_DIR}/deploy/monitoring/alloy-values.yaml" \
  --set-file "alloy.configMap.content=${REPO_DIR}/deploy/monitoring/config.alloy"

log "cluster ${CLUSTER_NAME} is ready (context $(kube_context))"
log "next: scripts/cluster/deploy.sh, then scripts/cluster/validate.sh"
log "Grafana: ${KUBECTL} --context $(kube_context) -n ${MONITORING_NAMESPACE} port-forward svc/${PROMETHEUS_RELEASE}-grafana 3000:80"
