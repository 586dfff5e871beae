"""The ClusterProvider, ServiceProvider and PlatformService templates openmcp-bootstrapper
embeds (internal/deployment-repo/templates/, Apache-2.0, the openMCP project authors).

The three differ only in `kind`. They are rendered with `missingkey=error` and without the OCM
functions; values are written into double quotes without escaping, as the Go tool does.
"""

from __future__ import annotations

PROVIDER_KINDS = {
    "cluster-providers": "ClusterProvider",
    "service-providers": "ServiceProvider",
    "platform-services": "PlatformService",
}

_TEMPLATE = """\
apiVersion: openmcp.cloud/v1alpha1
kind: KIND
metadata:
  name: "{{ .values.name }}"
spec:
  image: "{{ .values.image.location }}"
{{- if dig "image" "imagePullSecrets" "" .values }}
  imagePullSecrets:
{{- range $index, $value := .values.image.imagePullSecrets }}
    - name: "{{ $value }}"
{{- end }}
{{- end }}
{{- if dig "config" "" .values }}
{{ toYaml .values.config | indent 2 }}
{{- end }}
"""


def provider_template(kind: str) -> str:
    return _TEMPLATE.replace("kind: KIND", f"kind: {kind}", 1)
