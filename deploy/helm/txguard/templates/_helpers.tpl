{{/*
Names, labels, images, security contexts and connection settings shared by
every template. Component templates pass a dict with "root" (the top-level
context) and "component" (api, worker, redis, rabbitmq, minio, ...).
*/}}

{{- define "txguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-wide prefix of every object name, at most 63 characters. */}}
{{- define "txguard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: <fullname>-<component>. */}}
{{- define "txguard.componentName" -}}
{{- printf "%s-%s" (include "txguard.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "txguard.chartLabel" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select one component's pods; they never change after install. */}}
{{- define "txguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "txguard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of every object; "component" may be empty for release-wide objects. */}}
{{- define "txguard.labels" -}}
helm.sh/chart: {{ include "txguard.chartLabel" .root }}
app.kubernetes.io/name: {{ include "txguard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: txguard
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Metadata block (name, namespace, labels) of one component's object. */}}
{{- define "txguard.metadata" -}}
name: {{ .name | default (include "txguard.componentName" .) }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "txguard.labels" . | nindent 2 }}
{{- end -}}

{{/* Image reference "repository:tag" from an {repository, tag} dict; tag falls back to appVersion. */}}
{{- define "txguard.image" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository (toString $tag) -}}
{{- end -}}

{{/* Pod-level security context for the Pod Security "restricted" profile. */}}
{{- define "txguard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .user }}
fsGroup: {{ .user }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context for the Pod Security "restricted" profile. */}}
{{- define "txguard.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .user }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Scheduling block of a pod spec: spread over zones and nodes, and keep two
replicas of a component off one node. "antiAffinity" is "soft" (preferred)
or "hard" (required).
*/}}
{{- define "txguard.scheduling" -}}
{{- $scheduling := .root.Values.scheduling -}}
{{- $selector := include "txguard.selectorLabels" . -}}
affinity:
  podAntiAffinity:
    {{- if eq .antiAffinity "hard" }}
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- $selector | nindent 12 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
    {{- end }}
topologySpreadConstraints:
  - maxSkew: {{ $scheduling.zoneMaxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- $selector | nindent 8 }}
{{- with $scheduling.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $scheduling.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* PersistentVolumeClaim template of a StatefulSet; the component's class wins over the global one. */}}
{{- define "txguard.volumeClaimTemplate" -}}
- metadata:
    name: data
    labels:
      {{- include "txguard.selectorLabels" . | nindent 6 }}
  spec:
    accessModes:
      - ReadWriteOnce
    {{- $class := .persistence.storageClass | default .root.Values.global.storageClass }}
    {{- if $class }}
    storageClassName: {{ if eq $class "-" }}""{{ else }}{{ $class | quote }}{{ end }}
    {{- end }}
    resources:
      requests:
        storage: {{ .persistence.size | quote }}
{{- end -}}

{{/*
Pod termination grace period of api and worker: txguard's own shutdown
grace, plus the pre-stop sleep that runs before SIGTERM, plus a margin for
the process to exit after draining. Kubernetes counts the pre-stop hook
inside the grace period, so a shorter period would cut the drain short.
*/}}
{{- define "txguard.terminationGracePeriodSeconds" -}}
{{- $lifecycle := .Values.lifecycle -}}
{{- add .Values.config.shutdownGraceSeconds $lifecycle.preStopSleepSeconds $lifecycle.terminationMarginSeconds -}}
{{- end -}}

{{/* Name of the Secret holding every credential. */}}
{{- define "txguard.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "txguard.fullname" .) -}}
{{- end -}}

{{/* Port of a URL, or "default" when the URL names none. */}}
{{- define "txguard.urlPort" -}}
{{- $host := (urlParse .url).host -}}
{{- $port := regexFind "[0-9]+$" (regexFind ":[0-9]+$" $host) -}}
{{- $port | default .default -}}
{{- end -}}

{{/* Fully qualified DNS name of one component's Service, resolvable from other namespaces (KEDA). */}}
{{- define "txguard.serviceHost" -}}
{{- printf "%s.%s.svc.%s" (include "txguard.componentName" .) .root.Release.Namespace .root.Values.global.clusterDomain -}}
{{- end -}}

{{- define "txguard.redisUrl" -}}
{{- if .Values.redis.enabled -}}
{{- printf "redis://%s:6379/0" (include "txguard.serviceHost" (dict "root" . "component" "redis")) -}}
{{- else -}}
{{- .Values.externalRedis.url -}}
{{- end -}}
{{- end -}}

{{- define "txguard.amqpUrl" -}}
{{- if .Values.rabbitmq.enabled -}}
{{- $host := include "txguard.serviceHost" (dict "root" . "component" "rabbitmq") -}}
{{- printf "amqp://%s@%s:5672/%s" .Values.rabbitmq.auth.username $host (urlquery .Values.rabbitmq.vhost) -}}
{{- else -}}
{{- .Values.externalRabbitmq.url -}}
{{- end -}}
{{- end -}}

{{- define "txguard.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "http://%s:9000" (include "txguard.serviceHost" (dict "root" . "component" "minio")) -}}
{{- else -}}
{{- .Values.externalS3.endpoint -}}
{{- end -}}
{{- end -}}

{{/* Redis server and CLI binaries: the valkey/valkey image names them valkey-*. */}}
{{- define "txguard.redisBinary" -}}
{{- if contains "valkey" .root.Values.redis.image.repository -}}
valkey-{{ .binary }}
{{- else -}}
redis-{{ .binary }}
{{- end -}}
{{- end -}}

{{/* Kubernetes quantity ("512Mi", "1Gi", "1G") in bytes; only the suffixes below are accepted. */}}
{{- define "txguard.quantityBytes" -}}
{{- $match := regexFindAll "^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$" . 1 -}}
{{- if not $match -}}
{{- fail (printf "invalid memory quantity %q: use an integer with Ki, Mi, Gi, Ti, k, M, G or T" .) -}}
{{- end -}}
{{- $number := regexFind "^[0-9]+" . | int64 -}}
{{- $unit := regexFind "[A-Za-z]+$" . -}}
{{- $factors := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- mul $number (index $factors $unit) -}}
{{- end -}}
