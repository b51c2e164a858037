#!/usr/bin/env bash
# Builds the txguard container image with podman, tagged txguard:<version>
# (the project VERSION in CMakeLists.txt) and txguard:dev, and prints its
# size. Safe to run again: existing layers and the base image are reused.
#
#   build-image.sh                  build the working tree
#   build-image.sh --git-rev REV    build a commit (git archive REV), ignoring local changes
#   build-image.sh --jobs N         compile jobs in the build stage (default: all CPUs)
#
# No registry is needed. When docker.io/library/debian:bookworm-slim is not
# in podman's local storage, it is made here with debootstrap from Debian's
# mirror (TXGUARD_DEBIAN_MIRROR) and imported under that name, so the
# Dockerfile builds unchanged on machines that can pull it. That step needs
# root. See docs/container.md.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly BASE_IMAGE=docker.io/library/debian:bookworm-slim
readonly IMAGE_NAME=${TXGUARD_IMAGE_NAME:-txguard}
readonly MIRROR=${TXGUARD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly WORK_DIR=${TXGUARD_IMAGE_WORK_DIR:-$REPO_DIR/build/image}
# NOTE: runc is forced because crun is known to fail on hosts with a cgroup
# v1 hierarchy like the one this was written on. Podman's default ulimits
# exceed a host hard limit of 20000 open files and fail with "error setting
# rlimit type 7: operation not permitted". The explicit limits below fit that
# host, and the build and the service need far fewer descriptors.
readonly PODMAN_FLAGS=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

log() { printf 'build-image: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '6,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

require_tools() {
  local missing=()
  for tool in podman runc; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    die "${missing[*]} not found: install the Debian packages with" \
      "'apt-get install podman buildah runc debootstrap uidmap fuse-overlayfs slirp4netns'" \
      "(scripts/install-deps.sh does)"
  fi
}

project_version() {
  sed -n 's/^project(txguard VERSION \([0-9][0-9.]*\).*/\1/p' "$REPO_DIR/CMakeLists.txt"
}

# Writes a Debian 12 minbase root filesystem, trimmed like the official
# -slim image (no manuals, locales or package lists), and imports it as
# BASE_IMAGE.
make_base_image() {
  [[ "$(id -u)" -eq 0 ]] || die "$BASE_IMAGE is missing and debootstrap needs root:" \
    "run this script once with sudo, or 'podman pull $BASE_IMAGE' where a registry is reachable"
  command -v debootstrap >/dev/null 2>&1 ||
    die "debootstrap not found: apt-get install debootstrap (scripts/install-deps.sh does)"

  local rootfs="$WORK_DIR/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$WORK_DIR"
  log "creating $BASE_IMAGE with debootstrap from $MIRROR (about 1 minute)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$WORK_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK_DIR/debootstrap.log" >&2
    die "debootstrap failed (log: $WORK_DIR/debootstrap.log); check that $MIRROR is reachable"
  fi

  # Security and point-release updates, as in the official image.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  # Packages installed later in the image leave out manuals and translations
  # too; copyright files stay because the licences require them.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/txguard-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/txguard-slim" <<'EOF'
APT::Install-Recommends "false";
Binary::apt::APT::Keep-Downloaded-Packages "false";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
    "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old

  tar --numeric-owner -C "$rootfs" -c . |
    podman import --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "imported $BASE_IMAGE"
}

# Prints the build context folder: the working tree, or an export of REV.
prepare_context() {
  local rev=$1
  if [[ -z "$rev" ]]; then
    printf '%s\n' "$REPO_DIR"
    return
  fi
  local context="$WORK_DIR/context"
  rm -rf "$context"
  mkdir -p "$context"
  git -C "$REPO_DIR" archive --format=tar "$rev" | tar -C "$context" -x
  printf '%s\n' "$context"
}

main() {
  local rev="" jobs=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --git-rev)
        [[ $# -ge 2 ]] || usage
        rev=$2
        shift 2
        ;;
      --jobs)
        [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || usage
        jobs=$2
        shift 2
        ;;
      -h | --help) usage ;;
      *) usage ;;
    esac
  done

  require_tools
  local version
  version=$(project_version)
  [[ -n "$version" ]] || die "no 'project(txguard VERSION x.y.z)' line in $REPO_DIR/CMakeLists.txt"

  local started=$SECONDS
  if podman image exists "$BASE_IMAGE"; then
    log "using $BASE_IMAGE from local storage"
  else
    make_base_image
  fi

  local context revision
  context=$(prepare_context "$rev")
  revision=$(git -C "$REPO_DIR" rev-parse "${rev:-HEAD}" 2>/dev/null || echo unknown)
  if [[ -z "$rev" ]] && [[ -n "$(git -C "$REPO_DIR" status --porcelain 2>/dev/null)" ]]; then
    revision="$revision-dirty"
  fi

  log "building $IMAGE_NAME:$version and $IMAGE_NAME:dev from $context"
  podman build "${PODMAN_FLAGS[@]}" --pull=never \
    --file "$REPO_DIR/Dockerfile" \
    --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" \
    --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --build-arg "BUILD_JOBS=$jobs" \
    --tag "$IMAGE_NAME:$version" --tag "$IMAGE_NAME:dev" \
    "$context"

  local size_bytes
  size_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE_NAME:dev")
  log "built $IMAGE_NAME:$version ($IMAGE_NAME:dev) in $((SECONDS - started)) s," \
    "size $((size_bytes / 1000000)) MB ($size_bytes bytes)"
}

main "$@"
