#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install dependencies, build the
# release binary, and score the bundled PaySim sample. Run it again at any
# time: each step skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target txguard

input=${1:-data/paysim/paysim_sample.csv}
echo
echo "quickstart: scoring $input (outputs in txguard-out/)"
./build/release/txguard score "$input" --out-dir txguard-out
