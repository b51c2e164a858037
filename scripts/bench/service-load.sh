#!/usr/bin/env bash
# Service load benchmarks on loopback: starts a local stack (Redis, RabbitMQ,
# s3rver) in a new folder, runs txguard api and workers from a Release build
# against it, measures, and stops everything it started. Results and the
# machine's description go to WORK/results.txt; docs/benchmarks.md
# ("Service") records a run.
#
#   scripts/bench/service-load.sh [BUILD_DIR] [WORK_DIR]
#
# BUILD_DIR (default build/release) must hold txguard and bench/service_load:
#   cmake --preset release && cmake --build --preset release --target txguard service_load
# WORK_DIR (default a new folder under /tmp) receives the stack, the
# generated data, the logs, the metric scrapes and results.txt.
#
# Phases, in order:
#   broker     raw RabbitMQ rate with real transaction messages (publish with
#              confirms and consume with manual acks at the same time), then
#              the broker's latency at LATENCY_RATE in batches of LATENCY_BATCH,
#              then the raw S3 PUT rate of report-sized objects
#   drain      one worker decides a pre-filled queue of DRAIN_ROWS ACME
#              transactions (1,000 accounts, 10 % state changes)
#   score      POST /v1/score at SCORE_RATE requests/s, open loop
#   latency    replay through the API at LATENCY_RATE transactions/s: p99 of
#              txguard_ingest_to_decision_seconds
#   sustained  replay through the API as fast as it accepts, WORKERS workers,
#              SUSTAIN_SECONDS measured after SUSTAIN_WARMUP
#   memory     VmHWM/VmRSS of api and workers; MEMORY USAGE of the 100,000
#              accounts of the sustained data
# Every phase reports the CPU time of each process and of the whole machine,
# because the stack, the services and the load generators share its cores.
#
# Settings, as environment variables with their defaults:
#   WORKERS (2), WORKER_BATCH (256), WORKER_PREFETCH (512)
#   DRAIN_ROWS (200000), SCORE_RATE (2000, requests/s), SCORE_SECONDS (30)
#   LATENCY_RATE (5000, transactions/s), LATENCY_SECONDS (60),
#   LATENCY_BATCH (50, transactions per POST in the latency phase)
#   SUSTAIN_SECONDS (60), SUSTAIN_WARMUP (5), SUSTAIN_ROWS (2000000)
#   REPLAYS (2), REPLAY_BATCH (500), BROKER_SECONDS (20)
#   DRAIN_TIMEOUT (600): seconds to wait for the workers to empty a backlog
#   DRAIN_MODEL (none): TXGUARD_MODEL_NAME of the drain worker. ACME rows
#     have no balances, so the paysim model leaves them to the rules alone,
#     and `none` keeps the recorded numbers comparable with older builds,
#     where the paysim model blocked every ACME row.
#   S3_SECONDS (10): length of each raw S3 PUT run in the broker phase
#   UPLOAD_CONCURRENCY (8): TXGUARD_UPLOAD_CONCURRENCY of the workers, and
#     the parallel PUTs of the second raw S3 run
#   REPORTS_FROM (review): TXGUARD_REPORTS_FROM of the api and workers;
#     block writes report objects for blocked transactions only
#   STOP_AFTER (empty): a phase name; the run stops after it (tuning runs)
#   S3_NICE (0): nice value given to s3rver after it starts. s3rver replaces
#     object storage that runs on other machines in production. With 19 it
#     gets only the CPU the rest leaves over, and uploads lag and catch up
#     from the Redis outbox.
#
# The other phases send canonical JSON with PaySim-style fields, which the
# embedded paysim model scores to about 90 % allow.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly HELPERS="$REPO_DIR/scripts/bench/service"
BUILD_DIR=$(realpath "${1:-$REPO_DIR/build/release}")
WORK_DIR=${2:-$(mktemp -d /tmp/txguard-service-load.XXXXXX)}
mkdir -p "$WORK_DIR"
WORK_DIR=$(realpath "$WORK_DIR")
readonly BUILD_DIR WORK_DIR

readonly WORKERS=${WORKERS:-2}
readonly WORKER_BATCH=${WORKER_BATCH:-256}
readonly WORKER_PREFETCH=${WORKER_PREFETCH:-512}
readonly DRAIN_ROWS=${DRAIN_ROWS:-200000}
readonly SCORE_RATE=${SCORE_RATE:-2000}
readonly SCORE_SECONDS=${SCORE_SECONDS:-30}
readonly LATENCY_RATE=${LATENCY_RATE:-5000}
readonly LATENCY_SECONDS=${LATENCY_SECONDS:-60}
readonly LATENCY_BATCH=${LATENCY_BATCH:-50}
readonly SUSTAIN_SECONDS=${SUSTAIN_SECONDS:-60}
readonly SUSTAIN_WARMUP=${SUSTAIN_WARMUP:-5}
readonly SUSTAIN_ROWS=${SUSTAIN_ROWS:-2000000}
readonly REPLAYS=${REPLAYS:-2}
readonly REPLAY_BATCH=${REPLAY_BATCH:-500}
readonly BROKER_SECONDS=${BROKER_SECONDS:-20}
readonly DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
readonly DRAIN_MODEL=${DRAIN_MODEL:-none}
readonly STOP_AFTER=${STOP_AFTER:-}
readonly S3_NICE=${S3_NICE:-0}
readonly S3_SECONDS=${S3_SECONDS:-10}
readonly REPORTS_FROM=${REPORTS_FROM:-review}
readonly UPLOAD_CONCURRENCY=${UPLOAD_CONCURRENCY:-8}

readonly TXGUARD="$BUILD_DIR/txguard"
readonly SERVICE_LOAD="$BUILD_DIR/bench/service_load"
readonly STACK_DIR="$WORK_DIR/stack"
readonly DATA_DIR="$WORK_DIR/data"
readonly LOG_DIR="$WORK_DIR/logs"
readonly SCRAPE_DIR="$WORK_DIR/scrapes"
readonly RESULTS="$WORK_DIR/results.txt"
CLOCK_TICKS=$(getconf CLK_TCK)
readonly CLOCK_TICKS

log() { printf 'service-load: %s\n' "$*" >&2; }
# Ends the run after PHASE when STOP_AFTER names it; cleanup stops everything.
phase_done() {
  [[ $STOP_AFTER != "$1" ]] || {
    log "stopping after phase $1; results in $RESULTS"
    exit 0
  }
}
die() {
  log "error: $*"
  exit 1
}
# Appends a result line to results.txt and shows it.
record() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
divide() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }'; }

for program in "$TXGUARD" "$SERVICE_LOAD"; do
  [[ -x "$program" ]] || die "$program not found; build it with: cmake --preset release && cmake --build --preset release --target txguard service_load"
done
mkdir -p "$DATA_DIR" "$LOG_DIR" "$SCRAPE_DIR"
: >"$RESULTS"

# --- processes this script started, stopped by PID on exit ----------------

declare -A PIDS=()  # role -> pid of a long-running txguard process
STACK_STARTED=false

stop_role() {
  local role=$1 pid=${PIDS[$1]:-}
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$role]"
}

cleanup() {
  local role
  for role in "${!PIDS[@]}"; do stop_role "$role"; done
  if $STACK_STARTED; then
    "$REPO_DIR/scripts/local-stack.sh" stop "$STACK_DIR" || log "stack stop failed; run: scripts/local-stack.sh stop $STACK_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  local role=$1 port=$2 deadline=$((SECONDS + 90))
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
    kill -0 "${PIDS[$role]}" 2>/dev/null || die "$role exited; see $LOG_DIR/$role.log"
    ((SECONDS < deadline)) || die "$role not ready after 90 s; see $LOG_DIR/$role.log"
    sleep 0.2
  done
}

declare -A PORTS=()

# start_service ROLE [MODEL]: ROLE is api, worker1, worker2, ...; MODEL is
# TXGUARD_MODEL_NAME (default paysim).
start_service() {
  local role=$1 model=${2:-paysim} port
  port=$(free_port)
  PORTS[$role]=$port
  local command=worker
  [[ $role == api ]] && command=api
  TXGUARD_HTTP_PORT=$port TXGUARD_LOG_LEVEL=warn \
    TXGUARD_RULES_FILE="$REPO_DIR/config/rules/default.yaml" TXGUARD_MODEL_NAME=$model \
    TXGUARD_WORKER_BATCH=$WORKER_BATCH TXGUARD_WORKER_PREFETCH=$WORKER_PREFETCH \
    TXGUARD_UPLOAD_CONCURRENCY=$UPLOAD_CONCURRENCY TXGUARD_REPORTS_FROM=$REPORTS_FROM \
    "$TXGUARD" "$command" >>"$LOG_DIR/$role.log" 2>&1 &
  PIDS[$role]=$!
}

worker_roles() {
  local role
  for role in "${!PIDS[@]}"; do [[ $role == worker* ]] && echo "$role"; done | sort
}

# scrape NAME ROLE...: saves each role's /metrics as SCRAPE_DIR/NAME-ROLE.
scrape() {
  local name=$1 role
  shift
  for role in "$@"; do
    curl -sf "http://127.0.0.1:${PORTS[$role]}/metrics" >"$SCRAPE_DIR/$name-$role" ||
      die "could not read /metrics of $role"
  done
}
scrape_files() {
  local name=$1 role
  shift
  for role in "$@"; do echo "$SCRAPE_DIR/$name-$role"; done
}
metric_sum() {
  local metric=$1 name=$2
  shift 2
  # shellcheck disable=SC2046
  python3 "$HELPERS/metrics.py" sum "$metric" $(scrape_files "$name" "$@")
}

# Decisions plus duplicates over the running workers, from a fresh scrape.
decided_now() {
  local -a roles
  local role
  mapfile -t roles < <(worker_roles)
  # A worker that is still starting has no /metrics yet: it counts as 0.
  for role in "${roles[@]}"; do
    curl -sf "http://127.0.0.1:${PORTS[$role]}/metrics" >"$SCRAPE_DIR/now-$role" || : >"$SCRAPE_DIR/now-$role"
  done
  local decided duplicates
  decided=$(metric_sum txguard_transactions_decided_total now "${roles[@]}")
  duplicates=$(metric_sum txguard_decisions_duplicate_total now "${roles[@]}")
  echo $((decided + duplicates))
}

redis_cli() {
  REDISCLI_AUTH=$TXGUARD_REDIS_PASSWORD redis-cli -p "$TXGUARD_STACK_REDIS_PORT" "$@"
}

# wait_decided TARGET [POLL_SECONDS]: waits until the workers' decided count
# (since their start) reaches TARGET, or DRAIN_TIMEOUT passes.
wait_decided() {
  local target=$1 poll=${2:-0.5} deadline=$((SECONDS + DRAIN_TIMEOUT)) count
  while :; do
    count=$(decided_now)
    ((count >= target)) && return 0
    ((SECONDS < deadline)) || die "only $count of $target transactions decided after ${DRAIN_TIMEOUT}s"
    sleep "$poll"
  done
}

# --- CPU accounting ---------------------------------------------------------

# Prints "utime+stime ticks" of PID, or 0 when it is gone.
process_ticks() {
  [[ -r /proc/$1/stat ]] || {
    echo 0
    return
  }
  # Fields after the command name, which may contain spaces: utime and stime
  # are fields 14 and 15 of the whole line.
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# Busy and total ticks of the whole machine.
machine_ticks() {
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; total = busy + $5 + $6; print busy, total }' /proc/stat
}

# cpu_snapshot NAME: ticks of every stack server and txguard process.
cpu_snapshot() {
  local file="$WORK_DIR/cpu-$1" role
  {
    echo "machine $(machine_ticks)"
    echo "redis $(process_ticks "$TXGUARD_STACK_REDIS_PID")"
    echo "rabbitmq $(process_ticks "$TXGUARD_STACK_RABBITMQ_PID")"
    echo "s3rver $(process_ticks "$TXGUARD_STACK_S3_PID")"
    for role in "${!PIDS[@]}"; do echo "$role $(process_ticks "${PIDS[$role]}")"; done
  } >"$file"
  now >"$file.time"
}

# cpu_report PHASE BEFORE AFTER [LOADGEN_CPU_SECONDS]: CPU seconds of each
# process between two snapshots and its share of one core, the machine's
# busy share of its cores, and what the rest of the machine used.
cpu_report() {
  local phase=$1 before="$WORK_DIR/cpu-$2" after="$WORK_DIR/cpu-$3" loadgen=${4:-0}
  local wall
  wall=$(elapsed "$(cat "$before.time")" "$(cat "$after.time")")
  awk -v phase="$phase" -v wall="$wall" -v hz="$CLOCK_TICKS" -v loadgen="$loadgen" \
    -v cores="$(nproc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
    FNR == NR { if ($1 == "machine") { busy0 = $2; total0 = $3 } else start[$1] = $2; next }
    $1 == "machine" { busy = $2 - busy0; total = $3 - total0; next }
    { used[$1] = ($2 - start[$1]) / hz; ours += used[$1]; order[++n] = $1 }
    END {
      line = sprintf("cpu %s: wall %.1f s;", phase, wall)
      for (i = 1; i <= n; ++i) line = line sprintf(" %s %.1f s (%.0f%%);", order[i], used[order[i]], 100 * used[order[i]] / wall)
      if (loadgen > 0) { line = line sprintf(" load generator %.1f s (%.0f%%);", loadgen, 100 * loadgen / wall); ours += loadgen }
      machine = busy / hz
      line = line sprintf(" machine busy %.1f s of %.1f (%.0f%% of %d cores); other processes %.1f s; load average %s",
                          machine, total / hz, 100 * busy / total, cores, machine - ours, load)
      print line
    }' "$before" "$after" | tee -a "$RESULTS"
}

# run_timed NAME COMMAND...: runs a load generator, keeping its CPU seconds
# (user + system) in WORK_DIR/NAME.cpu and its output in LOG_DIR/NAME.log.
run_timed() {
  local name=$1
  shift
  /usr/bin/time -f '%U %S' -o "$WORK_DIR/$name.time" "$@" >"$LOG_DIR/$name.log" 2>&1
  local status=$?
  awk '{ printf "%.2f", $1 + $2 }' "$WORK_DIR/$name.time" >"$WORK_DIR/$name.cpu"
  return $status
}

# TCP ListenDrops of the whole machine (SYNs dropped on a full accept queue).
listen_drops() {
  awk '$1 == "TcpExt:" && !names { for (i = 2; i <= NF; ++i) if ($i == "ListenDrops") column = i; names = 1; next }
       $1 == "TcpExt:" && names { print $column; exit }' /proc/net/netstat
}

memory_of() {
  awk '/^VmHWM|^VmRSS/ { printf "%s %.1f MiB ", $1, $2 / 1024 }' "/proc/$1/status"
}
record_memory() {
  local phase=$1 role line="memory after $1:"
  for role in $(printf '%s\n' "${!PIDS[@]}" | grep -E '^(api|worker)' | sort); do
    line+=" $role $(memory_of "${PIDS[$role]}");"
  done
  record "$line"
}

# --- machine and stack --------------------------------------------------------

record "run: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD)$(git -C "$REPO_DIR" diff --quiet HEAD -- src || echo ' (src modified)')"
record "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
record "build: $(grep -E '^CMAKE_BUILD_TYPE:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2), sanitizers $(grep -E '^TXGUARD_SANITIZE:' "$BUILD_DIR/CMakeCache.txt" | cut -d= -f2)"
record "settings: WORKERS=$WORKERS WORKER_BATCH=$WORKER_BATCH WORKER_PREFETCH=$WORKER_PREFETCH REPLAYS=$REPLAYS REPLAY_BATCH=$REPLAY_BATCH S3_NICE=$S3_NICE UPLOAD_CONCURRENCY=$UPLOAD_CONCURRENCY REPORTS_FROM=$REPORTS_FROM"

log "generating data in $DATA_DIR"
python3 "$HELPERS/make-acme.py" --rows "$DRAIN_ROWS" --accounts 1000 --account-base 40000000 \
  --id-prefix drain --seed 1 --output "$DATA_DIR/drain.jsonl"
python3 "$HELPERS/make-acme.py" --rows $((LATENCY_RATE * (LATENCY_SECONDS + 2))) --accounts 10000 \
  --account-base 60000000 --format canonical --id-prefix latency --seed 4 \
  --output "$DATA_DIR/latency.jsonl"
for ((r = 1; r <= REPLAYS; ++r)); do
  python3 "$HELPERS/make-acme.py" --rows $((SUSTAIN_ROWS / REPLAYS)) --accounts 100000 \
    --account-base 50000000 --format canonical --id-prefix "sustain$r" --seed $((10 + r)) \
    --output "$DATA_DIR/sustain$r.jsonl"
done

log "starting the local stack in $STACK_DIR"
STACK_STARTED=true
"$REPO_DIR/scripts/local-stack.sh" start "$STACK_DIR" >"$LOG_DIR/stack-start.log" 2>&1 ||
  die "stack did not start; see $LOG_DIR/stack-start.log"
# shellcheck source=/dev/null
source "$STACK_DIR/env"
if ((S3_NICE != 0)); then
  renice -n "$S3_NICE" -p "$TXGUARD_STACK_S3_PID" >/dev/null
  record "s3rver reniced to $S3_NICE"
fi

# --- 1. raw broker rate -------------------------------------------------------

log "phase broker: ${BROKER_SECONDS}s"
cpu_snapshot broker-start
run_timed broker "$SERVICE_LOAD" broker "$DATA_DIR/sustain1.jsonl" --seconds "$BROKER_SECONDS" \
  --batch 256 --prefetch 512 || die "broker phase failed; see $LOG_DIR/broker.log"
cpu_snapshot broker-end
record "broker: $(tr '\n' ' ' <"$LOG_DIR/broker.log")"
cpu_report broker broker-start broker-end "$(cat "$WORK_DIR/broker.cpu")"
BROKER_RATE=$(sed -n 's/^end_to_end_per_second=//p' "$LOG_DIR/broker.log")
# The broker's own latency at the latency phase's rate and batch size:
# its share of txguard's ingest-to-decision latency.
run_timed broker-latency "$SERVICE_LOAD" broker "$DATA_DIR/latency.jsonl" --seconds 15 \
  --batch "$LATENCY_BATCH" --rate "$LATENCY_RATE" ||
  die "broker latency run failed; see $LOG_DIR/broker-latency.log"
record "broker latency at ${LATENCY_RATE}/s in batches of $LATENCY_BATCH: $(grep latency "$LOG_DIR/broker-latency.log" | tr '\n' ' ')"
# The raw PutObject rate of the S3 endpoint with report-sized objects, one
# at a time and UPLOAD_CONCURRENCY at once: every reviewed or blocked
# transaction is one such PUT, so this bounds the flagged transactions/s.
s3_runs=(1)
((UPLOAD_CONCURRENCY > 1)) && s3_runs+=("$UPLOAD_CONCURRENCY")
for connections in "${s3_runs[@]}"; do
  cpu_snapshot "s3-$connections-start"
  run_timed "s3-put-$connections" "$SERVICE_LOAD" s3-put --seconds "$S3_SECONDS" \
    --connections "$connections" || die "S3 PUT run failed; see $LOG_DIR/s3-put-$connections.log"
  cpu_snapshot "s3-$connections-end"
  record "s3 put: $(tr '\n' ' ' <"$LOG_DIR/s3-put-$connections.log")"
  cpu_report "s3-put-$connections" "s3-$connections-start" "s3-$connections-end" \
    "$(cat "$WORK_DIR/s3-put-$connections.cpu")"
done
phase_done broker

# --- 2. worker drains a pre-filled queue --------------------------------------

log "phase drain: pre-filling the queue with $DRAIN_ROWS transactions"
run_timed prefill "$TXGUARD" replay "$DATA_DIR/drain.jsonl" --to queue --batch 500 ||
  die "pre-fill failed; see $LOG_DIR/prefill.log"
record "prefill: $(cat "$LOG_DIR/prefill.log")"
redis_cli CONFIG RESETSTAT >/dev/null
cpu_snapshot drain-start
start_service worker1 "$DRAIN_MODEL"
# service_load polls Redis's decided counter every 10 ms from one process,
# because a scrape per poll would take CPU from the worker being measured.
"$SERVICE_LOAD" wait-decided --target "$DRAIN_ROWS" --seconds "$DRAIN_TIMEOUT" \
  >"$LOG_DIR/drain-wait.log" || die "the drain did not finish; see $LOG_DIR/drain-wait.log"
cpu_snapshot drain-end
drain_seconds=$(sed -n 's/^seconds=//p' "$LOG_DIR/drain-wait.log")
decided_now >/dev/null
record "drain: $DRAIN_ROWS transactions in $drain_seconds s from worker start to the last decision: $(divide "$DRAIN_ROWS" "$drain_seconds") tx/s (1 worker, model $DRAIN_MODEL, batch $WORKER_BATCH, prefetch $WORKER_PREFETCH)"
record "drain decisions: $(grep -h '^txguard_transactions_decided_total' "$SCRAPE_DIR/now-worker1" | tr '\n' ' ')"
cpu_report drain drain-start drain-end
record "drain redis: $(redis_cli INFO commandstats | tr -d '\r' | grep -E '^cmdstat_(evalsha|get|lrange|ltrim|set):' | tr '\n' ' ')"
record "drain stages (worker seconds): $(grep -h '^txguard_stage_seconds_total' "$SCRAPE_DIR/now-worker1" | sed 's/txguard_stage_seconds_total{stage="\([a-z_]*\)"} /\1=/' | tr '\n' ' ')"
record_memory drain
phase_done drain
# The drain worker ran without a model; the later phases use paysim.
stop_role worker1
start_service worker1

# --- 3. /v1/score latency at a fixed rate -----------------------------------

for ((w = 2; w <= WORKERS; ++w)); do start_service "worker$w"; done
start_service api
wait_ready api "${PORTS[api]}"
for role in $(worker_roles); do wait_ready "$role" "${PORTS[$role]}"; done

log "phase score: ${SCORE_RATE}/s for ${SCORE_SECONDS}s"
cpu_snapshot score-start
drops_before=$(listen_drops)
run_timed score "$SERVICE_LOAD" score "http://127.0.0.1:${PORTS[api]}" --rate "$SCORE_RATE" \
  --seconds "$SCORE_SECONDS" --warmup 5 --connections 8 --accounts 10000 --id-prefix score ||
  log "score phase had failed requests; see $LOG_DIR/score.log"
cpu_snapshot score-end
record "score: TCP listen drops on the machine during the phase: $(($(listen_drops) - drops_before))"
record "score: $(tr '\n' ' ' <"$LOG_DIR/score.log")"
cpu_report score score-start score-end "$(cat "$WORK_DIR/score.cpu")"
record_memory score
phase_done score

# --- 4. ingest-to-decision latency at a fixed offered rate --------------------

mapfile -t WORKER_ROLES < <(worker_roles)
log "phase latency: ${LATENCY_RATE}/s in batches of $LATENCY_BATCH through the API for ${LATENCY_SECONDS}s"
decided_base=$(decided_now)
scrape latency-before "${WORKER_ROLES[@]}"
cpu_snapshot latency-start
run_timed latency "$TXGUARD" replay "$DATA_DIR/latency.jsonl" --to api \
  --url "http://127.0.0.1:${PORTS[api]}" --rate "$LATENCY_RATE" --batch "$LATENCY_BATCH" \
  --limit $((LATENCY_RATE * LATENCY_SECONDS)) || die "latency replay failed; see $LOG_DIR/latency.log"
cpu_snapshot latency-end
wait_decided $((decided_base + LATENCY_RATE * LATENCY_SECONDS))
scrape latency-after "${WORKER_ROLES[@]}"
record "latency replay: $(cat "$LOG_DIR/latency.log")"
# shellcheck disable=SC2046
record "latency: p99 ingest-to-decision $(python3 "$HELPERS/metrics.py" quantile \
  txguard_ingest_to_decision_seconds 0.99 --before $(scrape_files latency-before "${WORKER_ROLES[@]}") \
  --after $(scrape_files latency-after "${WORKER_ROLES[@]}") | tr '\n' ' ')"
# shellcheck disable=SC2046
record "latency: p50 ingest-to-decision $(python3 "$HELPERS/metrics.py" quantile \
  txguard_ingest_to_decision_seconds 0.5 --before $(scrape_files latency-before "${WORKER_ROLES[@]}") \
  --after $(scrape_files latency-after "${WORKER_ROLES[@]}") | grep quantile)"
cpu_report latency latency-start latency-end "$(cat "$WORK_DIR/latency.cpu")"
record_memory latency
phase_done latency

# --- 5. sustained ingest-to-decision rate ------------------------------------

log "phase sustained: $REPLAYS replays through the API, ${SUSTAIN_WARMUP}s warm-up + ${SUSTAIN_SECONDS}s"
decided_base=$(decided_now)
scrape sustain-api-before api
for ((r = 1; r <= REPLAYS; ++r)); do
  "$TXGUARD" replay "$DATA_DIR/sustain$r.jsonl" --to api --url "http://127.0.0.1:${PORTS[api]}" \
    --batch "$REPLAY_BATCH" >"$LOG_DIR/sustain$r.log" 2>&1 &
  PIDS[replay$r]=$!
done
sleep "$SUSTAIN_WARMUP"
scrape sustain-before "${WORKER_ROLES[@]}" api
cpu_snapshot sustain-start
sleep "$SUSTAIN_SECONDS"
scrape sustain-after "${WORKER_ROLES[@]}" api
cpu_snapshot sustain-end
for ((r = 1; r <= REPLAYS; ++r)); do
  # A replay that ran out of data early means SUSTAIN_ROWS is too small.
  kill -0 "${PIDS[replay$r]}" 2>/dev/null ||
    log "replay $r finished before the window ended; raise SUSTAIN_ROWS"
  stop_role "replay$r"
done
decided=$(($(metric_sum txguard_transactions_decided_total sustain-after "${WORKER_ROLES[@]}") - \
  $(metric_sum txguard_transactions_decided_total sustain-before "${WORKER_ROLES[@]}")))
ingested=$(($(metric_sum txguard_transactions_ingested_total sustain-after api) - \
  $(metric_sum txguard_transactions_ingested_total sustain-before api)))
window=$(elapsed "$(cat "$WORK_DIR/cpu-sustain-start.time")" "$(cat "$WORK_DIR/cpu-sustain-end.time")")
decision_rate=$(divide "$decided" "$window")
record "sustained: $decided decisions in $window s = $decision_rate decisions/s with $WORKERS workers; API accepted $(divide "$ingested" "$window") tx/s; raw broker $BROKER_RATE msg/s (ratio $(awk -v a="$decision_rate" -v b="$BROKER_RATE" 'BEGIN { printf "%.2f", a / b }'))"
for ((r = 1; r <= REPLAYS; ++r)); do record "sustained replay $r: $(tail -n 1 "$LOG_DIR/sustain$r.log")"; done
cpu_report sustained sustain-start sustain-end
record_memory sustained
scrape end api
total_ingested=$(($(metric_sum txguard_transactions_ingested_total end api) - \
  $(metric_sum txguard_transactions_ingested_total sustain-api-before api)))
log "waiting for the workers to decide the $total_ingested transactions of the sustained phase"
backlog_start=$(now)
wait_decided $((decided_base + total_ingested))
record "sustained backlog: decided $((total_ingested)) transactions in total; the queue backlog took $(elapsed "$backlog_start" "$(now)") s to drain after the replays stopped"

# --- 6. memory ---------------------------------------------------------------

record "redis accounts of the sustained data (txg:acct:C500?????): $("$SERVICE_LOAD" redis-memory --pattern 'txg:acct:C500?????' | tr '\n' ' ')"
record "redis: $(redis_cli INFO memory | grep -E '^used_memory:' | tr -d '\r'), keys $(redis_cli DBSIZE | tr -d '\r'), archive outbox $(redis_cli LLEN txg:outbox:archive | tr -d '\r') lines"
record_memory end

log "done; results in $RESULTS"
