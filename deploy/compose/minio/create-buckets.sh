#!/bin/sh
# Creates txguard's buckets, its access policy and its MinIO user, for the
# one-shot `minio-setup` service of compose.yaml, in the quay.io/minio/mc
# image with /bin/sh. Safe to run again: existing buckets are kept, the
# policy is replaced and the user's secret key is reset to the one in the
# secret file.
set -eu

mc() { command mc --config-dir /tmp/mc --quiet "$@"; }

root_user=$(cat /run/secrets/minio_root_user)
root_password=$(cat /run/secrets/minio_root_password)
access_key_id=$(cat /run/secrets/s3_access_key_id)
secret_access_key=$(cat /run/secrets/s3_secret_access_key)

wait_seconds=120
deadline=$(($(date +%s) + wait_seconds))
until mc alias set txguard "$MINIO_ENDPOINT" "$root_user" "$root_password" >/dev/null 2>&1 &&
  mc ready txguard >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "minio-setup: MinIO at $MINIO_ENDPOINT was not ready within $wait_seconds s" >&2
    exit 1
  fi
  sleep 2
done

for bucket in txguard-reports txguard-archive txguard-models; do
  mc mb --ignore-existing "txguard/$bucket"
done

mc admin policy create txguard txguard-app /etc/minio-setup/txguard-policy.json
mc admin user add txguard "$access_key_id" "$secret_access_key"
if ! mc admin user info txguard "$access_key_id" --json | grep -q '"txguard-app"'; then
  mc admin policy attach txguard txguard-app --user "$access_key_id"
fi
echo "minio-setup: buckets and the txguard user are in place"
