{{/* Names, labels and the facts of each service that follow from its code, not from values. */}}

{{- define "gas.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* Labels of every object; objects of one service add gas.selector, which names the instance. */}}
{{- define "gas.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/part-of: gas
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "gas.labels" -}}
{{ include "gas.commonLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "name" "gateway") */}}
{{- define "gas.selector" -}}
app.kubernetes.io/name: gas-{{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/*
Ports, probe kind and shutdown time of each service, from its config defaults (each service README).
grace = SHUTDOWN_TIMEOUT_MS + 10 s, so the kubelet never kills a service that is still draining.
*/}}
{{- define "gas.facts" -}}
gateway: { http: 8080, grpc: 0, ops: 9100, probe: http, shutdownMs: 20000, grace: 30 }
job: { http: 0, grpc: 50051, ops: 9101, probe: grpc, shutdownMs: 20000, grace: 30 }
annotator: { http: 0, grpc: 0, ops: 9103, probe: http, shutdownMs: 25000, grace: 35 }
notification: { http: 0, grpc: 50052, ops: 9104, probe: grpc, shutdownMs: 15000, grace: 25 }
archive: { http: 0, grpc: 0, ops: 9105, probe: http, shutdownMs: 15000, grace: 25 }
{{- end -}}

{{- define "gas.image" -}}
{{ .root.Values.image.repository }}/gas-{{ .name }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end -}}

{{/* The environment of one service (non-secret), as YAML: the ConfigMap's data and its checksum come from this. */}}
{{- define "gas.env" -}}
{{- $v := .root.Values -}}
{{- $f := index (include "gas.facts" .root | fromYaml) .name -}}
{{- $full := include "gas.fullname" .root -}}
{{- $env := dict
  "NATS_URL" $v.nats.url
  "NATS_REPLICAS" (toString $v.nats.streamReplicas)
  "GAS_EVENTS_MAX_AGE_DAYS" (toString $v.nats.eventsMaxAgeDays)
  "LOG_LEVEL" $v.logLevel
  "OPS_PORT" (toString $f.ops)
  "OPS_HOST" "0.0.0.0"
  "SHUTDOWN_TIMEOUT_MS" (toString $f.shutdownMs)
  "JOB_GRPC_URL" (printf "%s-job:50051" $full)
-}}
{{- if eq $v.blobStore.kind "s3" -}}
{{- $_ := set $env "BLOB_STORE" "s3" -}}
{{- $_ := set $env "S3_REGION" $v.blobStore.s3.region -}}
{{- if $v.blobStore.s3.endpoint }}{{ $_ := set $env "S3_ENDPOINT" $v.blobStore.s3.endpoint }}{{ end -}}
{{- $_ := set $env "S3_FORCE_PATH_STYLE" (toString $v.blobStore.s3.forcePathStyle) -}}
{{- $_ := set $env "S3_BUCKET_INPUTS" $v.blobStore.s3.buckets.inputs -}}
{{- $_ := set $env "S3_BUCKET_RESULTS" $v.blobStore.s3.buckets.results -}}
{{- $_ := set $env "S3_BUCKET_ARCHIVE" $v.blobStore.s3.buckets.archive -}}
{{- $_ := set $env "S3_ARCHIVE_STORAGE_CLASS" $v.blobStore.s3.archiveStorageClass -}}
{{- else -}}
{{- $_ := set $env "BLOB_STORE" "filesystem" -}}
{{- $_ := set $env "BLOB_ROOT" "/var/lib/gas/blobs" -}}
{{- end -}}
{{- if eq .name "gateway" -}}
{{- $_ := set $env "GATEWAY_PORT" (toString $f.http) -}}
{{- $_ := set $env "GATEWAY_PUBLIC_URL" $v.publicUrl -}}
{{- $_ := set $env "GATEWAY_FREE_RETENTION_SECONDS" (toString $v.freeRetentionSeconds) -}}
{{- $_ := set $env "NOTIFICATION_GRPC_URL" (printf "%s-notification:50052" $full) -}}
{{- if $v.gateway.adminEmails -}}
{{- $_ := set $env "GATEWAY_ADMIN_EMAILS" (join "," $v.gateway.adminEmails) -}}
{{- $_ := set $env "GATEWAY_ANNOTATOR_DEPLOYMENT" (printf "%s-annotator" $full) -}}
{{- $_ := set $env "GATEWAY_ANNOTATOR_HPA" (include "gas.annotatorHpa" .root) -}}
{{- end -}}
{{- if eq $v.autoscaling.annotator.mode "keda" }}{{/* annotators at zero must not make the site unready */}}{{ $_ := set $env "GATEWAY_READY_REQUIRES_ANNOTATOR" "false" }}{{ end -}}
{{- $_ := set $env "BILLING_PROVIDER" $v.gateway.billingProvider -}}
{{- if $v.gateway.stripePriceId }}{{ $_ := set $env "STRIPE_PRICE_ID" $v.gateway.stripePriceId }}{{ end -}}
{{- if $v.gateway.oidc.issuer -}}
{{- $_ := set $env "OIDC_ISSUER" $v.gateway.oidc.issuer -}}
{{- $_ := set $env "OIDC_CLIENT_ID" $v.gateway.oidc.clientId -}}
{{- $_ := set $env "OIDC_REDIRECT_URI" (printf "%s/signin/oidc/callback" (trimSuffix "/" $v.publicUrl)) -}}
{{- $_ := set $env "OIDC_NAME" $v.gateway.oidc.name -}}
{{- end -}}
{{- else if eq .name "job" -}}
{{- $_ := set $env "JOB_GRPC_PORT" (toString $f.grpc) -}}
{{- else if eq .name "annotator" -}}
{{- $_ := set $env "ANNOTATOR_REFERENCE_DIR" "/var/lib/gas/reference" -}}
{{- else if eq .name "notification" -}}
{{- $_ := set $env "NOTIFICATION_GRPC_PORT" (toString $f.grpc) -}}
{{- $_ := set $env "NOTIFICATION_PUBLIC_URL" $v.publicUrl -}}
{{- $_ := set $env "SMTP_FROM" $v.notification.from -}}
{{- $_ := set $env "SMTP_REQUIRE_TLS" (toString $v.notification.requireTls) -}}
{{- $_ := set $env "NOTIFICATION_OUTBOX_DIR" "/var/lib/gas/outbox" -}}
{{- else if eq .name "archive" -}}
{{- $_ := set $env "ARCHIVE_FREE_RETENTION_SECONDS" (toString $v.freeRetentionSeconds) -}}
{{- end -}}
{{- range $k, $val := .svc.env }}{{ $_ := set $env $k (toString $val) }}{{ end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* Whether an autoscaler owns a service's replicas: (dict "root" $ "name" "annotator") gives "true" or "". */}}
{{- define "gas.autoscaled" -}}
{{- $as := .root.Values.autoscaling -}}
{{- if and (eq .name "annotator") (ne $as.annotator.mode "none") }}true{{ else if and (eq .name "gateway") $as.gateway.enabled }}true{{ end -}}
{{- end -}}

{{/*
The annotator's scaling behaviour, shared by the HPA and KEDA's: out at once and fast (a burst waits
in the queue, and a new pod needs its start-up before it takes work), in slowly.
*/}}
{{- define "gas.annotatorBehavior" -}}
{{- $a := .Values.autoscaling.annotator -}}
scaleUp:
  stabilizationWindowSeconds: 0
  selectPolicy: Max
  policies:
    - { type: Percent, value: 100, periodSeconds: 15 }
    - { type: Pods, value: {{ $a.scaleUpPods }}, periodSeconds: 15 }
scaleDown:
  stabilizationWindowSeconds: {{ $a.scaleDownStabilizationSeconds }}
  policies:
    - { type: Percent, value: {{ $a.scaleDownPercent }}, periodSeconds: 60 }
{{- end -}}

{{/* The annotator's HorizontalPodAutoscaler as the admin page reads it: KEDA names the one it makes keda-hpa-<ScaledObject>. */}}
{{- define "gas.annotatorHpa" -}}
{{- if eq (dig "annotator" "mode" "none" (.Values.autoscaling | default dict)) "keda" }}keda-hpa-{{ end }}{{ include "gas.fullname" . }}-annotator
{{- end -}}
