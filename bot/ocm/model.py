"""Component descriptors (OCM schema v2 and ocm.software/v3alpha1) as one model. Pure.

Descriptors are decoded as the OCM Go library decodes them: YAML 1.1 through yaml.v2, then
into typed fields, so a scalar in a string field becomes its text. Missing and null lists are
empty lists. `as_map` produces the shape the bootstrapper's `componentVersionAsMap` gives
templates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.failures import Failure
from bot.golang import strconv
from bot.golang.yamlv2 import YamlError, decode_first_document, to_plain

LOCAL_BLOB_TYPES = {"localBlob", "localBlob/v1", "LocalBlob", "LocalBlob/v1"}


class DescriptorError(Failure, ValueError):
    """Bytes that are not a component descriptor."""


def _text(value: Any) -> str:
    """A scalar read into a Go string field (sigs.k8s.io/yaml turns numbers into text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return strconv.format_float(value, "g", 32)
    if isinstance(value, str):
        return value
    raise DescriptorError(f"expected a string, found {type(value).__name__}")


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DescriptorError(f"{where} must be a list")
    return value


def _map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DescriptorError(f"{where} must be a mapping")
    return {str(k): v for k, v in value.items()}


@dataclass(frozen=True)
class Reference:
    name: str
    component_name: str
    version: str
    extra_identity: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    name: str
    version: str
    type: str
    relation: str
    access: Mapping[str, Any]
    extra_identity: Mapping[str, str] = field(default_factory=dict)
    digest: Mapping[str, Any] | None = None

    @property
    def access_type(self) -> str:
        return str(self.access.get("type", ""))

    @property
    def is_local_blob(self) -> bool:
        return self.access_type in LOCAL_BLOB_TYPES


@dataclass(frozen=True)
class ComponentVersion:
    name: str
    version: str
    provider: str
    references: tuple[Reference, ...] = ()
    resources: tuple[Resource, ...] = ()
    schema: str = "v2"
    #: the repository this version was read from, as `getOCMRepository` reports it
    repository: str = ""
    #: the descriptor as stored (for `ocm get`)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.version

    def references_named(self, name: str) -> list[Reference]:
        """GetReferencedComponentVersions: by reference name (not component name), in order."""
        return [r for r in self.references if r.name == name]

    def resource(self, name: str) -> Resource | None:
        """The first resource with this name (the Go tool ignores extraIdentity too)."""
        return next((r for r in self.resources if r.name == name), None)

    def resources_of_type(self, type_name: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_name]

    def as_map(self) -> dict[str, Any]:
        """componentVersionAsMap: the JSON form of the Go tool's ComponentVersion struct."""

        def access(resource: Resource) -> dict[str, Any]:
            raw = resource.access
            return {
                "type": str(raw.get("type", "")),
                "imageReference": raw.get("imageReference"),
                "localReference": raw.get("localReference"),
                "mediaType": raw.get("mediaType"),
            }

        references = [
            {"name": r.name, "version": r.version, "componentName": r.component_name}
            for r in self.references
        ]
        resources = [
            {"name": r.name, "version": r.version, "type": r.type, "access": access(r)}
            for r in self.resources
        ]
        return {
            "component": {
                "name": self.name,
                "version": self.version,
                "componentReferences": references or None,
                "resources": resources or None,
            },
            "repository": self.repository,
        }


def _provider(value: Any) -> str:
    if isinstance(value, dict):
        return _text(value.get("name"))
    text = _text(value)
    if text.startswith("{"):
        try:
            return _text(json.loads(text).get("name"))
        except (ValueError, AttributeError):
            return text
    return text


def _identity(value: Any, where: str) -> dict[str, str]:
    return {k: _text(v) for k, v in _map(value, where).items()}


def _reference(raw: Any, where: str) -> Reference:
    item = _map(raw, where)
    return Reference(
        name=_text(item.get("name")),
        component_name=_text(item.get("componentName")),
        version=_text(item.get("version")),
        extra_identity=_identity(item.get("extraIdentity"), f"{where}.extraIdentity"),
    )


def _resource(raw: Any, where: str, component_version: str) -> Resource:
    item = _map(raw, where)
    relation = _text(item.get("relation")) or "external"
    version = _text(item.get("version"))
    if not version and relation == "local":
        version = component_version  # a local resource without a version has the component's
    digest = item.get("digest")
    return Resource(
        name=_text(item.get("name")),
        version=version,
        type=_text(item.get("type")),
        relation=relation,
        access=_map(item.get("access"), f"{where}.access"),
        extra_identity=_identity(item.get("extraIdentity"), f"{where}.extraIdentity"),
        digest=_map(digest, f"{where}.digest") if digest is not None else None,
    )


def parse_descriptor(data: bytes | str, *, repository: str = "") -> ComponentVersion:
    """A component descriptor in schema v2 or ocm.software/v3alpha1 (YAML or JSON)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        document = to_plain(decode_first_document(text))
    except (YamlError, UnicodeDecodeError) as err:
        raise DescriptorError(f"component descriptor is not valid YAML: {err}") from None
    root = _map(document, "descriptor")
    meta = _map(root.get("meta"), "meta")
    is_v2 = "schemaVersion" in meta
    is_v3 = _text(root.get("apiVersion")) == "ocm.software/v3alpha1"
    if is_v2 and is_v3:
        raise DescriptorError("descriptor has both meta.schemaVersion and apiVersion")
    if is_v2:
        if _text(meta.get("schemaVersion")) != "v2":
            raise DescriptorError(f"unsupported schemaVersion {meta.get('schemaVersion')!r}")
        body = _map(root.get("component"), "component")
        name, version = _text(body.get("name")), _text(body.get("version"))
        provider = _provider(body.get("provider"))
        references_raw = body.get("componentReferences")
        resources_raw = body.get("resources")
        schema = "v2"
    elif is_v3:
        metadata = _map(root.get("metadata"), "metadata")
        spec = _map(root.get("spec"), "spec")
        name, version = _text(metadata.get("name")), _text(metadata.get("version"))
        provider = _provider(metadata.get("provider"))
        references_raw = spec.get("references")
        resources_raw = spec.get("resources")
        schema = "ocm.software/v3alpha1"
    else:
        raise DescriptorError("not a component descriptor: no meta.schemaVersion or apiVersion")
    if not name or not version:
        raise DescriptorError("component descriptor without a name or version")
    references = tuple(
        _reference(r, f"references[{i}]") for i, r in enumerate(_list(references_raw, "references"))
    )
    resources = tuple(
        _resource(r, f"resources[{i}]", version)
        for i, r in enumerate(_list(resources_raw, "resources"))
    )
    return ComponentVersion(
        name, version, provider, references, resources, schema, repository, root
    )
