#!/usr/bin/env bash
# Writes the secret files that compose.yaml mounts, with random values, and
# RabbitMQ's definitions file with the txguard and admin users' password
# hashes. Safe to run again: existing secrets are kept, and the definitions
# are rewritten only when a RabbitMQ password or deploy/compose/rabbitmq/
# topology.json is newer than them.
#
#   compose-secrets.sh [DIR]     default: deploy/compose/secrets
#
# Delete a file and run the script again to rotate that secret (then
# recreate the containers that use it).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly SECRETS_DIR=${1:-$REPO_DIR/deploy/compose/secrets}
readonly TOPOLOGY="$REPO_DIR/deploy/compose/rabbitmq/topology.json"

log() { printf 'compose-secrets: %s\n' "$*" >&2; }

random_hex() { python3 -c 'import secrets, sys; print(secrets.token_hex(int(sys.argv[1])), end="")' "$1"; }

# write_secret NAME VALUE: writes DIR/NAME unless it exists.
write_secret() {
  local path="$SECRETS_DIR/$1"
  if [[ -s "$path" ]]; then
    return
  fi
  printf '%s' "$2" >"$path.tmp"
  # Docker Compose (without Swarm) bind-mounts secret files with their host
  # mode and owner, and the containers read them as other users (txguard
  # 10001, redis 999, grafana 472). So the files are world-readable and the
  # folder, mode 700, keeps other host users out.
  chmod 0644 "$path.tmp"
  mv -f "$path.tmp" "$path"
  log "wrote $path"
}

# Writes RabbitMQ definitions: the topology plus users with salted SHA-256
# password hashes (RabbitMQ's rabbit_password_hashing_sha256: base64 of a
# 4-byte salt followed by SHA-256 of salt + password).
write_rabbitmq_definitions() {
  local path="$SECRETS_DIR/rabbitmq-definitions.json"
  if [[ -s "$path" && "$path" -nt "$TOPOLOGY" && "$path" -nt "$SECRETS_DIR/rabbitmq-password" &&
    "$path" -nt "$SECRETS_DIR/rabbitmq-admin-password" ]]; then
    return
  fi
  python3 - "$TOPOLOGY" "$SECRETS_DIR" "$path.tmp" <<'PY'
import base64, hashlib, json, os, sys

topology_path, secrets_dir, out_path = sys.argv[1:]
with open(topology_path) as f:
    definitions = json.load(f)

def password_hash(password):
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()

def read_secret(name):
    with open(os.path.join(secrets_dir, name)) as f:
        return f.read()

definitions["users"] = [
    {"name": "txguard", "password_hash": password_hash(read_secret("rabbitmq-password")),
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []},
    {"name": "admin", "password_hash": password_hash(read_secret("rabbitmq-admin-password")),
     "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
]
# txguard may declare, publish to and consume from its own entities only.
definitions["permissions"] = [
    {"user": "txguard", "vhost": "/", "configure": "^txguard\\.", "write": "^txguard\\.",
     "read": "^txguard\\."},
    {"user": "admin", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
]
with open(out_path, "w") as f:
    json.dump(definitions, f, indent=2)
    f.write("\n")
PY
  chmod 0644 "$path.tmp"
  mv -f "$path.tmp" "$path"
  log "wrote $path"
}

main() {
  [[ -f "$TOPOLOGY" ]] || {
    log "error: $TOPOLOGY not found"
    exit 1
  }
  mkdir -p "$SECRETS_DIR"
  chmod 0700 "$SECRETS_DIR"

  write_secret redis-password "$(random_hex 24)"
  write_secret rabbitmq-password "$(random_hex 24)"
  write_secret rabbitmq-admin-password "$(random_hex 24)"
  # MinIO accepts access keys of 3 to 20 characters and secret keys of 8 to
  # 40, root credentials included.
  write_secret minio-root-user "root-$(random_hex 4)"
  write_secret minio-root-password "$(random_hex 16)"
  write_secret s3-access-key-id "txguard-$(random_hex 6)"
  write_secret s3-secret-access-key "$(random_hex 16)"
  write_secret pan-hash-key "$(random_hex 32)"
  write_secret grafana-admin-password "$(random_hex 16)"
  write_rabbitmq_definitions
  log "secrets are in $SECRETS_DIR"
}

main "$@"
