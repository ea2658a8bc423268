{{- define "kubefed.name" -}}
{{- printf "%s-controller" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Cluster-scoped names carry the namespace: two releases never share one. */}}
{{- define "kubefed.clusterName" -}}
{{- printf "kubefed:%s:%s" .Release.Namespace (include "kubefed.name" .) | trunc 253 -}}
{{- end -}}

{{- define "kubefed.selector" -}}
app.kubernetes.io/name: kubefed-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubefed.labels" -}}
{{ include "kubefed.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
