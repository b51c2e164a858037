#!/usr/bin/env bash
# Install everything txguard needs to build, test and benchmark on Debian 12.
# Safe to run again: apt-get and npm skip what is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  librabbitmq-dev libhiredis-dev libboost-dev libboost-system-dev
  libcpp-httplib-dev libsimdjson-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev
  libssl-dev libxgboost-dev zlib1g-dev nlohmann-json3-dev
  # libxgboost-dev's CMake config refers to /usr/bin/xgboost, which this
  # package installs; without it find_package(xgboost) fails.
  xgboost
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server rabbitmq-server prometheus
  python3 python3-jsonschema python3-yaml shellcheck unzip time
  # Container image build and its test (scripts/build-image.sh,
  # tests/image/): podman and buildah build and run it with runc;
  # debootstrap makes the Debian base image when no registry is reachable.
  podman buildah runc debootstrap uidmap fuse-overlayfs slirp4netns
  # docker-compose 1.29 validates compose.yaml against its schema offline.
  docker-compose
)

if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
else
  sudo_cmd=()
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js runs the local S3 server (npm s3rver) and brings the Helm
# binaries (npm packages). Machines that already have a Node.js build, from
# Debian or elsewhere, keep it.
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs and npm" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Debian starts redis-server and rabbitmq-server as system services on install.
# txguard's tests start their own instances on free ports, so the system ones
# are left as they are.
echo "install-deps: all Debian packages present" >&2
