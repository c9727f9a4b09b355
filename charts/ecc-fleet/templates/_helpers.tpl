{{/* Chart name, possibly overridden. */}}
{{- define "ecc-fleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart> (or the release name when it already contains the chart name), at most 52
characters so that suffixes such as -metrics stay within 63. */}}
{{- define "ecc-fleet.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ecc-fleet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecc-fleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecc-fleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "ecc-fleet.labels" -}}
helm.sh/chart: {{ include "ecc-fleet.chart" . }}
app.kubernetes.io/name: {{ include "ecc-fleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ecc-fleet
{{- end }}

{{- define "ecc-fleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecc-fleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the operator's store credentials: existingSecret, the one the chart
creates from store.endpoint, or empty (the operator then reads each resource's secretRef). */}}
{{- define "ecc-fleet.storeSecretName" -}}
{{- if .Values.store.existingSecret }}
{{- .Values.store.existingSecret }}
{{- else if .Values.store.endpoint }}
{{- printf "%s-store" (include "ecc-fleet.fullname" .) }}
{{- end }}
{{- end }}

{{/* The release's ClusterServingRuntime and ClusterStorageContainer (templates/kserve-runtime.yaml). */}}
{{- define "ecc-fleet.kserveRuntime" -}}
{{- printf "%s-teacher" (include "ecc-fleet.clusterName" .) | trunc 253 }}
{{- end }}
{{- define "ecc-fleet.kserveStorageContainer" -}}
{{- printf "%s-bundle" (include "ecc-fleet.clusterName" .) | trunc 253 }}
{{- end }}

{{/* Cluster-scoped objects of two releases must not collide: name them <fullname>-<namespace>. */}}
{{- define "ecc-fleet.clusterName" -}}
{{- printf "%s-%s" (include "ecc-fleet.fullname" .) .Release.Namespace }}
{{- end }}
