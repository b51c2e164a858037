#!/usr/bin/env bash
# Builds the txguard image with scripts/build-image.sh and runs it the way
# the Helm chart does: read-only root filesystem, tmpfs /tmp, uid 10001, no
# capabilities, no-new-privileges. Host networking lets the container reach
# the servers of scripts/local-stack.sh on 127.0.0.1.
#
#   image_test.sh WORK_DIR
#
# It checks the image's user, entrypoint and labels, that no compiler or
# -dev package is inside, and `txguard --version` and `txguard score` on the
# bundled data. When the binary has the `api` subcommand, it then runs
# `txguard api` and `txguard worker` containers against the local stack,
# whose RabbitMQ gets compose.yaml's definitions. There it checks /readyz,
# compose's healthcheck command, POST /v1/score, a transaction through the
# queue, /metrics, `txguard selftest`, exit code 0 after SIGTERM and logs
# without secrets.
#
# Environment:
#   TXGUARD_IMAGE_GIT_REV   build this commit instead of the working tree
#   TXGUARD_IMAGE_NO_BUILD  1: test the existing txguard:dev image
#   TXGUARD_IMAGE_MAX_MB    fail when the image is larger (default 250 MB)
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly IMAGE=txguard:dev
readonly MAX_MB=${TXGUARD_IMAGE_MAX_MB:-250}
# A Luhn-valid card number that is widely used as test data, not a real card.
readonly TEST_CARD_NUMBER=4111111111111111
# Same runtime and ulimit flags as scripts/build-image.sh, for the same
# reasons (see there).
readonly PODMAN_FLAGS=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
# The container settings of the Helm chart's api and worker pods.
readonly HARDENED_FLAGS=(--read-only --tmpfs "/tmp:rw,size=64m,mode=1777" --user 10001:10001
  --cap-drop ALL --security-opt no-new-privileges --network host)

[[ $# -eq 1 ]] || {
  echo "usage: $0 WORK_DIR" >&2
  exit 2
}
WORK_DIR=$1
mkdir -p "$WORK_DIR"
WORK_DIR=$(cd "$WORK_DIR" && pwd)
readonly WORK_DIR
readonly STACK_DIR="$WORK_DIR/stack"

failures=0
api_container=""
worker_container=""
stack_started=0

log() { printf 'image-test: %s\n' "$*" >&2; }
pass() { log "ok: $*"; }
fail() {
  log "FAILED: $*"
  failures=$((failures + 1))
}
die() {
  log "FAILED: $*"
  exit 1
}
# expect_equal WHAT ACTUAL EXPECTED
expect_equal() {
  if [[ "$2" == "$3" ]]; then
    pass "$1: $2"
  else
    fail "$1 is '$2', expected '$3'"
  fi
}
# expect_none WHAT FOUND: passes when FOUND is empty.
expect_none() {
  if [[ -z "$2" ]]; then
    pass "$1: none"
  else
    fail "$1: $2"
  fi
}

cleanup() {
  local container
  for container in "$api_container" "$worker_container"; do
    if [[ -n "$container" ]]; then
      podman rm --force --time 5 "$container" >/dev/null 2>&1 || true
    fi
  done
  if [[ "$stack_started" -eq 1 ]]; then
    "$REPO_DIR/scripts/local-stack.sh" stop "$STACK_DIR" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

run_hardened() {
  podman run --rm "${PODMAN_FLAGS[@]}" "${HARDENED_FLAGS[@]}" "$@"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

require_tools() {
  local missing=()
  for tool in podman buildah runc python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    die "${missing[*]} not found. Install them with 'bash scripts/install-deps.sh'" \
      "or 'apt-get install podman buildah runc debootstrap uidmap fuse-overlayfs slirp4netns curl'"
  fi
}

build_image() {
  if [[ "${TXGUARD_IMAGE_NO_BUILD:-0}" == 1 ]]; then
    podman image exists "$IMAGE" || die "TXGUARD_IMAGE_NO_BUILD=1 but $IMAGE does not exist"
    log "testing the existing $IMAGE"
    return
  fi
  local args=()
  if [[ -n "${TXGUARD_IMAGE_GIT_REV:-}" ]]; then
    args+=(--git-rev "$TXGUARD_IMAGE_GIT_REV")
  fi
  local started=$SECONDS
  TXGUARD_IMAGE_WORK_DIR="$WORK_DIR/build" "$REPO_DIR/scripts/build-image.sh" "${args[@]}" ||
    die "scripts/build-image.sh failed"
  log "image build took $((SECONDS - started)) s"
}

check_metadata() {
  local user entrypoint cmd version expected_version ports
  user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  expect_equal "image user (Dockerfile USER)" "$user" 10001:10001

  entrypoint=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
  expect_equal entrypoint "$entrypoint" '["/usr/local/bin/txguard"]'
  cmd=$(podman image inspect --format '{{json .Config.Cmd}}' "$IMAGE")
  expect_equal cmd "$cmd" '["api"]'

  ports=$(podman image inspect --format '{{range $port, $_ := .Config.ExposedPorts}}{{$port}} {{end}}' "$IMAGE")
  expect_equal "exposed ports" "$ports" "8080/tcp 9100/tcp "

  expected_version=$(sed -n 's/^project(txguard VERSION \([0-9][0-9.]*\).*/\1/p' "$REPO_DIR/CMakeLists.txt")
  version=$(podman image inspect \
    --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")
  expect_equal "label org.opencontainers.image.version" "$version" "$expected_version"

  # The batch commands write to ./txguard-out, so the working directory must
  # be the writable /tmp.
  expect_equal "working directory" "$(podman image inspect --format '{{.Config.WorkingDir}}' "$IMAGE")" /tmp

  local size_bytes
  size_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
  log "image size: $((size_bytes / 1000000)) MB ($size_bytes bytes)"
  if ((size_bytes <= MAX_MB * 1000000)); then
    pass "size within ${MAX_MB} MB"
  else
    fail "image is $((size_bytes / 1000000)) MB, over the ${MAX_MB} MB limit (TXGUARD_IMAGE_MAX_MB)"
  fi
}

# The process runs as 10001 by the image's own USER, without --user.
check_process_user() {
  local status
  status=$(podman run --rm "${PODMAN_FLAGS[@]}" --entrypoint /bin/cat "$IMAGE" /proc/self/status)
  local uid_line gid_line
  uid_line=$(grep '^Uid:' <<<"$status" | tr -s '[:space:]' ' ')
  gid_line=$(grep '^Gid:' <<<"$status" | tr -s '[:space:]' ' ')
  expect_equal "process uids (real, effective, saved, fs)" "$uid_line" "Uid: 10001 10001 10001 10001 "
  expect_equal "process gids (real, effective, saved, fs)" "$gid_line" "Gid: 10001 10001 10001 10001 "
}

check_no_build_tools() {
  local found
  found=$(podman run --rm "${PODMAN_FLAGS[@]}" --entrypoint /bin/sh "$IMAGE" -c \
    'for tool in cc c++ gcc g++ clang ld as make cmake ninja; do command -v "$tool" || true; done')
  expect_none "compilers, linkers and build tools in the image" "${found//$'\n'/ }"

  local dev_packages
  dev_packages=$(podman run --rm "${PODMAN_FLAGS[@]}" --entrypoint /usr/bin/dpkg-query "$IMAGE" \
    -W -f '${Package}\n' |
    grep -E -- '-dev$|^build-essential$|^(gcc|g\+\+|cpp|clang)(-[0-9]+)?$|^binutils' || true)
  expect_none "-dev and compiler packages in the image" "${dev_packages//$'\n'/ }"
}

check_batch_commands() {
  local version_output expected
  expected=$(podman image inspect \
    --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMAGE")
  if version_output=$(run_hardened "$IMAGE" --version); then
    expect_equal "txguard --version" "$version_output" "txguard $expected"
  else
    fail "txguard --version failed in the hardened container"
  fi

  # Succeeding with the default --out-dir (./txguard-out) shows that the
  # output went to the tmpfs: nothing else is writable.
  local input=data/acme/transactions.json summary
  if summary=$(run_hardened "$IMAGE" score --json --quiet "/usr/share/txguard/$input"); then
    local problem
    problem=$(python3 - "$summary" "$REPO_DIR/$input" <<'PY'
import json, sys
summary = json.loads(sys.argv[1])
with open(sys.argv[2]) as f:
    expected_rows = len(json.load(f))
problems = []
if summary.get("rows_scored") != expected_rows:
    problems.append(f"rows_scored {summary.get('rows_scored')}, expected {expected_rows}")
if summary.get("rows_rejected") != 0:
    problems.append(f"rows_rejected {summary.get('rows_rejected')}, expected 0")
if sum(summary.get("decisions", {}).values()) != expected_rows:
    problems.append(f"decisions {summary.get('decisions')} do not add up to {expected_rows}")
print("; ".join(problems))
PY
    ) || problem="summary is not JSON: $summary"
    expect_none "problems in the txguard score summary" "$problem"
  else
    fail "txguard score /usr/share/txguard/$input failed in the hardened container"
  fi

  # Anything outside /tmp must be read-only.
  if run_hardened "$IMAGE" score --quiet --out-dir /usr/local/txguard-out \
    /usr/share/txguard/data/acme/transactions.json >/dev/null 2>&1; then
    fail "txguard score wrote to /usr/local: the root filesystem is not read-only"
  else
    pass "writing outside /tmp fails (read-only root filesystem)"
  fi
}

has_api_command() {
  run_hardened "$IMAGE" --help 2>/dev/null | grep -Eq '^ +api( |$)'
}

# Writes the stack's secrets as files, the way the chart mounts its Secret,
# so the container reads them through the NAME_FILE variables.
write_secret_files() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s' "$TXGUARD_REDIS_PASSWORD" >"$dir/redis-password"
  printf '%s' "$TXGUARD_AMQP_PASSWORD" >"$dir/rabbitmq-password"
  printf '%s' "$TXGUARD_S3_ACCESS_KEY_ID" >"$dir/s3-access-key-id"
  printf '%s' "$TXGUARD_S3_SECRET_ACCESS_KEY" >"$dir/s3-secret-access-key"
  printf '%s' "$TXGUARD_PAN_HASH_KEY" >"$dir/pan-hash-key"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown 10001:10001 "$dir"/*
    chmod 0400 "$dir"/*
  else
    # Rootless podman maps the container's uid 10001 to a subordinate uid
    # that cannot read a 0400 file of this user.
    chmod 0444 "$dir"/*
  fi
}

# Loads the RabbitMQ definitions that scripts/compose-secrets.sh writes for
# compose.yaml into the stack's broker, with the stack's txguard password.
# The api and the worker declare the topology on connect and fail on any
# argument that differs, so a queue round trip proves that the compose
# definitions match, and that the compose user's password hash and its
# ^txguard\. permissions work.
import_compose_definitions() {
  local dir="$WORK_DIR/compose-secrets"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s' "$TXGUARD_AMQP_PASSWORD" >"$dir/rabbitmq-password"
  "$REPO_DIR/scripts/compose-secrets.sh" "$dir" 2>/dev/null ||
    die "scripts/compose-secrets.sh $dir failed"
  "$REPO_DIR/scripts/local-stack.sh" rabbitmqctl "$STACK_DIR" \
    import_definitions "$dir/rabbitmq-definitions.json" >/dev/null ||
    die "RabbitMQ rejected the compose definitions ($dir/rabbitmq-definitions.json)"
  if "$REPO_DIR/scripts/local-stack.sh" rabbitmqctl "$STACK_DIR" \
    authenticate_user txguard "$TXGUARD_AMQP_PASSWORD" >/dev/null 2>&1; then
    pass "compose definitions: the txguard user's password hash is accepted"
  else
    fail "compose definitions: RabbitMQ rejects the txguard password with the generated hash"
  fi
}

# Runs compose.yaml's healthcheck command of the api service in the running
# container, so the command works with what the image has (bash, no curl).
check_compose_healthcheck() {
  local command=()
  mapfile -t command < <(python3 - "$REPO_DIR/compose.yaml" <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    test = yaml.safe_load(f)["services"]["api"]["healthcheck"]["test"]
assert test[0] == "CMD", test
for part in test[1:]:
    # Compose turns $$ into a literal $ before it passes the command on.
    print(part.replace("$$", "$").replace("\n", " "))
PY
  )
  if [[ ${#command[@]} -eq 0 ]]; then
    fail "no CMD healthcheck for the api service in compose.yaml"
  elif podman exec "$api_container" "${command[@]}"; then
    pass "compose.yaml's api healthcheck passes in the container"
  else
    fail "compose.yaml's api healthcheck fails in the container: ${command[*]}"
  fi
}

# start_container COMPONENT PORT: runs `txguard COMPONENT` hardened, with the
# stack's settings and the secrets as files, and prints the container id.
start_container() {
  local component=$1 port=$2 secrets_dir="$WORK_DIR/secrets"
  podman run --detach "${PODMAN_FLAGS[@]}" "${HARDENED_FLAGS[@]}" \
    --name "txguard-image-test-$component-$$" \
    --volume "$secrets_dir:/etc/txguard/secrets:ro" \
    --env "TXGUARD_HTTP_PORT=$port" \
    --env TXGUARD_RULES_FILE=/etc/txguard/rules/rules.yaml \
    --env "TXGUARD_REDIS_URL=$TXGUARD_REDIS_URL" \
    --env "TXGUARD_AMQP_URL=$TXGUARD_AMQP_URL" \
    --env "TXGUARD_S3_ENDPOINT=$TXGUARD_S3_ENDPOINT" \
    --env "TXGUARD_S3_REGION=$TXGUARD_S3_REGION" \
    --env "TXGUARD_S3_BUCKET_REPORTS=$TXGUARD_S3_BUCKET_REPORTS" \
    --env "TXGUARD_S3_BUCKET_ARCHIVE=$TXGUARD_S3_BUCKET_ARCHIVE" \
    --env "TXGUARD_S3_BUCKET_MODELS=$TXGUARD_S3_BUCKET_MODELS" \
    --env TXGUARD_REDIS_PASSWORD_FILE=/etc/txguard/secrets/redis-password \
    --env TXGUARD_AMQP_PASSWORD_FILE=/etc/txguard/secrets/rabbitmq-password \
    --env TXGUARD_S3_ACCESS_KEY_ID_FILE=/etc/txguard/secrets/s3-access-key-id \
    --env TXGUARD_S3_SECRET_ACCESS_KEY_FILE=/etc/txguard/secrets/s3-secret-access-key \
    --env TXGUARD_PAN_HASH_KEY_FILE=/etc/txguard/secrets/pan-hash-key \
    "$IMAGE" "$component"
}

# wait_ready COMPONENT CONTAINER PORT: waits up to 90 s for /readyz to return 200.
wait_ready() {
  local component=$1 container=$2 port=$3 deadline=$((SECONDS + 90)) code=""
  while ((SECONDS < deadline)); do
    if [[ "$(podman inspect --format '{{.State.Running}}' "$container")" != true ]]; then
      podman logs --tail 40 "$container" >&2 || true
      die "txguard $component exited before it was ready"
    fi
    code=$(curl -s -o "$WORK_DIR/readyz-$component.json" -w '%{http_code}' \
      "http://127.0.0.1:$port/readyz" || true)
    if [[ "$code" == 200 ]]; then
      pass "$component /readyz returned 200"
      return 0
    fi
    sleep 1
  done
  log "last $component /readyz answer ($code): $(cat "$WORK_DIR/readyz-$component.json" 2>/dev/null)"
  podman logs --tail 40 "$container" >&2 || true
  die "txguard $component was not ready within 90 s"
}

# stop_and_check COMPONENT CONTAINER: sends SIGTERM, expects exit code 0, and
# checks the log for secrets and non-JSON lines.
stop_and_check() {
  local component=$1 container=$2 started=$SECONDS exit_code
  # txguard is PID 1 in the container: without its own SIGTERM handler the
  # signal is ignored and podman kills it after the timeout (exit 137).
  podman stop --time 40 "$container" >/dev/null
  exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$container")
  expect_equal "$component exit code after SIGTERM ($((SECONDS - started)) s)" "$exit_code" 0

  local log_file="$WORK_DIR/$component.log" secret leaked=0
  podman logs "$container" >"$log_file" 2>&1 || true
  for secret in "$TXGUARD_REDIS_PASSWORD" "$TXGUARD_AMQP_PASSWORD" "$TXGUARD_PAN_HASH_KEY" "$TEST_CARD_NUMBER"; do
    if grep -qF -- "$secret" "$log_file"; then
      leaked=1
    fi
  done
  if [[ "$leaked" -eq 0 ]]; then
    pass "no password, key or card number in the $component log"
  else
    fail "the $component log ($log_file) contains a secret or a plain card number"
  fi
  if python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' \
    "$log_file" 2>/dev/null; then
    pass "every $component log line is a JSON object"
  else
    fail "the $component log ($log_file) has lines that are not JSON"
  fi
}

# POST /v1/score with canonical JSON that carries a card number. The decision
# shows the account as the masked number or as the keyed hash made with the
# key from the secret file. It must never contain the number itself.
check_score() {
  local port=$1 id code body problem
  id="image-test-score-$(date +%s)-$RANDOM"
  body=$(printf '{"id": "%s", "card_number": "%s", "timestamp": "2024-03-01T10:15:00Z", "amount": 125.5, "location": "SP"}' \
    "$id" "$TEST_CARD_NUMBER")
  code=$(curl -s -o "$WORK_DIR/score.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "$body" "http://127.0.0.1:$port/v1/score" || true)
  if [[ "$code" != 200 ]]; then
    fail "POST /v1/score returned HTTP $code: $(cat "$WORK_DIR/score.json" 2>/dev/null)"
    return
  fi
  problem=$(python3 - "$WORK_DIR/score.json" "$id" "$TEST_CARD_NUMBER" "$TXGUARD_PAN_HASH_KEY" <<'PY'
import hashlib, hmac, json, sys
with open(sys.argv[1]) as f:
    decision = json.load(f)
card_number, key = sys.argv[3], sys.argv[4]
keyed_hash = "card:" + hmac.new(key.encode(), card_number.encode(), hashlib.sha256).hexdigest()[:32]
masked = card_number[:6] + "*" * (len(card_number) - 10) + card_number[-4:]
problems = []
if decision.get("transaction_id") != sys.argv[2]:
    problems.append(f"transaction_id {decision.get('transaction_id')!r}, expected {sys.argv[2]!r}")
if decision.get("action") not in ("allow", "review", "block"):
    problems.append(f"action {decision.get('action')!r} is not allow, review or block")
score = decision.get("score")
if not isinstance(score, (int, float)) or not 0 <= score <= 1:
    problems.append(f"score {score!r} is not a number in [0, 1]")
if decision.get("amount") != 125.5:
    problems.append(f"amount {decision.get('amount')!r}, expected 125.5")
for name in ("account", "timestamp", "model_version", "rules_version"):
    if not isinstance(decision.get(name), str):
        problems.append(f"{name} missing or not a string")
if decision.get("account") not in (masked, keyed_hash):
    problems.append(f"account {decision.get('account')!r}, expected {masked!r} or {keyed_hash!r}")
if card_number in json.dumps(decision):
    problems.append("the decision contains the plain card number")
if not isinstance(decision.get("reasons"), list):
    problems.append("reasons missing or not a list")
print("; ".join(problems))
PY
  ) || problem="response is not JSON: $(cat "$WORK_DIR/score.json")"
  expect_none "problems in the POST /v1/score decision" "$problem"

  code=$(curl -s -o "$WORK_DIR/stored.json" -w '%{http_code}' \
    "http://127.0.0.1:$port/v1/transactions/$id" || true)
  if [[ "$code" == 200 ]] && python3 -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:]); sys.exit(a.get("action") != b.get("action"))' \
    "$WORK_DIR/score.json" "$WORK_DIR/stored.json" 2>/dev/null; then
    pass "GET /v1/transactions/$id returned the stored decision"
  else
    fail "GET /v1/transactions/$id returned HTTP $code: $(cat "$WORK_DIR/stored.json" 2>/dev/null)"
  fi
}

# POST /v1/transactions publishes to RabbitMQ through the topology the api
# declared when it connected. The worker container consumes and decides it.
check_queue_round_trip() {
  local port=$1 id code deadline
  id="image-test-queue-$(date +%s)-$RANDOM"
  code=$(curl -s -o "$WORK_DIR/ingest.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "$(printf '{"transaction_id": "%s", "account_number": "2962", "value": 80.0, "state": "SP", "date": "2024-03-01 11:00:00.000000"}' "$id")" \
    "http://127.0.0.1:$port/v1/transactions" || true)
  if [[ "$code" != 202 ]]; then
    fail "POST /v1/transactions returned HTTP $code: $(cat "$WORK_DIR/ingest.json" 2>/dev/null)"
    return
  fi
  pass "POST /v1/transactions accepted the transaction (HTTP 202)"

  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    code=$(curl -s -o "$WORK_DIR/queued.json" -w '%{http_code}' \
      "http://127.0.0.1:$port/v1/transactions/$id" || true)
    if [[ "$code" == 200 ]]; then
      pass "the worker container decided the queued transaction"
      return
    fi
    sleep 1
  done
  fail "no decision for the queued transaction $id within 30 s (last HTTP $code)"
}

check_service() {
  log "starting the local stack in $STACK_DIR"
  "$REPO_DIR/scripts/local-stack.sh" start "$STACK_DIR" >"$WORK_DIR/stack.log" 2>&1 || {
    tail -n 30 "$WORK_DIR/stack.log" >&2
    die "scripts/local-stack.sh start failed"
  }
  stack_started=1
  # shellcheck source=/dev/null
  source "$STACK_DIR/env"

  import_compose_definitions
  write_secret_files "$WORK_DIR/secrets"

  local api_port worker_port
  api_port=$(free_port)
  worker_port=$(free_port)
  api_container=$(start_container api "$api_port")
  log "started txguard api in container ${api_container:0:12} on port $api_port"
  worker_container=$(start_container worker "$worker_port")
  log "started txguard worker in container ${worker_container:0:12} on port $worker_port"
  wait_ready api "$api_container" "$api_port"
  wait_ready worker "$worker_container" "$worker_port"

  check_compose_healthcheck

  local process
  process=$(podman top "$api_container" huser capeff | tail -n +2 | tr -s ' ')
  expect_equal "api process host user and effective capabilities" "$process" "10001 none"

  check_score "$api_port"
  check_queue_round_trip "$api_port"

  local component port code
  for component in api worker; do
    port=$api_port
    [[ "$component" == worker ]] && port=$worker_port
    code=$(curl -s -o "$WORK_DIR/metrics-$component.txt" -w '%{http_code}' \
      "http://127.0.0.1:$port/metrics" || true)
    if [[ "$code" == 200 ]] && grep -q '^txguard_' "$WORK_DIR/metrics-$component.txt"; then
      pass "$component /metrics serves txguard_ metrics"
    else
      fail "$component /metrics returned HTTP $code without txguard_ metrics"
    fi
  done

  # The chart's helm test runs this command in the same image.
  if run_hardened "$IMAGE" selftest --url "http://127.0.0.1:$api_port" >"$WORK_DIR/selftest.log" 2>&1; then
    pass "txguard selftest"
  else
    fail "txguard selftest failed: $(tail -n 5 "$WORK_DIR/selftest.log")"
  fi

  stop_and_check worker "$worker_container"
  stop_and_check api "$api_container"
}

main() {
  require_tools
  build_image
  check_metadata
  check_process_user
  check_no_build_tools
  check_batch_commands
  if has_api_command; then
    check_service
  else
    # NOTE: passes without the service checks while the binary has no `api`
    # subcommand, so the image test can run before the service exists.
    log "skipped the service checks: this txguard has no 'api' subcommand"
  fi

  if ((failures > 0)); then
    log "$failures check(s) failed"
    exit 1
  fi
  log "all checks passed"
}

main "$@"
