"""Build component versions from an OCM component-constructor file into a store.

Supports the constructor subset openMCP's tests use: components with references, resources
with an `access:`, and resources with `input: {type: dir|file, path}` packed as local blobs.
Blobs are laid out as the OCM Go library does (ocm.md §2.4), so any OCM reader reads them.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.failures import Failure
from bot.golang import sigsyaml
from bot.ocm import layout
from bot.ocm.store import WritableStore

DIR_INPUTS = {"dir", "dir/v1", "Dir", "Dir/v1"}
FILE_INPUTS = {"file", "file/v1", "File", "File/v1"}


class ConstructorError(Failure, ValueError):
    """A constructor file this builder cannot build; says which component and resource."""


@dataclass(frozen=True)
class Built:
    component: str
    version: str
    digest: str


def tar_directory(path: Path, *, preserve_dir: bool = False) -> bytes:
    """A reproducible tar of a directory: relative names, directory entries, fixed metadata."""
    buffer = io.BytesIO()
    base = path.name if preserve_dir else ""
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for item in sorted(path.rglob("*")):
            name = "/".join(p for p in (base, item.relative_to(path).as_posix()) if p)
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if item.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            elif item.is_file():
                data = item.read_bytes()
                info.size, info.mode = len(data), 0o644
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _input_blob(spec: dict[str, Any], base: Path, where: str) -> tuple[bytes, str]:
    kind = str(spec.get("type", ""))
    path = base / str(spec.get("path", ""))
    if kind in DIR_INPUTS:
        if not path.is_dir():
            raise ConstructorError(f"{where}: input directory {path} does not exist")
        data = tar_directory(path, preserve_dir=bool(spec.get("preserveDir")))
        media_type = "application/x-tar"
        if spec.get("compress"):
            data, media_type = gzip.compress(data, mtime=0), "application/x-tgz"
    elif kind in FILE_INPUTS:
        if not path.is_file():
            raise ConstructorError(f"{where}: input file {path} does not exist")
        data, media_type = path.read_bytes(), "application/octet-stream"
        if spec.get("compress"):
            data, media_type = gzip.compress(data, mtime=0), "application/gzip"
    else:
        raise ConstructorError(f"{where}: unsupported input type {kind!r}")
    return data, str(spec.get("mediaType") or media_type)


def build(constructor: Path, store: WritableStore, *, prefix: str = "") -> list[Built]:
    """Write every component version of `constructor` to `store` (under the repository prefix)."""
    document = yaml.safe_load(constructor.read_text())
    components = (document or {}).get("components") if isinstance(document, dict) else None
    if not isinstance(components, list):
        raise ConstructorError(f"{constructor}: no components list")
    return [_build_one(component, constructor.parent, store, prefix) for component in components]


def _build_one(spec: dict[str, Any], base: Path, store: WritableStore, prefix: str) -> Built:
    name, version = str(spec.get("name", "")), str(spec.get("version", ""))
    if not name or not version:
        raise ConstructorError("a component needs a name and a version")
    repository = "/".join(p for p in (prefix, "component-descriptors", name) if p)
    provider = spec.get("provider") or {}
    layers: list[dict[str, Any]] = []
    resources = []
    for index, raw in enumerate(spec.get("resources") or []):
        resource = {k: v for k, v in raw.items() if k != "input"}
        where = f"{name}:{version} resources[{index}] {raw.get('name')}"
        if "input" in raw:
            data, media_type = _input_blob(raw["input"], base, where)
            digest = store.put_blob(repository, data, media_type)
            layers.append({"mediaType": media_type, "digest": digest, "size": len(data)})
            resource.setdefault("relation", "local")
            resource.setdefault("version", version)
            resource["access"] = {"type": "localBlob", "localReference": digest,
                                  "mediaType": media_type}  # fmt: skip
            resource["digest"] = {"hashAlgorithm": "SHA-256",
                                  "normalisationAlgorithm": "genericBlobDigest/v1",
                                  "value": digest.removeprefix("sha256:")}  # fmt: skip
        else:
            resource.setdefault("relation", "external")
        resources.append(resource)
    descriptor = {
        "meta": {"schemaVersion": "v2"},
        "component": {
            "name": name,
            "version": version,
            "provider": provider.get("name", "") if isinstance(provider, dict) else str(provider),
            "repositoryContexts": [],
            "sources": spec.get("sources") or [],
            "componentReferences": spec.get("componentReferences") or [],
            "resources": resources,
        },
    }
    digest = put_component_version(store, repository, descriptor, layers)
    return Built(name, version, digest)


@dataclass(frozen=True)
class ComponentVersionObjects:
    """What a component version is stored as: its descriptor's tar, the config naming it, and
    the manifest naming both and the local blobs. Built the same for the same inputs, so a
    store that holds `manifest`'s digest holds this very version."""

    descriptor_tar: bytes
    config: bytes
    manifest: bytes


def component_version_objects(
    descriptor: dict[str, Any], layers: list[dict[str, Any]]
) -> ComponentVersionObjects:
    component = descriptor["component"]
    name, version = component["name"], component["version"]
    descriptor_tar = layout.tar_one_file(
        layout.DESCRIPTOR_FILE, sigsyaml.marshal(descriptor).encode()
    )
    descriptor_layer = _descriptor(layout.DESCRIPTOR_TAR, descriptor_tar)
    config = json.dumps({"componentDescriptorLayer": descriptor_layer}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": layout.MANIFEST,
        "config": _descriptor(layout.CONFIG, config),
        "layers": [descriptor_layer, *layers],
        "annotations": {"software.ocm.componentversion": f"{name}:{version}"},
    }
    return ComponentVersionObjects(descriptor_tar, config, json.dumps(manifest, indent=2).encode())


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": layout.digest_of(data), "size": len(data)}


def put_component_version(
    store: WritableStore, repository: str, descriptor: dict[str, Any], layers: list[dict[str, Any]]
) -> str:
    """Write a component version's descriptor (its local blobs, `layers`, are stored already)
    as OCM lays it out: a tagged manifest whose config names the descriptor's tar layer."""
    objects = component_version_objects(descriptor, layers)
    store.put_blob(repository, objects.descriptor_tar, layout.DESCRIPTOR_TAR)
    store.put_blob(repository, objects.config, layout.CONFIG)
    tag = layout.version_to_tag(descriptor["component"]["version"])
    return store.put_manifest(repository, tag, objects.manifest, layout.MANIFEST)
