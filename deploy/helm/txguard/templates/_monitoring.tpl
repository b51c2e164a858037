{{/*
ServiceMonitor of one component's Service. The job label Prometheus gives
the targets is the Service name, which files/prometheus-rules.yaml expects.
Arguments: root, component, endpoints (list of endpoint dicts).
*/}}
{{- define "txguard.serviceMonitor" -}}
{{- $monitor := .root.Values.monitoring.serviceMonitor -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "txguard.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "txguard.labels" . | nindent 4 }}
    {{- with $monitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "txguard.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .root.Release.Namespace }}
  endpoints:
    {{- range .endpoints }}
    - port: {{ .port }}
      path: {{ .path }}
      interval: {{ $monitor.interval }}
      scrapeTimeout: {{ $monitor.scrapeTimeout | default "10s" }}
      {{- with .params }}
      params:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- end }}
{{- end -}}
