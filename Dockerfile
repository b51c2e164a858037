# txguard container image: one binary that runs `api`, `worker`, `replay`,
# `selftest` and the batch commands. See docs/container.md.
#
#   scripts/build-image.sh                 on a machine without registry access
#   docker build -t txguard:dev .          anywhere docker.io is reachable
#
# Both stages start from Debian 12 so the runtime libraries are the exact
# versions the build stage linked against.

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build

# Build dependencies: the compile and link half of scripts/install-deps.sh.
# `xgboost` is there because libxgboost-dev's CMake config refers to
# /usr/bin/xgboost. Tests and benchmarks are not built, so GoogleTest and
# Google Benchmark are left out.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      librabbitmq-dev libhiredis-dev libboost-dev libboost-system-dev \
      libcpp-httplib-dev libsimdjson-dev libspdlog-dev libfmt-dev \
      prometheus-cpp-dev libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev \
      libssl-dev libxgboost-dev zlib1g-dev nlohmann-json3-dev xgboost \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only what the build reads: src/embedded compiles config/rules/default.yaml
# and models/*/ into the binary.
COPY CMakeLists.txt CMakePresets.json ./
COPY src/ src/
COPY config/ config/
COPY models/ models/

# Parallel compile jobs; empty means one per CPU the build sees.
ARG BUILD_JOBS=""
RUN cmake --preset release -DTXGUARD_BUILD_TESTS=OFF -DTXGUARD_BUILD_BENCHMARKS=OFF \
 && cmake --build --preset release --target txguard -j "${BUILD_JOBS:-$(nproc)}" \
 && install -D -m 0755 -s build/release/txguard /out/usr/local/bin/txguard

# Fail here, with the library's name, when the binary needs a shared library
# that no package is known for. The package list is printed so that the
# runtime stage's list below can be checked against it.
RUN ldd /out/usr/local/bin/txguard | tee /tmp/ldd.txt \
 && if grep -q 'not found' /tmp/ldd.txt; then \
      echo "txguard needs a library that is not installed (see 'not found' above)" >&2; exit 1; \
    fi \
 && awk '$3 ~ /^\// {print $3}' /tmp/ldd.txt | xargs -r realpath | xargs -r dpkg -S \
      | cut -d: -f1 | sort -u > /out/runtime-packages.txt \
 && echo "runtime packages the binary links against:" && cat /out/runtime-packages.txt


FROM ${BASE_IMAGE} AS runtime

# Runtime shared libraries only: no compiler, no -dev package. libgomp1 and
# libdmlc0 are XGBoost's own dependencies; libc6, libstdc++6 and libgcc-s1
# are already in the base image. apt's package caches (/var/cache/apt, about
# 80 MB after `apt-get update`) are deleted in the same layer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpp-httplib0.11 libcurl4 libdmlc0 libfmt9 libgomp1 libhiredis0.14 \
      libprometheus-cpp-core1.0 librabbitmq4 libsimdjson14 libspdlog1.10 libssl3 \
      libxgboost0 libyaml-cpp0.7 zlib1g \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log

# A named user so that tools resolving the uid show `txguard`. No home
# folder: the process writes only below /tmp.
RUN groupadd --gid 10001 txguard \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin txguard

COPY --from=build /out/usr/local/bin/txguard /usr/local/bin/txguard
COPY --from=build /out/runtime-packages.txt /usr/share/txguard/runtime-packages.txt
# Every library the binary links against must resolve with the packages
# above; a missing one stops the build with its name.
RUN if ldd /usr/local/bin/txguard | grep 'not found'; then \
      echo "add the package of the library above to the runtime stage" >&2; exit 1; \
    fi

# The Helm chart mounts its ConfigMap over /etc/txguard/rules; this copy is
# the default for `docker run` and compose.
COPY config/rules/default.yaml /etc/txguard/rules/rules.yaml
# Sample data (about 5 MB) so that `txguard score` can be tried in the
# container without a mount: /usr/share/txguard/data/<source>/.
COPY data/ /usr/share/txguard/data/

ARG VERSION=0.0.0
ARG REVISION=unknown
ARG CREATED=""
LABEL org.opencontainers.image.title="txguard" \
      org.opencontainers.image.description="Bank-transaction fraud detection: HTTP API, queue workers and batch scoring" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# The batch commands write to ./txguard-out by default. /tmp is the one
# writable place when the root filesystem is read-only (an emptyDir or a
# tmpfs), so the working directory is there.
WORKDIR /tmp
ENV TXGUARD_RULES_FILE=/etc/txguard/rules/rules.yaml

USER 10001:10001
# 8080: `txguard api`; 9100: `txguard worker` (/healthz, /readyz, /metrics).
EXPOSE 8080 9100
# NOTE: no HEALTHCHECK: Kubernetes ignores it and uses the chart's probes on
# /healthz and /readyz; compose.yaml declares its own healthcheck.
ENTRYPOINT ["/usr/local/bin/txguard"]
CMD ["api"]
