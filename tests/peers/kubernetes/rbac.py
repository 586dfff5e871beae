"""RBAC for the fake API server: one identity's rules, as kube-apiserver's RBAC authorizer and
its escalation check apply them.

A request is turned into its attributes as kube-apiserver's RequestInfoFactory does (verb,
API group, resource, subresource, namespace, name; a path outside a resource is a non-resource
URL), and allowed when one rule matches all of them. A PATCH that creates an object needs
`create` as well (server-side apply creates through PATCH). Writing a ClusterRole or Role
that grants a permission the identity does not hold needs `escalate` on it; writing a binding
needs `bind` on the role it names. Refusals are 403s worded as the real server words them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.peers.kubernetes.store import ApiError

RBAC_GROUP = "rbac.authorization.k8s.io"
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Attributes:
    """What the authorizer decides on (k8s.io/apiserver's authorizer.Attributes)."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""  # a non-resource request's path

    @property
    def is_resource(self) -> bool:
        return not self.path


def request_attributes(method: str, path: str, query: dict[str, str]) -> Attributes:
    """The attributes of one request, as RequestInfoFactory derives them."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return Attributes(verb=method.lower(), path=path)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        namespace = rest[1]  # a Namespace is in its own namespace, as the real server says
        if len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    resource, name, subresource = [*rest, "", ""][:3]
    if method == "GET":
        verb = "get" if name else ("watch" if query.get("watch") in ("1", "true") else "list")
    else:
        verb = _METHOD_VERBS.get(method, method.lower())
    return Attributes(verb, group, resource, subresource, namespace, name)


@dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: dict[str, Any]) -> Rule:
        return cls(
            tuple(rule.get("apiGroups") or ()),
            tuple(rule.get("resources") or ()),
            tuple(rule.get("verbs") or ()),
            tuple(rule.get("resourceNames") or ()),
            tuple(rule.get("nonResourceURLs") or ()),
        )

    def allows(self, at: Attributes) -> bool:
        if not _has(self.verbs, at.verb):
            return False
        if not at.is_resource:
            return any(
                url == "*" or url == at.path or (url.endswith("*") and at.path.startswith(url[:-1]))
                for url in self.non_resource_urls
            )
        resource = f"{at.resource}/{at.subresource}" if at.subresource else at.resource
        return (
            _has(self.api_groups, at.group)
            and (_has(self.resources, resource) or f"*/{at.subresource}" in self.resources)
            and (not self.resource_names or at.name in self.resource_names)
        )


def _has(values: tuple[str, ...], value: str) -> bool:
    return "*" in values or value in values


@dataclass
class Authorizer:
    """The rules of one identity (a ServiceAccount bound to ClusterRoles)."""

    user: str
    rules: list[Rule]
    #: every refused request, (attributes, message)
    refused: list[tuple[Attributes, str]] = field(default_factory=list)

    @classmethod
    def from_manifests(cls, user: str, *paths: Path) -> Authorizer:
        """The rules of every ClusterRole in the YAML files at `paths`."""
        rules = [
            Rule.of(rule)
            for path in paths
            for doc in yaml.safe_load_all(path.read_text())
            if doc and doc.get("kind") == "ClusterRole"
            for rule in doc.get("rules") or []
        ]
        return cls(user, rules)

    def allows(self, at: Attributes) -> bool:
        return any(rule.allows(at) for rule in self.rules)

    def authorize(self, at: Attributes, *, creates: bool, body: Any) -> None:
        """Refuse `at` with the real server's 403 unless the rules allow it."""
        self._require(at)
        if at.verb == "patch" and creates:
            self._require(Attributes("create", at.group, at.resource, "", at.namespace, at.name))
        if at.group != RBAC_GROUP or at.verb not in ("create", "update", "patch") or at.subresource:
            return
        if at.resource in ("clusterroles", "roles"):
            escalate = Attributes("escalate", at.group, at.resource, "", at.namespace, at.name)
            granted = [Rule.of(r) for r in (body or {}).get("rules") or []]
            missing = [rule for rule in granted if not self._holds(rule)]
            if missing and not self.allows(escalate):
                self._refuse(at, _not_held(self.user, at, missing))
        elif at.resource in ("clusterrolebindings", "rolebindings"):
            ref = (body or {}).get("roleRef") or {}
            plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
            named = Attributes("bind", RBAC_GROUP, plural, "", at.namespace, ref.get("name", ""))
            if not self.allows(named):
                # the real server lists the referenced role's rules that are not held; this
                # fake does not look the role up
                self._refuse(at, _not_held(self.user, at, []))

    def _holds(self, granted: Rule) -> bool:
        """Whether every permission `granted` gives is one these rules allow; a wildcard is
        held only as a wildcard (the escalation check's coverage, simplified to that)."""
        if granted.non_resource_urls:
            return all(
                self.allows(Attributes(verb, path=url))
                for verb in granted.verbs
                for url in granted.non_resource_urls
            )
        names = granted.resource_names or ("",)
        return all(
            self.allows(Attributes(verb, group, *_split(resource), "", name))
            for verb in granted.verbs
            for group in granted.api_groups
            for resource in granted.resources
            for name in names
        )

    def _require(self, at: Attributes) -> None:
        if not self.allows(at):
            self._refuse(at, _forbidden(self.user, at))

    def _refuse(self, at: Attributes, message: str) -> None:
        self.refused.append((at, message))
        raise ApiError(403, "Forbidden", message, _details(at))


def _split(resource: str) -> tuple[str, str]:
    plural, _, subresource = resource.partition("/")
    return plural, subresource


def _details(at: Attributes) -> dict[str, Any] | None:
    if not at.is_resource:
        return None
    details: dict[str, Any] = {"kind": at.resource}
    if at.group:
        details["group"] = at.group
    if at.name:
        details["name"] = at.name
    return details


def _subject(at: Attributes) -> str:
    """`secrets "git"`, `clusterroles.rbac.authorization.k8s.io "x"`, or the kind alone."""
    kind = f"{at.resource}.{at.group}" if at.group else at.resource
    return f'{kind} "{at.name}"' if at.name else kind


def _forbidden(user: str, at: Attributes) -> str:
    if not at.is_resource:
        return f'forbidden: User "{user}" cannot {at.verb} path "{at.path}"'
    resource = f"{at.resource}/{at.subresource}" if at.subresource else at.resource
    scope = f'in the namespace "{at.namespace}"' if at.namespace else "at the cluster scope"
    return (
        f'{_subject(at)} is forbidden: User "{user}" cannot {at.verb} resource "{resource}" '
        f'in API group "{at.group}" {scope}'
    )


def _not_held(user: str, at: Attributes, missing: list[Rule]) -> str:
    """rbac/validation's ConfirmNoEscalation error, as the registry wraps it."""
    rules = "".join(
        f"\n{{APIGroups:{_go_list(r.api_groups)}, Resources:{_go_list(r.resources)}, "
        f"Verbs:{_go_list(r.verbs)}}}"
        for r in missing
    )
    return (
        f'{_subject(at)} is forbidden: user "{user}" (groups=["system:serviceaccounts" '
        f'"system:authenticated"]) is attempting to grant RBAC permissions not currently held:'
        f"{rules}"
    )


def _go_list(values: tuple[str, ...]) -> str:
    return "[" + " ".join(f'"{v}"' for v in values) + "]"
