{{/*
Deployment of one txguard process ("api" or "worker"). Both run the same
image with the same settings and differ in the subcommand, the port and the
replica settings, so one template renders both.
Arguments: root, component, port, values (.Values.api or .Values.worker),
autoscaled (true when an HPA or ScaledObject owns the replica count).
*/}}
{{- define "txguard.appDeployment" -}}
{{- $root := .root -}}
{{- $values := .values -}}
{{- $secretsDir := "/etc/txguard/secrets" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "txguard.metadata" . | nindent 2 }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "txguard.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "txguard.selectorLabels" . | nindent 8 }}
      annotations:
        # Settings arrive as environment variables, read once at start-up,
        # so a changed ConfigMap must roll the pods. The rules file is
        # reloaded in place and is left out of this checksum.
        checksum/config: {{ include (print $root.Template.BasePath "/configmap-env.yaml") $root | sha256sum }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ include "txguard.terminationGracePeriodSeconds" $root }}
      securityContext:
        {{- include "txguard.podSecurityContext" (dict "user" $root.Values.image.runAsUser) | nindent 8 }}
      {{- include "txguard.scheduling" (dict "root" $root "component" .component "antiAffinity" $values.antiAffinity) | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "txguard.image" (dict "root" $root "image" $root.Values.image) | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            - {{ .component }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "txguard.componentName" (dict "root" $root "component" "env") }}
          env:
            - name: TXGUARD_HTTP_PORT
              value: {{ .port | quote }}
            # Secrets reach the process as files (docs/configuration.md:
            # NAME_FILE wins over NAME), so they never appear in the pod
            # spec or in `kubectl describe`.
            - name: TXGUARD_REDIS_PASSWORD_FILE
              value: {{ $secretsDir }}/redis-password
            - name: TXGUARD_AMQP_PASSWORD_FILE
              value: {{ $secretsDir }}/rabbitmq-password
            - name: TXGUARD_S3_ACCESS_KEY_ID_FILE
              value: {{ $secretsDir }}/s3-access-key-id
            - name: TXGUARD_S3_SECRET_ACCESS_KEY_FILE
              value: {{ $secretsDir }}/s3-secret-access-key
            - name: TXGUARD_PAN_HASH_KEY_FILE
              value: {{ $secretsDir }}/pan-hash-key
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          lifecycle:
            preStop:
              # Native sleep action (beta since Kubernetes 1.30): the image
              # needs no shell, and the endpoint removal reaches kube-proxy
              # and the Ingress before SIGTERM stops new work.
              sleep:
                seconds: {{ $root.Values.lifecycle.preStopSleepSeconds }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- include "txguard.containerSecurityContext" (dict "user" $root.Values.image.runAsUser) | nindent 12 }}
          volumeMounts:
            - name: rules
              # A directory mount, not subPath, so ConfigMap updates reach
              # the file and the service's rule reload sees them.
              mountPath: /etc/txguard/rules
              readOnly: true
            - name: secrets
              mountPath: {{ $secretsDir }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: rules
          configMap:
            name: {{ include "txguard.rulesConfigMapName" $root }}
            items:
              - key: rules.yaml
                path: rules.yaml
        - name: secrets
          secret:
            secretName: {{ include "txguard.secretName" $root }}
            defaultMode: 0440
            items:
              {{- range list "redis-password" "rabbitmq-password" "s3-access-key-id" "s3-secret-access-key" "pan-hash-key" }}
              - key: {{ . }}
                path: {{ . }}
              {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end -}}

{{/* ConfigMap with the rule set that api and worker mount. */}}
{{- define "txguard.rulesConfigMapName" -}}
{{- .Values.rules.existingConfigMap | default (include "txguard.componentName" (dict "root" . "component" "rules")) -}}
{{- end -}}

{{/*
CPU-based HorizontalPodAutoscaler of one Deployment, plus the request rate
as a Pods metric when "requestsPerSecond" is above 0.
Arguments: root, component, autoscaling (the values block).
*/}}
{{- define "txguard.hpa" -}}
{{- $autoscaling := .autoscaling -}}
{{- if lt (int $autoscaling.maxReplicas) (int $autoscaling.minReplicas) -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%v) is below minReplicas (%v): raise maxReplicas" .component $autoscaling.maxReplicas $autoscaling.minReplicas) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  {{- include "txguard.metadata" . | nindent 2 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "txguard.componentName" . }}
  minReplicas: {{ $autoscaling.minReplicas }}
  maxReplicas: {{ $autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $autoscaling.targetCPUUtilizationPercentage }}
    {{- if gt (int ($autoscaling.requestsPerSecond | default 0)) 0 }}
    # Served by a custom metrics adapter (for example prometheus-adapter
    # computing the rate of txguard_http_requests_total); without one the
    # HPA reports the metric as unavailable and scales on CPU alone.
    - type: Pods
      pods:
        metric:
          name: {{ $autoscaling.requestsMetricName }}
        target:
          type: AverageValue
          averageValue: {{ $autoscaling.requestsPerSecond | quote }}
    {{- end }}
{{- end -}}
