#!/usr/bin/env bash
# Runs every test: unit, end-to-end, integration (against real Redis,
# RabbitMQ and S3 servers that the tests start on free loopback ports),
# Helm chart, monitoring rules and shell lint. Installs what it needs
# first. Builds with AddressSanitizer and UBSan (the `debug` preset).
#
#   bash scripts/test.sh                 all tests
#   bash scripts/test.sh -L unit         one label: unit, e2e, integration, chart, monitoring, lint
#   bash scripts/test.sh -R ingest       tests whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/install-helm.sh >/dev/null
if [ -f tools/s3rver/package.json ]; then
  (cd tools/s3rver && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; })
fi

preset=${TXGUARD_TEST_PRESET:-debug}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" --timeout 900 "$@"
