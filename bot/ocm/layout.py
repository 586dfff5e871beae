"""How OCM lays component versions out in OCI: tags, media types, the descriptor layer. Pure."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.core.failures import Failure
from bot.golang.semver import InvalidVersion, Version
from bot.ocm.model import DescriptorError

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ACCEPT = ", ".join((MANIFEST, INDEX, DOCKER_MANIFEST, DOCKER_LIST))

CONFIG = "application/vnd.ocm.software.component.config.v1+json"
CONFIG_TYPES = {
    CONFIG,
    "application/vnd.gardener.cloud.cnudie.component.config.v1+json",
    "application/vnd.oci.gardener.cloud.cnudie.component-descriptor-metadata.config.v2+json",
}
DESCRIPTOR_TAR = "application/vnd.ocm.software.component-descriptor.v2+yaml+tar"
DESCRIPTOR_TAR_TYPES = {
    DESCRIPTOR_TAR,
    "application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml+tar",
    "application/vnd.oci.gardener.cloud.cnudie.component-descriptor.config.v2+yaml+tar",
}
DESCRIPTOR_PLAIN_TYPES = {
    "application/vnd.ocm.software.component-descriptor.v2+json",
    "application/vnd.ocm.software.component-descriptor.v2+yaml",
    "application/vnd.gardener.cloud.cnudie.component-descriptor.v2+json",
    "application/vnd.gardener.cloud.cnudie.component-descriptor.v2+yaml",
}
DESCRIPTOR_FILE = "component-descriptor.yaml"
TAR_TYPES = {
    "application/x-tar",
    "application/x-tgz",
    "application/x-tar+gzip",
    "application/gzip",
    "application/x-gzip",
    "application/x-gtar",
}

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_NOT_VERSIONS = re.compile(r"^(sha256-[0-9a-f]{64}(\..*)?|.*\.(sig|att|sbom))$")


class IntegrityError(Failure, ValueError):
    """Content whose digest is not the one it was asked for."""


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    """A file's digest and size, read in pieces (it may be a whole image)."""
    hashed, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            hashed.update(chunk)
            size += len(chunk)
    return "sha256:" + hashed.hexdigest(), size


def verify(data: bytes, digest: str, what: str) -> bytes:
    """The data, if it hashes to `digest`; IntegrityError otherwise."""
    if not _DIGEST.match(digest):
        raise IntegrityError(f"{what}: unsupported digest {digest!r}")
    actual = digest_of(data)
    if actual != digest:
        raise IntegrityError(f"{what}: digest mismatch, expected {digest}, got {actual}")
    return data


def version_to_tag(version: str) -> str:
    return version.replace("+", ".build-")


def tag_to_version(tag: str) -> str:
    head, sep, tail = tag.rpartition(".build-")
    return f"{head}+{tail}" if sep else tag


def versions_from_tags(tags: Iterable[str]) -> list[str]:
    """The component versions among a repository's tags, oldest first (relaxed semver).

    Aliases (`latest`), referrer and signature tags and anything else that is not a version are
    left out.
    """
    found: dict[str, Version] = {}
    for tag in tags:
        if _NOT_VERSIONS.match(tag):
            continue
        version = tag_to_version(tag)
        try:
            found[version] = Version.parse(version)
        except InvalidVersion:
            continue
    return sorted(found, key=lambda v: (found[v], v))


def descriptor_layer(config: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The descriptor layer: the config's componentDescriptorLayer (never assume layers[0])."""
    layer = config.get("componentDescriptorLayer")
    if isinstance(layer, dict) and layer.get("digest"):
        return layer
    layers = manifest.get("layers") or []
    if layers:
        return dict(layers[0])
    raise DescriptorError("component version has no descriptor layer")


def descriptor_bytes(layer_media_type: str, blob: bytes) -> bytes:
    """The descriptor from its layer: a tar holding component-descriptor.yaml, or plain."""
    if layer_media_type in DESCRIPTOR_PLAIN_TYPES:
        return blob
    if layer_media_type not in DESCRIPTOR_TAR_TYPES:
        raise DescriptorError(f"unsupported descriptor layer media type {layer_media_type!r}")
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as archive:
            for member in archive.getmembers():
                if member.isfile() and member.name.lstrip("./") == DESCRIPTOR_FILE:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        return handle.read()
    except tarfile.TarError as err:
        raise DescriptorError(f"descriptor layer is not a tar: {err}") from None
    raise DescriptorError(f"descriptor layer has no {DESCRIPTOR_FILE}")


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise DescriptorError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise DescriptorError(f"{what} is not a JSON object")
    return value


_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def is_digest(text: str) -> bool:
    """Whether `text` has the OCI digest grammar (`algorithm:encoded`, nothing else)."""
    return _DIGEST.fullmatch(text) is not None


def maybe_gunzip(data: bytes, *, limit: int) -> bytes:
    """Gzip is sniffed by its magic bytes, whatever the media type says."""
    if data[:2] != b"\x1f\x8b":
        return data
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        out = stream.read(limit + 1)
    if len(out) > limit:
        raise IntegrityError(f"compressed resource expands beyond {limit} bytes")
    return out


def tar_one_file(name: str, data: bytes) -> bytes:
    """A reproducible tar with one regular file (how OCM stores the descriptor)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
