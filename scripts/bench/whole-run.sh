#!/usr/bin/env bash
# Whole-run benchmark of `txguard score` on generated PaySim files: rows per
# second and peak resident memory (GNU time's "Maximum resident set size").
#
# Builds the Release binary, writes three files with make-paysim.py into a
# temporary folder (removed at exit), and scores each one with reports and
# once with --no-reports:
#   1,000,000 rows over 100,000 accounts  (the memory target's file)
#   2,000,000 rows over 100,000 accounts  (twice the rows, same accounts)
#   1,000,000 rows over 200,000 accounts  (same rows, twice the accounts)
# Memory should follow accounts, not rows: runs 1 and 2 should show about
# the same peak RSS, run 3 a larger one.
#
# Usage: scripts/bench/whole-run.sh [RUNS]
#   RUNS        runs per file and mode, median reported (default 3)
# Environment:
#   BUILD_DIR   Release build folder (default: build/release, the `release`
#               CMake preset); configured with Ninja if it does not exist
#   WORK_DIR    folder for the generated files and outputs (default: a new
#               folder under ${TMPDIR:-/tmp}); it is removed at exit
#   SKIP_BUILD  set to 1 to use the existing binary in BUILD_DIR
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${1:-3}
build_dir=${BUILD_DIR:-$repo/build/release}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "whole-run.sh: RUNS must be a positive integer, got '$runs'" >&2
  exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "whole-run.sh: /usr/bin/time (GNU time) is missing; install the Debian package 'time'" >&2
  exit 2
fi

work_dir=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/txguard-whole-run.XXXXXX")}
mkdir -p "$work_dir"
trap 'rm -rf "$work_dir"' EXIT

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build_dir" --target txguard -j "$(nproc)" >/dev/null
fi
txguard=$build_dir/txguard
if [[ ! -x $txguard ]]; then
  echo "whole-run.sh: $txguard not found; build the txguard target or unset SKIP_BUILD" >&2
  exit 2
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
if [[ $build_type != Release ]]; then
  echo "whole-run.sh: warning: $build_dir is a '$build_type' build; numbers need Release" >&2
fi

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|L3 cache):' | sed 's/  */ /g'
free -m | awk '/^Mem:/ { printf "RAM: %d MiB total, %d MiB available\n", $2, $7 }'
echo "Kernel: $(uname -sr)"
echo "Load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Binary: $txguard ($build_type)"
echo

# median VALUES... prints the middle value (the lower middle for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# run_one FILE ROWS [FLAGS...] prints "rows_per_second peak_rss_kib".
run_one() {
  local file=$1 rows=$2
  shift 2
  local out=$work_dir/out time_log=$work_dir/time.log
  rm -rf "$out"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$time_log" "$txguard" score "$file" --out-dir "$out" --quiet --json "$@" \
    >"$work_dir/summary.json"
  end=$(date +%s.%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$time_log")
  # Rows over the whole process time (start-up, model load and writing
  # included), which is what a user waits for.
  awk -v rows="$rows" -v s="$start" -v e="$end" -v rss="$rss" \
    'BEGIN { printf "%.0f %d\n", rows / (e - s), rss }'
}

printf '%-34s %-12s %14s %14s %10s\n' "file" "mode" "rows/s" "peak RSS MiB" "load avg"
for spec in 1000000:100000 2000000:100000 1000000:200000; do
  rows=${spec%%:*}
  accounts=${spec##*:}
  file=$work_dir/paysim-${rows}-${accounts}.csv
  python3 "$repo/scripts/bench/make-paysim.py" --rows "$rows" --accounts "$accounts" --out "$file"
  for mode in reports no-reports; do
    flags=()
    [[ $mode == no-reports ]] && flags=(--no-reports)
    rates=()
    rss_values=()
    for _ in $(seq "$runs"); do
      read -r rate rss < <(run_one "$file" "$rows" "${flags[@]}")
      rates+=("$rate")
      rss_values+=("$rss")
    done
    printf '%-34s %-12s %14s %14.1f %10s\n' "$rows rows / $accounts accounts" "$mode" \
      "$(median "${rates[@]}")" "$(awk -v kib="$(median "${rss_values[@]}")" 'BEGIN { print kib / 1024 }')" \
      "$(cut -d' ' -f1 /proc/loadavg)"
  done
  rm -f "$file"
done
echo
echo "rows/s: median of $runs runs, rows divided by the process's wall time."
echo "peak RSS: median of $runs runs of GNU time's maximum resident set size."
