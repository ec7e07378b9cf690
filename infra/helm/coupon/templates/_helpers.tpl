{{/* The three services, in the order they start. */}}
{{- define "coupon.services" -}}issuer persister gateway{{- end -}}

{{- define "coupon.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* coupon.name (dict "root" $ "svc" "gateway"): the name of a service's objects */}}
{{- define "coupon.name" -}}{{ include "coupon.fullname" .root }}-{{ .svc }}{{- end -}}

{{- define "coupon.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{- define "coupon.labels" -}}
{{ include "coupon.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "coupon.secretName" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else if .Values.secrets.create -}}{{ include "coupon.fullname" . }}-secrets{{- else -}}{{ fail "secrets: set existingSecret (a Secret with ADMIN_TOKEN, INTERNAL_TOKEN, DATABASE_URL) or create: true with its values" }}{{- end -}}
{{- end -}}

{{/* Seconds from SIGTERM (or preStop) to SIGKILL: the drain, the service's SHUTDOWN_TIMEOUT_MS, slack. */}}
{{- define "coupon.grace" -}}
{{- $v := index .root.Values .svc -}}
{{- add $v.drainSeconds .root.Values.shutdownTimeoutSeconds .root.Values.terminationSlackSeconds -}}
{{- end -}}

{{- define "coupon.secretEnv" -}}
- name: {{ .key }}
  valueFrom: { secretKeyRef: { name: {{ include "coupon.secretName" .root }}, key: {{ .key }} } }
{{- end -}}

{{/* The environment of one service: only variables its env.ts knows (tests/deploy/chart.test.ts). */}}
{{- define "coupon.env" -}}
{{- $root := .root -}}{{- $svc := .svc -}}{{- $v := index $root.Values $svc -}}
- { name: PORT, value: {{ $v.port | quote }} }
- { name: HOST, value: "0.0.0.0" }
- { name: LOG_LEVEL, value: {{ $root.Values.logLevel | quote }} }
- { name: SHUTDOWN_TIMEOUT_MS, value: {{ mul $root.Values.shutdownTimeoutSeconds 1000 | quote }} }
- { name: REDIS_URL, value: {{ $root.Values.redis.url | quote }} }
- { name: REDIS_SENTINELS, value: {{ $root.Values.redis.sentinels | quote }} }
- { name: REDIS_SENTINEL_MASTER, value: {{ $root.Values.redis.sentinelMaster | quote }} }
{{- if ne $svc "gateway" }}
- { name: KAFKA_BROKERS, value: {{ $root.Values.kafka.brokers | quote }} }
- { name: KAFKA_TOPIC_PREFIX, value: {{ $root.Values.kafka.topicPrefix | quote }} }
{{ include "coupon.secretEnv" (dict "root" $root "key" "DATABASE_URL") }}
{{- end }}
{{- if ne $svc "persister" }}
{{ include "coupon.secretEnv" (dict "root" $root "key" "INTERNAL_TOKEN") }}
{{- end }}
{{- if eq $svc "gateway" }}
{{ include "coupon.secretEnv" (dict "root" $root "key" "ADMIN_TOKEN") }}
- { name: ISSUER_URL, value: {{ printf "http://%s:%v" (include "coupon.name" (dict "root" $root "svc" "issuer")) $root.Values.issuer.port | quote }} }
- { name: METRICS_PORT, value: {{ $v.metricsPort | quote }} }
- { name: METRICS_HOST, value: "0.0.0.0" }
- { name: DRAIN_DELAY_MS, value: {{ mul $v.drainSeconds 1000 | quote }} }
- { name: RATE_LIMIT_SHARED, value: {{ $v.rateLimitShared | quote }} }
- { name: TRUSTED_PROXIES, value: {{ $v.auth.trustedProxies | quote }} }
- { name: AUTH_MODE, value: {{ required "gateway.auth.mode: jwt, or trusted-upstream when a proxy in front authenticates the user" $v.auth.mode | quote }} }
{{- if eq $v.auth.mode "jwt" }}
- { name: AUTH_JWKS_URL, value: {{ required "gateway.auth.jwksUrl: the identity provider's JWKS (AUTH_MODE=jwt)" $v.auth.jwksUrl | quote }} }
{{- with $v.auth.issuer }}
- { name: AUTH_ISSUER, value: {{ . | quote }} }
{{- end }}
{{- with $v.auth.audience }}
- { name: AUTH_AUDIENCE, value: {{ . | quote }} }
{{- end }}
{{- end }}
{{- end }}
{{- if eq $svc "issuer" }}
- { name: REDIS_WAIT_REPLICAS, value: {{ $v.redisWaitReplicas | quote }} }
{{- end }}
{{- range $name, $value := $v.env }}
- { name: {{ $name }}, value: {{ $value | quote }} }
{{- end }}
{{- end -}}

{{/* The port Prometheus scrapes: the gateway's own metrics listener, PORT for the other two. */}}
{{- define "coupon.metricsPort" -}}
{{- $v := index .root.Values .svc -}}{{- if eq .svc "gateway" -}}{{ $v.metricsPort }}{{- else -}}{{ $v.port }}{{- end -}}
{{- end -}}
