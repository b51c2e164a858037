#!/usr/bin/env bash
# Check a txguard deployment end to end: pods ready, one transaction scored,
# its report downloadable, and the api and worker scraped by Prometheus.
set -euo pipefail

# shellcheck source=scripts/cluster/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() {
  cat <<USAGE
Usage: $(basename "$0") [options]

Runs these checks against the release '${TXGUARD_RELEASE}' in namespace '${TXGUARD_NAMESPACE}'
and exits non-zero at the first failure, naming it:
  1. pods      every api, worker, redis, rabbitmq and minio pod is Ready
  2. score     POST /v1/score returns a decision, through the Ingress
               (http://${INGRESS_HOST}:${INGRESS_HTTP_PORT}) or a port-forward to
               svc/${TXGUARD_API_SERVICE}
  3. report    GET /v1/reports/{id} of that transaction gives a link that
               downloads (MinIO is port-forwarded to 127.0.0.1:${TXGUARD_MINIO_PORT})
  4. metrics   Prometheus (port-forward to svc/${PROMETHEUS_SERVICE}) has
               up == 1 for jobs ${TXGUARD_SCRAPE_JOBS[*]}

Options:
  --via ingress|port-forward  how to reach the api (default: ingress for kind
                              and k3d, port-forward for minikube)
  --transaction-file FILE     JSON body for POST /v1/score (default: a built-in
                              transfer that empties the account, which the
                              default rules flag, so a report is written)
  --provider NAME             kind, k3d or minikube (default: the one running
                              the cluster)
  -h, --help                  show this help
USAGE
}

via=""
transaction_file=""
provider_option=""
while [ $# -gt 0 ]; do
  case "$1" in
    --via)
      [ $# -ge 2 ] || die "--via needs a value: ingress or port-forward"
      via="$2"
      shift 2
      ;;
    --transaction-file)
      [ $# -ge 2 ] || die "--transaction-file needs a path"
      transaction_file="$2"
      shift 2
      ;;
    --provider)
      [ $# -ge 2 ] || die "--provider needs a value: kind, k3d or minikube"
      provider_option="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
done

require_command curl "validate.sh sends its HTTP requests with curl."
require_command python3 "validate.sh parses JSON responses with python3."
detect_provider "${provider_option}"
find_kubectl
require_cluster

if [ -z "${via}" ]; then
  case "${PROVIDER}" in
    kind | k3d) via="ingress" ;;
    minikube) via="port-forward" ;;
  esac
fi
case "${via}" in
  ingress | port-forward) ;;
  *) die "invalid --via '${via}': use ingress or port-forward" ;;
esac
if [ -n "${transaction_file}" ] && [ ! -f "${transaction_file}" ]; then
  die "transaction file '${transaction_file}' not found"
fi

fail() {
  printf '%s: FAILED check %s: %s\n' "$(basename "$0")" "$1" "$2" >&2
  exit 1
}

pass() {
  printf '%s: ok   check %s: %s\n' "$(basename "$0")" "$1" "$2" >&2
}

# Port-forwards started here, stopped by PID on exit.
forward_pids=()
stop_forwards() {
  local pid
  for pid in "${forward_pids[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
}

scratch="$(mktemp -d)"
trap 'stop_forwards; rm -rf "${scratch}"' EXIT

# Starts `kubectl port-forward` to a Service and waits until the local port
# accepts connections.
port_forward() {
  local namespace="$1" service="$2" local_port="$3" remote_port="$4"
  log "port-forwarding 127.0.0.1:${local_port} to svc/${service}:${remote_port} in ${namespace}"
  kubectl_cluster -n "${namespace}" port-forward "svc/${service}" \
    "${local_port}:${remote_port}" --address 127.0.0.1 >"${scratch}/forward-${service}.log" 2>&1 &
  forward_pids+=("$!")
  local attempt
  for attempt in $(seq 1 30); do
    if curl -s -o /dev/null "http://127.0.0.1:${local_port}/" 2>/dev/null; then
      return 0
    fi
    sleep 1
    log "waiting for the port-forward to svc/${service} (${attempt}/30)"
  done
  cat "${scratch}/forward-${service}.log" >&2
  return 1
}

# Prints one field of a JSON document read from a file, or nothing.
json_field() {
  python3 - "$1" "$2" <<'PYTHON'
import json, sys
try:
    with open(sys.argv[1]) as handle:
        value = json.load(handle).get(sys.argv[2], "")
except (OSError, ValueError, AttributeError):
    value = ""
print(value if isinstance(value, str) else json.dumps(value))
PYTHON
}

# 1. pods ------------------------------------------------------------------
components="$(IFS=,; echo "${TXGUARD_COMPONENTS[*]}")"
selector="app.kubernetes.io/name=txguard,app.kubernetes.io/component in (${components})"
log "waiting up to 5 minutes for pods matching '${selector}'"
if ! kubectl_cluster -n "${TXGUARD_NAMESPACE}" get pods -l "${selector}" -o name | grep -q .; then
  fail pods "no txguard pods in namespace ${TXGUARD_NAMESPACE}; run scripts/cluster/deploy.sh"
fi
if ! kubectl_cluster -n "${TXGUARD_NAMESPACE}" wait pod -l "${selector}" \
  --for=condition=Ready --timeout=300s >/dev/null; then
  kubectl_cluster -n "${TXGUARD_NAMESPACE}" get pods -l "${selector}" >&2
  fail pods "some txguard pods are not Ready; see 'kubectl describe pod' and their logs"
fi
pass pods "all ${components} pods are Ready"

# 2. score -----------------------------------------------------------------
api_headers=()
if [ "${via}" = ingress ]; then
  api_url="http://127.0.0.1:${INGRESS_HTTP_PORT}"
  api_headers=(-H "Host: ${INGRESS_HOST}")
else
  api_local_port=18080
  port_forward "${TXGUARD_NAMESPACE}" "${TXGUARD_API_SERVICE}" "${api_local_port}" \
    "${TXGUARD_API_PORT}" || fail score "port-forward to svc/${TXGUARD_API_SERVICE} failed"
  api_url="http://127.0.0.1:${api_local_port}"
fi

transaction_id="validate-$(date +%s)-$$"
if [ -z "${transaction_file}" ]; then
  transaction_file="${scratch}/transaction.json"
  # NOTE: the field names follow the API's transaction JSON as planned when
  # this script was written; pass --transaction-file if the API differs.
  cat >"${transaction_file}" <<JSON
{"id": "${transaction_id}", "account": "C-validate-${transaction_id}",
 "timestamp": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "amount": 181000.00,
 "currency": "BRL", "category": "TRANSFER", "counterparty": "C-validate-mule",
 "balance_before": 181000.00, "balance_after": 0.00}
JSON
else
  transaction_id="$(json_field "${transaction_file}" id)"
  [ -n "${transaction_id}" ] || fail score "${transaction_file} has no string field 'id'"
fi

log "scoring transaction ${transaction_id} via ${via} (${api_url}/v1/score)"
score_status="$(curl -sS -o "${scratch}/score.json" -w '%{http_code}' --max-time 30 \
  "${api_headers[@]}" -H 'Content-Type: application/json' \
  --data-binary "@${transaction_file}" "${api_url}/v1/score" || true)"
if [ "${score_status}" != 200 ]; then
  fail score "POST /v1/score via ${via} returned HTTP ${score_status:-no response}: $(head -c 300 "${scratch}/score.json" 2>/dev/null)"
fi
action="$(json_field "${scratch}/score.json" action)"
case "${action}" in
  allow | review | block) ;;
  *) fail score "POST /v1/score returned no action: $(head -c 300 "${scratch}/score.json")" ;;
esac
pass score "transaction ${transaction_id} scored: ${action}"

# 3. report ----------------------------------------------------------------
if [ "${action}" = allow ]; then
  fail report "transaction ${transaction_id} was allowed, so no report exists; pass --transaction-file with a transaction the rules flag"
fi
port_forward "${TXGUARD_NAMESPACE}" "${TXGUARD_MINIO_SERVICE}" "${TXGUARD_MINIO_PORT}" \
  "${TXGUARD_MINIO_PORT}" || fail report "port-forward to svc/${TXGUARD_MINIO_SERVICE} on 127.0.0.1:${TXGUARD_MINIO_PORT} failed (is the port in use?)"

# The report is written after the decision, so allow it a few seconds. The
# api may respond with a redirect to the presigned link, with JSON holding it
# in `url`, or with the report itself; all three count as downloadable.
report_url=""
report_status=""
for attempt in $(seq 1 15); do
  report_status="$(curl -sS -o "${scratch}/report.body" -D "${scratch}/report.headers" \
    -w '%{http_code}' --max-time 10 \
    "${api_headers[@]}" "${api_url}/v1/reports/${transaction_id}" || true)"
  case "${report_status}" in
    301 | 302 | 303 | 307 | 308)
      report_url="$(tr -d '\r' <"${scratch}/report.headers" | sed -n 's/^[Ll]ocation: *//p' | tail -n 1)"
      break
      ;;
    200)
      report_url="$(json_field "${scratch}/report.body" url)"
      if [ -z "${report_url}" ] && [ -s "${scratch}/report.body" ]; then
        cp "${scratch}/report.body" "${scratch}/report.txt"
      fi
      break
      ;;
  esac
  log "report of ${transaction_id} not ready (HTTP ${report_status:-no response}), retry ${attempt}/15"
  sleep 2
done
if [ -n "${report_url}" ]; then
  download_status="$(curl -sS -o "${scratch}/report.txt" -w '%{http_code}' --max-time 30 "${report_url}" || true)"
  if [ "${download_status}" != 200 ] || [ ! -s "${scratch}/report.txt" ]; then
    fail report "downloading ${report_url} returned HTTP ${download_status:-no response} (config.s3PublicEndpoint must be http://127.0.0.1:${TXGUARD_MINIO_PORT})"
  fi
elif [ ! -s "${scratch}/report.txt" ]; then
  fail report "GET /v1/reports/${transaction_id} gave no report or link (last HTTP ${report_status:-no response}: $(head -c 300 "${scratch}/report.body" 2>/dev/null))"
fi
pass report "report link downloads ($(wc -c <"${scratch}/report.txt") bytes)"

# 4. metrics ---------------------------------------------------------------
prometheus_local_port=19090
port_forward "${MONITORING_NAMESPACE}" "${PROMETHEUS_SERVICE}" "${prometheus_local_port}" \
  "${PROMETHEUS_PORT}" || fail metrics "port-forward to svc/${PROMETHEUS_SERVICE} failed; is kube-prometheus-stack installed (create-cluster.sh)?"
for job in "${TXGUARD_SCRAPE_JOBS[@]}"; do
  query="min(up{namespace=\"${TXGUARD_NAMESPACE}\", job=\"${job}\"})"
  # A new ServiceMonitor is picked up within a few scrape intervals.
  value=""
  for attempt in $(seq 1 12); do
    curl -sS --max-time 10 -o "${scratch}/up.json" -G \
      --data-urlencode "query=${query}" \
      "http://127.0.0.1:${prometheus_local_port}/api/v1/query" || true
    value="$(python3 - "${scratch}/up.json" <<'PYTHON'
import json, sys
try:
    with open(sys.argv[1]) as handle:
        result = json.load(handle)["data"]["result"]
    print(result[0]["value"][1] if result else "")
except (OSError, ValueError, KeyError, IndexError):
    print("")
PYTHON
)"
    [ "${value}" = 1 ] && break
    log "up for job ${job} is '${value:-absent}', retry ${attempt}/12"
    sleep 10
  done
  if [ "${value}" != 1 ]; then
    fail metrics "Prometheus reports ${query} = '${value:-absent}'; check the ServiceMonitor and the NetworkPolicy for namespace ${MONITORING_NAMESPACE}"
  fi
  pass metrics "Prometheus scrapes job ${job}"
done

log "all checks passed"
