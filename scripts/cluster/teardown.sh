#!/usr/bin/env bash
# Delete the local txguard cluster, or only the txguard release in it.
set -euo pipefail

# shellcheck source=scripts/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<USAGE
Usage: $(basename "$0") [--release-only] [--provider kind|k3d|minikube] [--yes]

Deletes the local cluster '${CLUSTER_NAME}' with everything in it (kind delete
cluster, k3d cluster delete or minikube delete). With --release-only it
uninstalls the Helm release '${TXGUARD_RELEASE}' and deletes its PersistentVolumeClaims
in namespace '${TXGUARD_NAMESPACE}', and keeps the cluster and the monitoring stack.

Options:
  --release-only  remove only the txguard release and its data
  --provider NAME kind, k3d or minikube (default: the one running the cluster)
  --yes           do not ask for confirmation
  -h, --help      show this help
USAGE
}

release_only=false
assume_yes=false
provider_option=""
while [ $# -gt 0 ]; do
  case "$1" in
    --release-only)
      release_only=true
      shift
      ;;
    --yes)
      assume_yes=true
      shift
      ;;
    --provider)
      [ $# -ge 2 ] || die "--provider needs a value: kind, k3d or minikube"
      provider_option="$2"
      shift 2
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

if [ -z "${provider_option}" ]; then
  provider_option="$(existing_provider)"
  [ -n "${provider_option}" ] || die "no cluster named ${CLUSTER_NAME} found with kind, k3d or minikube; nothing to delete"
fi
detect_provider "${provider_option}"

confirm() {
  if [ "${assume_yes}" = true ]; then
    return
  fi
  if [ ! -t 0 ]; then
    die "refusing to $1 without a terminal to confirm; pass --yes"
  fi
  local answer
  read -r -p "$1? [y/N] " answer
  case "${answer}" in
    y | Y | yes) ;;
    *) die "cancelled" ;;
  esac
}

if [ "${release_only}" = true ]; then
  find_helm
  find_kubectl
  require_cluster
  confirm "uninstall release ${TXGUARD_RELEASE} and delete its volumes in namespace ${TXGUARD_NAMESPACE}"
  log "uninstalling release ${TXGUARD_RELEASE}"
  helm_cluster uninstall "${TXGUARD_RELEASE}" --namespace "${TXGUARD_NAMESPACE}" --wait --ignore-not-found
  # StatefulSet volume claims outlive the release; delete them so the next
  # install starts with empty Redis, RabbitMQ and MinIO.
  log "deleting PersistentVolumeClaims of ${TXGUARD_RELEASE}"
  kubectl_cluster -n "${TXGUARD_NAMESPACE}" delete pvc \
    -l "app.kubernetes.io/instance=${TXGUARD_RELEASE}" --ignore-not-found
  log "release removed; the cluster and the monitoring stack are still running"
  exit 0
fi

confirm "delete the ${PROVIDER} cluster ${CLUSTER_NAME} and all its data"
log "deleting the ${PROVIDER} cluster ${CLUSTER_NAME}"
case "${PROVIDER}" in
  kind) kind delete cluster --name "${CLUSTER_NAME}" ;;
  k3d) k3d cluster delete "${CLUSTER_NAME}" ;;
  minikube) minikube delete -p "${CLUSTER_NAME}" ;;
esac
log "cluster ${CLUSTER_NAME} deleted"
