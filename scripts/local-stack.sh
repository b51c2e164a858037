#!/usr/bin/env bash
# Starts and stops the servers txguard talks to (Redis, RabbitMQ, an S3
# endpoint) as plain processes on free loopback ports, with all data, logs and
# secrets under one folder. Tests, demos and benchmarks use it; see
# docs/local-stack.md.
#
#   local-stack.sh start DIR           start all three, write DIR/env
#   local-stack.sh stop DIR            stop exactly the processes in DIR/env
#   local-stack.sh status DIR          print each server's state; exit 1 if any is down
#   local-stack.sh restart-redis DIR   stop and start Redis (same port, password, data)
#   local-stack.sh restart-rabbitmq DIR
#   local-stack.sh stop-s3 DIR | start-s3 DIR
#   local-stack.sh stop-redis DIR | start-redis DIR
#   local-stack.sh rabbitmqctl DIR ARGS...   run rabbitmqctl against the stack's node
#
# System-wide redis-server or rabbitmq-server services are never touched: every
# process here has its own port, folder and (for Erlang) its own epmd.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly S3RVER_DIR="$REPO_DIR/tools/s3rver"
readonly RABBITMQ_BIN=/usr/lib/rabbitmq/bin
readonly BUCKETS=(txguard-reports txguard-archive txguard-models)
# Seconds to wait for a server to accept connections / to exit after SIGTERM.
readonly START_TIMEOUT=${TXGUARD_STACK_START_TIMEOUT:-120}
readonly STOP_TIMEOUT=${TXGUARD_STACK_STOP_TIMEOUT:-30}

log() { printf 'local-stack: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '7,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

now_ms() { date +%s%3N; }

# Prints COUNT distinct free TCP ports on 127.0.0.1. All sockets stay bound
# until every port is chosen, so the ports differ from each other. Another
# process can still take one before the server binds it, so start_* retries
# with new ports when a server fails to start.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
for s in sockets:
    s.close()
PY
}

port_open() {
  python3 - "$1" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

random_secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }

# True when PID is alive and its command line contains PATTERN, so a PID
# that the kernel reused for another program is never signalled.
pid_matches() {
  local pid=$1 pattern=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# True while PID, a child this shell started, has not exited. A child's PID
# cannot be reused before the parent reaps it, so no pattern check is needed;
# a zombie (state Z) counts as exited.
child_alive() {
  local pid=$1 state
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z ]]
}

# Sends SIGTERM, waits up to STOP_TIMEOUT seconds, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 pattern=$3
  if ! pid_matches "$pid" "$pattern"; then
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_matches "$pid" "$pattern"; do
    if ((SECONDS >= deadline)); then
      log "$name (pid $pid) still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # Reap the process when this shell started it, so it leaves no zombie.
  wait "$pid" 2>/dev/null || true
}

load_env() {
  [[ -f "$STACK_DIR/env" ]] || die "no $STACK_DIR/env: run '$0 start $STACK_DIR' first"
  # shellcheck source=/dev/null
  source "$STACK_DIR/env"
}

# Writes DIR/env atomically, mode 600 because it contains passwords.
write_env() {
  local tmp="$STACK_DIR/env.tmp.$$"
  (
    umask 077
    {
      echo "# Written by scripts/local-stack.sh; 'source' this file."
      printf 'export TXGUARD_STACK_DIR=%q\n' "$STACK_DIR"
      printf 'export TXGUARD_STACK_REDIS_PORT=%q\n' "$TXGUARD_STACK_REDIS_PORT"
      printf 'export TXGUARD_STACK_REDIS_PID=%q\n' "${TXGUARD_STACK_REDIS_PID:-}"
      printf 'export TXGUARD_STACK_AMQP_PORT=%q\n' "$TXGUARD_STACK_AMQP_PORT"
      printf 'export TXGUARD_STACK_RABBITMQ_DIST_PORT=%q\n' "$TXGUARD_STACK_RABBITMQ_DIST_PORT"
      printf 'export TXGUARD_STACK_RABBITMQ_CTL_PORT=%q\n' "$TXGUARD_STACK_RABBITMQ_CTL_PORT"
      printf 'export TXGUARD_STACK_EPMD_PORT=%q\n' "$TXGUARD_STACK_EPMD_PORT"
      printf 'export TXGUARD_STACK_EPMD_PID=%q\n' "${TXGUARD_STACK_EPMD_PID:-}"
      printf 'export TXGUARD_STACK_RABBITMQ_NODENAME=%q\n' "$TXGUARD_STACK_RABBITMQ_NODENAME"
      printf 'export TXGUARD_STACK_RABBITMQ_PID=%q\n' "${TXGUARD_STACK_RABBITMQ_PID:-}"
      printf 'export TXGUARD_STACK_S3_PORT=%q\n' "$TXGUARD_STACK_S3_PORT"
      printf 'export TXGUARD_STACK_S3_PID=%q\n' "${TXGUARD_STACK_S3_PID:-}"
      echo
      printf 'export TXGUARD_REDIS_URL=%q\n' "redis://127.0.0.1:$TXGUARD_STACK_REDIS_PORT/0"
      printf 'export TXGUARD_REDIS_PASSWORD=%q\n' "$TXGUARD_REDIS_PASSWORD"
      printf 'export TXGUARD_AMQP_URL=%q\n' "amqp://txguard@127.0.0.1:$TXGUARD_STACK_AMQP_PORT/%2F"
      printf 'export TXGUARD_AMQP_PASSWORD=%q\n' "$TXGUARD_AMQP_PASSWORD"
      printf 'export TXGUARD_S3_ENDPOINT=%q\n' "http://127.0.0.1:$TXGUARD_STACK_S3_PORT"
      printf 'export TXGUARD_S3_REGION=us-east-1\n'
      # s3rver accepts only this fixed key pair.
      printf 'export TXGUARD_S3_ACCESS_KEY_ID=S3RVER\n'
      printf 'export TXGUARD_S3_SECRET_ACCESS_KEY=S3RVER\n'
      printf 'export TXGUARD_S3_BUCKET_REPORTS=%q\n' "${BUCKETS[0]}"
      printf 'export TXGUARD_S3_BUCKET_ARCHIVE=%q\n' "${BUCKETS[1]}"
      printf 'export TXGUARD_S3_BUCKET_MODELS=%q\n' "${BUCKETS[2]}"
      printf 'export TXGUARD_PAN_HASH_KEY=%q\n' "$TXGUARD_PAN_HASH_KEY"
    } >"$tmp"
  )
  mv -f "$tmp" "$STACK_DIR/env"
}

wait_for_port() {
  local name=$1 port=$2 pid=$3 log_file=$4
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$port"; do
    if ! child_alive "$pid"; then
      log "$name exited during start-up; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 2>/dev/null || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$name did not accept connections on port $port within ${START_TIMEOUT}s; see $log_file"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- Redis

launch_redis() {
  mkdir -p "$STACK_DIR/redis"
  local log_file="$STACK_DIR/redis/redis.log"
  # The password goes through stdin rather than argv, so ps does not show it.
  printf 'requirepass %s\n' "$TXGUARD_REDIS_PASSWORD" |
    redis-server - \
      --port "$TXGUARD_STACK_REDIS_PORT" --bind 127.0.0.1 \
      --dir "$STACK_DIR/redis" --logfile "$log_file" --daemonize no \
      --appendonly yes --appendfsync everysec --save "" \
      >/dev/null 2>&1 &
  TXGUARD_STACK_REDIS_PID=$!
  wait_for_port Redis "$TXGUARD_STACK_REDIS_PORT" "$TXGUARD_STACK_REDIS_PID" "$log_file"
}

start_redis() {
  local attempt
  for attempt in 1 2 3; do
    if launch_redis; then
      log "Redis ready on 127.0.0.1:$TXGUARD_STACK_REDIS_PORT (pid $TXGUARD_STACK_REDIS_PID)"
      return 0
    fi
    stop_pid Redis "${TXGUARD_STACK_REDIS_PID:-}" redis-server
    [[ "${1:-}" == fixed-port ]] && return 1
    log "Redis start attempt $attempt failed; retrying on a new port"
    TXGUARD_STACK_REDIS_PORT=$(free_ports 1)
  done
  return 1
}

# ------------------------------------------------------------- RabbitMQ

# Every variable that points RabbitMQ's scripts at this stack instead of the
# system installation under /etc/rabbitmq and /var/lib/rabbitmq.
rabbitmq_env() {
  local base="$STACK_DIR/rabbitmq"
  export HOME="$STACK_DIR"
  export ERL_EPMD_PORT="$TXGUARD_STACK_EPMD_PORT"
  export RABBITMQ_NODENAME="$TXGUARD_STACK_RABBITMQ_NODENAME"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$TXGUARD_STACK_AMQP_PORT"
  export RABBITMQ_DIST_PORT="$TXGUARD_STACK_RABBITMQ_DIST_PORT"
  export RABBITMQ_CTL_DIST_PORT_MIN="$TXGUARD_STACK_RABBITMQ_CTL_PORT"
  export RABBITMQ_CTL_DIST_PORT_MAX="$TXGUARD_STACK_RABBITMQ_CTL_PORT"
  export RABBITMQ_MNESIA_BASE="$base/mnesia"
  export RABBITMQ_LOG_BASE="$base/log"
  export RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config"
  export RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins"
  export RABBITMQ_PID_FILE="$base/rabbitmq.pid"
  # Keep Erlang distribution on loopback too.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  # Makes rabbitmq-server exec the Erlang VM with -noinput instead of
  # wrapping it in a signal-forwarding shell, so the PID recorded here is the
  # broker itself and SIGTERM stops it cleanly.
  export RUNNING_UNDER_SYSTEMD=true
}

rabbitmqctl_stack() {
  (
    rabbitmq_env
    "$RABBITMQ_BIN/rabbitmqctl" --node "$TXGUARD_STACK_RABBITMQ_NODENAME" "$@"
  )
}

launch_epmd() {
  # A private epmd: the system one (port 4369) may belong to a system
  # RabbitMQ, and this stack must neither need nor disturb it.
  epmd -port "$TXGUARD_STACK_EPMD_PORT" -address 127.0.0.1 \
    >"$STACK_DIR/rabbitmq/log/epmd.log" 2>&1 </dev/null &
  TXGUARD_STACK_EPMD_PID=$!
  wait_for_port epmd "$TXGUARD_STACK_EPMD_PORT" "$TXGUARD_STACK_EPMD_PID" \
    "$STACK_DIR/rabbitmq/log/epmd.log"
}

launch_rabbitmq() {
  local base="$STACK_DIR/rabbitmq"
  mkdir -p "$base/mnesia" "$base/log"
  if [[ ! -f "$STACK_DIR/.erlang.cookie" ]]; then
    (umask 077 && random_secret | tr -d '\n' >"$STACK_DIR/.erlang.cookie")
    chmod 400 "$STACK_DIR/.erlang.cookie"
  fi
  printf '[].\n' >"$base/enabled_plugins"
  : >"$base/rabbitmq-env.conf"
  cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$TXGUARD_STACK_AMQP_PORT
log.file.level = info
log.console = false
EOF

  launch_epmd || return 1
  (
    rabbitmq_env
    exec "$RABBITMQ_BIN/rabbitmq-server" >"$base/log/stdout.log" 2>&1 </dev/null
  ) &
  TXGUARD_STACK_RABBITMQ_PID=$!
  wait_for_port RabbitMQ "$TXGUARD_STACK_AMQP_PORT" "$TXGUARD_STACK_RABBITMQ_PID" \
    "$base/log/stdout.log" || return 1
  rabbitmqctl_stack await_startup --timeout "$START_TIMEOUT" >/dev/null
}

configure_rabbitmq_user() {
  # add_user fails when the user exists (a restart reuses the data folder),
  # so the password is set in either case.
  if ! rabbitmqctl_stack list_users --quiet 2>/dev/null | awk '{print $1}' | grep -qx txguard; then
    printf '%s\n' "$TXGUARD_AMQP_PASSWORD" | rabbitmqctl_stack add_user txguard >/dev/null
  else
    printf '%s\n' "$TXGUARD_AMQP_PASSWORD" | rabbitmqctl_stack change_password txguard >/dev/null
  fi
  rabbitmqctl_stack set_permissions -p / txguard '.*' '.*' '.*' >/dev/null
}

stop_rabbitmq() {
  stop_pid RabbitMQ "${TXGUARD_STACK_RABBITMQ_PID:-}" rabbit
  stop_pid epmd "${TXGUARD_STACK_EPMD_PID:-}" epmd
}

start_rabbitmq() {
  local attempt
  for attempt in 1 2 3; do
    if launch_rabbitmq && configure_rabbitmq_user; then
      log "RabbitMQ ready on 127.0.0.1:$TXGUARD_STACK_AMQP_PORT" \
        "(node $TXGUARD_STACK_RABBITMQ_NODENAME, pid $TXGUARD_STACK_RABBITMQ_PID)"
      return 0
    fi
    stop_rabbitmq
    [[ "${1:-}" == fixed-port ]] && return 1
    log "RabbitMQ start attempt $attempt failed; retrying on new ports"
    read -r TXGUARD_STACK_AMQP_PORT TXGUARD_STACK_RABBITMQ_DIST_PORT \
      TXGUARD_STACK_RABBITMQ_CTL_PORT TXGUARD_STACK_EPMD_PORT <<<"$(free_ports 4)"
    # The node name carries the port; a new name means a new, empty database.
    TXGUARD_STACK_RABBITMQ_NODENAME="txguard-$TXGUARD_STACK_AMQP_PORT@localhost"
  done
  return 1
}

# ------------------------------------------------------------------- S3

ensure_s3rver_installed() {
  if [[ -f "$S3RVER_DIR/node_modules/s3rver/bin/s3rver.js" ]]; then
    return 0
  fi
  command -v npm >/dev/null || die "npm not found; install Debian's npm package (scripts/install-deps.sh)"
  log "installing s3rver into $S3RVER_DIR/node_modules (npm ci)"
  # flock keeps two stacks started at once from running npm ci together.
  (
    flock 9
    if [[ ! -f "$S3RVER_DIR/node_modules/s3rver/bin/s3rver.js" ]]; then
      npm ci --prefix "$S3RVER_DIR" --no-audit --no-fund --loglevel=error >&2
    fi
  ) 9>"${TMPDIR:-/tmp}/txguard-s3rver-install.lock"
}

launch_s3() {
  mkdir -p "$STACK_DIR/s3/data"
  local log_file="$STACK_DIR/s3/s3rver.log"
  local bucket_args=()
  local bucket
  for bucket in "${BUCKETS[@]}"; do
    bucket_args+=(--configure-bucket "$bucket")
  done
  # s3rver encrypts ListObjectsV2 continuation tokens with DES, which
  # OpenSSL 3 only offers through its legacy provider.
  node --openssl-legacy-provider "$S3RVER_DIR/node_modules/s3rver/bin/s3rver.js" \
    --directory "$STACK_DIR/s3/data" --address 127.0.0.1 --port "$TXGUARD_STACK_S3_PORT" \
    "${bucket_args[@]}" >"$log_file" 2>&1 </dev/null &
  TXGUARD_STACK_S3_PID=$!
  wait_for_port s3rver "$TXGUARD_STACK_S3_PORT" "$TXGUARD_STACK_S3_PID" "$log_file"
}

start_s3() {
  ensure_s3rver_installed
  local attempt
  for attempt in 1 2 3; do
    if launch_s3; then
      log "s3rver ready on http://127.0.0.1:$TXGUARD_STACK_S3_PORT (pid $TXGUARD_STACK_S3_PID)"
      return 0
    fi
    stop_pid s3rver "${TXGUARD_STACK_S3_PID:-}" s3rver
    [[ "${1:-}" == fixed-port ]] && return 1
    log "s3rver start attempt $attempt failed; retrying on a new port"
    TXGUARD_STACK_S3_PORT=$(free_ports 1)
  done
  return 1
}

# -------------------------------------------------------------- commands

all_running() {
  pid_matches "${TXGUARD_STACK_REDIS_PID:-}" redis-server &&
    pid_matches "${TXGUARD_STACK_RABBITMQ_PID:-}" rabbit &&
    pid_matches "${TXGUARD_STACK_S3_PID:-}" s3rver
}

stop_all() {
  stop_pid s3rver "${TXGUARD_STACK_S3_PID:-}" s3rver
  stop_rabbitmq
  stop_pid Redis "${TXGUARD_STACK_REDIS_PID:-}" redis-server
}

cmd_start() {
  mkdir -p "$STACK_DIR"
  if [[ -f "$STACK_DIR/env" ]]; then
    load_env
    if all_running; then
      log "already running in $STACK_DIR"
      return 0
    fi
    log "found a partly running stack in $STACK_DIR; stopping it and starting afresh"
    stop_all
  fi
  for tool in redis-server epmd node python3; do
    command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh"
  done
  [[ -x "$RABBITMQ_BIN/rabbitmq-server" ]] ||
    die "$RABBITMQ_BIN/rabbitmq-server not found; run scripts/install-deps.sh"

  local started_ms
  started_ms=$(now_ms)
  read -r TXGUARD_STACK_REDIS_PORT TXGUARD_STACK_AMQP_PORT TXGUARD_STACK_RABBITMQ_DIST_PORT \
    TXGUARD_STACK_RABBITMQ_CTL_PORT TXGUARD_STACK_EPMD_PORT TXGUARD_STACK_S3_PORT \
    <<<"$(free_ports 6)"
  TXGUARD_STACK_RABBITMQ_NODENAME="txguard-$TXGUARD_STACK_AMQP_PORT@localhost"
  TXGUARD_REDIS_PASSWORD=${TXGUARD_REDIS_PASSWORD_OVERRIDE:-$(random_secret)}
  TXGUARD_AMQP_PASSWORD=$(random_secret)
  TXGUARD_PAN_HASH_KEY=$(random_secret)
  TXGUARD_STACK_REDIS_PID='' TXGUARD_STACK_RABBITMQ_PID='' TXGUARD_STACK_EPMD_PID=''
  TXGUARD_STACK_S3_PID=''

  # On failure, stop whatever did start so no orphan keeps a port.
  trap 'stop_all' EXIT
  start_redis || die "Redis did not start; see $STACK_DIR/redis/redis.log"
  local redis_ms
  redis_ms=$(($(now_ms) - started_ms))
  start_s3 || die "s3rver did not start; see $STACK_DIR/s3/s3rver.log"
  local s3_ms
  s3_ms=$(($(now_ms) - started_ms - redis_ms))
  start_rabbitmq ||
    die "RabbitMQ did not start; see $STACK_DIR/rabbitmq/log/ (stdout.log and the node's .log)"
  trap - EXIT
  write_env

  local total_ms rabbitmq_ms
  total_ms=$(($(now_ms) - started_ms))
  rabbitmq_ms=$((total_ms - redis_ms - s3_ms))
  log "started in ${total_ms} ms (Redis ${redis_ms} ms, s3rver ${s3_ms} ms," \
    "RabbitMQ ${rabbitmq_ms} ms); run: source $STACK_DIR/env"
}

cmd_stop() {
  if [[ ! -f "$STACK_DIR/env" ]]; then
    log "nothing to stop: no $STACK_DIR/env"
    return 0
  fi
  load_env
  stop_all
  log "stopped the stack in $STACK_DIR"
}

cmd_status() {
  load_env
  local down=0
  report() {
    local name=$1 pid=$2 pattern=$3 port=$4
    if pid_matches "$pid" "$pattern" && port_open "$port"; then
      printf '%-9s running  pid %-8s 127.0.0.1:%s\n' "$name" "$pid" "$port"
    else
      printf '%-9s DOWN     pid %-8s 127.0.0.1:%s\n' "$name" "${pid:--}" "$port"
      down=1
    fi
  }
  report redis "${TXGUARD_STACK_REDIS_PID:-}" redis-server "$TXGUARD_STACK_REDIS_PORT"
  report rabbitmq "${TXGUARD_STACK_RABBITMQ_PID:-}" rabbit "$TXGUARD_STACK_AMQP_PORT"
  report s3rver "${TXGUARD_STACK_S3_PID:-}" s3rver "$TXGUARD_STACK_S3_PORT"
  return "$down"
}

cmd_restart_redis() {
  load_env
  stop_pid Redis "${TXGUARD_STACK_REDIS_PID:-}" redis-server
  start_redis fixed-port || die "Redis did not restart on port $TXGUARD_STACK_REDIS_PORT"
  write_env
}

cmd_restart_rabbitmq() {
  load_env
  stop_rabbitmq
  start_rabbitmq fixed-port ||
    die "RabbitMQ did not restart on port $TXGUARD_STACK_AMQP_PORT; see $STACK_DIR/rabbitmq/log/"
  write_env
}

cmd_stop_redis() {
  load_env
  stop_pid Redis "${TXGUARD_STACK_REDIS_PID:-}" redis-server
  TXGUARD_STACK_REDIS_PID=''
  write_env
}

cmd_start_redis() {
  load_env
  if pid_matches "${TXGUARD_STACK_REDIS_PID:-}" redis-server; then
    log "Redis already running (pid $TXGUARD_STACK_REDIS_PID)"
    return 0
  fi
  start_redis fixed-port || die "Redis did not start on port $TXGUARD_STACK_REDIS_PORT"
  write_env
}

cmd_stop_s3() {
  load_env
  stop_pid s3rver "${TXGUARD_STACK_S3_PID:-}" s3rver
  TXGUARD_STACK_S3_PID=''
  write_env
}

cmd_start_s3() {
  load_env
  if pid_matches "${TXGUARD_STACK_S3_PID:-}" s3rver; then
    log "s3rver already running (pid $TXGUARD_STACK_S3_PID)"
    return 0
  fi
  start_s3 fixed-port || die "s3rver did not start on port $TXGUARD_STACK_S3_PORT"
  write_env
}

main() {
  if [[ "${1:-}" == rabbitmqctl ]]; then
    [[ $# -ge 3 ]] || usage
  else
    [[ $# -eq 2 ]] || usage
  fi
  local command=$1
  mkdir -p "$2"
  STACK_DIR="$(cd "$2" && pwd)"
  readonly STACK_DIR
  shift 2
  case "$command" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart-redis) cmd_restart_redis ;;
    restart-rabbitmq) cmd_restart_rabbitmq ;;
    stop-redis) cmd_stop_redis ;;
    start-redis) cmd_start_redis ;;
    rabbitmqctl)
      load_env
      rabbitmqctl_stack "$@"
      ;;
    stop-s3) cmd_stop_s3 ;;
    start-s3) cmd_start_s3 ;;
    *) usage ;;
  esac
}

main "$@"
