#!/usr/bin/env bash
# Build the txguard image, load it into the local cluster and install or
# upgrade the txguard Helm release.
set -euo pipefail

# shellcheck source=scripts/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<USAGE
Usage: $(basename "$0") [options] [values-file]

Builds the image from the repository's Dockerfile, loads it into the local
cluster '${CLUSTER_NAME}' (kind load docker-image, k3d image import or
minikube image load), then runs
  helm upgrade --install ${TXGUARD_RELEASE} deploy/helm/txguard -n ${TXGUARD_NAMESPACE} --create-namespace \\
    -f ${LOCAL_VALUES_FILE} [-f values-file] --wait
values-file overrides ${LOCAL_VALUES_FILE}, which turns on the
Ingress (host ${INGRESS_HOST}) and the monitoring objects.

Options:
  --image REPOSITORY:TAG  image to build and deploy (default txguard:local-<git
                          commit>, plus a timestamp when the tree has changes)
  --no-build              deploy an image that is already built and loaded
                          (needs --image) or the chart's default image
  --provider NAME         kind, k3d or minikube (default: the one running the cluster)
  --timeout DURATION      how long helm waits for the pods (default 10m)
  -h, --help              show this help
USAGE
}

image=""
build=true
provider_option=""
timeout="10m"
values_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --image)
      [ $# -ge 2 ] || die "--image needs a value such as txguard:dev"
      image="$2"
      shift 2
      ;;
    --no-build)
      build=false
      shift
      ;;
    --provider)
      [ $# -ge 2 ] || die "--provider needs a value: kind, k3d or minikube"
      provider_option="$2"
      shift 2
      ;;
    --timeout)
      [ $# -ge 2 ] || die "--timeout needs a duration such as 10m"
      timeout="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage >&2
      die "unknown option '$1'"
      ;;
    *)
      [ -z "${values_file}" ] || die "only one values file is accepted, got '${values_file}' and '$1'"
      values_file="$1"
      shift
      ;;
  esac
done

if [ -n "${values_file}" ] && [ ! -f "${values_file}" ]; then
  die "values file '${values_file}' not found"
fi

if [ -n "${image}" ] && [[ "${image##*/}" != *:* ]]; then
  die "invalid --image '${image}': give REPOSITORY:TAG, for example txguard:dev (the chart rejects latest)"
fi

detect_provider "${provider_option}"
find_helm
find_kubectl
require_cluster

chart_dir="${REPO_DIR}/deploy/helm/txguard"
[ -f "${chart_dir}/Chart.yaml" ] || die "chart not found at ${chart_dir}"

if [ "${build}" = true ]; then
  require_command docker "Docker builds the txguard image."
  [ -f "${REPO_DIR}/Dockerfile" ] || die "no Dockerfile at ${REPO_DIR}; pass --no-build --image to deploy a prebuilt image"
  if [ -z "${image}" ]; then
    tag="local-$(git -C "${REPO_DIR}" rev-parse --short HEAD)"
    # A changed tree gets a new tag, so pods with pullPolicy IfNotPresent
    # run the new image instead of the cached one.
    if [ -n "$(git -C "${REPO_DIR}" status --porcelain)" ]; then
      tag="${tag}-$(date +%Y%m%d%H%M%S)"
    fi
    image="txguard:${tag}"
  fi
  log "building image ${image}"
  docker build --tag "${image}" "${REPO_DIR}"

  log "loading ${image} into the ${PROVIDER} cluster ${CLUSTER_NAME}"
  case "${PROVIDER}" in
    kind) kind load docker-image "${image}" --name "${CLUSTER_NAME}" ;;
    k3d) k3d image import "${image}" --cluster "${CLUSTER_NAME}" ;;
    minikube) minikube -p "${CLUSTER_NAME}" image load "${image}" ;;
  esac
fi

helm_arguments=(
  upgrade --install "${TXGUARD_RELEASE}" "${chart_dir}"
  --namespace "${TXGUARD_NAMESPACE}" --create-namespace
  --values "${REPO_DIR}/${LOCAL_VALUES_FILE}"
)
if [ -n "${values_file}" ]; then
  helm_arguments+=(--values "${values_file}")
fi
if [ -n "${image}" ]; then
  # The last colon separates the tag; a registry host may carry a port.
  helm_arguments+=(--set-string "image.repository=${image%:*}" --set-string "image.tag=${image##*:}")
fi
helm_arguments+=(--wait --timeout "${timeout}")

log "installing release ${TXGUARD_RELEASE} in namespace ${TXGUARD_NAMESPACE}"
helm_cluster "${helm_arguments[@]}"

log "release ${TXGUARD_RELEASE} is ready; run scripts/cluster/validate.sh to check it end to end"
