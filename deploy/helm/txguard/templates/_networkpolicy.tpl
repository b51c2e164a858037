{{/* Labels that every pod of the release carries. */}}
{{- define "txguard.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "txguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* NetworkPolicy peers: the api and worker pods of the release. */}}
{{- define "txguard.appPeers" -}}
- podSelector:
    matchLabels:
      {{- include "txguard.releaseSelectorLabels" . | nindent 6 }}
    matchExpressions:
      - key: app.kubernetes.io/component
        operator: In
        values: [api, worker]
{{- end -}}

{{- define "txguard.rabbitmqPeerPorts" -}}
- port: 4369
  protocol: TCP
- port: 25672
  protocol: TCP
- port: 5672
  protocol: TCP
{{- end -}}

{{/*
Egress rule towards one dependency: its pods when the chart runs it, else
the external CIDR on the port of the external URL (scheme default when the
URL names none: 6379 redis, 6380 rediss, 5672 amqp, 5671 amqps, 80 http,
443 https).
*/}}
{{- define "txguard.dependencyEgress" -}}
{{- if .enabled -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "txguard.selectorLabels" . | nindent 10 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- else -}}
{{- $defaults := dict "redis" "6379" "rediss" "6380" "amqp" "5672" "amqps" "5671" "http" "80" "https" "443" -}}
{{- $scheme := (urlParse .url).scheme -}}
- to:
    - ipBlock:
        cidr: {{ .cidr }}
  ports:
    - port: {{ include "txguard.urlPort" (dict "url" .url "default" (index $defaults $scheme | default "443")) }}
      protocol: TCP
{{- end -}}
{{- end -}}
