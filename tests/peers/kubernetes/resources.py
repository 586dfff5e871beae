"""The kinds the fake API server serves: a fixed set of built-ins plus established CRDs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool
    status_subresource: bool = False
    #: version -> openAPIV3Schema, for custom resources
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    short_names: tuple[str, ...] = ()

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


def _builtin(
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool = True,
    status: bool = False,
    short: tuple[str, ...] = (),
) -> ResourceType:
    return ResourceType(group, (version,), plural, kind, namespaced, status, short_names=short)


CRD = _builtin(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    status=True,
    short=("crd", "crds"),
)
NAMESPACES = _builtin("", "v1", "namespaces", "Namespace", False, True, ("ns",))
SECRETS = _builtin("", "v1", "secrets", "Secret")

BUILTINS = (
    NAMESPACES,
    SECRETS,
    _builtin("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _builtin("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",)),
    _builtin("", "v1", "services", "Service", status=True, short=("svc",)),
    _builtin("", "v1", "resourcequotas", "ResourceQuota", status=True, short=("quota",)),
    _builtin("apps", "v1", "deployments", "Deployment", status=True, short=("deploy",)),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _builtin("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _builtin("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    _builtin("networking.k8s.io", "v1", "ingresses", "Ingress", status=True, short=("ing",)),
    _builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, True, ("pdb",)),
    _builtin("coordination.k8s.io", "v1", "leases", "Lease"),
    CRD,
)


def from_crd(crd: dict[str, Any]) -> ResourceType:
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v.get("served", True)]
    return ResourceType(
        group=spec["group"],
        versions=tuple(v["name"] for v in served),
        plural=spec["names"]["plural"],
        kind=spec["names"]["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        status_subresource=any("status" in (v.get("subresources") or {}) for v in served),
        schemas={v["name"]: (v.get("schema") or {}).get("openAPIV3Schema") or {} for v in served},
        short_names=tuple(spec["names"].get("shortNames") or ()),
    )


def crd_problems(crd: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for a CRD the fake cannot serve."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    problems = []
    for name in ("group",):
        if not spec.get(name):
            problems.append((f"spec.{name}", "Required value"))
    for name in ("plural", "kind"):
        if not names.get(name):
            problems.append((f"spec.names.{name}", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        problems.append(
            ("spec.scope", 'Unsupported value: supported values: "Cluster", "Namespaced"')
        )
    if not spec.get("versions"):
        problems.append(("spec.versions", "Required value"))
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if not problems and crd.get("metadata", {}).get("name") != expected:
        problems.append(
            (
                "metadata.name",
                f'Invalid value: must be spec.names.plural+"."+spec.group: "{expected}"',
            )
        )
    return problems
